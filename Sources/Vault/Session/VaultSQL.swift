import PIICrypto

/// Array parameters as PostgreSQL text-array literals. Only canonical tokens (hex digits)
/// and integers are ever passed, so no element needs quoting.
enum VaultSQL {
    /// `field IN ('ip', 'device_id')`: with it, a lookup by token alone probes the primary key
    /// (field, token) once per field (there is no index on the token by itself).
    static let anyField = "field IN (" + PIIField.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"

    static func textArray<C: Collection>(_ tokens: C) -> String where C.Element == String {
        var out = "{"
        out.reserveCapacity(tokens.count * 65 + 2)
        var first = true
        for token in tokens {
            assert(VaultToken.normalize(token) == token, "only canonical tokens reach SQL")
            if !first { out += "," }
            out += token
            first = false
        }
        return out + "}"
    }

    static func intArray(_ values: [Int64]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
