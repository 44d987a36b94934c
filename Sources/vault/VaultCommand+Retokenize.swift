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
                Run after vault rotate --tokens, while etl keeps ingesting. Moves pii_vault, then \
                user_logins, to the new tokens: by default each into a copy filled in batches and \
                swapped in under a short lock (a view, rule, foreign key, publication, policy or \
                trigger on a table makes it update that table in place instead, in batches). Safe \
                to interrupt and rerun at any point. Afterwards each value has one token across all \
                rows, and every duplicate group is still one group. Needs the vault private keys \
                (and their passphrase).
                """
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var passphrase: PassphraseFileOption

        @Option(help: "Vault entries per transaction.")
        var batch = 10_000

        @Option(help: "user_logins ids per transaction.")
        var rowBatch = 500_000

        @Option(help: "How pii_vault and user_logins move: auto (rebuild a table when most of it moves and nothing bound to it forbids it), rebuild, in-place.")
        var method = RetokenizeMethod.auto.rawValue

        @Option(help: "Database connections working at once.")
        var jobs = 2

        func validate() throws {
            guard batch > 0, rowBatch > 0, jobs > 0 else { throw ValidationError("--batch, --row-batch and --jobs must be positive") }
            guard RetokenizeMethod(rawValue: method) != nil else {
                throw ValidationError("--method must be one of \(RetokenizeMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let environment = try common.vaultEnvironment(passphraseFile: passphrase.passphraseFile)
                let progress = TerminalProgress(enabled: isatty(STDERR_FILENO) == 1)
                let result = try await Retokenizer(
                    environment: environment, entryBatchSize: batch, rowBatchSize: rowBatch, jobs: jobs, method: RetokenizeMethod(rawValue: method) ?? .auto
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
                        .integrityFailure,
                        "\(result.failedEntries) vault entries failed authentication and were left as they are (with \(result.rowsLeft) user_logins rows still under their old tokens)"
                    )
                }
                if result.rowsLeft > 0 {
                    throw CommandError(
                        .integrityFailure,
                        "\(result.rowsLeft) user_logins rows have a token without a vault entry or mapping and were left under their old key"
                    )
                }
            }
        }
    }
}
