public import Foundation
import PIICrypto
import Synchronization

/// AWS Signature Version 4 for one service and region (header signing, `AWS4-HMAC-SHA256`).
///
/// Every header passed in is signed (except `user-agent` and `expect`, which proxies and
/// libcurl may rewrite), plus `host`, `x-amz-date` and, with temporary credentials,
/// `x-amz-security-token`.
public struct SigV4Signer: Sendable {
    public let service: String
    public let region: String
    /// The last signing key derived (it changes only with the day or the secret).
    private let keyCache = SigV4SigningKeyCache()

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
        sign(method: method, parts: SigV4URLParts(url), headers: headers, body: body, credentials: credentials, date: date)
    }

    /// `sign` with the URL already split (a client signs every request to one endpoint).
    func sign(
        method: String, parts: SigV4URLParts, headers: [String: String], body: [UInt8],
        credentials: AWSCredentials, date: Date
    ) -> [String: String] {
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

        let key = keyCache.key(day: day, secret: credentials.secretAccessKey) {
            var key = SigV4Digest.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), message: Array(day.utf8))
            for component in [region, service, "aws4_request"] {
                key = SigV4Digest.hmacSHA256(key: key, message: Array(component.utf8))
            }
            return key
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

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC (proleptic Gregorian calendar, years 0-9999), by
    /// arithmetic: a Foundation `Calendar` per request cost more than the rest of signing.
    static func amzDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let (days, second) = (seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400, ((seconds % 86_400) + 86_400) % 86_400)
        let (year, month, day) = CivilDate.components(days: days)
        var out: [UInt8] = []
        out.reserveCapacity(16)
        func digits(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = max(0, value)
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); digits(month, 2); digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(second / 3600, 2); digits(second / 60 % 60, 2); digits(second % 60, 2)
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Trims and collapses runs of spaces, as SigV4's canonical headers require.
    static func trimHeaderValue(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            .trimmingCharacters(in: .whitespaces)
    }
}

/// The last SigV4 signing key, by day and secret: deriving it takes four HMACs.
final class SigV4SigningKeyCache: Sendable {
    private let last = Mutex<(day: String, secret: String, key: [UInt8])?>(nil)

    func key(day: String, secret: String, derive: () -> [UInt8]) -> [UInt8] {
        if let cached = last.withLock({ $0 }), cached.day == day, cached.secret == secret { return cached.key }
        let key = derive()
        last.withLock { $0 = (day, secret, key) }
        return key
    }
}

/// The URL pieces that SigV4 signs.
struct SigV4URLParts: Sendable {
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
