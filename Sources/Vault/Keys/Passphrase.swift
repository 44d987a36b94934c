#if canImport(Glibc)
import Glibc
import VaultFormat
#elseif canImport(Darwin)
import Darwin
#endif
public import Foundation
import PIICrypto
import VaultCrypto

/// Where the passphrase of the vault's private key comes from (SPEC §4), in this order:
/// `--no-passphrase` (creation only), `--passphrase-file F`, `VAULT_PASSPHRASE`,
/// `VAULT_PASSPHRASE_FILE`, a prompt when stdin and stderr are a terminal. Passphrases are
/// `String`s because `KeyDirectory` (OpenSSL's PEM encryption) takes them so; they are never
/// logged or put in an error message.
public struct PassphraseOptions: Sendable {
    public var file: String?
    public var noPassphrase: Bool
    public var environment: [String: String]
    /// Whether a terminal prompt may be shown (stdin and stderr are TTYs).
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
    public static var terminalAttached: Bool { isatty(0) == 1 && isatty(2) == 1 }

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
        let first = try TerminalPrompt.read("New vault key passphrase: ")
        let second = try TerminalPrompt.read("Repeat passphrase: ")
        guard first == second else { throw VaultError(.invalidArgument, "the two passphrases differ") }
        guard !first.isEmpty else { throw VaultError(.invalidArgument, "the passphrase must not be empty") }
        return first
    }

    /// The passphrase for unlocking an existing protected private key.
    public func forUnlocking() throws -> String {
        if let given = try given(failing: .passphraseUnavailable) { return given }
        guard interactive else {
            throw VaultError(.passphraseUnavailable, "the vault private key is passphrase-protected: set VAULT_PASSPHRASE or VAULT_PASSPHRASE_FILE, or pass --passphrase-file FILE")
        }
        let value = try TerminalPrompt.read("Vault key passphrase: ")
        guard !value.isEmpty else { throw VaultError(.passphraseUnavailable, "no passphrase entered") }
        return value
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

/// Reads one line from the terminal with echo off.
enum TerminalPrompt {
    private static func readByte(_ byte: inout UInt8) -> Int {
        #if canImport(Glibc)
        return Glibc.read(0, &byte, 1)
        #else
        return Darwin.read(0, &byte, 1)
        #endif
    }

    static func read(_ prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        let haveTerminal = tcgetattr(0, &saved) == 0
        if haveTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(0, TCSAFLUSH, &quiet)
        }
        defer {
            if haveTerminal { _ = tcsetattr(0, TCSAFLUSH, &saved) }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        var line: [UInt8] = []
        defer { for index in line.indices { line[index] = 0 } }
        var byte: UInt8 = 0
        while true {
            let count = readByte(&byte)
            if count <= 0 || byte == 0x0a { break }
            if byte != 0x0d { line.append(byte) }
        }
        byte = 0
        return String(decoding: line, as: UTF8.self)
    }
}
