import ArgumentParser
public import CommandSupport
import Foundation
import Settings
public import Vault

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

extension VaultError: CommandFailure {
    public var exitStatus: ExitStatus {
        switch kind {
        case .usage: .usage
        case .dataError: .dataError
        case .unavailable: .unavailable
        case .cannotCreate: .cannotCreate
        case .notAuthorized: .notAuthorized
        case .failure: .failure
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
        return VaultEnvironment(
            databaseURL: settings.vaultDatabaseURL,
            keysDirectory: settings.keysDirectory,
            passphrase: PassphraseOptions(file: passphraseFile, noPassphrase: noPassphrase),
            logger: logger
        )
    }
}

/// Writing to stdout and stderr without Foundation's buffering surprises: stdout gets the
/// command's output, stderr one line per problem.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func problem(_ line: String) {
        FileHandle.standardError.write(Data("vault: \(line)\n".utf8))
    }

    /// A JSON document on one line.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        out(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n")
    }
}
