import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
@testable import B2
import HTTPTransport
import Storage

/// A B2 native-API server that misbehaves on purpose (issue 8, item 3):
/// listings whose `nextFileName` repeats or never ends, download bodies
/// longer or shorter than the listing announced, and error messages that
/// echo the account's token and key. Loopback, NIO, answers from a closure.
/// A time limit on each: the bugs these guard against loop forever.
@Suite(.serialized, .timeLimit(.minutes(1))) struct B2HostileServerTests {
    static let applicationKey = "K005hostileApplicationKey0123456789"
    static let token = "4_hostile_auth_token_0123456789"

    func storage(_ server: FakeB2Server, adjust: (inout B2Configuration) -> Void = { _ in }) throws -> B2Storage {
        var configuration = B2Configuration(keyId: "005hostilekeyid", applicationKey: Self.applicationKey, authorizationURL: server.endpoint)
        configuration.maxAttempts = 2
        configuration.retryBaseDelay = 0.001
        configuration.retryMaxDelay = 0.01
        adjust(&configuration)
        return try B2Storage(configuration: configuration)
    }

    static func files(_ names: [String], next: String?) -> FakeB2Server.Answer {
        let files = names.map { #"{"fileId":"id-\#($0)","fileName":"\#($0)","action":"upload","contentLength":1,"contentSha1":"none","uploadTimestamp":1}"# }
        let nextText = next.map { "\"\($0)\"" } ?? "null"
        return .json(200, #"{"files":[\#(files.joined(separator: ","))],"nextFileName":\#(nextText),"nextFileId":null}"#)
    }

    @Test func aRepeatedNextFileNameIsAnError() async throws {
        let server = try await FakeB2Server { path, _, _ in
            path.hasSuffix("b2_list_file_names") ? Self.files(["a", "b"], next: "b") : nil
        }
        let storage = try storage(server)
        do {
            _ = try await storage.listAll(bucket: "bucket", prefix: "")
            Issue.record("a repeated nextFileName was followed")
        } catch let error as StorageError {
            #expect(error.message.contains("the server returned the same continuation token twice; stopping the listing")
                    || error.message.contains("did not advance"), "\(error)")
        }
        #expect(server.count("b2_list_file_names") == 2)
        try await storage.shutdown()
        try await server.close()
    }

    @Test func anEndlessListingStopsAtTheKeyCap() async throws {
        let server = try await FakeB2Server { path, _, index in
            guard path.hasSuffix("b2_list_file_names") else { return nil }
            return Self.files((0..<10).map { String(format: "f%08d-%02d", index, $0) }, next: String(format: "f%08d-zz", index))
        }
        let storage = try storage(server) { $0.listingLimits = ListingLimits(maxKeys: 300) }
        do {
            _ = try await storage.listAll(bucket: "bucket", prefix: "")
            Issue.record("an endless listing ended")
        } catch let error as StorageError {
            #expect(error.message.contains("passed 300 keys; stopping the listing"), "\(error)")
        }
        #expect(server.count("b2_list_file_names") <= 31)
        try await storage.shutdown()
        try await server.close()
    }

    /// Listed at 1000 bytes, served 4 MiB (with and without Content-Length):
    /// writing stops at 1000, the download fails, nothing is left.
    @Test(arguments: [true, false])
    func aBodyLongerThanListedStopsThere(withContentLength: Bool) async throws {
        let server = try await FakeB2Server { path, _, _ in
            path.hasPrefix("/file/") ? .body(200, [UInt8](repeating: 1, count: 4 << 20), contentLength: withContentLength) : nil
        }
        let storage = try storage(server)
        let directory = try TemporaryDirectory()
        do {
            _ = try await storage.download(bucket: "bucket", key: "k", to: directory.url("k"), known: ObjectInfo(key: "k", size: 1000))
            Issue.record("a body longer than listed was accepted")
        } catch let error as StorageError {
            #expect(error.message.contains("more than the 1000 bytes it announced"), "\(error)")
        }
        #expect(server.count("/file/") == 1)
        #expect(try directory.contents() == [])
        try await storage.shutdown()
        try await server.close()
    }

    @Test func aShorterBodyWithoutContentLengthFails() async throws {
        let server = try await FakeB2Server { path, _, _ in
            path.hasPrefix("/file/") ? .body(200, [UInt8](repeating: 2, count: 600), contentLength: false) : nil
        }
        let storage = try storage(server)
        let directory = try TemporaryDirectory()
        do {
            _ = try await storage.download(bucket: "bucket", key: "k", to: directory.url("k"), known: ObjectInfo(key: "k", size: 1000))
            Issue.record("a short body was accepted")
        } catch let error as StorageError {
            #expect(error.message.contains("ended after 600 of the 1000 bytes announced"), "\(error)")
        }
        #expect(try directory.contents() == [])
        try await storage.shutdown()
        try await server.close()
    }

    /// An error message echoing the Authorization header (B2's token) and
    /// the application key: both masked.
    @Test func echoedTokensAndKeysAreRedacted() async throws {
        let server = try await FakeB2Server { path, headers, _ in
            guard path.hasSuffix("b2_list_file_names") else { return nil }
            let authorization = headers.first(name: "Authorization") ?? "none"
            return .json(400, #"{"status":400,"code":"bad_request","message":"token \#(authorization) key \#(Self.applicationKey) rejected"}"#)
        }
        let storage = try storage(server)
        do {
            _ = try await storage.listPage(bucket: "bucket", prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10)
            Issue.record("a 400 was accepted")
        } catch let error as StorageError {
            #expect(!error.description.contains(Self.token), "\(error)")
            #expect(!error.description.contains(Self.applicationKey), "\(error)")
            #expect(error.message.contains("token [redacted] key [redacted] rejected"), "\(error)")
        }
        try await storage.shutdown()
        try await server.close()
    }
}

/// The B2 servers CI must have: a failure there, a skip elsewhere.
@Suite struct B2ServerPresence {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false, "CI is not set: a missing B2 test server is a skip"))
    func theB2TestServerIsConfiguredInCI() {
        let env = ProcessInfo.processInfo.environment
        for name in ["BUCKETFLOW_TEST_B2_ENDPOINT", "BUCKETFLOW_TEST_B2_KEY_ID", "BUCKETFLOW_TEST_B2_APPLICATION_KEY"] {
            #expect(env[name].map { !$0.isEmpty } ?? false, "CI is set but \(name) is not: scripts/b2-test-server did not run")
        }
    }
}

/// A directory removed at the end.
final class TemporaryDirectory: Sendable {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bf-b2-hostile-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: path) }
    func url(_ name: String) -> URL { path.appendingPathComponent(name) }
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path.path).sorted() }
}

/// Answers b2_authorize_account itself (API and download URLs pointing
/// back here, the key restricted to bucket "bucket" so no bucket lookup is
/// needed); every other request goes to `answer` (path, headers, index of
/// the request), 404 when it returns nil.
final class FakeB2Server: Sendable {
    enum Answer: Sendable {
        case json(UInt, String)
        case body(UInt, [UInt8], contentLength: Bool)
    }
    typealias Responder = @Sendable (String, HTTPHeaders, Int) -> Answer?

    final class State: Sendable {
        let paths = Mutex<[String]>([])
        let port = Atomic<Int>(0)
        let answer: Responder
        init(_ answer: @escaping Responder) { self.answer = answer }
    }

    private let state: State
    private let channel: any Channel
    var endpoint: URL { URL(string: "http://127.0.0.1:\(state.port.load(ordering: .relaxed))")! }

    init(_ answer: @escaping Responder) async throws {
        let state = State(answer)
        self.state = state
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(Handler(state: state)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        state.port.store(channel.localAddress!.port!, ordering: .relaxed)
    }

    func count(_ fragment: String) -> Int { state.paths.withLock { $0.filter { $0.contains(fragment) }.count } }
    func close() async throws { try await channel.close() }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked Sendable: NIO calls a handler only on its channel's event loop.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: State
        var head: HTTPRequestHead?
        init(state: State) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
                let index = state.paths.withLock { paths in
                    paths.append(path)
                    return paths.filter { $0 == path }.count - 1
                }
                let base = "http://127.0.0.1:\(state.port.load(ordering: .relaxed))"
                let answer: Answer?
                if path.hasSuffix("b2_authorize_account") {
                    answer = .json(200, #"{"accountId":"acct","authorizationToken":"\#(B2HostileServerTests.token)","apiInfo":{"storageApi":{"apiUrl":"\#(base)","downloadUrl":"\#(base)","recommendedPartSize":100000000,"absoluteMinimumPartSize":5000000,"allowed":{"buckets":[{"id":"bid","name":"bucket"}],"capabilities":["listFiles","readFiles"],"namePrefix":null}}}}"#)
                } else {
                    answer = state.answer(path, head.headers, index)
                }
                var fields = HTTPHeaders()
                let status: UInt
                let body: [UInt8]
                switch answer {
                case .json(let code, let text)?:
                    status = code
                    body = Array(text.utf8)
                    fields.add(name: "Content-Type", value: "application/json")
                    fields.add(name: "Content-Length", value: String(body.count))
                case .body(let code, let bytes, let withLength)?:
                    status = code
                    body = bytes
                    if withLength { fields.add(name: "Content-Length", value: String(body.count)) } else { fields.add(name: "Transfer-Encoding", value: "chunked") }
                case nil:
                    status = 404
                    body = Array(#"{"status":404,"code":"not_found","message":""}"#.utf8)
                    fields.add(name: "Content-Length", value: String(body.count))
                }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: Int(status)), headers: fields))), promise: nil)
                var offset = 0
                while offset < body.count {
                    let end = min(offset + 65536, body.count)
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body[offset..<end])))), promise: nil)
                    offset = end
                }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
