/// How long a vault command that seals entries (`vault retokenize`, `vault quarantine replay`)
/// keeps one data key: it makes a new one after this many encryptions, far below the 2³²
/// AES-GCM allows with random nonces (SPEC §4). (`etl` takes `etl.dek_max_encryptions`.)
enum DataKeyLimit {
    static let encryptions = 1 << 24
}
