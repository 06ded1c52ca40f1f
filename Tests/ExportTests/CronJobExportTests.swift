import Foundation
import Providers
import XCTest
@testable import Export
import Workflow

final class CronJobExportTests: XCTestCase {
    func testScheduledExamplesExportValidCronJobs() throws {
        var exported = 0
        for url in ExportFixtures.workflowFiles {
            let source = try String(contentsOf: url, encoding: .utf8)
            let workflow = try WorkflowLoader.load(path: url.path, registry: BuiltInProviders.registry)
            guard !workflow.schedules.isEmpty else {
                XCTAssertThrowsError(try CronJobExporter.export(workflow, source: source, fileName: url.lastPathComponent)) { error in
                    XCTAssertTrue("\(error)".contains("has no `schedule:`"), "\(error)")
                }
                continue
            }
            exported += 1
            let stream = try CronJobExporter.export(workflow, source: source, fileName: url.lastPathComponent)
            let result = try ArgoValidator.validate(stream)
            XCTAssertEqual(result.documents.first?["data"]?[url.lastPathComponent]?.string, source)
            XCTAssertEqual(result.documents.count, 1 + workflow.schedules.count)
            for job in result.documents.dropFirst() {
                XCTAssertEqual(job["kind"], .string("CronJob"))
                let container = job["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"]?["containers"]?.list.first
                XCTAssertEqual(container?["args"], .list([.string("run"), .string("/workflows/\(url.lastPathComponent)")]))
            }
        }
        XCTAssertGreaterThan(exported, 0, "at least one example has a schedule")
    }

    func testOverlapTimeZonesAndSecrets() throws {
        for (overlap, policy) in [("forbid", "Forbid"), ("allow", "Allow"), ("queue", "Forbid")] {
            let workflow = try ExportFixtures.load("""
                version: 1
                name: jobs
                overlap: \(overlap)
                schedule:
                  - { cron: "@daily", timezone: Asia/Tokyo }
                  - { cron: "*/15 9-17 * * mon-fri" }
                steps:
                  creds: { action: load-credentials, env-prefix: B2_ }
                """)
            var options = ExportOptions()
            options.envSecrets = ["b2"]
            options.volumes = [try VolumeClaim(parsing: "buckets:/var/buckets")]
            options.serviceAccount = "runner"
            let stream = try CronJobExporter.export(workflow, source: "x", fileName: "jobs.yaml", options: options)
            let result = try ArgoValidator.validate(stream)
            let tokyo = result.documents[1], utc = result.documents[2]
            XCTAssertEqual(tokyo["metadata"]?["name"], .string("jobs-1"))
            XCTAssertEqual(tokyo["spec"]?["schedule"], .string("@daily"))
            XCTAssertEqual(tokyo["spec"]?["timeZone"], .string("Asia/Tokyo"))
            XCTAssertEqual(utc["spec"]?["schedule"], .string("*/15 9-17 * * mon-fri"))
            XCTAssertEqual(utc["spec"]?["timeZone"], .string("UTC"))
            XCTAssertEqual(tokyo["spec"]?["concurrencyPolicy"], .string(policy), overlap)
            let pod = tokyo["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"]
            XCTAssertEqual(pod?["serviceAccountName"], .string("runner"))
            XCTAssertEqual(pod?["containers"]?.list.first?["envFrom"], .list([.map(["secretRef": .map(["name": .string("b2")])])]))
            XCTAssertTrue(pod?["volumes"]?.list.contains(.map(["name": .string("claim-buckets"), "persistentVolumeClaim": .map(["claimName": .string("buckets")])])) ?? false)
            XCTAssertNil(pod?["volumes"]?.list.first { $0["name"] == .string("state") }, "a CronJob runs in one pod: no shared state")
            if overlap == "queue" { XCTAssertTrue(stream.contains("Kubernetes has no queue")) }
        }
    }
}
