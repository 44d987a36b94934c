import ArgumentParser
import CommandSupport

/// `vault`: the privileged operator CLI (SPEC §5). Parses and wires; the logic is in `Vault`.
@main
struct VaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Operate the PII vault: keys, audited reveal, forget, audit log.",
        discussion: """
            Exit codes: 0 success, 64 usage (also a new key's passphrase over 1,023 bytes), 65 bad \
            data (unknown, malformed or forgotten token, failed authentication, broken audit \
            chain), 69 database unavailable (also a non-loopback server failing \
            sslmode=verify-full, the default for such hosts unless an sslmode is named) or not \
            migrated, \
            73 init would overwrite keys, 77 not authorized (key file, passphrase, database \
            permission, missing --reason), 78 configuration (config file, setting out of range), \
            1 anything else.
            """,
        version: FetchDEVersion.current,
        subcommands: [
            Init.self, Reveal.self, Forget.self, Subject.self, Audit.self, Status.self, Rotate.self, Rewrap.self,
            Retokenize.self, Quarantine.self, Config.self,
        ]
    )

    /// One-line usage errors and the one error mapping (``CommandSupport/ErrorReporting``).
    static func main() async {
        await mainReportingErrors(tool: "vault")
    }
}
