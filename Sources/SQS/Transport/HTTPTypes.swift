/// One HTTP request handed to the transport.
struct HTTPRequest: Sendable {
    var method: String
    var url: String
    /// Header names as sent; order kept.
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    var connectTimeout: Duration
    var timeout: Duration
    /// Bypass any proxy from the environment (link-local metadata endpoints).
    var noProxy: Bool = false
    /// CA certificates (PEM file) to verify the server with instead of the system's (`AWS_CA_BUNDLE`).
    var caBundle: String? = nil
}

/// One HTTP response: status, headers (names lowercased) and body.
struct HTTPResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

extension Duration {
    /// Whole milliseconds, rounded up, at least 1.
    var milliseconds: Int {
        let (seconds, attoseconds) = components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(max(1, ms))
    }
}
