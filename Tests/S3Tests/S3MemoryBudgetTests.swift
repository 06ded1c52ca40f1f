import Foundation
import Testing
@testable import S3
import Storage

/// One memory budget shared by every transfer of a run: several multipart
/// uploads through two storages of a real server never hold more part
/// bytes at once than the budget, and give them all back.
@Suite(.serialized, .enabled(if: S3TestServer.configured, S3TestServer.skipMessage))
struct S3MemoryBudgetTests {
    @Test(arguments: S3TestServer.all)
    func uploadsThroughTwoStoragesShareOneBudget(server: S3TestServer) async throws {
        let scratch = try Scratch()
        // Two 5 MiB parts fit; a third must wait for one to finish.
        let budget = MemoryBudget(capacity: 11 << 20)
        let configure: (inout S3Configuration) -> Void = {
            $0.multipartThreshold = 5 << 20
            $0.partSize = 5 << 20
            $0.partConcurrency = 4
            $0.memoryBudget = budget
        }
        let big = try (0..<4).map { try scratch.file("big\($0).bin", bytes: (11 << 20) + $0, seed: UInt64($0 + 1)) }
        let small = try (0..<4).map { try scratch.file("small\($0).bin", bytes: 3 << 20, seed: UInt64($0 + 10)) }
        try await server.withBucket(configure: configure) { first, bucket in
            let second = try server.storage(configure: configure)
            defer { Task { try? await second.shutdown() } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, file) in (big + small).enumerated() {
                    let storage = index % 2 == 0 ? first : second
                    group.addTask {
                        let put = try await storage.upload(from: file, bucket: bucket, key: file.lastPathComponent, options: PutOptions())
                        #expect(put.bytes == Int64(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int))
                    }
                }
                try await group.waitForAll()
            }
            // Parts really were paid for (at least one part held), never beyond the budget, all given back.
            #expect(budget.highWater >= 5 << 20)
            #expect(budget.highWater <= 11 << 20)
            #expect(budget.held == 0)
            #expect(first.partSize(for: 11 << 20) == 5 << 20)
            for file in big + small {
                let info = try await first.head(bucket: bucket, key: file.lastPathComponent)
                #expect(info.size == Int64(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int))
            }
        }
    }
}
