import ArgumentParser
import CommandSupport
import Vault

extension VaultCommand {
    /// `vault status`: versions, counts per version, pending work.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show key versions, entries and data keys per version, and pending rotation work."
        )

        @OptionGroup var common: CommonOptions

        @Flag(help: "JSON output.")
        var json = false

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let status = try await StatusReader(environment: try common.vaultEnvironment()).read()
                if json {
                    try Console.json(status)
                } else {
                    Console.out(Self.text(status))
                }
            }
        }

        static func text(_ status: VaultStatus) -> String {
            func version(_ value: Int?) -> String { value.map { "v\($0)" } ?? "none (run vault init)" }
            var lines = [
                "schema version:     \(status.schemaVersion.map(String.init) ?? "unknown (not readable by this login)")",
                "active token key:   \(version(status.activeTokenKeyVersion))",
                "active vault key:   \(version(status.activeVaultKeyVersion))",
            ]
            for key in status.tokenKeys {
                lines.append("token key v\(key.version):       \(key.vaultEntries) vault entries, \(key.userLoginRows) user_logins rows, key file \(key.keyFilePresent ? "present" : "absent")")
            }
            for key in status.vaultKeys {
                lines.append("vault key v\(key.version):       \(key.dataKeys) data keys, private key \(key.privateKeyPresent ? "present" : "absent")")
            }
            lines.append("vault entries:      \(status.vaultEntries)")
            lines.append("forgotten tokens:   \(status.forgottenTokens)")
            lines.append("audit rows:         \(status.auditRows)")
            var pending: [String] = []
            if status.dataKeysToRewrap > 0 { pending.append("\(status.dataKeysToRewrap) data keys to rewrap (vault rewrap)") }
            if status.entriesToRetokenize > 0 || status.rowsToRetokenize > 0 {
                pending.append("\(status.entriesToRetokenize) vault entries and \(status.rowsToRetokenize) user_logins rows to retokenize (vault retokenize)")
            }
            lines.append("pending:            \(pending.isEmpty ? "nothing" : pending.joined(separator: "; "))")
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
