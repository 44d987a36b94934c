import Foundation
import PIICrypto
import Testing

@testable import SQS

@Suite("MD5")
struct MD5Tests {
    /// RFC 1321, appendix A.5.
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func rfc1321(_ input: String, _ expected: String) {
        #expect(MD5.hexDigest(input) == expected)
    }

    @Test func unicodeIsHashedAsUTF8() {
        // md5 of the UTF-8 bytes of "世界👋" (printf '世界👋' | md5sum)
        #expect(MD5.hexDigest("世界👋") == "cac50959727ab11d9e14d236fe265cf0")
        #expect(MD5.hexDigest(Array("世界👋".utf8)) == MD5.hexDigest("世界👋"))
        // a million "a" (the RFC's long-input case)
        #expect(MD5.hexDigest([UInt8](repeating: 0x61, count: 1_000_000)) == "7707d6ae4e027c70eea2a935c2296f21")
    }
}

@Suite("Retry classification and backoff")
struct RetryTests {
    @Test(arguments: [
        (400, "ThrottlingException", SQSError.Code.throttled, true),
        (400, "RequestThrottled", .throttled, true),
        (403, "AWS.SimpleQueueService.OverLimit", .throttled, true),
        (429, nil, .throttled, true),
        (500, "InternalError", .service, true),
        (502, nil, .service, true),
        (503, "ServiceUnavailable", .service, true),
        (400, "AWS.SimpleQueueService.NonExistentQueue", .service, false),
        (400, "ReceiptHandleIsInvalid", .service, false),
        (403, "InvalidClientTokenId", .notAuthorized, false),
        (400, "AccessDenied", .notAuthorized, false),
        (400, "SignatureDoesNotMatch", .notAuthorized, false),
        (403, nil, .notAuthorized, false),
        (404, nil, .service, false),
    ] as [(Int, String?, SQSError.Code, Bool)])
    func classification(_ status: Int, _ awsCode: String?, _ code: SQSError.Code, _ retryable: Bool) {
        let (actualCode, actualRetryable) = SQSErrorParsing.classify(httpStatus: status, awsCode: awsCode)
        #expect(actualCode == code)
        #expect(actualRetryable == retryable)
    }

    @Test func backoffIsCappedExponentialWithEqualJitter() {
        let base = Duration.milliseconds(100), cap = Duration.seconds(2)
        #expect(Backoff.delay(attempt: 0, base: base, cap: cap, unit: 1) == .milliseconds(100))
        #expect(Backoff.delay(attempt: 2, base: base, cap: cap, unit: 1) == .milliseconds(400))
        #expect(Backoff.delay(attempt: 9, base: base, cap: cap, unit: 1) == .seconds(2))
        #expect(Backoff.delay(attempt: 98, base: base, cap: cap, unit: 1) == .seconds(2))
        #expect(Backoff.delay(attempt: 2, base: base, cap: cap, unit: 0) == .milliseconds(200))
        for _ in 0..<100 {
            let d = Backoff.delay(attempt: 3, base: base, cap: cap)
            #expect(d >= .milliseconds(400) && d <= .milliseconds(800))
        }
        var backoff = Backoff(base: base, cap: cap)
        let first = backoff.next(), second = backoff.next()
        #expect(first >= .milliseconds(50) && first <= .milliseconds(100))
        #expect(second >= .milliseconds(100) && second <= .milliseconds(200))
        backoff.reset()
        #expect(backoff.attempt == 0)
    }

    @Test func transportErrorsAreRetryable() {
        #expect(CurlLoop.error(for: CurlCodes.operationTimedOut, tooLarge: false).code == .timeout)
        #expect(CurlLoop.error(for: CurlCodes.operationTimedOut, tooLarge: false).isRetryable)
        #expect(CurlLoop.error(for: CurlCodes.couldNotConnect, tooLarge: false).isRetryable)
        #expect(!CurlLoop.error(for: CurlCodes.urlMalformed, tooLarge: false).isRetryable)
        #expect(CurlLoop.error(for: CurlCodes.couldNotConnect, tooLarge: true).code == .invalidResponse)
    }

    @Test func descriptionIsOneSafeLine() {
        let error = SQSError(code: .throttled, awsCode: "ThrottlingException", requestID: "r-1", httpStatus: 400, isRetryable: true, operation: "ReceiveMessage")
        #expect(error.description == "SQSError(throttled, operation: ReceiveMessage, awsCode: ThrottlingException, httpStatus: 400, requestID: r-1, retryable: true)")
        #expect(!error.description.contains("\n"))
    }
}
