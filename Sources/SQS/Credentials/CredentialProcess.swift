import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A profile's `credential_process`: the command is split like a POSIX shell would (quotes,
/// backslashes; no expansions) and run without a shell; its standard output is the JSON
/// document the AWS CLI specifies (`Version` 1, `AccessKeyId`, `SecretAccessKey`, optional
/// `SessionToken` and `Expiration`). Its standard error stays the process's own (SSO helpers
/// prompt there). Neither the output nor the command line ever appears in an error.
enum CredentialProcess {
    static func run(_ commandLine: String, timeout: Duration = .seconds(60)) async throws -> AWSCredentials {
        let arguments = try split(commandLine)
        guard !arguments.isEmpty else {
            throw SQSError(code: .credentials, isRetryable: false, reason: "credential_process is empty")
        }
        let process = Process()
        if arguments[0].contains("/") {
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["--"] + arguments
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw SQSError(code: .credentials, isRetryable: false, reason: "credential_process could not be started")
        }
        let pid = process.processIdentifier
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)  // not SIGTERM: the child may have inherited it blocked
        }
        defer { watchdog.cancel() }
        let data: Data = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: data)
            }
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw SQSError(code: .credentials, isRetryable: false,
                           reason: "credential_process failed (status \(process.terminationStatus))")
        }
        return try decode(data)
    }

    static func decode(_ data: Data) throws(SQSError) -> AWSCredentials {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            (object["Version"] as? Int) == 1,
            let accessKey = object["AccessKeyId"] as? String, !accessKey.isEmpty,
            let secret = object["SecretAccessKey"] as? String, !secret.isEmpty else {
            throw SQSError(code: .credentials, isRetryable: false, reason: "unreadable credential_process output")
        }
        var expiration: Date?
        if let text = object["Expiration"] as? String {
            guard let date = ISO8601.parse(text) else {
                throw SQSError(code: .credentials, isRetryable: false, reason: "unreadable credential_process Expiration")
            }
            expiration = date
        }
        return AWSCredentials(accessKeyID: accessKey, secretAccessKey: secret,
                              sessionToken: (object["SessionToken"] as? String).flatMap { $0.isEmpty ? nil : $0 },
                              expiration: expiration)
    }

    /// Words of a command line: whitespace separates, `'…'` is literal, `"…"` keeps spaces and
    /// honours `\"` and `\\`, a backslash outside quotes escapes the next character.
    static func split(_ line: String) throws(SQSError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var iterator = line.makeIterator()
        while let c = iterator.next() {
            switch quote {
            case "'":
                if c == "'" { quote = nil } else { word.append(c) }
            case "\"":
                if c == "\"" {
                    quote = nil
                } else if c == "\\" {
                    guard let next = iterator.next() else { break }
                    if next != "\"" && next != "\\" && next != "$" && next != "`" { word.append("\\") }
                    word.append(next)
                } else {
                    word.append(c)
                }
            default:
                if c.isWhitespace {
                    if inWord { words.append(word); word = ""; inWord = false }
                } else if c == "'" || c == "\"" {
                    quote = c
                    inWord = true
                } else if c == "\\" {
                    if let next = iterator.next() { word.append(next) }
                    inWord = true
                } else {
                    word.append(c)
                    inWord = true
                }
            }
        }
        guard quote == nil else {
            throw SQSError(code: .credentials, isRetryable: false, reason: "credential_process has an unclosed quote")
        }
        if inWord { words.append(word) }
        return words
    }
}
