public import Foundation
import Crypto

/// Hex SHA-256 of a whole (small) buffer, for workflow file fingerprints.
public enum SHA256Hex {
    public static func hash(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
