/// An SQS, transport or credentials failure.
///
/// `description` is one line built from safe parts only: the operation, the AWS error code,
/// the HTTP status, the request id and a fixed phrase. It never contains a request or response
/// body, a message body, a receipt handle or a credential.
public struct SQSError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is; extensible without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible, CaseIterable {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The connection failed or broke (DNS, refused, reset, TLS).
        public static let transport = Code("transport")
        /// The connect or request timeout elapsed.
        public static let timeout = Code("timeout")
        /// SQS answered with an error (see `awsCode`).
        public static let service = Code("service")
        /// SQS refused the caller: the credentials are not valid, or they may not do this
        /// (`AccessDenied`, `InvalidClientTokenId`, `SignatureDoesNotMatch`, HTTP 403).
        public static let notAuthorized = Code("notAuthorized")
        /// SQS asked us to slow down (throttling error code or HTTP 429).
        public static let throttled = Code("throttled")
        /// The response could not be understood.
        public static let invalidResponse = Code("invalidResponse")
        /// The call was refused before sending (e.g. more than 10 batch entries, a bad endpoint URL).
        public static let invalidRequest = Code("invalidRequest")
        /// No credentials could be resolved, or the credentials source failed.
        public static let credentials = Code("credentials")
        /// The client was shut down while the request was pending.
        public static let shutdown = Code("shutdown")

        public static let allCases: [Code] = [
            .transport, .timeout, .service, .notAuthorized, .throttled, .invalidResponse, .invalidRequest,
            .credentials, .shutdown,
        ]

        public var description: String { name }
    }

    public var code: Code
    /// The AWS error code (`AWS.SimpleQueueService.NonExistentQueue`, `ThrottlingException`, ...).
    public var awsCode: String?
    /// The AWS request id, for support cases.
    public var requestID: String?
    /// The HTTP status, when a response arrived.
    public var httpStatus: Int?
    /// Whether retrying the same request may succeed (throttling, 5xx, connection errors, timeouts).
    public var isRetryable: Bool
    /// The SQS operation (`ReceiveMessage`, ...), when known.
    public var operation: String?
    /// A fixed, safe phrase (a libcurl error string, a parser complaint); never a body.
    public var reason: String?

    public init(
        code: Code, awsCode: String? = nil, requestID: String? = nil, httpStatus: Int? = nil,
        isRetryable: Bool, operation: String? = nil, reason: String? = nil
    ) {
        self.code = code
        self.awsCode = awsCode
        self.requestID = requestID
        self.httpStatus = httpStatus
        self.isRetryable = isRetryable
        self.operation = operation
        self.reason = reason
    }

    public var description: String {
        var parts = ["SQSError(\(code)"]
        if let operation { parts.append("operation: \(operation)") }
        if let awsCode { parts.append("awsCode: \(awsCode)") }
        if let httpStatus { parts.append("httpStatus: \(httpStatus)") }
        if let requestID { parts.append("requestID: \(requestID)") }
        if let reason { parts.append("reason: \(reason)") }
        parts.append("retryable: \(isRetryable)")
        return parts.joined(separator: ", ") + ")"
    }
}
