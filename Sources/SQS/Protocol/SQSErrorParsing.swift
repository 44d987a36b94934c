import Foundation

/// Turns an error response of either protocol into an `SQSError`, and classifies it.
enum SQSErrorParsing {
    /// Codes after which a later retry may succeed: SQS (or something in front of it) asks
    /// us to slow down.
    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "KmsThrottled", "KMS.ThrottlingException",
        "OverLimit", "AWS.SimpleQueueService.OverLimit",
    ]

    /// Server-side hiccups that are safe to retry whatever the status.
    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "ServiceUnavailable",
        "AWS.SimpleQueueService.InternalError", "AWS.SimpleQueueService.ServiceUnavailable",
    ]

    /// Codes that say who is calling may not do this, or is not who they claim: retrying the
    /// same request cannot help (an expired token is refreshed once before this applies).
    static let authorizationCodes: Set<String> = [
        "AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch",
        "UnrecognizedClientException", "InvalidAccessKeyId", "MissingAuthenticationToken", "IncompleteSignature",
        "ExpiredToken", "ExpiredTokenException", "InvalidSecurity", "AuthorizationError", "AuthFailure",
        "KMS.AccessDeniedException", "KMS.DisabledException", "OptInRequired",
    ]

    /// The code and whether to retry, from the HTTP status and the AWS error code.
    static func classify(httpStatus: Int, awsCode: String?) -> (SQSError.Code, Bool) {
        if let awsCode, throttlingCodes.contains(awsCode) { return (.throttled, true) }
        if let awsCode, authorizationCodes.contains(awsCode) { return (.notAuthorized, false) }
        if httpStatus == 403 { return (.notAuthorized, false) }
        if httpStatus == 429 { return (.throttled, true) }
        if httpStatus >= 500 { return (.service, true) }
        if let awsCode, transientCodes.contains(awsCode) { return (.service, true) }
        return (.service, false)
    }

    static func make(operation: String, httpStatus: Int, awsCode: String?, requestID: String?) -> SQSError {
        let (code, retryable) = classify(httpStatus: httpStatus, awsCode: awsCode)
        return SQSError(code: code, awsCode: awsCode, requestID: requestID, httpStatus: httpStatus,
                        isRetryable: retryable, operation: operation)
    }

    /// The request id from the headers SQS sets on both protocols.
    static func requestID(_ response: HTTPResponse) -> String? {
        response.header("x-amzn-requestid") ?? response.header("x-amz-request-id")
    }

    /// An AWS JSON error: the Query-compatible code of `x-amzn-query-error` when present (so
    /// both protocols report the same codes), else `__type` without its namespace.
    static func jsonError(operation: String, response: HTTPResponse, object: [String: Any]?) -> SQSError {
        var awsCode: String?
        if let header = response.header("x-amzn-query-error"), let code = header.split(separator: ";").first, !code.isEmpty {
            awsCode = String(code)
        } else if let type = (object?["__type"] as? String) ?? (object?["code"] as? String) ?? response.header("x-amzn-errortype") {
            var code = Substring(type)
            if let hash = code.lastIndex(of: "#") { code = code[code.index(after: hash)...] }
            if let colon = code.firstIndex(of: ":") { code = code[..<colon] }
            awsCode = code.isEmpty ? nil : String(code)
        }
        return make(operation: operation, httpStatus: response.status, awsCode: awsCode, requestID: requestID(response))
    }

    /// An AWS Query error: `<ErrorResponse><Error><Code>` and `<RequestId>`.
    static func xmlError(operation: String, response: HTTPResponse, root: XMLNode?) -> SQSError {
        let error = root?.descendant("Error")
        let awsCode = error?.childText("Code") ?? root?.descendant("Code")?.text
        let requestID = requestID(response) ?? root?.descendant("RequestId")?.text ?? root?.descendant("RequestID")?.text
        return make(operation: operation, httpStatus: response.status, awsCode: awsCode, requestID: requestID)
    }
}
