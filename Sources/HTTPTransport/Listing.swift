import Foundation
public import Storage

/// Limits on one listing (all the pages of one prefix), so a server that
/// lists forever cannot exhaust memory or loop.
public struct ListingLimits: Sendable, Equatable {
    /// Keys (objects plus folders) one listing may return before it stops
    /// with an error; the provider setting `max-list-keys` raises it.
    public var maxKeys: Int = 1_000_000
    /// Pages one listing may take (a server answering empty pages with new
    /// tokens forever); `max-list-pages`.
    public var maxPages: Int = 100_000

    public init(maxKeys: Int = 1_000_000, maxPages: Int = 100_000) {
        self.maxKeys = max(1, maxKeys)
        self.maxPages = max(1, maxPages)
    }
}

/// The continuation token a provider hands its caller: the server's own
/// token wrapped with what the listing has seen so far (pages, keys, the
/// greatest name), so every page can be checked against the ones before it
/// while ``ObjectStorage/listPage`` stays stateless. Opaque to callers.
public struct ListingCursor: Sendable, Equatable, Codable {
    /// The server's continuation token (S3) or next file name (B2).
    public var token: String
    public var pages: Int
    public var keys: Int
    /// The greatest name (key or folder) listed so far.
    public var last: String?

    static let prefix = "bf1."

    public init(token: String, pages: Int, keys: Int, last: String?) {
        self.token = token
        self.pages = pages
        self.keys = keys
        self.last = last
    }

    /// The cursor in a caller's token; a token that is not one (from an
    /// older build) is the server's own, with nothing seen yet.
    public static func decode(_ text: String?) -> ListingCursor? {
        guard let text else { return nil }
        guard text.hasPrefix(prefix) else { return ListingCursor(token: text, pages: 0, keys: 0, last: nil) }
        var base64 = String(text.dropFirst(prefix.count)).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let cursor = try? JSONDecoder().decode(ListingCursor.self, from: data) else {
            return ListingCursor(token: text, pages: 0, keys: 0, last: nil)
        }
        return cursor
    }

    public func encoded() -> String {
        let data = (try? JSONEncoder().encode(self)) ?? Data()
        return Self.prefix + data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Checks one page the server answered and returns the token for the
    /// caller's next call (nil: the listing is complete).
    ///
    /// - Parameters:
    ///   - previous: The cursor the caller passed (nil on the first page).
    ///   - next: The server's token for the next page (nil: no more pages).
    ///   - truncated: Whether the server said more pages follow.
    ///   - names: The page's keys and folders.
    ///   - subject: "bucket b, prefix p" for messages.
    ///   - settingHint: How to raise the limits (the provider's setting names).
    /// - Throws: `.other` when the server repeats a token, goes backwards
    ///   or stands still, says it continues without a token, or the listing
    ///   passes `limits`.
    public static func advance(previous: ListingCursor?, next: String?, truncated: Bool, names: [String],
                               limits: ListingLimits, subject: String, settingHint: String) throws(StorageError) -> String? {
        if let previous, let next, previous.token == next {
            throw StorageError(.other, "the server returned the same continuation token twice; stopping the listing of \(subject)",
                               hint: "the server is misbehaving (it would list the same page forever)")
        }
        let pages = (previous?.pages ?? 0) + 1
        let keys = (previous?.keys ?? 0) + names.count
        var greatest = previous?.last
        var pageGreatest: String?
        for name in names where pageGreatest.map({ Self.precedes($0, name) }) ?? true { pageGreatest = name }
        if let before = previous?.last, let pageGreatest, !Self.precedes(before, pageGreatest) {
            throw StorageError(.other, "the server's listing of \(subject) did not advance: page \(pages) ends at \"\(pageGreatest)\", not after \"\(before)\" where the previous page ended; stopping the listing",
                               hint: "the server is misbehaving (a repeated or stale continuation token)")
        }
        if let pageGreatest { greatest = pageGreatest }
        if keys > limits.maxKeys {
            throw StorageError(.other, "the listing of \(subject) passed \(limits.maxKeys) keys; stopping the listing",
                               hint: "if the bucket really holds more, raise \(settingHint)")
        }
        guard truncated || next != nil else { return nil }
        guard let next, !next.isEmpty else {
            guard truncated else { return nil }
            throw StorageError(.other, "the server said the listing of \(subject) continues after page \(pages) but sent no continuation token; stopping the listing",
                               hint: "the server is misbehaving")
        }
        if pages >= limits.maxPages {
            throw StorageError(.other, "the listing of \(subject) passed \(limits.maxPages) pages; stopping the listing",
                               hint: "if the bucket really holds more, raise \(settingHint)")
        }
        return ListingCursor(token: next, pages: pages, keys: keys, last: greatest).encoded()
    }

    /// UTF-8 byte order, the order S3 and B2 list in.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
