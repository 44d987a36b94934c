import COpenSSL
import COpenSSLShims
public import PIICrypto

// Private-key files: written by `vault init` and `vault rotate`, read by every vault command
// that opens data. The pipeline never holds a private key, so this lives in VaultCrypto.

extension X25519PrivateKey {
    /// scrypt cost for passphrase-protected key files: N = 2^14, r = 8, p = 1 (16 MiB: OpenSSL
    /// refuses to decrypt PKCS#8 files whose scrypt needs more than 32 MiB).
    static let scryptN: UInt64 = 1 << 14

    /// The longest passphrase (in UTF-8 bytes) a key file is written with: 1023, one less than
    /// OpenSSL's `PEM_BUFSIZE`. OpenSSL's own readers take a passphrase into a buffer of that
    /// size with room for a terminating NUL (the PEM prompt, `openssl pkey -passin file:`), and
    /// a provider decoder hands a callback at most `PEM_BUFSIZE` bytes, so a key protected with
    /// a longer one could not be opened again by `openssl`, or at all.
    public static let maximumPassphraseBytes = Int(PEM_BUFSIZE) - 1

    /// PKCS#8 PEM. With a passphrase: `ENCRYPTED PRIVATE KEY` (PBES2, scrypt, AES-256-CBC),
    /// readable by `openssl pkey -passin`; without: `PRIVATE KEY`.
    public func pemRepresentation(passphrase: String?) throws -> String {
        try pemBytes(passphrase: passphrase).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// The PEM text in wiped storage (used to write key files without an unwipeable `String`).
    func pemBytes(passphrase: String?) throws -> SecureBytes {
        let bio = try MemoryBIO()
        let ok: Int32
        if let passphrase {
            guard !passphrase.isEmpty else { throw CryptoError(.invalidInput, "empty passphrase") }
            guard passphrase.utf8.count <= Self.maximumPassphraseBytes else {
                throw CryptoError(.invalidInput, "passphrase longer than \(Self.maximumPassphraseBytes) bytes")
            }
            var pass = Array(passphrase.utf8)
            defer { wipe(&pass) }
            ok = pass.withUnsafeBytes { p in
                fetchde_write_pkcs8_scrypt_aes256cbc(bio.bio, key.pkey, p.baseAddress?.assumingMemoryBound(to: CChar.self),
                                                    Int32(p.count), Self.scryptN, 8, 1)
            }
        } else {
            ok = PEM_write_bio_PrivateKey(bio.bio, key.pkey, nil, nil, 0, nil, nil)
        }
        guard ok == 1 else { throw CryptoError(.openSSLFailure, "PEM encoding of private key") }
        return bio.secureBytes()
    }

    /// Reads a PKCS#8 PEM private key. An encrypted key with a wrong or missing passphrase
    /// throws ``CryptoError/Code/invalidKey``; never prompts on a terminal.
    public init(pemRepresentation pem: String, passphrase: String?) throws {
        let text = SecureBytes(Array(pem.utf8))
        switch try text.withUnsafeBytes({ try X25519PrivateKey.read(pemBytes: $0, passphrase: passphrase) }) {
        case .key(let key): self = key
        case .locked: throw CryptoError(.invalidKey, "private key could not be decrypted with the passphrase")
        }
    }

    /// A PEM read's outcome: the key, or a passphrase-protected key that did not open (which
    /// ``KeyDirectory`` reports as ``KeyFileError/Code/wrongPassphrase``, naming the file).
    enum PEMRead {
        case key(X25519PrivateKey)
        case locked
    }

    static func read(pemBytes: UnsafeRawBufferPointer, passphrase: String?) throws -> PEMRead {
        let encrypted = isEncryptedPEM(pemBytes)
        if encrypted, passphrase == nil { return .locked }
        var pass = Array((passphrase ?? "").utf8)
        defer { wipe(&pass) }
        let bio = try MemoryBIO(reading: pemBytes)
        let pkey: OpaquePointer? = pass.withUnsafeBytes { p in
            var userdata = fetchde_passphrase(passphrase: p.baseAddress?.assumingMemoryBound(to: CChar.self), length: p.count)
            return withUnsafeMutablePointer(to: &userdata) { u in
                PEM_read_bio_PrivateKey(bio.bio, nil, fetchde_pem_passphrase_cb, passphrase == nil ? nil : UnsafeMutableRawPointer(u))
            }
        }
        guard let pkey else {
            if encrypted { return .locked }
            throw CryptoError(.invalidKey, "not a PEM private key")
        }
        return .key(try X25519PrivateKey(owning: pkey))
    }

    static let encryptedHeader = Array("-----BEGIN ENCRYPTED PRIVATE KEY-----".utf8)

    static func isEncryptedPEM(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let header = encryptedHeader
        guard bytes.count >= header.count else { return false }
        for start in 0...(bytes.count - header.count) where bytes[start] == header[0] {
            if header.indices.allSatisfy({ bytes[start + $0] == header[$0] }) { return true }
        }
        return false
    }

    /// Whether `pem` holds a passphrase-protected (`ENCRYPTED PRIVATE KEY`) key.
    public static func isEncryptedPEM(_ pem: String) -> Bool {
        pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    }
}

