import ArgumentParser
import CommandSupport
import Vault

extension VaultCommand {
    /// `vault rotate --encryption | --tokens`: a new vault key pair or token key becomes active.
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new vault key pair (--encryption) or token key (--tokens) the active one; audited.",
            discussion: """
                --encryption writes vault-v<N>.pem and vault-v<N>.pub.pem (never overwriting), \
                registers the public key and makes it active: running etl processes seal their \
                next data keys to it within seconds. Then run vault rewrap; once vault status \
                shows no data key on an old version, its private key file may be deleted.

                --tokens writes token-v<N>.key and makes it active: running etl processes switch \
                to it within seconds (they need the file in their keys directory; until it is \
                there they hold their messages and report not ready). Then run vault retokenize, \
                which moves every earlier token to the new key so duplicates stay joinable.
                """
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var passphrase: NewKeyPassphraseOptions

        @Flag(help: "Rotate the vault encryption key pair.")
        var encryption = false

        @Flag(help: "Rotate the token key (then run vault retokenize).")
        var tokens = false

        func validate() throws {
            guard encryption != tokens else {
                throw ValidationError("say what to rotate: --encryption or --tokens (one at a time)")
            }
        }

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let environment = try common.vaultEnvironment(
                    passphraseFile: passphrase.file.passphraseFile, noPassphrase: passphrase.noPassphrase
                )
                if tokens {
                    let result = try await TokenKeyRotator(environment: environment).rotate()
                    Console.out("""
                        created \(Console.field(result.file))
                        token key v\(result.tokenKeyVersion) is active (was v\(result.previousVersion)); \
                        run vault retokenize to move earlier tokens to it

                        """)
                    return
                }
                let result = try await EncryptionKeyRotator(environment: environment).rotate()
                var text = ""
                for file in result.files { text += "created \(Console.field(file))\n" }
                text += "vault key v\(result.vaultKeyVersion) is active (was v\(result.previousVersion)); run vault rewrap to re-seal older data keys\n"
                if !result.passphraseProtected {
                    text += "note: the private key is not passphrase-protected\n"
                }
                Console.out(text)
            }
        }
    }
}
