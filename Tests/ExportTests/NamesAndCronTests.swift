import XCTest
@testable import Export

final class NamesAndCronTests: XCTestCase {
    func testCronForArgoAndKubernetes() throws {
        let cases: [(String, String)] = [
            ("30 2 * * *", "30 2 * * *"), ("  0\t6 * * 7 ", "0 6 * * 0"), ("0 6 * * 5-7", "0 6 * * 5-6,0"),
            ("0 6 * * 6-7", "0 6 * * 6,0"), ("0 6 * * 0-7", "0 6 * * 0-6,0"), ("0 6 * * 1,7", "0 6 * * 1,0"),
            ("0 6 * * 0,7", "0 6 * * 0"), ("*/15 9-17 * * mon-fri", "*/15 9-17 * * mon-fri"), ("0 0 * * */7", "0 0 * * */7"),
            ("0 0 1 7 *", "0 0 1 7 *"), ("@Daily", "@daily"), ("0 0 17 * 1-5/2", "0 0 17 * 1-5/2"),
        ]
        for (given, expected) in cases {
            XCTAssertEqual(try PortableCron.convert(given), expected, given)
        }
        for bad in ["0 0 * * 5-7/2", "0 0 * * 7-7/1", "0 0 * *"] {
            XCTAssertThrowsError(try PortableCron.convert(bad), bad)
        }
    }

    func testKubernetesNames() {
        XCTAssertEqual(KubernetesNames.label("Daily Exports (EU)"), "daily-exports-eu")
        XCTAssertEqual(KubernetesNames.label("___"), "workflow")
        let long = KubernetesNames.label(String(repeating: "abc-", count: 40), maxLength: 49)
        XCTAssertLessThanOrEqual(long.count, 49)
        XCTAssertTrue(KubernetesNames.isDNSSubdomain(long), long)
        XCTAssertNotEqual(long, KubernetesNames.label(String(repeating: "abc-", count: 41), maxLength: 49), "shortened names stay distinct")
        XCTAssertEqual(KubernetesNames.argoField("make_bucket"), "make-bucket")
        XCTAssertEqual(KubernetesNames.argoField("_x"), "s--x")
        XCTAssertEqual(KubernetesNames.argoField("Été"), "s--t-")
        XCTAssertLessThanOrEqual(KubernetesNames.argoField(String(repeating: "x", count: 300)).count, 100)
        XCTAssertTrue(KubernetesNames.isConfigKey("daily-exports.yaml"))
        XCTAssertFalse(KubernetesNames.isConfigKey("a b.yaml"))
        XCTAssertFalse(KubernetesNames.isDNSSubdomain("Upper"))
        XCTAssertEqual(PodParts.inert("a {{b}} }}{{ c"), "a { {b} } } }{ { c")
    }
}
