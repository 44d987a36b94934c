import ArgumentParser
import CommandSupport
import Foundation
import Synchronization
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
                let progress = RewrapProgress(enabled: isatty(STDERR_FILENO) == 1)
                let result = try await Rewrapper(environment: environment, batchSize: batch)
                    .rewrap { done, total in progress.update(done, total) }
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
                        .dataError,
                        "\(result.failed.count) data keys failed authentication and were left as they are (dek_id \(ids)\(result.failed.count > 10 ? ", …" : ""))"
                    )
                }
            }
        }
    }
}

/// A one-line progress display on a terminal (stderr), quiet otherwise.
final class RewrapProgress: Sendable {
    private let enabled: Bool
    private let last = Mutex(ContinuousClock.now - .seconds(1))

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ done: Int, _ total: Int) {
        guard enabled else { return }
        let show = last.withLock { last in
            guard ContinuousClock.now - last >= .milliseconds(250) || done >= total else { return false }
            last = ContinuousClock.now
            return true
        }
        if show { FileHandle.standardError.write(Data("\rrewrap: \(done)/\(total) data keys   ".utf8)) }
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
