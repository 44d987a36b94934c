import ArgumentParser
import CommandSupport
import Vault

extension VaultCommand {
    /// `vault rotate --encryption`: a new vault key pair becomes the active one.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new vault key pair the active one (--encryption); audited.",
            discussion: """
                Writes vault-v<N>.pem and vault-v<N>.pub.pem (never overwriting), registers the \
                public key and makes it active: running etl processes seal their next data keys \
                to it within seconds. Then run vault rewrap; once vault status shows no data key \
                on an old version, its private key file may be deleted.
                """
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var passphrase: NewKeyPassphraseOptions

        @Flag(help: "Rotate the vault encryption key pair.")
        var encryption = false

        func validate() throws {
            guard encryption else {
                throw ValidationError("say what to rotate: --encryption")
            }
        }

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let environment = try common.vaultEnvironment(
                    passphraseFile: passphrase.file.passphraseFile, noPassphrase: passphrase.noPassphrase
                )
                let result = try await EncryptionKeyRotator(environment: environment).rotate()
                var text = ""
                for file in result.files { text += "created \(file)\n" }
                text += "vault key v\(result.vaultKeyVersion) is active (was v\(result.previousVersion)); run vault rewrap to re-seal older data keys\n"
                if !result.passphraseProtected {
                    text += "note: the private key is not passphrase-protected\n"
                }
                Console.out(text)
            }
        }
    }
}
