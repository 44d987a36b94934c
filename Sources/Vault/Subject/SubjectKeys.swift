import PIICrypto
import VaultFormat
import Postgres

/// The subject key of a vault session: `keys/subject.key`, registered in `fetchde.subject_key`
/// by its check value (created and registered on first use), so every `etl` host can tell it
/// holds the same key and hashes user ids as the vault does.
enum SubjectKeys {
    /// The hasher for this database's subject key, as `vault_admin`. Refuses (77) a key file
    /// that is absent or differs from the registered one, and a loose file.
    static func hasher(_ session: PostgresSession, environment: VaultEnvironment) throws -> SubjectHasher {
        let keys = environment.keys
        var registered = try session.execute("SELECT key_check FROM fetchde.subject_key").rows.first?[0].string
        if registered == nil {
            let hasher = SubjectHasher(rootKey: try keys.loadOrCreateSubjectKey())
            try session.execute(
                "INSERT INTO fetchde.subject_key (key_check) VALUES ($1) ON CONFLICT (singleton) DO NOTHING",
                [.text(hasher.keyCheck)]
            )
            registered = try session.execute("SELECT key_check FROM fetchde.subject_key").rows.first?[0].string
        }
        guard keys.subjectKeyExists() else {
            throw VaultError(.keyUnavailable, "no subject key in \(environment.keysDirectory) (subject.key) although one is registered: restore it from backup")
        }
        let hasher = SubjectHasher(rootKey: try keys.readSubjectKey())
        guard hasher.keyCheck == registered else {
            throw VaultError(.keyUnavailable, "\(keys.subjectKeyPath) is not the registered subject key")
        }
        return hasher
    }

    /// Distinct user ids in request order; empty ones refused (64).
    static func userIDs(_ raw: [String]) throws -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for id in raw {
            guard !id.isEmpty else { throw VaultError(.invalidArgument, "a user id must not be empty") }
            if seen.insert(id).inserted { out.append(id) }
        }
        guard !out.isEmpty else { throw VaultError(.invalidArgument, "name at least one user id") }
        return out
    }

    /// A PostgreSQL text-array literal of arbitrary strings (each element double-quoted,
    /// backslash and quote escaped): user ids can hold any character.
    static func quotedArray(_ values: [String]) -> String {
        var out = "{"
        for (index, value) in values.enumerated() {
            if index > 0 { out += "," }
            out += "\""
            for char in value.unicodeScalars {
                if char == "\\" || char == "\"" { out += "\\" }
                out.unicodeScalars.append(char)
            }
            out += "\""
        }
        return out + "}"
    }
}
