import Foundation
import PackagePlugin

/// Embeds the `.sql` files of a target's `SQL/` folder into the target as `EmbeddedSQL.files`
/// (STYLE.md: SQL is SQL, and each program stays one file).
@main
struct EmbedSQL: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) async throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let folder = target.directoryURL.appending(path: "SQL")
        let inputs = (FileManager.default.subpaths(atPath: folder.path) ?? [])
            .filter { $0.hasSuffix(".sql") }
            .sorted()
            .map { folder.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSQL.swift")
        return [
            .buildCommand(
                displayName: "Embedding the SQL of \(target.name)",
                executable: try context.tool(named: "fetchde-embed-sql").url,
                arguments: [folder.path, output.path],
                inputFiles: inputs,
                outputFiles: [output]
            ),
        ]
    }
}
