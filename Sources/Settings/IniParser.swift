/// A parser for the seed's `config.ini` format: `[section]` headers, `key = value` lines,
/// `;` or `#` comments. Keys become `section.key`, lowercased.
public enum IniParser {
    /// Parses INI text into `section.key` → value. Empty values are kept as empty strings.
    /// A malformed line is a ``SettingsError/Code/malformedFile`` naming its number (values are
    /// never echoed).
    public static func parse(_ text: String) throws -> [String: String] {
        var values: [String: String] = [:]
        var section = ""
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix(";") || line.hasPrefix("#") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingWhitespace().lowercased()
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw malformed(line: index + 1) }
            let key = String(line[..<equals]).trimmingWhitespace().lowercased()
            let value = String(line[line.index(after: equals)...]).trimmingWhitespace()
            guard !key.isEmpty else { throw malformed(line: index + 1) }
            values[section.isEmpty ? key : "\(section).\(key)"] = value
        }
        return values
    }

    static func malformed(line: Int) -> SettingsError {
        SettingsError(.malformedFile, "config line \(line) is neither [section], key = value, nor a comment")
    }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace (config lines, `--reason` values).
    public func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
