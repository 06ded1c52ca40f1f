import XCTest
import Workflow
import Export

final class ShardAssignmentTests: XCTestCase {
    /// Fixed values: the assignment must never change between versions.
    /// Cross-checked with an independent Python implementation.
    func testKnownValuesAreStable() {
        XCTAssertEqual(ShardAssignment.hash(""), 0xefd0_1f60_ba99_2926)
        XCTAssertEqual(ShardAssignment.hash("a"), 0x82a2_a958_a9be_ce5b)
        XCTAssertEqual(ShardAssignment.hash("reports/2026-11-28.csv"), 0x8aa0_a622_9254_381e)
        XCTAssertEqual(ShardAssignment.hash("ü/日本.txt"), 0xb25f_479f_2447_5e39)
        XCTAssertEqual(ShardAssignment.shard(of: "reports/2026-11-28.csv", count: 4), 3)
        XCTAssertEqual(ShardAssignment.shard(of: "reports/2026-11-28.csv", count: 7), 6)
        XCTAssertEqual(ShardAssignment.shard(of: "ü/日本.txt", count: 4), 2)
        XCTAssertEqual(ShardAssignment.shard(of: "ü/日本.txt", count: 7), 6)
        XCTAssertEqual(ShardAssignment.shard(of: "anything", count: 1), 1)
    }

    func testBytesNotCharactersAreHashed() {
        // NFC and NFD spellings are different keys in object storage.
        XCTAssertNotEqual(ShardAssignment.hash("\u{00E9}"), ShardAssignment.hash("e\u{0301}"))
    }

    func testEveryKeyHasExactlyOneShard() throws {
        for count in [1, 2, 3, 5, 16] {
            let shards = try (1...count).map { try ShardAssignment(index: $0, count: count) }
            for i in 0..<2000 {
                let key = "data/part-\(i).parquet"
                XCTAssertEqual(shards.filter { $0.owns(key) }.count, 1)
                XCTAssertTrue((1...count).contains(ShardAssignment.shard(of: key, count: count)))
            }
        }
    }

    /// Sequential keys (the usual case: numbered parts, dated files) spread
    /// evenly, including powers of two where FNV-1a alone would be weak.
    func testBalance() {
        let keys = (0..<60_000).map { String(format: "logs/2026/11/%05d.json.gz", $0) }
            + (0..<20_000).map { "k\($0)" }
            + (0..<20_000).map { "img/" + String(repeating: "a", count: $0 % 40) + "\($0 / 40).png" }
        for count in [2, 3, 4, 7, 8, 16, 32, 64] {
            var tally = Array(repeating: 0, count: count)
            for key in keys { tally[ShardAssignment.shard(of: key, count: count) - 1] += 1 }
            let expected = Double(keys.count) / Double(count)
            let chiSquare = tally.reduce(0.0) { $0 + pow(Double($1) - expected, 2) / expected }
            // 99.99th percentile of chi-square with (count-1) degrees of
            // freedom is below 2*(count-1) + 30 for these counts.
            XCTAssertLessThan(chiSquare, Double(2 * (count - 1) + 30), "count \(count): \(tally)")
            // And no shard more than 5 standard deviations off.
            for n in tally { XCTAssertLessThan(abs(Double(n) - expected), 5 * expected.squareRoot(), "count \(count): \(tally)") }
        }
    }

    func testParsing() throws {
        let shard = try ShardAssignment(parsing: "2/5")
        XCTAssertEqual(shard.index, 2)
        XCTAssertEqual(shard.count, 5)
        XCTAssertEqual(shard.description, "2/5")
        for bad in ["0/3", "4/3", "1/0", "x/2", "1/2/3", "12", "", "-1/2", "1/1001"] {
            XCTAssertThrowsError(try ShardAssignment(parsing: bad), bad)
        }
    }
}
