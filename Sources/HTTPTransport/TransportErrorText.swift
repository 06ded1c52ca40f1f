import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOPosix
import AsyncHTTPClient

/// Words for transport failures: `connection refused (errno 111)` rather
/// than NIO's nested descriptions (`connection reset (error set): Connection
/// refused) (errno: 111)`), with balanced parentheses and no repeated codes.
public enum TransportErrorText {
    public static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            return "\(lowercasedFirst(String(cString: strerror(io.errnoCode)))) (errno \(io.errnoCode))"
        }
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return describe(first.error) }
            if let dns = connection.dnsAError ?? connection.dnsAAAAError { return "cannot resolve \(connection.host): \(describe(dns))" }
            return "cannot connect to \(connection.host):\(connection.port)"
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout: return "timed out connecting"
            case .readTimeout: return "timed out waiting for data"
            case .remoteConnectionClosed: return "the server closed the connection"
            case .deadlineExceeded: return "the request took too long"
            default: return String(describing: client)
            }
        }
        if let channel = error as? ChannelError {
            switch channel {
            case .connectTimeout: return "timed out connecting"
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed: return "the connection was closed"
            default: return String(describing: channel)
            }
        }
        if let parser = error as? HTTPParserError, parser == .invalidEOFState {
            return "the connection closed in the middle of a response"
        }
        if let deadline = error as? ResponseDeadlineExceeded { return deadline.description }
        if let ssl = error as? NIOSSLError { return "TLS failure (\(ssl))" }
        return String(describing: error)
    }

    static func lowercasedFirst(_ text: String) -> String {
        guard let first = text.first, !text.dropFirst().contains(where: \.isUppercase) else { return text }
        return first.lowercased() + text.dropFirst()
    }
}
