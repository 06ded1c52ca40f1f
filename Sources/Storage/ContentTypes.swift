/// Content types guessed from file extensions, for objects stored without one.
public enum ContentTypes {
    public static let fallback = "application/octet-stream"

    static let byExtension: [String: String] = [
        "csv": "text/csv", "tsv": "text/tab-separated-values", "txt": "text/plain", "log": "text/plain", "md": "text/markdown",
        "json": "application/json", "ndjson": "application/x-ndjson", "jsonl": "application/x-ndjson",
        "xml": "application/xml", "html": "text/html", "htm": "text/html", "css": "text/css", "js": "text/javascript",
        "yaml": "application/yaml", "yml": "application/yaml",
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp", "svg": "image/svg+xml",
        "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip", "tgz": "application/gzip",
        "tar": "application/x-tar", "zst": "application/zstd", "bz2": "application/x-bzip2", "xz": "application/x-xz",
        "parquet": "application/vnd.apache.parquet", "avro": "application/avro", "mp4": "video/mp4", "mp3": "audio/mpeg",
    ]

    /// The content type for a key or file name, by its extension.
    public static func guess(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), !name[dot...].contains("/") else { return fallback }
        return byExtension[name[name.index(after: dot)...].lowercased()] ?? fallback
    }
}
