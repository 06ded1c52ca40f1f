import Benchmark
import Workflow
import YAML

/// Expression evaluation as the executor does it for every step: a whole
/// `if:` condition, and a location template with several placeholders.
enum ExpressionBenchmarks {
    static func register() {
        let mark = YAMLMark(line: 1, column: 1)
        let context = EvaluationContext(
            vars: ["bucket": "bench-bucket", "day": "2026-11-28", "prefix": "daily"],
            env: ["HOME": "/home/bench"],
            run: ["date": "2026-11-28", "id": "20261128T093000Z-1"],
            outputs: ["list": ["count": .number(1000), "keys": .list((0..<100).map { .string("daily/file-\($0).csv") }),
                               "url": .string("disk://bench-bucket/daily/file-0.csv")]],
            statuses: ["list": "succeeded"],
            success: true)
        let condition = try! Template(
            parsing: "${{ steps.list.outputs.count > 10 && contains(steps.list.outputs.keys, 'daily/file-99.csv') && vars.prefix == 'daily' }}",
            mark: mark)
        let location = try! Template(
            parsing: "disk://${{ vars.bucket }}/${{ vars.prefix }}/${{ run.date }}/${{ format('{0}-{1}.csv', run.id, steps.list.outputs.count) }}",
            mark: mark)
        guard let conditionExpression = condition.expressions.first?.expression else { fatalError("no expression parsed") }

        Benchmark("expression evaluate, && of compare + contains(100 keys)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try Evaluator.evaluate(conditionExpression, in: context, mark: mark))
            }
        }
        Benchmark("template render, 4 placeholders incl. format()") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try Evaluator.render(location, in: context))
            }
        }
        Benchmark("template parse, 4 placeholders incl. format()") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try Template(parsing: location.source, mark: mark))
            }
        }
    }
}
