import Foundation
import Logging
import Synchronization

extension SQSClient {
    /// Error codes meaning the credentials (a session token) expired: refresh and retry once.
    static let expiredTokenCodes: Set<String> = ["ExpiredToken", "ExpiredTokenException"]
    /// Error codes that a signature made with a wrong clock gets; the response's `Date` then
    /// corrects the signing clock (for the last two only when it is minutes off).
    static let clockSkewCodes: Set<String> = [
        "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture", "InvalidSignatureException", "SignatureDoesNotMatch",
    ]

    /// Runs one operation with retries on retryable failures; one extra attempt after
    /// refreshing expired credentials, one after correcting the signing clock.
    func perform<Output: Sendable>(_ operation: SQSOperation<Output>) async throws -> Output {
        var attempt = 1
        var refreshedCredentials = false
        var correctedClock = false
        while true {
            let offsetBefore = clockOffset.withLock { $0 }
            do {
                let output = try await attemptOnce(operation)
                SQSMetrics.recordAttempt(operation: operation.name, error: nil)
                return output
            } catch let error as SQSError {
                SQSMetrics.recordAttempt(operation: operation.name, error: error)
                var metadata: Logger.Metadata = [LogKey.operation: "\(operation.name)", LogKey.attempt: "\(attempt)", LogKey.error: "\(error.code)"]
                if let awsCode = error.awsCode { metadata[LogKey.awsCode] = "\(awsCode)" }
                if let requestID = error.requestID { metadata[LogKey.requestId] = "\(requestID)" }
                if let httpStatus = error.httpStatus { metadata[LogKey.httpStatus] = "\(httpStatus)" }
                if let awsCode = error.awsCode, Self.expiredTokenCodes.contains(awsCode), !refreshedCredentials {
                    refreshedCredentials = true
                    logger.info("SQS credentials expired, refreshing", metadata: metadata)
                    await configuration.credentials.invalidate()
                    continue
                }
                if let awsCode = error.awsCode, Self.clockSkewCodes.contains(awsCode), !correctedClock,
                    clockOffset.withLock({ $0 }) != offsetBefore {
                    correctedClock = true
                    metadata[LogKey.clockOffsetSeconds] = "\(Int(clockOffset.withLock { $0 }))"
                    logger.warning("SQS refused the signing clock, corrected from the server's Date", metadata: metadata)
                    continue
                }
                guard error.isRetryable, attempt < configuration.maxAttempts else {
                    logger.warning("SQS request failed", metadata: metadata)
                    throw error
                }
                let delay = Backoff.delay(attempt: attempt - 1, base: configuration.retryBaseDelay, cap: configuration.retryMaxDelay)
                metadata[LogKey.retryInMs] = "\(delay.milliseconds)"
                logger.info("SQS request failed, retrying", metadata: metadata)
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// Learns the clock offset from a refused request's response `Date` when the error says
    /// the signature's time was wrong; returns `error` unchanged.
    func notingClockSkew(_ error: SQSError, _ response: HTTPResponse) -> SQSError {
        guard let awsCode = error.awsCode, Self.clockSkewCodes.contains(awsCode),
            let header = response.header("date"), let serverDate = HTTPDate.parse(header) else { return error }
        let offset = serverDate.timeIntervalSinceNow
        let timeCodes: Set<String> = ["RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture"]
        // A bad signature with a clock that agrees (within 4 minutes) is a bad key, not skew.
        guard timeCodes.contains(awsCode) || abs(offset) > 240 else { return error }
        clockOffset.withLock { $0 = offset }
        return error
    }

    private func attemptOnce<Output: Sendable>(_ operation: SQSOperation<Output>) async throws -> Output {
        switch negotiated.withLock({ $0 }) {
        case .json:
            guard case .decoded(let output) = try await sendJSON(operation, negotiating: false) else {
                throw malformed(operation.name, "response is not JSON")
            }
            return output
        case .query:
            return try await sendQuery(operation, negotiating: false)
        case .auto:
            if case .decoded(let output) = try await sendJSON(operation, negotiating: true) { return output }
            return try await sendQuery(operation, negotiating: true)
        }
    }

    private enum JSONOutcome<Output> { case decoded(Output), rejected }

    /// One JSON 1.0 exchange. While negotiating, a response that is not JSON (the endpoint
    /// did not understand the request) comes back as `.rejected` instead of an error.
    private func sendJSON<Output: Sendable>(_ operation: SQSOperation<Output>, negotiating: Bool) async throws -> JSONOutcome<Output> {
        let request = try await signedRequest(
            operation, body: operation.jsonBody,
            headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "AmazonSQS.\(operation.name)"),
                      ("x-amzn-query-mode", "true")])
        let response = try await transport.execute(request)
        let object = SQSOperations.jsonObject(response.body)
        if (200..<300).contains(response.status) {
            guard let object else {
                if negotiating { return .rejected }
                throw SQSError(code: .invalidResponse, requestID: SQSErrorParsing.requestID(response), httpStatus: response.status,
                               isRetryable: false, operation: operation.name, reason: "response is not a JSON object")
            }
            if negotiating { choose(.json) }
            do {
                return .decoded(try operation.decodeJSON(object))
            } catch var error as SQSError {
                error.requestID = SQSErrorParsing.requestID(response)
                error.httpStatus = response.status
                throw error
            }
        }
        let spokeJSON = response.header("x-amzn-query-error") != nil || object?["__type"] != nil
        if spokeJSON {
            if negotiating { choose(.json) }
            throw notingClockSkew(SQSErrorParsing.jsonError(operation: operation.name, response: response, object: object), response)
        }
        if negotiating, (400..<500).contains(response.status), response.status != 429 { return .rejected }
        // A proxy or load balancer error (HTML, empty), or an XML error from a Query-only endpoint.
        let root = try? XMLDocumentParser.parse(response.body)
        throw notingClockSkew(SQSErrorParsing.xmlError(operation: operation.name, response: response, root: root), response)
    }

    /// One Query exchange.
    private func sendQuery<Output: Sendable>(_ operation: SQSOperation<Output>, negotiating: Bool) async throws -> Output {
        let form = AWSPercentEncoding.form([("Action", operation.name), ("Version", "2012-11-05")] + operation.queryParameters)
        let request = try await signedRequest(
            operation, body: Array(form.utf8), headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")])
        let response = try await transport.execute(request)
        let root: XMLNode?
        var parseFailure = ""
        do {
            root = try XMLDocumentParser.parse(response.body)
        } catch {
            root = nil
            parseFailure = error.reason  // a fixed phrase: "elements nested too deeply", ...
        }
        guard (200..<300).contains(response.status) else {
            if negotiating, root != nil { choose(.query) }
            throw notingClockSkew(SQSErrorParsing.xmlError(operation: operation.name, response: response, root: root), response)
        }
        guard let root else {
            throw SQSError(code: .invalidResponse, requestID: SQSErrorParsing.requestID(response), httpStatus: response.status,
                           isRetryable: false, operation: operation.name, reason: "response is not XML: \(parseFailure)")
        }
        if negotiating { choose(.query) }
        do {
            return try operation.decodeXML(root)
        } catch var error as SQSError {
            error.requestID = SQSErrorParsing.requestID(response) ?? root.descendant("RequestId")?.text
            error.httpStatus = response.status
            throw error
        }
    }

    /// Records the protocol an `.auto` client settled on (first answer wins).
    private func choose(_ wireProtocol: SQSWireProtocol) {
        let changed = negotiated.withLock { current in
            guard current == .auto else { return false }
            current = wireProtocol
            return true
        }
        if changed { logger.info("SQS wire protocol selected", metadata: [LogKey.wireProtocol: "\(wireProtocol.rawValue)"]) }
    }

    /// A POST to the endpoint, signed with fresh (cached) credentials.
    private func signedRequest<Output>(
        _ operation: SQSOperation<Output>, body: [UInt8], headers: [(name: String, value: String)]
    ) async throws -> HTTPRequest {
        let credentials: AWSCredentials
        do {
            credentials = try await configuration.credentials.credentials()
        } catch let error as SQSError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw SQSError(code: .credentials, isRetryable: false, operation: operation.name, reason: "credentials provider failed")
        }
        var signed: [String: String] = [:]
        for header in headers { signed[header.name] = header.value }
        let now = Date().addingTimeInterval(clockOffset.withLock { $0 })
        let added = signer.sign(method: "POST", parts: endpointParts, headers: signed, body: body, credentials: credentials, date: now)
        var all = headers
        for key in added.keys.sorted() { all.append((key, added[key]!)) }
        all.append(("User-Agent", "fetchde-sqs/1"))
        return HTTPRequest(
            method: "POST", url: endpoint, headers: all, body: body, connectTimeout: configuration.connectTimeout,
            timeout: configuration.requestTimeout + operation.extraTimeout, caBundle: configuration.caBundle)
    }
}

/// The HTTP `Date` header (IMF-fixdate, RFC 9110 §5.6.7).
enum HTTPDate {
    static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }
}
