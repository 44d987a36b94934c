import Foundation
import Logging
import Synchronization

/// Capped exponential backoff with full jitter.
enum RetryBackoff {
    /// The delay before retry number `retry` (1 = the first retry): uniform in
    /// [0, min(maxDelay, baseDelay · 2^(retry-1))].
    static func delay(retry: Int, baseDelay: Duration, maxDelay: Duration, unit: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = min(max(0, retry - 1), 30)
        let cap = min(maxDelay, baseDelay * (1 << exponent))
        return cap * unit
    }
}

extension SQSClient {
    /// Runs one operation with retries on retryable failures.
    func perform<Output: Sendable>(_ operation: SQSOperation<Output>) async throws -> Output {
        var attempt = 1
        while true {
            do {
                return try await attemptOnce(operation)
            } catch let error as SQSError {
                var metadata: Logger.Metadata = ["operation": "\(operation.name)", "attempt": "\(attempt)", "error": "\(error.code)"]
                if let awsCode = error.awsCode { metadata["awsCode"] = "\(awsCode)" }
                if let requestID = error.requestID { metadata["requestID"] = "\(requestID)" }
                if let httpStatus = error.httpStatus { metadata["httpStatus"] = "\(httpStatus)" }
                guard error.isRetryable, attempt < configuration.maxAttempts else {
                    logger.warning("SQS request failed", metadata: metadata)
                    throw error
                }
                let delay = RetryBackoff.delay(retry: attempt, baseDelay: configuration.retryBaseDelay, maxDelay: configuration.retryMaxDelay)
                metadata["delayMs"] = "\(delay.milliseconds)"
                logger.info("SQS request failed, retrying", metadata: metadata)
                try await Task.sleep(for: delay)
                attempt += 1
            }
        }
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
            throw SQSErrorParsing.jsonError(operation: operation.name, response: response, object: object)
        }
        if negotiating, (400..<500).contains(response.status), response.status != 429 { return .rejected }
        // A proxy or load balancer error (HTML, empty), or an XML error from a Query-only endpoint.
        let root = try? XMLDocumentParser.parse(response.body)
        throw SQSErrorParsing.xmlError(operation: operation.name, response: response, root: root)
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
            throw SQSErrorParsing.xmlError(operation: operation.name, response: response, root: root)
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
        if changed { logger.info("SQS wire protocol selected", metadata: ["protocol": "\(wireProtocol.rawValue)"]) }
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
        let added = signer.sign(method: "POST", parts: endpointParts, headers: signed, body: body, credentials: credentials, date: Date())
        var all = headers
        for key in added.keys.sorted() { all.append((key, added[key]!)) }
        all.append(("User-Agent", "fetchde-sqs/1"))
        return HTTPRequest(
            method: "POST", url: endpoint, headers: all, body: body, connectTimeout: configuration.connectTimeout,
            timeout: configuration.requestTimeout + operation.extraTimeout)
    }
}
