public import Logging
import PIICrypto

/// What every vault operation needs: where the database and the keys are, how to get the
/// private key's passphrase, and a logger (which never receives plaintext).
public struct VaultEnvironment: Sendable {
    /// libpq URL of the vault's connection; nil means libpq's `PG*` variables.
    public var databaseURL: String?
    /// The keys directory.
    public var keysDirectory: String
    public var passphrase: PassphraseOptions
    public var logger: Logger

    public init(databaseURL: String?, keysDirectory: String, passphrase: PassphraseOptions, logger: Logger) {
        self.databaseURL = databaseURL
        self.keysDirectory = keysDirectory
        self.passphrase = passphrase
        self.logger = logger
    }

    var keys: KeyDirectory { KeyDirectory(path: keysDirectory) }
}
