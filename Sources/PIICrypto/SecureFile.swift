#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// POSIX file operations for key files: exclusive creation with exact modes, and reads whose
/// permission check is made with `fstat` on the opened descriptor (no check-then-open race).
package enum SecureFile {
    /// Key files are small; anything larger is not a key file.
    static let maxSize = 64 * 1024

    package static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }

    /// Creates `path` (which must not exist) with exactly `mode` and writes `contents`.
    package static func createExclusive(path: String, mode: UInt32, contents: UnsafeRawBufferPointer) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode_t(mode))
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { throw KeyFileError(.alreadyExists, path: path) }
            throw KeyFileError(.unreadable, path: path, detail: "cannot create: \(errnoText(code))")
        }
        var success = false
        defer {
            close(fd)
            if !success { unlink(path) }
        }
        // The umask may have removed bits from `mode`; set exactly what was asked for.
        guard fchmod(fd, mode_t(mode)) == 0 else {
            throw KeyFileError(.unreadable, path: path, detail: "chmod: \(errnoText(errno))")
        }
        var offset = 0
        while offset < contents.count {
            let written = write(fd, contents.baseAddress! + offset, contents.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw KeyFileError(.unreadable, path: path, detail: "write: \(errnoText(errno))")
            }
            offset += written
        }
        guard fsync(fd) == 0 else { throw KeyFileError(.unreadable, path: path, detail: "fsync: \(errnoText(errno))") }
        success = true
    }

    /// Reads `path` into wiped storage. When `secret`, refuses a file whose mode has any
    /// group/other bit set.
    package static func readFile(path: String, secret: Bool) throws -> SecureBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw KeyFileError(.missing, path: path) }
            throw KeyFileError(.unreadable, path: path, detail: errnoText(code))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw KeyFileError(.unreadable, path: path, detail: errnoText(errno)) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw KeyFileError(.unreadable, path: path, detail: "not a regular file") }
        if secret, info.st_mode & 0o077 != 0 {
            throw KeyFileError(.loosePermissions, path: path, mode: UInt32(info.st_mode))
        }
        guard info.st_size <= maxSize else { throw KeyFileError(.malformed, path: path, detail: "too large for a key file") }

        let buffer = SecureBytes(count: maxSize)
        let base = buffer.storage.pointer
        var total = 0
        while total < maxSize {
            let count = read(fd, base + total, maxSize - total)
            if count < 0 {
                if errno == EINTR { continue }
                throw KeyFileError(.unreadable, path: path, detail: errnoText(errno))
            }
            if count == 0 { break }
            total += count
        }
        return SecureBytes(count: total) { out in
            if total > 0 { out.baseAddress!.copyMemory(from: base, byteCount: total) }
        }
    }

    /// Overwrites `path` with zeros, then removes it.
    package static func wipeAndRemove(path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw KeyFileError(.missing, path: path) }
            throw KeyFileError(.unreadable, path: path, detail: errnoText(code))
        }
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size > 0, info.st_size <= maxSize {
            let zeros = [UInt8](repeating: 0, count: Int(info.st_size))
            _ = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            _ = fsync(fd)
        }
        close(fd)
        guard unlink(path) == 0 else { throw KeyFileError(.unreadable, path: path, detail: "unlink: \(errnoText(errno))") }
    }

    package static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// `mkdir -p`: missing parents get 0755, the key folder itself 0700.
    package static func makeDirectory(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw KeyFileError(.unreadable, path: path, detail: "not a directory")
            }
            return
        }
        try makeDirectory(path, mode: 0o700)
    }

    private static func makeDirectory(_ path: String, mode: mode_t) throws {
        var info = stat()
        if stat(path, &info) == 0 { return }
        var trimmed = path
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
        if let slash = trimmed.lastIndex(of: "/"), slash != trimmed.startIndex {
            try makeDirectory(String(trimmed[..<slash]), mode: 0o755)
        }
        guard mkdir(path, mode) == 0 || errno == EEXIST else {
            throw KeyFileError(.unreadable, path: path, detail: "mkdir: \(errnoText(errno))")
        }
    }

    /// Names of the entries of `path` (empty when it cannot be listed).
    package static func entries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            names.append(name)
        }
        return names
    }
}
