import ArgumentParser
import CommandSupport
import Vault

extension VaultCommand {
    /// `vault init`: key files v1 and their registration in the database.
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create token key v1 and vault key pair v1 and register them (never overwrites keys).",
            discussion: "Run once per deployment, after etl migrate, with the VAULT_DATABASE_URL login."
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var passphrase: NewKeyPassphraseOptions

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let environment = try common.vaultEnvironment(
                    passphraseFile: passphrase.file.passphraseFile, noPassphrase: passphrase.noPassphrase
                )
                let result = try await VaultInitializer(environment: environment).initialize()
                var text = ""
                for file in result.files { text += "created \(Console.field(file))\n" }
                text += "registered token key v\(result.tokenKeyVersion) and vault key v\(result.vaultKeyVersion) as active\n"
                if !result.passphraseProtected {
                    text += "note: the private key is not passphrase-protected\n"
                }
                Console.out(text)
            }
        }
    }
}
