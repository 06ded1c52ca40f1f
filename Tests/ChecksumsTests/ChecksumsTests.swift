import Checksums
import Foundation
import Testing

@Suite struct ChecksumsTests {
    let check = Array("123456789".utf8)

    @Test func crc32cMatchesTheCatalogueCheckValue() {
        // reveng's catalogue: CRC-32/ISCSI check = 0xE3069283.
        #expect(check.withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
        #expect(check.withUnsafeBytes { CRC32C.portableChecksum($0) } == 0xE306_9283)
    }

    @Test func crc64nvmeMatchesTheCatalogueCheckValue() {
        // reveng's catalogue: CRC-64/NVME check = 0xAE8B14860A799888.
        #expect(check.withUnsafeBytes { CRC64NVME.checksum($0) } == 0xAE8B_1486_0A79_9888)
    }

    @Test func awsExamplesMatch() {
        // The values S3 returns for "Hello, World!" (base64 of the big-endian bytes).
        let hello = Array("Hello, World!".utf8)
        var c32 = CRC32C()
        c32.update(hello)
        #expect(Data(c32.bytes).base64EncodedString() == "TVUQaA==")
        var empty = CRC32C()
        empty.update([UInt8]())
        #expect(empty.value == 0)
        #expect(Data(empty.bytes).base64EncodedString() == "AAAAAA==")
    }

    /// Every length and alignment around the 8-byte loops, split at every
    /// point: the instruction, the table and incremental updates agree.
    @Test func instructionTableAndIncrementalAgree() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        data.withUnsafeBytes { all in
            for start in 0..<9 {
                for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200, 291] where start + length <= all.count {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    let whole = CRC32C.checksum(slice)
                    #expect(whole == CRC32C.portableChecksum(slice), "start \(start) length \(length)")
                    let whole64 = CRC64NVME.checksum(slice)
                    for split in [0, 1, 3, 8, length / 2, length] where split <= length {
                        var a = CRC32C()
                        a.update(UnsafeRawBufferPointer(rebasing: slice[0..<split]))
                        a.update(UnsafeRawBufferPointer(rebasing: slice[split..<length]))
                        #expect(a.value == whole)
                        var b = CRC64NVME()
                        b.update(UnsafeRawBufferPointer(rebasing: slice[0..<split]))
                        b.update(UnsafeRawBufferPointer(rebasing: slice[split..<length]))
                        #expect(b.value == whole64)
                    }
                }
            }
        }
    }

    /// A naive bit-at-a-time reference for both polynomials.
    @Test func agreesWithABitwiseReference() {
        func bitwise32(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
            }
            return ~crc
        }
        func bitwise64(_ bytes: [UInt8]) -> UInt64 {
            var crc: UInt64 = ~0
            for byte in bytes {
                crc ^= UInt64(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x9A6C_9329_AC4B_C9B5 : crc >> 1 }
            }
            return ~crc
        }
        for length in [1, 5, 8, 33, 1000] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
            #expect(bytes.withUnsafeBytes { CRC32C.checksum($0) } == bitwise32(bytes))
            #expect(bytes.withUnsafeBytes { CRC64NVME.checksum($0) } == bitwise64(bytes))
        }
    }

    /// Combining the checksums of two pieces gives the checksum of the
    /// whole, at every split (empty pieces included) and for pieces longer
    /// than the operator's 2^n steps.
    @Test func combineEqualsTheChecksumOfTheConcatenation() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        data.withUnsafeBytes { all in
            for split in [0, 1, 2, 3, 7, 8, 255, 256, 4096, 65_537, 69_999, 70_000] {
                let a = UnsafeRawBufferPointer(rebasing: all[0..<split])
                let b = UnsafeRawBufferPointer(rebasing: all[split...])
                let c32 = CRC32C(value: CRC32C.checksum(a)).combined(with: CRC32C.checksum(b), length: Int64(b.count))
                #expect(c32.value == CRC32C.checksum(all), "split \(split)")
                let c64 = CRC64NVME(value: CRC64NVME.checksum(a)).combined(with: CRC64NVME.checksum(b), length: Int64(b.count))
                #expect(c64.value == CRC64NVME.checksum(all), "split \(split)")
            }
        }
        // Reference values: "123456789" split as "1234" + "56789".
        let head = Array("1234".utf8), tail = Array("56789".utf8)
        let c32 = CRC32C(value: head.withUnsafeBytes { CRC32C.checksum($0) }).combined(with: tail.withUnsafeBytes { CRC32C.checksum($0) }, length: 5)
        #expect(c32.value == 0xE306_9283)
        let c64 = CRC64NVME(value: head.withUnsafeBytes { CRC64NVME.checksum($0) }).combined(with: tail.withUnsafeBytes { CRC64NVME.checksum($0) }, length: 5)
        #expect(c64.value == 0xAE8B_1486_0A79_9888)
    }
}
