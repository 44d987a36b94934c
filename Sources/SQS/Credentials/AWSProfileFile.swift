import Foundation

/// The INI format of `~/.aws/credentials` and `~/.aws/config`, reduced to what we read:
/// sections of `key = value` pairs.
enum AWSProfileFile {
    /// Sections by name (as written, `profile ` prefix kept), keys lowercased.
    static func parse(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            // Indented lines continue a nested property (e.g. `s3 =`), which we do not use.
            if rawLine.first == " " || rawLine.first == "\t", current != nil { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard let close = line.firstIndex(of: "]") else { current = nil; continue }
                let name = line[line.index(after: line.startIndex)..<close].trimmingCharacters(in: .whitespaces)
                current = name
                if sections[name] == nil { sections[name] = [:] }
                continue
            }
            guard let section = current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var value = Substring(line[line.index(after: equals)...])
            // Inline comments need whitespace before the marker.
            if let marker = value.indices.first(where: { i in
                (value[i] == "#" || value[i] == ";") && i > value.startIndex && value[value.index(before: i)].isWhitespace
            }) {
                value = value[..<marker]
            }
            sections[section, default: [:]][key] = value.trimmingCharacters(in: .whitespaces)
        }
        return sections
    }

    /// The static keys of `profile` in a credentials file, `nil` when the profile has none.
    static func credentials(in text: String, profile: String) throws(SQSError) -> AWSCredentials? {
        let sections = parse(text)
        guard let section = sections[profile] ?? sections["profile \(profile)"] else { return nil }
        let accessKey = section["aws_access_key_id"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = section["aws_secret_access_key"].flatMap { $0.isEmpty ? nil : $0 }
        switch (accessKey, secret) {
        case (nil, nil):
            return nil
        case (let accessKey?, let secret?):
            let token = section["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: token)
        default:
            throw SQSError(code: .credentials, isRetryable: false, reason: "profile has only one of aws_access_key_id and aws_secret_access_key")
        }
    }
}
