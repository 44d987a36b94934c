import ArgumentParser
import CommandSupport
import Foundation
import Settings
import Vault

/// The passphrase options of the commands that create or use the private key.
struct PassphraseFileOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "File holding the private key's passphrase (else VAULT_PASSPHRASE, VAULT_PASSPHRASE_FILE, or a prompt on a terminal).",
        valueName: "file"))
    var passphraseFile: String?
}

/// The passphrase options of the commands that create a private key (`init`, `rotate`):
/// the file option plus `--no-passphrase`.
struct NewKeyPassphraseOptions: ParsableArguments {
    @OptionGroup var file: PassphraseFileOption

    @Flag(help: "Store the private key without a passphrase (only for throwaway demos).")
    var noPassphrase = false

    func validate() throws {
        if noPassphrase && file.passphraseFile != nil {
            throw ValidationError("--no-passphrase and --passphrase-file exclude each other")
        }
    }
}

extension CommonOptions {
    /// Settings, logging and passphrase sources for one vault command.
    func vaultEnvironment(passphraseFile: String? = nil, noPassphrase: Bool = false) throws -> VaultEnvironment {
        // A one-shot command should fail (exit 69), not hang, when the database host does not
        // answer; libpq reads this default unless the URL sets connect_timeout.
        if ProcessInfo.processInfo.environment["PGCONNECT_TIMEOUT"] == nil {
            setenv("PGCONNECT_TIMEOUT", "10", 0)
        }
        let settings = try loadSettings()
        let logger = try bootstrapLogging(label: "vault", settings: settings)
        // Once per command (every connection applies the same policy): a weaker sslmode
        // named for a non-loopback host is allowed, and said.
        if let warning = try DatabaseTransportPolicy.evaluate(url: settings.vaultDatabaseURL).warning {
            Console.problem(warning)
        }
        return VaultEnvironment(
            databaseURL: settings.vaultDatabaseURL,
            keysDirectory: settings.keysDirectory,
            passphrase: PassphraseOptions(file: passphraseFile, noPassphrase: noPassphrase),
            logger: logger
        )
    }
}

/// Writing to stdout and stderr without Foundation's buffering surprises: stdout gets the
/// command's output, stderr one line per problem. Every value from the database or the user
/// goes through ``TerminalText`` before it reaches `out` (``field(_:)``, ``record(_:)``);
/// `problem` and `json` escape by themselves.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// One line on stderr, control characters escaped.
    static func problem(_ line: String) {
        FileHandle.standardError.write(Data("vault: \(TerminalText.field(line))\n".utf8))
    }

    /// One value inside a line of text output.
    static func field<S: StringProtocol>(_ value: S) -> String { TerminalText.field(value) }

    /// Tab-separated fields, escaped, ended by a newline.
    static func record(_ fields: [String]) -> String { TerminalText.record(fields) }

    /// A JSON document on one line: exact values, terminal-safe (``TerminalText/json(_:)``).
    static func json<T: Encodable>(_ value: T) throws {
        out(try jsonText(value) + "\n")
    }

    static func jsonText<T: Encodable>(_ value: T) throws -> String {
        TerminalText.json(try encoder.encode(value))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
