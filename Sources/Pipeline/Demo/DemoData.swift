/// Realistic take-home-style login messages for the demo and benchmarks, so the product never
/// needs the take-home's sample file: IPs and device ids reused across users (so duplicate
/// groups exist), null locales, app versions of every accepted shape, and a share of
/// malformed bodies. Deterministic for a given seed.
public struct DemoData: Sendable {
    public let count: Int
    public let malformedEvery: Int
    public let seed: UInt64

    /// - Parameters:
    ///   - count: messages to make.
    ///   - malformedEvery: one malformed body every this many messages (0: none).
    public init(count: Int, malformedEvery: Int = 50, seed: UInt64 = 42) {
        self.count = count
        self.malformedEvery = malformedEvery
        self.seed = seed
    }

    /// The message bodies, in order.
    public func bodies() -> [String] {
        var generator = SplitMix64(seed: seed)
        let ipPool = max(4, count / 3)
        let devicePool = max(4, count / 4)
        let malformed = [
            #"{"foo": "oops_wrong_msg_type", "bar": "123"}"#,
            #"{"user_id": "x", "ip": 12, "device_id": "1"}"#,
            #"not json at all"#,
            #"["an", "array"]"#,
            #"{"user_id": "", "ip": "10.0.0.1", "device_id": "1"}"#,
        ]
        let deviceTypes = ["android", "ios"]
        let locales = ["US", "RU", "PH", "ID", "FR", "PT", "DE", "BR"]
        return (0..<count).map { index in
            if malformedEvery > 0 && index % malformedEvery == malformedEvery - 1 {
                return malformed[Int(generator.next() % UInt64(malformed.count))]
            }
            let ipIndex = generator.next() % UInt64(ipPool)
            let ip = "\(10 + ipIndex % 200).\((ipIndex / 200) % 256).\((ipIndex * 7) % 256).\((ipIndex * 13 + 1) % 255)"
            let deviceIndex = generator.next() % UInt64(devicePool)
            let device = "\(100 + deviceIndex % 900)-\(10 + (deviceIndex / 900) % 90)-\(1000 + deviceIndex % 9000)"
            let user = Self.uuid(&generator)
            let locale = generator.next() % 10 < 3 ? "null" : "\"\(locales[Int(generator.next() % UInt64(locales.count))])\""
            let version: String
            switch generator.next() % 4 {
            case 0: version = "\"\(generator.next() % 10).\(generator.next() % 10)\""
            case 1: version = "\"\(generator.next() % 10).\(generator.next() % 10).\(generator.next() % 10)\""
            case 2: version = "\"0.\(generator.next() % 100)\""
            default: version = "\"\(generator.next() % 5).\(generator.next() % 20).\(generator.next() % 10)\""
            }
            let deviceType = deviceTypes[Int(generator.next() % 2)]
            return #"{"user_id": "\#(user)", "app_version": \#(version), "device_type": "\#(deviceType)", "ip": "\#(ip)", "locale": \#(locale), "device_id": "\#(device)"}"#
        }
    }

    private static func uuid(_ generator: inout SplitMix64) -> String {
        let hex = Array("0123456789abcdef")
        var chars: [Character] = []
        for position in 0..<32 {
            if [8, 12, 16, 20].contains(position) { chars.append("-") }
            chars.append(hex[Int(generator.next() % 16)])
        }
        return String(chars)
    }
}

/// A small deterministic PRNG (SplitMix64) so demo data is reproducible.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
