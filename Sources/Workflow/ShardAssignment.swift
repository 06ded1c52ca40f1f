/// Which shard of a sharded step (`shards: N`) handles an object key.
///
/// A step with `shards: N` runs as N independent invocations
/// `bucketflow run FILE --only STEP --shard K/N` (K = 1...N). Each invocation
/// enumerates the same objects and keeps those whose key maps to its own
/// shard, so together the shards handle every object exactly once, without
/// talking to each other.
///
/// The mapping is a pure function of the key's UTF-8 bytes and N, fixed for
/// all versions (changing it would make shards of one run, started by
/// different bucketflow versions, skip or repeat objects):
///
/// 1. h = FNV-1a 64 over the UTF-8 bytes of the key
///    (offset basis 0xcbf29ce484222325, prime 0x100000001b3);
/// 2. h = fmix64(h), MurmurHash3's 64-bit finaliser, because FNV-1a's low
///    bits depend only on the low bits of each byte and `mod 2^k` alone
///    would balance poorly;
/// 3. shard = h mod N, plus 1.
///
/// Hash the key every shard sees the same way: the object key (or the path
/// relative to the step's source folder for uploads), not a rendered URL.
public struct ShardAssignment: Sendable, Hashable, CustomStringConvertible {
    /// 1...count.
    public let index: Int
    public let count: Int

    /// The most shards a step may ask for.
    public static let maximumCount = 1000

    public init(index: Int, count: Int) throws(ShardError) {
        guard count >= 1, count <= Self.maximumCount else {
            throw ShardError("the number of shards must be between 1 and \(Self.maximumCount), found \(count)")
        }
        guard index >= 1, index <= count else {
            throw ShardError("shard \(index)/\(count) does not exist: K in K/N must be between 1 and \(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `K/N` as given to `--shard`.
    public init(parsing text: String) throws(ShardError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw ShardError("--shard expects K/N (shard K of N, counting from 1), found \"\(text)\"")
        }
        try self.init(index: k, count: n)
    }

    /// `K/N`.
    public var description: String { "\(index)/\(count)" }

    /// Whether this shard handles `key`.
    public func owns(_ key: String) -> Bool {
        Self.shard(of: key, count: count) == index
    }

    /// The shard (1...count) that handles `key`.
    public static func shard(of key: String, count: Int) -> Int {
        precondition(count >= 1, "shard count must be at least 1")
        return Int(hash(key) % UInt64(count)) + 1
    }

    /// The 64-bit value the assignment is based on (FNV-1a 64, then fmix64).
    public static func hash(_ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }
}

/// An invalid shard specification.
public struct ShardError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
