import Foundation
import Testing

@testable import SQS

@Suite("SigV4")
struct SigV4Tests {
    static let suiteCredentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 20150830T123600Z, the date of AWS's published examples.
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)

    struct PublishedVector: Sendable, CustomStringConvertible {
        var name: String
        var service: String
        var method: String
        var url: String
        var headers: [String: String]
        var authorization: String
        var description: String { name }
    }

    /// From AWS's SigV4 test suite (`aws-sig-v4-test-suite`) and the IAM ListUsers example of
    /// the SigV4 documentation.
    static let published: [PublishedVector] = [
        PublishedVector(
            name: "get-vanilla", service: "service", method: "GET", url: "https://example.amazonaws.com/",
            headers: ["Host": "example.amazonaws.com"],
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        PublishedVector(
            name: "post-vanilla", service: "service", method: "POST", url: "https://example.amazonaws.com/",
            headers: ["Host": "example.amazonaws.com"],
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        PublishedVector(
            name: "get-vanilla-query-order-key-case", service: "service", method: "GET",
            url: "https://example.amazonaws.com/?Param2=value2&Param1=value1", headers: [:],
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        PublishedVector(
            name: "iam-list-users", service: "iam", method: "GET",
            url: "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
            headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
            authorization: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"),
    ]

    @Test(arguments: published)
    func publishedVector(_ vector: PublishedVector) {
        let added = SigV4Signer(service: vector.service, region: "us-east-1").sign(
            method: vector.method, url: vector.url, headers: vector.headers, body: [],
            credentials: Self.suiteCredentials, date: Self.suiteDate)
        #expect(added["Authorization"] == vector.authorization)
        #expect(added["X-Amz-Date"] == "20150830T123600Z")
        #expect(added["X-Amz-Security-Token"] == nil)
    }

    struct BotocoreFile: Decodable {
        struct Case: Decodable {
            struct Expected: Decodable {
                var authorization: String
                var xAmzDate: String
                var xAmzSecurityToken: String?
            }
            var name, service, region, method, url, body, accessKeyID, secretAccessKey: String
            var headers: [String: String]
            var sessionToken: String?
            var dateEpochSeconds: Double
            var expected: Expected
            var queryPairs: [[String]]?
        }
        var cases: [Case]
    }

    static func botocoreCases() throws -> [BotocoreFile.Case] {
        let url = try #require(Bundle.module.url(forResource: "sigv4-botocore", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(BotocoreFile.self, from: Data(contentsOf: url)).cases
    }

    @Test func botocoreVectorsForOurRequests() throws {
        let cases = try Self.botocoreCases()
        #expect(cases.count == 8)
        for vector in cases {
            let credentials = AWSCredentials(accessKeyID: vector.accessKeyID, secretAccessKey: vector.secretAccessKey, sessionToken: vector.sessionToken)
            let added = SigV4Signer(service: vector.service, region: vector.region).sign(
                method: vector.method, url: vector.url, headers: vector.headers, body: Array(vector.body.utf8),
                credentials: credentials, date: Date(timeIntervalSince1970: vector.dateEpochSeconds))
            #expect(added["Authorization"] == vector.expected.authorization, "\(vector.name)")
            #expect(added["X-Amz-Date"] == vector.expected.xAmzDate, "\(vector.name)")
            #expect(added["X-Amz-Security-Token"] == vector.expected.xAmzSecurityToken, "\(vector.name)")
        }
    }

    /// The Query body botocore's vectors were signed over is the one our encoder produces.
    @Test func queryFormEncodingMatchesFixture() throws {
        for vector in try Self.botocoreCases() {
            guard let pairs = vector.queryPairs else { continue }
            #expect(AWSPercentEncoding.form(pairs.map { ($0[0], $0[1]) }) == vector.body)
        }
        let operation = SQSOperations.deleteMessageBatch(queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/fetchde-logins", entries: [
            SQSReceiptEntry(id: "0", receiptHandle: "AQEBz+8j/abc=="),
            SQSReceiptEntry(id: "1", receiptHandle: "receipt handle with spaces & ünïcødé"),
        ])
        let ours = AWSPercentEncoding.form([("Action", operation.name), ("Version", "2012-11-05")] + operation.queryParameters)
        let fixture = try #require(try Self.botocoreCases().first { $0.name == "query-delete-message-batch-aws-static" })
        #expect(ours == fixture.body)
    }

    /// The JSON ReceiveMessage body carries the same members botocore sends.
    @Test func jsonReceiveBodyMatchesFixture() throws {
        let fixture = try #require(try Self.botocoreCases().first { $0.name == "json-receive-message-aws-static" })
        let operation = SQSOperations.receiveMessage(
            queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/fetchde-logins", maxMessages: 10, waitTimeSeconds: 20, visibilityTimeout: nil)
        let ours = try JSONSerialization.jsonObject(with: Data(operation.jsonBody)) as? NSDictionary
        let theirs = try JSONSerialization.jsonObject(with: Data(fixture.body.utf8)) as? NSDictionary
        #expect(ours != nil && ours == theirs)
    }

    @Test func hostHeaderKeepsNonDefaultPortOnly() {
        #expect(SigV4URLParts("http://127.0.0.1:4566/").hostHeader == "127.0.0.1:4566")
        #expect(SigV4URLParts("https://sqs.eu-west-1.amazonaws.com:443/").hostHeader == "sqs.eu-west-1.amazonaws.com")
        #expect(SigV4URLParts("http://localhost:80").canonicalURI == "/")
        #expect(SigV4URLParts("http://[::1]:9324/").hostHeader == "[::1]:9324")
    }

    @Test func amzDateIsUTC() {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(SigV4Signer.amzDate(Self.suiteDate) == "20150830T123600Z")
    }

    @Test("amzDate by arithmetic matches Foundation's UTC calendar (leap days, centuries, before 1970)")
    func amzDateMatchesCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func reference(_ date: Date) -> String {
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        }
        var generator = SystemRandomNumberGenerator()
        let fixed: [TimeInterval] = [-1, -86_400, -86_401, 951_782_399, 951_782_400, 951_868_800, 4_107_542_399, 4_107_542_400, 253_402_300_799]
        let random = (0..<2000).map { _ in TimeInterval(Int64.random(in: -2_000_000_000...8_000_000_000, using: &generator)) + 0.75 }
        for seconds in fixed + random {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(SigV4Signer.amzDate(date) == reference(date), "\(seconds)")
        }
    }

    @Test("the cached signing key follows the day and the secret")
    func signingKeyFollowsDayAndSecret() {
        let signer = SigV4Signer(service: "sqs", region: "us-east-1")
        let other = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "another-secret")
        func authorization(_ credentials: AWSCredentials, _ date: Date) -> String {
            signer.sign(method: "POST", url: "http://127.0.0.1:4566/", headers: [:], body: [], credentials: credentials, date: date)["Authorization"]!
        }
        func fresh(_ credentials: AWSCredentials, _ date: Date) -> String {
            SigV4Signer(service: "sqs", region: "us-east-1")
                .sign(method: "POST", url: "http://127.0.0.1:4566/", headers: [:], body: [], credentials: credentials, date: date)["Authorization"]!
        }
        let nextDay = Self.suiteDate.addingTimeInterval(86_400)
        for (credentials, date) in [(Self.suiteCredentials, Self.suiteDate), (other, Self.suiteDate), (other, nextDay), (Self.suiteCredentials, nextDay)] {
            #expect(authorization(credentials, date) == fresh(credentials, date))
        }
    }

    @Test func percentEncodingKeepsOnlyUnreserved() {
        #expect(AWSPercentEncoding.encode("a b+c/~_-.*") == "a%20b%2Bc%2F~_-.%2A")
        #expect(AWSPercentEncoding.encode("é") == "%C3%A9")
        #expect(AWSPercentEncoding.decode("a%20b%2Bc") == "a b+c")
    }
}
