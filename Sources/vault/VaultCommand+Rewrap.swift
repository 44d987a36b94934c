import ArgumentParser
import CommandSupport
import Foundation
import Vault

extension VaultCommand {
    /// `vault rewrap`: re-seal data keys of older vault key versions to the active one.
    struct Rewrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every data key of an older vault key to the active one (resumable; audited).",
            discussion: """
                Touches vault_data_keys only (cost grows with data keys, not entries). Safe to \
                interrupt and rerun. Afterwards the old private key files it names may be deleted.
                """
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var passphrase: PassphraseFileOption

        @Option(help: "Data keys per transaction.")
        var batch = 500

        func validate() throws {
            guard batch > 0 else { throw ValidationError("--batch must be positive") }
        }

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let environment = try common.vaultEnvironment(passphraseFile: passphrase.passphraseFile)
                let progress = TerminalProgress(enabled: isatty(STDERR_FILENO) == 1)
                let result = try await Rewrapper(environment: environment, batchSize: batch)
                    .rewrap { done, total in progress.update("rewrap", done, total, unit: "data keys") }
                progress.finish()
                var text = "rewrapped \(result.rewrapped) data keys to vault key v\(result.activeVersion)"
                let from = result.rewrappedByVersion.keys.sorted().map { "v\($0): \(result.rewrappedByVersion[$0] ?? 0)" }
                if !from.isEmpty { text += " (\(from.joined(separator: ", ")))" }
                text += "\n"
                for version in result.retirable {
                    text += "no data key uses vault key v\(version) any more: vault-v\(version).pem may be deleted\n"
                }
                Console.out(text)
                if !result.failed.isEmpty {
                    let ids = result.failed.prefix(10).map(String.init).joined(separator: ", ")
                    throw CommandError(
                        .integrityFailure,
                        "\(result.failed.count) data keys failed authentication and were left as they are (dek_id \(ids)\(result.failed.count > 10 ? ", …" : ""))"
                    )
                }
            }
        }
    }
}

