import ArgumentParser
import CommandSupport
import Foundation
import Vault

extension VaultCommand {
    /// `vault retokenize`: move every token of an older token key to the active one.
    struct Retokenize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every token of an older token key from the vault's originals (resumable; audited).",
            discussion: """
                Run after vault rotate --tokens, while etl keeps ingesting. Updates pii_vault in \
                batches, each its own transaction, then moves user_logins: by default into a copy \
                filled in ranges of ids and swapped in under a short lock (a view, rule, foreign \
                key, publication, policy or trigger on user_logins makes it update the rows in \
                place instead). Safe to interrupt and rerun at any point. Afterwards each value has \
                one token across all rows, and every duplicate group is still one group. Needs the \
                vault private keys (and their passphrase).
                """
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var passphrase: PassphraseFileOption

        @Option(help: "Vault entries per transaction.")
        var batch = 10_000

        @Option(help: "user_logins ids per transaction.")
        var rowBatch = 500_000

        @Option(help: "How user_logins rows move: auto (rebuild when most rows move and nothing bound to the table forbids it), rebuild, in-place.")
        var rows = RowsMethod.auto.rawValue

        @Option(help: "Database connections working at once.")
        var jobs = 2

        func validate() throws {
            guard batch > 0, rowBatch > 0, jobs > 0 else { throw ValidationError("--batch, --row-batch and --jobs must be positive") }
            guard RowsMethod(rawValue: rows) != nil else {
                throw ValidationError("--rows must be one of \(RowsMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let environment = try common.vaultEnvironment(passphraseFile: passphrase.passphraseFile)
                let progress = TerminalProgress(enabled: isatty(STDERR_FILENO) == 1)
                let result = try await Retokenizer(
                    environment: environment, entryBatchSize: batch, rowBatchSize: rowBatch, jobs: jobs, rowsMethod: RowsMethod(rawValue: rows) ?? .auto
                )
                    .retokenize { phase, done, total in progress.update("retokenize", done, total, unit: phase.rawValue) }
                progress.finish()
                var text = "retokenized \(result.entriesRetokenized) vault entries (\(result.entriesMerged) merged into existing ones) "
                text += "and \(result.rowsUpdated) user_logins rows to token key v\(result.tokenKeyVersion)\n"
                for version in result.retirable {
                    text += "nothing uses token key v\(version) any more: token-v\(version).key may be deleted\n"
                }
                Console.out(text)
                if result.failedEntries > 0 {
                    throw CommandError(
                        .dataError,
                        "\(result.failedEntries) vault entries failed authentication and were left as they are (with \(result.rowsLeft) user_logins rows still under their old tokens)"
                    )
                }
                if result.rowsLeft > 0 {
                    throw CommandError(
                        .dataError,
                        "\(result.rowsLeft) user_logins rows have a token without a vault entry or mapping and were left under their old key"
                    )
                }
            }
        }
    }
}
