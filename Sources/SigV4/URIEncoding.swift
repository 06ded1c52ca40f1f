/// Percent-encodes `string` byte by byte of its UTF-8, keeping only RFC 3986
/// unreserved characters (`A-Z a-z 0-9 - _ . ~`) and, unless `encodeSlash`,
/// `/` — the encoding SigV4 and S3 object paths use.
public func awsURIEncode(_ string: String, encodeSlash: Bool) -> String {
    let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(string.utf8.count)
    for byte in string.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            out.append(byte)
        case UInt8(ascii: "/") where !encodeSlash:
            out.append(byte)
        default:
            out.append(UInt8(ascii: "%"))
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
    }
    return String(decoding: out, as: UTF8.self)
}
