import Benchmark
import Foundation
import S3

/// ListObjectsV2 parsing of a full 1000-key page, as S3 sends it
/// (EncodingType=url, ETags, sizes, dates, storage class, owner-less).
enum ListingBenchmarks {
    static func register() {
        let page = Data(listObjectsPage(keys: 1000).utf8)
        Benchmark("S3 ListObjectsV2 parse, 1000 keys",
                  configuration: .init(maxIterations: 1000)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try S3ListParser.objects(page))
            }
        }
    }

    static func listObjectsPage(keys: Int) -> String {
        var xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
        <Name>my-bucket</Name><Prefix>daily%2F</Prefix><KeyCount>\(keys)</KeyCount><MaxKeys>1000</MaxKeys>\
        <EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>\
        <ContinuationToken>1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2FwmkeW5bAYe0Pk</ContinuationToken>\
        <NextContinuationToken>1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2FwmkeW5bAYe0Pl</NextContinuationToken>\
        <StartAfter></StartAfter>
        """
        xml.reserveCapacity(keys * 330)
        for i in 0..<keys {
            let etag = String(repeating: String(i % 16, radix: 16), count: 32)
            xml += "<Contents><Key>daily%2F2026-11-28%2Forders+part-\(String(format: "%05d", i)).csv</Key>"
            xml += "<LastModified>2026-11-28T09:\(String(format: "%02d", i % 60)):17.000Z</LastModified>"
            xml += "<ETag>&quot;\(etag)&quot;</ETag><ChecksumAlgorithm>CRC32C</ChecksumAlgorithm>"
            xml += "<Size>\(65_536 + i)</Size><StorageClass>STANDARD</StorageClass></Contents>"
        }
        xml += "</ListBucketResult>"
        return xml
    }
}
