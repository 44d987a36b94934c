import COpenSSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import PIICrypto

/// Asks for a private key's passphrase on the controlling terminal through OpenSSL's UI
/// (`EVP_read_pw_string_min`): it reads `/dev/tty`, not stdin (so `vault reveal --stdin` can
/// take tokens on stdin and still prompt), turns echo off, and puts the terminal back even
/// when the prompt is interrupted with Ctrl-C.
public enum PassphrasePrompt {
    /// Why a prompt produced no passphrase.
    public enum Failure: Error, Sendable {
        /// With `verify`, the second entry differed from the first.
        case mismatch
        /// Nothing entered, the terminal went away, or the prompt was interrupted.
        case noInput
    }

    /// Whether a prompt can be shown: stderr is a terminal and the process has a controlling
    /// terminal to read from.
    public static var isAvailable: Bool {
        guard isatty(2) == 1 else { return false }
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// Reads a passphrase of 1 to ``X25519PrivateKey/maximumPassphraseBytes`` bytes; with
    /// `verify`, asks twice. The entry is copied out of OpenSSL's buffer, which is wiped.
    public static func read(_ prompt: String, verify: Bool) throws(Failure) -> String {
        let capacity = X25519PrivateKey.maximumPassphraseBytes + 1
        var buffer = [CChar](repeating: 0, count: capacity)
        defer { buffer.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) } }
        let status = EVP_read_pw_string_min(&buffer, 1, Int32(capacity - 1), prompt, verify ? 1 : 0)
        guard status == 0 else { throw verify && status == -1 ? .mismatch : .noInput }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        guard length > 0 else { throw .noInput }
        return buffer.withUnsafeBufferPointer { String(decoding: UnsafeRawBufferPointer($0).prefix(length), as: UTF8.self) }
    }
}
