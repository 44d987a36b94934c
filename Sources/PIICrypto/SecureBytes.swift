import COpenSSL

/// Secret bytes (keys, shared secrets, decrypted plaintext) kept in one heap buffer that is wiped
/// with `OPENSSL_cleanse` when the last copy is dropped.
///
/// Copies share the buffer; the contents never change after creation. Comparison with `==` is
/// constant time. Reach the bytes only inside ``withUnsafeBytes(_:)`` so no pointer outlives it.
public struct SecureBytes: Sendable, Equatable {
    /// Owner of the buffer. `@unchecked Sendable` is safe: the bytes are written once, before the
    /// storage is shared, and only read afterwards.
    final class Storage: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer
        let count: Int

        init(count: Int) {
            self.count = count
            self.pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
            self.pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
        }

        deinit {
            OPENSSL_cleanse(pointer, max(count, 1))
            pointer.deallocate()
        }
    }

    let storage: Storage

    /// Copies `bytes` into wiped storage. The caller's array itself is not wiped.
    public init(_ bytes: [UInt8]) {
        storage = Storage(count: bytes.count)
        bytes.withUnsafeBytes { source in
            if let base = source.baseAddress { storage.pointer.copyMemory(from: base, byteCount: source.count) }
        }
    }

    /// `count` zero bytes.
    public init(count: Int) {
        precondition(count >= 0, "SecureBytes count must not be negative")
        storage = Storage(count: count)
    }

    /// Creates `count` bytes filled in place by `body`, so the secret never exists in an
    /// unwiped temporary.
    package init(count: Int, initializingWith body: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(count >= 0, "SecureBytes count must not be negative")
        storage = Storage(count: count)
        try body(UnsafeMutableRawBufferPointer(start: storage.pointer, count: count))
    }

    /// `count` bytes from OpenSSL's CSPRNG (`RAND_bytes`).
    public static func random(count: Int) -> SecureBytes {
        SecureBytes(count: count) { buffer in SecureRandom.fill(buffer) }
    }

    /// Number of bytes.
    public var count: Int { storage.count }

    /// Calls `body` with the bytes; the pointer is valid only inside `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// Lowercase hex, for writing key files only: the returned `String` cannot be wiped.
    public var hexString: String {
        withUnsafeBytes { Hex.encode($0) }
    }

    /// Constant-time equality (`CRYPTO_memcmp`); different lengths are unequal.
    public static func == (lhs: SecureBytes, rhs: SecureBytes) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return CRYPTO_memcmp(lhs.storage.pointer, rhs.storage.pointer, lhs.count) == 0
    }
}

extension SecureBytes {
    /// Parses lowercase or uppercase hex into wiped storage; `nil` if not hex of even length.
    init?(hexBytes: UnsafeRawBufferPointer) {
        guard hexBytes.count % 2 == 0 else { return nil }
        var valid = true
        self.init(count: hexBytes.count / 2) { out in
            valid = Hex.decode(hexBytes, into: out)
        }
        if !valid { return nil }
    }
}

/// Bytes from OpenSSL's CSPRNG.
public enum SecureRandom {
    /// `count` random bytes from `RAND_bytes`. Stops the process if the generator fails, since
    /// continuing without randomness would silently produce weak keys and repeated nonces.
    public static func bytes(_ count: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        result.withUnsafeMutableBytes { fill($0) }
        return result
    }

    static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        guard RAND_bytes(base.assumingMemoryBound(to: UInt8.self), Int32(buffer.count)) == 1 else {
            fatalError("RAND_bytes failed: \(CryptoError.drainOpenSSLErrors())")
        }
    }
}

/// Compares two byte strings in time independent of their contents (`CRYPTO_memcmp`).
/// Different lengths compare unequal (the length itself is not secret).
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { pa in
        b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress!, pb.baseAddress!, a.count) == 0 }
    }
}

/// Wipes a byte array in place (`OPENSSL_cleanse`).
package func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
        if let base = buffer.baseAddress { OPENSSL_cleanse(base, buffer.count) }
    }
}
