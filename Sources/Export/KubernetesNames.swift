import Workflow
/// Names that Kubernetes and Argo accept, derived from workflow names and
/// step ids.
public enum KubernetesNames {
    /// A DNS-1123 label (lowercase letters, digits, '-'; starts and ends with
    /// a letter or digit) of at most `maxLength` characters. Text that had to
    /// be shortened gets a short hash suffix so different inputs stay apart.
    public static func label(_ text: String, maxLength: Int = 63, fallback: String = "workflow") -> String {
        var out = ""
        var lastDash = true
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(scalar)
                lastDash = false
            } else if !lastDash {
                out += "-"
                lastDash = true
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        if out.isEmpty { out = fallback }
        if out.count > maxLength {
            let suffix = "-" + String(ShardAssignment.hash(text) & 0xFFFFFF, radix: 16)
            out = String(out.prefix(maxLength - suffix.count))
            while out.hasSuffix("-") { out.removeLast() }
            out += suffix
        }
        return out
    }

    /// Argo's template and task names: `[a-zA-Z0-9][-a-zA-Z0-9]*`; a task
    /// name must also not start with a digit when tasks have dependencies.
    public static func argoField(_ text: String, maxLength: Int = 100) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-" {
                out.unicodeScalars.append(scalar)
            } else {
                out += "-"
            }
        }
        if let first = out.unicodeScalars.first, !(("a"..."z").contains(first) || ("A"..."Z").contains(first)) {
            out = "s-" + out
        }
        if out.isEmpty { out = "step" }
        if out.count > maxLength {
            let suffix = "-" + String(ShardAssignment.hash(text) & 0xFFFFFF, radix: 16)
            out = String(out.prefix(maxLength - suffix.count)) + suffix
        }
        return out
    }

    public static func isDNSSubdomain(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            guard let first = part.unicodeScalars.first, let last = part.unicodeScalars.last else { return false }
            let ok: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
            return ok(first) && ok(last) && part.unicodeScalars.allSatisfy { ok($0) || $0 == "-" }
        }
    }

    /// ConfigMap and Secret keys: `[-._a-zA-Z0-9]+`, at most 253 characters.
    public static func isConfigKey(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 253, text != ".", text != ".." else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-._".unicodeScalars.contains($0)
        }
    }

    /// A label value: at most 63 characters, `[A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?`.
    public static func labelValue(_ text: String) -> String {
        label(text, maxLength: 63)
    }
}
