import Testing
import YAML
@testable import Workflow

struct ExpressionTests {
    let mark = YAMLMark(line: 1, column: 1)

    func eval(_ text: String, _ context: EvaluationContext = EvaluationContext()) throws -> ExpressionValue {
        try Evaluator.evaluate(try ExpressionParser.parse(text), in: context, mark: mark)
    }

    @Test func comparesNumbersNumericallyAndStringsAsText() throws {
        let context = EvaluationContext(outputs: ["l": ["count": .number(12), "name": .string("b")]])
        #expect(try eval("steps.l.outputs.count > 9", context) == .bool(true))
        #expect(try eval("steps.l.outputs.count == '12'", context) == .bool(true))
        #expect(try eval("steps.l.outputs.name == 'b' && !false", context) == .bool(true))
        #expect(try eval("steps.l.outputs.name != 'b' || 1 >= 2", context) == .bool(false))
    }

    @Test func functions() throws {
        let context = EvaluationContext(outputs: ["l": ["keys": .list([.string("a.csv"), .string("b.csv")])]])
        #expect(try eval("contains(steps.l.outputs.keys, 'b.csv')", context) == .bool(true))
        #expect(try eval("startsWith('daily/x', 'daily/')") == .bool(true))
        #expect(try eval("join(steps.l.outputs.keys, ';')", context) == .string("a.csv;b.csv"))
        #expect(try eval("format('{0}-{1}', 'a', 2)") == .string("a-2"))
    }

    @Test func nestedJSONOutputs() throws {
        let json = try ExpressionValue(jsonData: Data(#"{"rows": {"orders": 4}, "files": ["x", "y"], "ok": true}"#.utf8))
        let context = EvaluationContext(outputs: ["m": ["json": json]])
        #expect(try eval("steps.m.outputs.json.rows.orders", context) == .number(4))
        #expect(try eval("steps.m.outputs.json.files[1]", context) == .string("y"))
        #expect(try eval("steps.m.outputs.json.ok", context) == .bool(true))
    }

    @Test func missingStepOutputsAreUnresolvedNotEmpty() {
        #expect(throws: EvaluationError.unresolved(reference: "steps.x.outputs.count", mark: mark)) {
            try eval("steps.x.outputs.count")
        }
    }

    @Test func templatesRenderAndKeepTypesForWholeExpressions() throws {
        let template = try Template(parsing: "disk://${{ vars.b }}/day/${{ run.date }}/", mark: mark)
        let context = EvaluationContext(vars: ["b": "bk"], run: ["date": "2026-11-24"])
        #expect(try Evaluator.render(template, in: context) == "disk://bk/day/2026-11-24/")
        #expect(template.literalPrefix == "disk://")
    }

    @Test func syntaxErrorsCarryOffsets() {
        #expect(throws: ExpressionSyntaxError(message: "unterminated string", offset: 5)) { try ExpressionParser.parse("a == 'x") }
        #expect(throws: ExpressionSyntaxError(message: "unexpected '=' (use '==' to compare)", offset: 2)) { try ExpressionParser.parse("a = 1") }
        #expect(throws: ExpressionSyntaxError(message: "expected ')' but found end of expression", offset: 10)) { try ExpressionParser.parse("success( 1") }
    }

    @Test func conditionsWithoutStatusFunctionsImplySuccess() throws {
        let condition = Condition(expression: try ExpressionParser.parse("1 == 1"), source: "1 == 1", mark: mark)
        #expect(try Evaluator.condition(condition, in: EvaluationContext(success: true)) == true)
        #expect(try Evaluator.condition(condition, in: EvaluationContext(success: false, failure: true)) == false)
        let always = Condition(expression: try ExpressionParser.parse("always()"), source: "always()", mark: mark)
        #expect(try Evaluator.condition(always, in: EvaluationContext(success: false, failure: true)) == true)
    }

    @Test func unitsParse() {
        #expect(Units.seconds("1m30s") == 90)
        #expect(Units.seconds("500ms") == 0.5)
        #expect(Units.seconds("soon") == nil)
        let tenMiB: Int64? = Units.bytes("10MiB")
        #expect(tenMiB == Int64(10 * 1024 * 1024), "\(String(describing: tenMiB))")
        #expect(Units.bytes("5MB") == 5_000_000)
        #expect(Units.bytes("12") == 12)
    }

    @Test func didYouMean() {
        #expect(Suggestions.closest(to: "neds", in: ["needs", "if"]) == "needs")
        #expect(Suggestions.closest(to: "zzzz", in: ["needs", "if"]) == nil)
        #expect(Suggestions.editDistance("needs", "nedes") == 1)
    }
}

import Foundation
