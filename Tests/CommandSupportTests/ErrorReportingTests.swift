@testable import CommandSupport
import PIICrypto
import Pipeline
@testable import Postgres
import SQS
import Schema
import Settings
import Testing
import VaultFormat

/// `Testing` has an `ExitStatus` of its own.
typealias Status = CommandSupport.ExitStatus

/// Issue 16: one mapping from every error code of every module to an exit status (SPEC §5) and a
/// one-line message. Each table below names every code of its type; a code added without a
/// decision about its exit status fails `everyCodeHasAnExpectation`.
@Suite("error reporting: every code, one status, one safe line")
struct ErrorReportingTests {
    /// What a careless message might carry: a value, an address, a terminal escape, a newline.
    static let secret = "hunter2 192.0.2.7 \u{1B}[31m\nsecond line"

    static let vault: [VaultError.Code: Status] = [
        .invalidArgument: .usage, .reasonRequired: .notAuthorized, .notAuthorized: .notAuthorized,
        .keyUnavailable: .notAuthorized, .passphraseUnavailable: .notAuthorized, .invalidToken: .dataError,
        .integrityFailure: .dataError, .emptyAuditLog: .dataError, .schemaMissing: .unavailable,
        .notInitialized: .unavailable, .databaseUnavailable: .unavailable, .cannotCreateKeys: .cannotCreate,
        .busy: .failure, .malformedKey: .failure, .concurrentChange: .failure, .rotationUnfinished: .failure,
        .rebuildRefused: .failure, .internalFailure: .failure,
    ]
    static let command: [CommandError.Code: Status] = [
        .invalidArgument: .usage, .incomplete: .dataError, .integrityFailure: .dataError,
        .localFailure: .failure, .refused: .failure,
    ]
    static let pipeline: [PipelineError.Code: Status] = [
        .notInitialized: .unavailable, .databaseRefused: .unavailable, .keysUnavailable: .notAuthorized,
        .keyMismatch: .notAuthorized, .input: .failure, .keysChanged: .failure,
    ]
    static let keyFile: [KeyFileError.Code: Status] = [
        .missing: .notAuthorized, .unreadable: .notAuthorized, .loosePermissions: .notAuthorized,
        .malformed: .notAuthorized, .wrongPassphrase: .notAuthorized, .alreadyExists: .cannotCreate,
    ]
    static let crypto: [CryptoError.Code: Status] = [
        .authenticationFailure: .dataError, .invalidKey: .failure, .invalidInput: .failure,
        .messageLimitReached: .failure, .openSSLFailure: .failure,
    ]
    /// Non-retryable errors as the client makes them; a retryable `service` error is unavailable.
    static let sqs: [SQSError.Code: Status] = [
        .notAuthorized: .notAuthorized, .credentials: .notAuthorized, .transport: .unavailable,
        .timeout: .unavailable, .throttled: .unavailable, .service: .failure, .invalidResponse: .failure,
        .invalidRequest: .failure, .shutdown: .failure,
    ]
    /// Errors without an SQLSTATE; a query's status depends on its SQLSTATE (below).
    static let postgres: [PostgresError.Code: Status] = [
        .connectionFailed: .unavailable, .connectionLost: .unavailable, .connectionClosed: .unavailable,
        .deadlineExceeded: .unavailable, .queryFailed: .failure, .copyFailed: .failure,
        .protocolViolation: .failure, .decodingFailed: .failure, .encodingFailed: .failure,
    ]
    static let schema: [SchemaError.Code: Status] = [.checksumMismatch: .failure, .newerSchema: .failure, .foreignOwner: .failure]
    static let settings: [SettingsError.Code: Status] = [.missingFile: .configuration, .malformedFile: .configuration, .invalidValue: .configuration]

    @Test("every code of every error type has an expected exit status")
    func everyCodeHasAnExpectation() {
        #expect(Set(VaultError.Code.allCases) == Set(Self.vault.keys))
        #expect(Set(CommandError.Code.allCases) == Set(Self.command.keys))
        #expect(Set(PipelineError.Code.allCases) == Set(Self.pipeline.keys))
        #expect(Set(KeyFileError.Code.allCases) == Set(Self.keyFile.keys))
        #expect(Set(CryptoError.Code.allCases) == Set(Self.crypto.keys))
        #expect(Set(SQSError.Code.allCases) == Set(Self.sqs.keys))
        #expect(Set(PostgresError.Code.allCases) == Set(Self.postgres.keys))
        #expect(Set(SchemaError.Code.allCases) == Set(Self.schema.keys))
        #expect(Set(SettingsError.Code.allCases) == Set(Self.settings.keys))
    }

    @Test("each code maps to its status, and the line written is one escaped line")
    func everyCodeMaps() {
        var errors: [(String, any Error, Status)] = []
        for (code, status) in Self.vault { errors.append(("\(code)", VaultError(code, Self.secret), status)) }
        for (code, status) in Self.command { errors.append(("\(code)", CommandError(code, Self.secret), status)) }
        for (code, status) in Self.pipeline { errors.append(("\(code)", PipelineError(code, Self.secret), status)) }
        for (code, status) in Self.keyFile { errors.append(("\(code)", KeyFileError(code, path: "keys/x.key", detail: "errno"), status)) }
        for (code, status) in Self.crypto { errors.append(("\(code)", CryptoError(code, "AES-GCM"), status)) }
        for (code, status) in Self.sqs {
            errors.append(("\(code)", SQSError(code: code, awsCode: "SomeCode", httpStatus: 400, isRetryable: false, operation: "ReceiveMessage"), status))
        }
        for (code, status) in Self.postgres {
            errors.append(("\(code)", PostgresError(code: code, primaryMessage: Self.secret), status))
        }
        for (code, status) in Self.schema { errors.append(("\(code)", SchemaError(code, "migration 3"), status)) }
        for (code, status) in Self.settings { errors.append(("\(code)", SettingsError(code, "log.level must be …"), status)) }

        for (name, error, expected) in errors {
            let (status, message) = ErrorReporting.classify(error)
            #expect(status == expected, "\(type(of: error)).\(name)")
            let line = ErrorReporting.line(tool: "vault", message)
            #expect(line.hasPrefix("vault: ") && line.hasSuffix("\n"), "\(line)")
            #expect(line.dropLast().allSatisfy { $0 != "\n" && $0 != "\r" && $0 != "\u{1B}" }, "\(type(of: error)).\(name): \(line)")
        }
    }

    @Test("a database error's line never holds the server's message, which can embed values")
    func postgresLineHoldsNoValue() {
        for sqlState in ["22P02", "23505", "42501", "55P03", "08006", "57P01", "XX000"] {
            let error = PostgresError(code: .queryFailed, sqlState: sqlState, constraint: "user_logins_pkey",
                                      primaryMessage: "invalid input syntax for type integer: \"\(Self.secret)\"")
            let (_, message) = ErrorReporting.classify(error)
            #expect(!message.contains("hunter2") && !message.contains("192.0.2.7"), "\(message)")
        }
    }

    @Test("a query's SQLSTATE decides: permission 77, lock timeout and lost server 69, anything else 1")
    func postgresSQLStates() {
        let cases: [(String, Status)] = [
            ("42501", .notAuthorized), ("55P03", .unavailable), ("08006", .unavailable), ("57P01", .unavailable),
            ("23505", .failure), ("22P02", .failure),
        ]
        for (sqlState, expected) in cases {
            #expect(ErrorReporting.classify(PostgresError(code: .queryFailed, sqlState: sqlState)).0 == expected, "\(sqlState)")
        }
    }

    @Test("SQS: a retryable service error (5xx) is unavailable, a refused caller is not authorized")
    func sqsRetryable() {
        let busy = SQSError(code: .service, awsCode: "InternalError", httpStatus: 500, isRetryable: true)
        #expect(ErrorReporting.classify(busy).0 == .unavailable)
        let denied = SQSError(code: .notAuthorized, awsCode: "AccessDenied", httpStatus: 403, isRetryable: false)
        let (status, message) = ErrorReporting.classify(denied)
        #expect(status == .notAuthorized)
        #expect(message.contains("AccessDenied"))
    }

    @Test("an error from outside the product is named by its type only")
    func unknownError() {
        struct Leaky: Error, CustomStringConvertible { var description: String { ErrorReportingTests.secret } }
        let (status, message) = ErrorReporting.classify(Leaky())
        #expect(status == .failure)
        #expect(!message.contains("hunter2"))
    }

    @Test("the documented statuses are sysexits: 64 usage, 65 data, 69 unavailable, 73 cannot create, 77 no permission, 78 configuration")
    func sysexits() {
        #expect(Status.allCases.map(\.rawValue) == [0, 1, 64, 65, 69, 73, 77, 78])
    }
}
