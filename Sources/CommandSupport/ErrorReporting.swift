import ArgumentParser
import Foundation
public import PIICrypto
public import Postgres
public import SQS
public import Settings
public import Schema

/// Maps any error of the lower modules to an exit status and a one-line message.
public enum ErrorReporting {
    /// The status and message for `error`. Messages come from the errors' safe descriptions,
    /// which by construction hold no parameter values, bodies or key material.
    public static func classify(_ error: any Error) -> (ExitStatus, String) {
        switch error {
        case let failure as any CommandFailure:
            return (failure.exitStatus, failure.message)
        case let error as KeyFileError:
            return (error.kind == .alreadyExists ? .cannotCreate : .notAuthorized, error.description)
        case let error as CryptoError:
            if error.code == .wrongPassphrase { return (.notAuthorized, error.description) }
            if error.code == .authenticationFailure { return (.dataError, error.description) }
            return (.failure, error.description)
        case let error as PostgresError:
            if error.isPermissionDenied { return (.notAuthorized, "database permission denied: \(error)") }
            if error.isConnectionError { return (.unavailable, "database unavailable: \(error)") }
            if error.sqlState == SQLState.lockNotAvailable {
                return (.unavailable, "timed out waiting for a database lock another session holds; try again")
            }
            return (.failure, "database error: \(error)")
        case let error as SQSError:
            return (error.isRetryable ? .unavailable : .failure, "SQS: \(error)")
        case let error as SchemaError:
            return (.failure, "schema: \(error)")
        case let error as SettingsError:
            return (.usage, error.description)
        case let error as IniParser.ParseError:
            return (.usage, error.description)
        default:
            return (.failure, "unexpected error: \(String(describing: type(of: error)))")
        }
    }

    /// Runs a command body; on error prints `tool: message` on stderr (one line, no stack
    /// trace, control characters escaped by ``TerminalText``) and exits with the documented status.
    public static func run(tool: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ArgumentParser.ExitCode {
            throw exit
        } catch let error as CleanExit {
            throw error
        } catch {
            let (status, message) = classify(error)
            let line = "\(tool): \(TerminalText.field(message))\n"
            FileHandle.standardError.write(Data(line.utf8))
            throw ArgumentParser.ExitCode(status.rawValue)
        }
    }
}
