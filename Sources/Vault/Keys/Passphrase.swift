#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Foundation
import PIICrypto
import VaultCrypto
import VaultFormat

/// Where the passphrase of the vault's private key comes from (SPEC §4), in this order:
/// `--no-passphrase` (creation only), `--passphrase-file F`, `VAULT_PASSPHRASE`,
/// `VAULT_PASSPHRASE_FILE`, a prompt on the controlling terminal (``PassphrasePrompt``). Passphrases are
/// `String`s because `KeyDirectory` (OpenSSL's PEM encryption) takes them so; they are never
/// logged or put in an error message.
public struct PassphraseOptions: Sendable {
    public var file: String?
    public var noPassphrase: Bool
    public var environment: [String: String]
    /// Whether a terminal prompt may be shown (stderr and a controlling terminal are TTYs).
    public var interactive: Bool

    public init(
        file: String? = nil,
        noPassphrase: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        interactive: Bool = PassphraseOptions.terminalAttached
    ) {
        self.file = file
        self.noPassphrase = noPassphrase
        self.environment = environment
        self.interactive = interactive
    }

    /// True when a passphrase can be asked for on this process's terminal.
    public static var terminalAttached: Bool { PassphrasePrompt.isAvailable }

    /// The passphrase for protecting a new private key, or nil for `--no-passphrase`.
    /// Prompts twice on a terminal; with no source at all it is a usage error, so an
    /// unprotected key is only ever made on purpose. From every source, one longer than
    /// ``X25519PrivateKey/maximumPassphraseBytes`` is a usage error: OpenSSL could not open
    /// the key file again.
    public func forNewKey() throws -> String? {
        if noPassphrase { return nil }
        let passphrase = try newKeyPassphrase()
        let limit = X25519PrivateKey.maximumPassphraseBytes
        guard passphrase.utf8.count <= limit else {
            throw VaultError(.invalidArgument, "the passphrase is longer than \(limit) bytes, the most an OpenSSL PEM key file can be opened with: choose a shorter one")
        }
        return passphrase
    }

    private func newKeyPassphrase() throws -> String {
        if let given = try given(failing: .invalidArgument) { return given }
        guard interactive else {
            throw VaultError(.invalidArgument, "no passphrase for the new private key: pass --passphrase-file FILE, set VAULT_PASSPHRASE or VAULT_PASSPHRASE_FILE, or choose --no-passphrase")
        }
        do {
            return try PassphrasePrompt.read("New vault key passphrase: ", verify: true)
        } catch .mismatch {
            throw VaultError(.invalidArgument, "the two passphrases differ")
        } catch {
            throw VaultError(.invalidArgument, "no passphrase entered for the new private key")
        }
    }

    /// The passphrase for unlocking an existing protected private key.
    public func forUnlocking() throws -> String {
        if let given = try given(failing: .passphraseUnavailable) { return given }
        guard interactive else {
            throw VaultError(.passphraseUnavailable, "the vault private key is passphrase-protected: set VAULT_PASSPHRASE or VAULT_PASSPHRASE_FILE, or pass --passphrase-file FILE")
        }
        do {
            return try PassphrasePrompt.read("Vault key passphrase: ", verify: false)
        } catch {
            throw VaultError(.passphraseUnavailable, "no passphrase entered")
        }
    }

    private func given(failing code: VaultError.Code) throws -> String? {
        if let file { return try Self.read(file: file, origin: "--passphrase-file", failing: code) }
        if let value = environment["VAULT_PASSPHRASE"], !value.isEmpty { return value }
        if let file = environment["VAULT_PASSPHRASE_FILE"], !file.isEmpty {
            return try Self.read(file: file, origin: "VAULT_PASSPHRASE_FILE", failing: code)
        }
        return nil
    }

    /// Reads a passphrase file: its content minus one trailing newline. A regular file that
    /// group or others can read is refused, like a key file.
    static func read(file: String, origin: String, failing code: VaultError.Code) throws -> String {
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw VaultError(code, "\(origin): cannot read passphrase file \(file)")
        }
        if (info.st_mode & S_IFMT) == S_IFREG && (info.st_mode & 0o077) != 0 {
            throw VaultError(.passphraseUnavailable, "\(origin): passphrase file \(file) is readable by group or others (chmod 600 it)")
        }
        guard let handle = FileHandle(forReadingAtPath: file), let data = try? handle.readToEnd() ?? Data() else {
            throw VaultError(code, "\(origin): cannot read passphrase file \(file)")
        }
        var bytes = [UInt8](data)
        if bytes.last == 0x0a { bytes.removeLast() }
        if bytes.last == 0x0d { bytes.removeLast() }
        defer { for index in bytes.indices { bytes[index] = 0 } }
        guard !bytes.isEmpty else {
            throw VaultError(code, "\(origin): passphrase file \(file) is empty")
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
