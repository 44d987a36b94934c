import ArgumentParser
import CommandSupport
import Foundation
import Settings

extension VaultCommand {
    /// `vault config`: the effective configuration and where each value came from.
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config",
            abstract: "Print every effective setting and its source (default, file, env, flag); secrets as <set>.",
            discussion: "One line per setting: KEY, VALUE and SOURCE separated by tabs, control characters escaped."
        )

        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await ErrorReporting.run(tool: "vault") {
                let settings = try common.loadSettings()
                let passphrase = ProcessInfo.processInfo.environment["VAULT_PASSPHRASE"].flatMap { $0.isEmpty ? nil : $0 }
                let extra = [EffectiveSetting(
                    key: "vault.passphrase", value: passphrase, isSecret: true,
                    source: passphrase == nil ? .builtIn : .environment("VAULT_PASSPHRASE"))]
                Console.out(ConfigReport.text(settings: settings, configPath: common.config,
                                              configExplicit: common.configIsExplicit, extra: extra))
            }
        }
    }
}
