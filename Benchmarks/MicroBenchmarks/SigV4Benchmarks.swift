import Benchmark
import Foundation
import SigV4

/// Header signing of the requests S3 sends most: a GET of an object and a
/// multipart part PUT (query string, Content-MD5, unsigned payload).
enum SigV4Benchmarks {
    static func register() {
        let signer = SigV4Signer(credentials: SigV4Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE",
                                                               secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                                 region: "eu-central-1")
        let date = Date(timeIntervalSince1970: 1_764_288_000)
        let get = SigV4Request(method: "GET", host: "my-bucket.s3.eu-central-1.amazonaws.com",
                               path: "/daily/2026-11-28/orders-0001.csv",
                               headers: [("Range", "bytes=0-1048575")],
                               payloadHash: SigV4Request.unsignedPayload)
        let part = SigV4Request(method: "PUT", host: "my-bucket.s3.eu-central-1.amazonaws.com",
                                path: "/exports/2026/11/28/big file (1).parquet",
                                query: [("partNumber", "17"), ("uploadId", "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA")],
                                headers: [("Content-Length", "16777216"), ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")],
                                payloadHash: SigV4Request.unsignedPayload)

        Benchmark("SigV4 sign GET object") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(signer.signedHeaders(for: get, date: date))
            }
        }
        Benchmark("SigV4 sign PUT part (query + Content-MD5)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(signer.signedHeaders(for: part, date: date))
            }
        }
        Benchmark("SigV4 presigned GET URL") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(signer.presignedURL(scheme: "https", request: get, expires: 3600, date: date))
            }
        }
    }
}
