import ArgumentParser
import CommandSupport

/// `vault`: the privileged operator CLI (SPEC §5). Parses and wires; the logic is in `Vault`.
@main
struct VaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Operate the PII vault: keys, audited reveal, forget, audit log.",
        discussion: """
            Exit codes: 0 success, 64 usage, 65 bad data (unknown, malformed or forgotten token, \
            failed authentication, broken audit chain), 69 database unavailable or not migrated, \
            73 init would overwrite keys, 77 not authorized (key file, passphrase, database \
            permission, missing --reason), 1 anything else.
            """,
        version: FetchDEVersion.current,
        subcommands: [Init.self, Reveal.self, Forget.self, Audit.self, Status.self, Rotate.self, Rewrap.self, Retokenize.self]
    )
}
