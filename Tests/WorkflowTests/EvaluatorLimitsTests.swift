import Foundation
import Testing
import YAML
@testable import Workflow

/// Checked conversions, `cancelled()`, and evaluation bounded in memory.
struct EvaluatorLimitsTests {
    static let mark = YAMLMark(line: 1, column: 1)

    func eval(_ text: String, _ context: EvaluationContext = EvaluationContext()) throws -> ExpressionValue {
        try Evaluator.evaluate(try ExpressionParser.parse(text), in: context, mark: Self.mark)
    }

    @Test func checkedConversionsNeverTrap() {
        #expect(Units.checkedInt(.infinity) == nil)
        #expect(Units.checkedInt(-.infinity) == nil)
        #expect(Units.checkedInt(.nan) == nil)
        #expect(Units.checkedInt(1e19) == nil)
        #expect(Units.checkedInt(2.5) == nil)
        #expect(Units.checkedInt(42) == 42)
        #expect(Units.checkedInt64(9.3e18) == nil)
        #expect(Units.bytes("9999999999TiB") == nil)
        #expect(Units.bytes("1e300") == nil)
        #expect(Units.bytes("10MiB") == 10 << 20)
        #expect(Units.bytes("5MB") == 5_000_000)
        #expect(Units.bytes("-1") == nil)
        #expect(Units.seconds("1e400") == nil)
        #expect(Units.seconds("inf") == nil)
        #expect(Units.seconds("nan") == nil)
        #expect(Units.seconds("2m30s") == 150)
        #expect(Units.duration(seconds: .infinity) == nil)
        #expect(Units.duration(seconds: .nan) == nil)
        #expect(Units.duration(seconds: -1) == nil)
        #expect(Units.duration(seconds: 1e30) == nil)
        #expect(Units.duration(seconds: 1.5) == .milliseconds(1500))
    }

    @Test func cancelledIsTrueOnlyInACancelledRun() throws {
        #expect(try eval("cancelled()") == .bool(false))
        var context = EvaluationContext()
        context.cancelled = true
        #expect(try eval("cancelled()", context) == .bool(true))
        let condition = Condition(expression: try ExpressionParser.parse("cancelled()"), source: "cancelled()", mark: Self.mark)
        #expect(try Evaluator.condition(condition, in: EvaluationContext(success: false, failure: true, cancelled: true)))
        #expect(try !Evaluator.condition(condition, in: EvaluationContext(success: false, failure: true, cancelled: false)))
    }

    @Test func formatIsOnePassAndBounded() throws {
        #expect(try eval("format('{0}-{1}', '{1}', 'b')") == .string("{1}-b"))
        #expect(try eval("format('{{0}} {0}', 'x')") == .string("{0} x"))
        var nested = "'\(String(repeating: "{0}", count: 16))'"
        for _ in 0..<10 { nested = "format('{0}{0}{0}{0}{0}{0}{0}{0}', \(nested))" }
        #expect(throws: EvaluationError.self) { try eval(nested) }
        do {
            _ = try eval(nested)
        } catch let error as EvaluationError {
            #expect(error.description.contains("1 MiB"))
        }
    }

    @Test func interpolationIsBounded() throws {
        var context = EvaluationContext()
        context.vars["big"] = String(repeating: "x", count: 600_000)
        let template = try Template(parsing: "${{ vars.big }}${{ vars.big }}", mark: Self.mark)
        #expect(throws: EvaluationError.self) { try Evaluator.render(template, in: context) }
    }

    @Test func deepExpressionsAreSyntaxErrors() {
        #expect(throws: ExpressionSyntaxError.self) { try ExpressionParser.parse(String(repeating: "(", count: 3000) + "1" + String(repeating: ")", count: 3000)) }
        #expect(throws: ExpressionSyntaxError.self) { try ExpressionParser.parse(String(repeating: "!", count: 200_000) + "1") }
        #expect(throws: ExpressionSyntaxError.self) { try ExpressionParser.parse(String(repeating: "!", count: 100) + "1") }
        #expect(throws: ExpressionSyntaxError.self) { try ExpressionParser.parse(Array(repeating: "a", count: 1000).joined(separator: "||")) }
        #expect(throws: Never.self) { try ExpressionParser.parse(String(repeating: "!", count: 60) + "1") }
    }
}
