import Foundation
import PIICrypto
import VaultCrypto
import Testing
import TestSupport

@Suite("KeyDirectory")
struct KeyDirectoryTests {
    @Test func tokenKeyIsWrittenWithMode0600AndReadBack() throws {
        try withTemporaryDirectory { root in
            let keys = KeyDirectory(path: root + "/keys")
            #expect(!keys.tokenKeyExists(version: 1))
            let key = SecureBytes.random(count: 32)
            try keys.writeTokenKey(key, version: 1)
            #expect(try fileMode(root + "/keys") == 0o700)
            #expect(try fileMode(keys.tokenKeyPath(version: 1)) == 0o600)
            let text = try String(contentsOfFile: keys.tokenKeyPath(version: 1), encoding: .utf8)
            #expect(text == key.hexString + "\n")
            #expect(try keys.readTokenKey(version: 1) == key)
            #expect(keys.tokenKeyExists(version: 1))
            try keys.writeTokenKey(SecureBytes.random(count: 32), version: 3)
            #expect(keys.tokenKeyVersions() == [1, 3])
        }
    }

    @Test func refusesToOverwrite() throws {
        try withTemporaryDirectory { root in
            let keys = KeyDirectory(path: root)
            let key = SecureBytes.random(count: 32)
            try keys.writeTokenKey(key, version: 1)
            let error = #expect(throws: KeyFileError.self) { try keys.writeTokenKey(SecureBytes.random(count: 32), version: 1) }
            #expect(error?.code == .alreadyExists)
            #expect(try keys.readTokenKey(version: 1) == key)
        }
    }

    @Test(arguments: [0o640, 0o604, 0o660, 0o644, 0o700])
    func refusesLoosePermissions(mode: Int) throws {
        try withTemporaryDirectory { root in
            let keys = KeyDirectory(path: root + "/keys")
            try keys.writeTokenKey(SecureBytes.random(count: 32), version: 1)
            let path = keys.tokenKeyPath(version: 1)
            try chmod(path, mode)
            if mode & 0o077 == 0 {
                // 0700 has no group/other bits: still accepted.
                #expect(throws: Never.self) { try keys.readTokenKey(version: 1) }
                return
            }
            let error = #expect(throws: KeyFileError.self) { try keys.readTokenKey(version: 1) }
            #expect(error?.code == .loosePermissions)
            let message = error.map { "\($0)" } ?? ""
            #expect(!message.contains("\n"))
            #expect(message.contains(path))
            #expect(message.contains("mode 0\(String(mode, radix: 8))"))
            #expect(message.contains("chmod 600 \(path)"))
        }
    }

    @Test func exampleMessage() {
        let error = KeyFileError(.loosePermissions, path: "keys/token-v1.key", mode: 0o100644)
        #expect(error.description
            == "key file keys/token-v1.key is readable by group or others (mode 0644); run: chmod 600 keys/token-v1.key")
    }

    @Test func missingAndMalformedFiles() throws {
        try withTemporaryDirectory { root in
            let keys = KeyDirectory(path: root)
            let missing = #expect(throws: KeyFileError.self) { try keys.readTokenKey(version: 9) }
            #expect(missing?.code == .missing)
            let missingVault = #expect(throws: KeyFileError.self) { try keys.readVaultPrivateKey(version: 9, passphrase: nil) }
            #expect(missingVault?.code == .missing)
            let missingPublic = #expect(throws: KeyFileError.self) { try keys.readVaultPublicKey(version: 9) }
            #expect(missingPublic?.code == .missing)

            let path = keys.tokenKeyPath(version: 2)
            FileManager.default.createFile(atPath: path, contents: Data("zz\n".utf8), attributes: [.posixPermissions: 0o600])
            let malformed = #expect(throws: KeyFileError.self) { try keys.readTokenKey(version: 2) }
            #expect(malformed?.code == .malformed)
        }
    }

    @Test func vaultKeyPairRoundTripsWithPassphrase() throws {
        try withTemporaryDirectory { root in
            let keys = KeyDirectory(path: root + "/keys")
            let key = X25519PrivateKey()
            try keys.writeVaultKeyPair(key, version: 1, passphrase: "s3cret pass")
            #expect(try fileMode(keys.vaultPrivateKeyPath(version: 1)) == 0o600)
            #expect(try fileMode(keys.vaultPublicKeyPath(version: 1)) == 0o644)
            #expect(try keys.isPrivateKeyEncrypted(version: 1))
            #expect(keys.vaultKeyExists(version: 1))
            #expect(keys.vaultKeyVersions() == [1])

            let loaded = try keys.readVaultPrivateKey(version: 1, passphrase: "s3cret pass")
            #expect(loaded.rawRepresentation == key.rawRepresentation)
            #expect(try keys.readVaultPublicKey(version: 1) == key.publicKey)

            let wrong = #expect(throws: KeyFileError.self) { try keys.readVaultPrivateKey(version: 1, passphrase: "nope") }
            #expect(wrong?.code == .wrongPassphrase)
            let none = #expect(throws: KeyFileError.self) { try keys.readVaultPrivateKey(version: 1, passphrase: nil) }
            #expect(none?.code == .wrongPassphrase)

            let again = #expect(throws: KeyFileError.self) { try keys.writeVaultKeyPair(key, version: 1, passphrase: nil) }
            #expect(again?.code == .alreadyExists)

            try chmod(keys.vaultPrivateKeyPath(version: 1), 0o640)
            let loose = #expect(throws: KeyFileError.self) { try keys.readVaultPrivateKey(version: 1, passphrase: "s3cret pass") }
            #expect(loose?.code == .loosePermissions)
        }
    }

    @Test func unencryptedVaultKeyAndRetirement() throws {
        try withTemporaryDirectory { root in
            let keys = KeyDirectory(path: root)
            let key = X25519PrivateKey()
            try keys.writeVaultKeyPair(key, version: 2, passphrase: nil)
            #expect(try !keys.isPrivateKeyEncrypted(version: 2))
            #expect(try keys.readVaultPrivateKey(version: 2, passphrase: nil).rawRepresentation == key.rawRepresentation)
            try keys.removeVaultPrivateKey(version: 2)
            #expect(!keys.vaultPrivateKeyExists(version: 2))
            #expect(keys.vaultKeyExists(version: 2), "the public key stays, so version 2 stays taken")
            #expect(keys.vaultKeyVersions() == [2])
            #expect(keys.vaultPrivateKeyVersions() == [])
            #expect(try keys.readVaultPublicKey(version: 2) == key.publicKey)
            let gone = #expect(throws: KeyFileError.self) { try keys.removeVaultPrivateKey(version: 2) }
            #expect(gone?.code == .missing)
        }
    }

    /// The encrypted PEM is standard PKCS#8: `openssl pkey` reads it with the passphrase.
    @Test func encryptedPEMIsReadableByOpenSSL() async throws {
        try await withTemporaryDirectory { root in
            let keys = KeyDirectory(path: root)
            let key = X25519PrivateKey()
            try keys.writeVaultKeyPair(key, version: 1, passphrase: "pass phrase")
            let opened = try await ChildProcess.run(path: "/usr/bin/openssl", [
                "pkey", "-in", keys.vaultPrivateKeyPath(version: 1), "-passin", "pass:pass phrase", "-pubout",
            ])
            #expect(opened.status == 0)
            #expect(opened.stdout == key.publicKey.pemRepresentation)

            let wrong = try await ChildProcess.run(path: "/usr/bin/openssl", [
                "pkey", "-in", keys.vaultPrivateKeyPath(version: 1), "-passin", "pass:wrong",
            ])
            #expect(wrong.status != 0)
        }
    }

    /// Issue 12, item 5: OpenSSL's readers take at most PEM_BUFSIZE - 1 = 1,023 passphrase bytes
    /// (`openssl pkey -passin file:` cuts a longer one), so no key file is written with more,
    /// and the longest allowed one opens with `openssl` too.
    @Test func passphraseLimitKeepsKeyFilesOpenable() async throws {
        #expect(X25519PrivateKey.maximumPassphraseBytes == 1023)
        try await withTemporaryDirectory { root in
            let keys = KeyDirectory(path: root)
            for length in [1024, 5000] {
                let error = #expect(throws: CryptoError.self) {
                    try keys.writeVaultKeyPair(X25519PrivateKey(), version: length, passphrase: String(repeating: "a", count: length))
                }
                #expect(error?.code == .invalidInput)
                #expect(!keys.vaultKeyExists(version: length))
            }
            let longest = String(repeating: "a", count: 1023)
            let key = X25519PrivateKey()
            try keys.writeVaultKeyPair(key, version: 1, passphrase: longest)
            #expect(try keys.readVaultPrivateKey(version: 1, passphrase: longest).rawRepresentation == key.rawRepresentation)
            let passFile = root + "/pass"
            _ = FileManager.default.createFile(atPath: passFile, contents: Data(longest.utf8), attributes: [.posixPermissions: 0o600])
            let opened = try await ChildProcess.run(path: "/usr/bin/openssl", [
                "pkey", "-in", keys.vaultPrivateKeyPath(version: 1), "-passin", "file:" + passFile, "-pubout",
            ])
            #expect(opened.status == 0)
            #expect(opened.stdout == key.publicKey.pemRepresentation)
        }
    }
}
