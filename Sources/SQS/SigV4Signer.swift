public import Foundation
import PIICrypto

/// AWS Signature Version 4 for one service and region (header signing, `AWS4-HMAC-SHA256`).
///
/// Every header passed in is signed (except `user-agent` and `expect`, which proxies and
/// libcurl may rewrite), plus `host`, `x-amz-date` and, with temporary credentials,
/// `x-amz-security-token`.
public struct SigV4Signer: Sendable {
    public let service: String
    public let region: String

    public init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    /// The headers to add to the request: `Authorization`, `X-Amz-Date` and, when the
    /// credentials carry a session token, `X-Amz-Security-Token`.
    public func sign(
        method: String, url: String, headers: [String: String], body: [UInt8],
        credentials: AWSCredentials, date: Date
    ) -> [String: String] {
        let parts = SigV4URLParts(url)
        let amzDate = SigV4Signer.amzDate(date)
        let day = String(amzDate.prefix(8))

        var canonicalHeaders: [String: String] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            if lower == "user-agent" || lower == "expect" || lower == "authorization" { continue }
            canonicalHeaders[lower] = SigV4Signer.trimHeaderValue(value)
        }
        if canonicalHeaders["host"] == nil { canonicalHeaders["host"] = parts.hostHeader }
        canonicalHeaders["x-amz-date"] = amzDate
        if let token = credentials.sessionToken { canonicalHeaders["x-amz-security-token"] = token }

        let sortedNames = canonicalHeaders.keys.sorted()
        let signedHeaders = sortedNames.joined(separator: ";")
        let canonicalRequest = [
            method.uppercased(),
            parts.canonicalURI,
            parts.canonicalQuery,
            sortedNames.map { "\($0):\(canonicalHeaders[$0]!)\n" }.joined(),
            signedHeaders,
            lowercaseHex(SigV4Digest.sha256(body)),
        ].joined(separator: "\n")

        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, scope,
            lowercaseHex(SigV4Digest.sha256(Array(canonicalRequest.utf8))),
        ].joined(separator: "\n")

        var key = SigV4Digest.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), message: Array(day.utf8))
        for component in [region, service, "aws4_request"] {
            key = SigV4Digest.hmacSHA256(key: key, message: Array(component.utf8))
        }
        let signature = lowercaseHex(SigV4Digest.hmacSHA256(key: key, message: Array(stringToSign.utf8)))

        var added = [
            "Authorization":
                "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)",
            "X-Amz-Date": amzDate,
        ]
        if let token = credentials.sessionToken { added["X-Amz-Security-Token"] = token }
        return added
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func amzDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let s = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "T" + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2) + "Z"
    }

    /// Trims and collapses runs of spaces, as SigV4's canonical headers require.
    static func trimHeaderValue(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }
}

/// The URL pieces that SigV4 signs.
struct SigV4URLParts {
    var hostHeader: String
    var canonicalURI: String
    var canonicalQuery: String

    init(_ url: String) {
        let components = URLComponents(string: url)
        let scheme = components?.scheme?.lowercased() ?? "https"
        var host = components?.percentEncodedHost ?? ""
        if host.contains(":"), !host.hasPrefix("[") { host = "[\(host)]" }  // IPv6 literal
        if let port = components?.port, !((scheme == "https" && port == 443) || (scheme == "http" && port == 80)) {
            host += ":\(port)"
        }
        hostHeader = host
        // Non-S3 services sign the already-encoded path encoded once more.
        let path = components?.percentEncodedPath ?? ""
        canonicalURI = path.isEmpty ? "/" : AWSPercentEncoding.encode(path, keepSlash: true)
        let query = components?.percentEncodedQuery ?? ""
        let pairs: [(String, String)] = query.split(separator: "&", omittingEmptySubsequences: true).map { item in
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = AWSPercentEncoding.decode(String(kv[0]))
            let value = kv.count > 1 ? AWSPercentEncoding.decode(String(kv[1])) : ""
            return (AWSPercentEncoding.encode(key), AWSPercentEncoding.encode(value))
        }
        canonicalQuery = pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }
}

/// RFC 3986 percent-encoding as AWS uses it: everything but `A-Z a-z 0-9 - _ . ~` is escaped.
enum AWSPercentEncoding {
    private static let hex = Array("0123456789ABCDEF".utf8)

    static func encode(_ string: String, keepSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes (a `+` stays a `+`, as AWS reads query strings).
    static func decode(_ string: String) -> String {
        let bytes = Array(string.utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
                let value = UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) {
                out.append(value)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `application/x-www-form-urlencoded` body from ordered pairs (AWS Query protocol).
    static func form(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
