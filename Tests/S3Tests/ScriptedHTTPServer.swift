import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP server that answers each request with the next scripted
/// reply, to make server quirks and broken connections happen on cue (a
/// body cut off halfway, a range ignored). Not an S3 server: the provider's
/// behaviour against real servers is the conformance suite's job.
final class ScriptedHTTPServer: Sendable {
    enum Reply: Sendable {
        /// A complete answer.
        case respond(status: HTTPResponseStatus, headers: [(String, String)], body: [UInt8])
        /// Announces `body.count + missing` bytes, sends `body`, closes the connection.
        case cut(status: HTTPResponseStatus = .ok, headers: [(String, String)], body: [UInt8], missing: Int)
        /// No Content-Length: the body goes chunked, `body` and nothing more.
        case chunked(status: HTTPResponseStatus = .ok, headers: [(String, String)], body: [UInt8])
        /// Announces the body's length, then sends one byte every `interval`.
        case trickle(status: HTTPResponseStatus = .ok, headers: [(String, String)], body: [UInt8], interval: TimeAmount)
        /// Answers every request from here on with what `reply` makes of it
        /// (its index among the requests answered, and the request); never
        /// used up.
        case every(@Sendable (Int, Seen) -> Reply)
    }

    struct Seen: Sendable {
        var method: HTTPMethod
        var uri: String
        var headers: [(String, String)]
        /// The request body.
        var body: [UInt8] = []

        /// The first value of header `name` (case-insensitive).
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// What the server and its handlers share.
    final class State: Sendable {
        let script: Mutex<[Reply]>
        let requests = Mutex<[Seen]>([])
        init(_ replies: [Reply]) { script = Mutex(replies) }
    }

    private let state: State
    private let channel: any Channel

    var port: Int { channel.localAddress!.port! }
    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    init(_ replies: [Reply]) async throws {
        let state = State(replies)
        self.state = state
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// The requests answered so far.
    var seen: [Seen] { state.requests.withLock { $0 } }

    func close() async throws { try await channel.close() }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked Sendable: NIO calls a handler only on its channel's event loop.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: State
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(state: State) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(let buffer): body += buffer.readableBytesView
            case .end:
                guard let head else { return }
                let body = body
                state.requests.withLock { $0.append(Seen(method: head.method, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)) }
                let index = state.requests.withLock { $0.count - 1 }
                var reply = state.script.withLock { script -> Reply? in
                    guard let first = script.first else { return nil }
                    if case .every = first { return first }
                    return script.removeFirst()
                }
                if case .every(let make)? = reply {
                    reply = make(index, state.requests.withLock { $0[index] })
                }
                switch reply {
                case .respond(let status, let headers, let body)?:
                    var fields = HTTPHeaders(headers)
                    fields.replaceOrAdd(name: "Content-Length", value: String(body.count))
                    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: fields))), promise: nil)
                    if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil) }
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                case .cut(let status, let headers, let body, let missing)?:
                    var fields = HTTPHeaders(headers)
                    fields.replaceOrAdd(name: "Content-Length", value: String(body.count + missing))
                    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: fields))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
                    context.close(promise: nil)
                case .chunked(let status, let headers, let body)?:
                    var fields = HTTPHeaders(headers)
                    fields.remove(name: "Content-Length")
                    fields.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
                    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: fields))), promise: nil)
                    var offset = 0
                    while offset < body.count {
                        let end = min(offset + 65536, body.count)
                        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body[offset..<end])))), promise: nil)
                        offset = end
                    }
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                case .trickle(let status, let headers, let body, let interval)?:
                    var fields = HTTPHeaders(headers)
                    fields.replaceOrAdd(name: "Content-Length", value: String(body.count))
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: fields))), promise: nil)
                    let loop = context.eventLoop
                    let channel = context.channel
                    @Sendable func send(_ index: Int) {
                        guard index < body.count, channel.isActive else { return }
                        loop.scheduleTask(in: interval) {
                            channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: [body[index]]))), promise: nil)
                            send(index + 1)
                        }
                    }
                    send(0)
                case .every?:
                    break
                case nil:
                    let fields = HTTPHeaders([("Content-Length", "0")])
                    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .internalServerError, headers: fields))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        }
    }
}
