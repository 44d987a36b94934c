import ArgumentParser
import CommandSupport
import Foundation

/// `etl`: SQS (or JSONL) → tokenized rows in PostgreSQL, originals sealed in the vault.
@main
struct ETLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etl",
        abstract: "Ingest user-login events: PII tokenized, originals sealed in the vault.",
        version: FetchDEVersion.current,
        subcommands: [Migrate.self, Run.self, Ingest.self, DemoMessages.self, Config.self]
    )

    /// ArgumentParser's entry point, except that a usage error is one line on stderr
    /// (`etl: MESSAGE (see 'etl --help')`, exit 64) as SPEC §5 asks of every error, instead of
    /// the message followed by the usage text. Help, version and the exit statuses of the
    /// commands themselves (already reported by `ErrorReporting`) are unchanged.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? ""
            if !(error is ExitCode), code == .validationFailure, !message.isEmpty {
                FileHandle.standardError.write(Data("etl: \(message) (see 'etl --help')\n".utf8))
                Foundation.exit(code.rawValue)
            }
            exit(withError: error)
        }
    }
}
