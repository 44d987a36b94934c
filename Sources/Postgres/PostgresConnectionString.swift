import CLibPQ

/// Reading a connection string the way libpq reads it, without connecting.
public enum PostgresConnectionString {
    /// The options among `keywords` that `url` sets explicitly (no defaults, no `PG*`
    /// environment variables), parsed by libpq's own `PQconninfoParse`: a `postgresql://` or
    /// `postgres://` URL, a `key=value …` conninfo string, or a plain database name (which
    /// sets nothing else). Nil when libpq cannot parse it; its message is dropped, as it can
    /// quote the string (passwords included). Ask only for keywords that are not secret.
    public static func options(_ url: String, keywords: Set<String>) -> [String: String]? {
        let isURL = url.hasPrefix("postgresql://") || url.hasPrefix("postgres://")
        // PQconnectdbParams(expand_dbname) expands only a URL or a string holding "=";
        // anything else is a database name.
        guard isURL || url.contains("=") else { return keywords.contains("dbname") ? ["dbname": url] : [:] }
        var message: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(url, &message) else {
            if let message { PQfreemem(message) }
            return nil
        }
        defer { PQconninfoFree(parsed) }
        var found: [String: String] = [:]
        var option = parsed
        while let keyword = option.pointee.keyword {
            let name = String(cString: keyword)
            if keywords.contains(name), let value = option.pointee.val {
                found[name] = String(cString: value)
            }
            option += 1
        }
        return found
    }
}
