import ArgumentParser
import Foundation
public import PIICrypto
public import Pipeline
public import Postgres
public import SQS
public import Schema
public import Settings
public import VaultFormat

/// The one mapping from any error of the product's modules to an exit status and a one-line
/// message (SPEC §5), used by both tools: by each command's body through ``run(tool:_:)`` and
/// by `mainReportingErrors(tool:)` (CommandMain.swift) for what escapes it. Every error type is a struct with an opaque `Code`;
/// `ErrorReportingTests` walks every code of every type and checks the status and the line.
public enum ErrorReporting {
    /// The status and message for `error`. Messages come from the errors' safe descriptions,
    /// which by construction hold no parameter values, bodies or key material.
    public static func classify(_ error: any Error) -> (ExitStatus, String) {
        switch error {
        case let error as CommandError:
            return (status(error.code), error.message)
        case let error as VaultError:
            return (status(error.code), error.message)
        case let error as PipelineError:
            return (status(error.code), error.message)
        case let error as SettingsError:
            return (.configuration, error.description)
        case let error as KeyFileError:
            return (error.code == .alreadyExists ? .cannotCreate : .notAuthorized, error.description)
        case let error as CryptoError:
            return (error.code == .authenticationFailure ? .dataError : .failure, error.description)
        case let error as PostgresError:
            return postgres(error)
        case let error as SQSError:
            return (status(error), "SQS: \(error)")
        case let error as SchemaError:
            return (.failure, "schema: \(error)")
        default:
            return (.failure, "unexpected error: \(String(describing: type(of: error)))")
        }
    }

    static func status(_ code: CommandError.Code) -> ExitStatus {
        switch code {
        case .invalidArgument: .usage
        case .incomplete, .integrityFailure: .dataError
        default: .failure
        }
    }

    static func status(_ code: VaultError.Code) -> ExitStatus {
        switch code {
        case .invalidArgument: .usage
        case .reasonRequired, .notAuthorized, .keyUnavailable, .passphraseUnavailable: .notAuthorized
        case .invalidToken, .integrityFailure, .emptyAuditLog: .dataError
        case .schemaMissing, .notInitialized, .databaseUnavailable: .unavailable
        case .cannotCreateKeys: .cannotCreate
        default: .failure
        }
    }

    /// A database that keeps refusing is a service unavailable; keys that cannot be used are
    /// not authorized.
    static func status(_ code: PipelineError.Code) -> ExitStatus {
        switch code {
        case .databaseRefused, .notInitialized: .unavailable
        case .keysUnavailable, .keyMismatch: .notAuthorized
        default: .failure
        }
    }

    /// SQS refusing the caller is not authorized (as a database permission error is); a
    /// service that cannot be reached or keeps failing transiently is unavailable.
    static func status(_ error: SQSError) -> ExitStatus {
        switch error.code {
        case .notAuthorized, .credentials: .notAuthorized
        case .transport, .timeout, .throttled: .unavailable
        case .service: error.isRetryable ? .unavailable : .failure
        default: .failure
        }
    }

    static func postgres(_ error: PostgresError) -> (ExitStatus, String) {
        if error.isPermissionDenied { return (.notAuthorized, "database permission denied: \(error)") }
        if error.isConnectionError { return (.unavailable, "database unavailable: \(error)") }
        if error.sqlState == SQLState.lockNotAvailable {
            return (.unavailable, "timed out waiting for a database lock another session holds; try again")
        }
        return (.failure, "database error: \(error)")
    }

    /// The line `tool: message` as it is written to stderr: one line, control characters
    /// escaped by ``TerminalText``.
    public static func line(tool: String, _ message: String) -> String {
        "\(tool): \(TerminalText.field(message))\n"
    }

    /// Runs a command body; on error prints `tool: message` on stderr (one line, no stack
    /// trace) and exits with the documented status.
    public static func run(tool: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ArgumentParser.ExitCode {
            throw exit
        } catch let error as CleanExit {
            throw error
        } catch {
            let (status, message) = classify(error)
            FileHandle.standardError.write(Data(line(tool: tool, message).utf8))
            throw ArgumentParser.ExitCode(status.rawValue)
        }
    }
}
