import ArgumentParser
import PIICrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Bench {
    /// Single-thread throughput of the crypto operations the pipeline runs per message.
    struct Crypto: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "crypto",
            abstract: "Ops/s of token(ip), AES-256-GCM seal (16 B) and HPKE seal (32 B)."
        )

        @Option(help: "Seconds to run each benchmark.")
        var seconds: Double = 3

        @Option(help: "Run only these benchmarks (token_ip, aes256gcm_seal_16, hpke_seal_32).")
        var only: [String] = []

        @Flag(help: "Divide by wall-clock time instead of process CPU time (CPU time is what `openssl speed` uses unless -elapsed).")
        var elapsed = false

        @Flag(help: "Print tab-separated `name<TAB>ops_per_second` lines only (for scripts).")
        var tsv = false

        func validate() throws {
            guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        }

        func run() async throws {
            let rootKey = SecureBytes.random(count: 32)
            let tokenizer = Tokenizer(rootKey: rootKey, version: 1)
            // 1024 distinct IPv4 strings of 11–15 characters, as in real traffic.
            let ips = (0..<1024).map { i in "10.\(100 + i % 150).\(i % 256).\(200 + i % 50)" }
            let dek = SecureBytes.random(count: 32)
            let value = [UInt8](repeating: 0x42, count: 16)
            let aad = Array("ip|0123456789abcdef0123456789abcdef|dek-1".utf8)
            let vault = X25519PrivateKey()
            let vaultPublic = vault.publicKey
            let dekBytes = [UInt8](repeating: 0x17, count: 32)
            let info = Array("fetchde/dek/v1".utf8)

            let benchmarks: [(String, (Int) throws -> Int)] = [
                ("token_ip", { i in tokenizer.token(ips[i & 1023], field: .ip).utf8.count }),
                ("aes256gcm_seal_16", { _ in try AES256GCM.seal(value, key: dek, aad: aad).count }),
                ("hpke_seal_32", { _ in
                    try HPKE.seal(recipient: vaultPublic, info: info, aad: [], plaintext: dekBytes, aead: .aes256GCM)
                        .ciphertext.count
                }),
            ]
            var results: [(String, Double)] = []
            for (name, body) in benchmarks where only.isEmpty || only.contains(name) {
                results.append((name, try measure(seconds, body)))
            }
            for (name, rate) in results {
                if tsv {
                    print("\(name)\t\(Int(rate))")
                } else {
                    print(name.padding(18) + formatRate(rate) + " ops/s")
                }
            }
        }

        /// Runs `body` repeatedly for about `seconds` and returns calls per second of process CPU
        /// time (or of wall-clock time with `--elapsed`). `body` returns a number that is summed,
        /// so the optimizer cannot drop the work.
        private func measure(_ seconds: Double, _ body: (Int) throws -> Int) throws -> Double {
            var sink = 0
            for i in 0..<1000 { sink &+= try body(i) }  // warm up caches and context pools
            let clockID = elapsed ? CLOCK_MONOTONIC : CLOCK_PROCESS_CPUTIME_ID
            let start = Self.now(clockID)
            var count = 0
            var spent = 0.0
            while spent < seconds {
                for _ in 0..<256 {
                    sink &+= try body(count)
                    count += 1
                }
                spent = Self.now(clockID) - start
            }
            guard sink != 0 else { throw ValidationError("benchmark produced no output") }
            return Double(count) / spent
        }

        private static func now(_ clock: clockid_t) -> Double {
            var time = timespec()
            clock_gettime(clock, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }

        private func formatRate(_ rate: Double) -> String {
            String(Int(rate.rounded())).padding(12, left: true)
        }
    }
}

extension String {
    fileprivate func padding(_ width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - count))
        return left ? fill + self : self + fill
    }
}
