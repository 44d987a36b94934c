extension PostgresValue {
    /// The text form PostgreSQL's input functions accept, or nil for NULL and bytea.
    var textForm: String? {
        switch self {
        case .null, .bytea: return nil
        case .text(let value): return value
        case .int(let value): return String(value)
        case .bool(let value): return value ? "t" : "f"
        case .double(let value): return Self.textForm(of: value)
        }
    }

    static func textForm(of value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return value.description  // shortest representation that round-trips
    }
}

/// Query parameters laid out for `PQexecParams`: one contiguous byte buffer holding every
/// value (text NUL-terminated), with per-parameter offsets, lengths and formats.
struct ParameterBuffer {
    private var storage: [UInt8] = []
    private var offsets: [Int?] = []
    private(set) var lengths: [Int32] = []
    private(set) var formats: [Int32] = []

    var count: Int { offsets.count }

    init(_ values: [PostgresValue]) throws(PostgresError) {
        storage.reserveCapacity(values.count * 16)
        for (index, value) in values.enumerated() {
            switch value {
            case .null:
                offsets.append(nil)
                lengths.append(0)
                formats.append(0)
            case .bytea(let bytes):
                offsets.append(storage.count)
                storage.append(contentsOf: bytes)
                storage.append(0)  // keeps an empty value's pointer distinct from NULL
                lengths.append(Int32(bytes.count))
                formats.append(1)
            default:
                let text = value.textForm ?? ""
                let start = storage.count
                storage.append(contentsOf: text.utf8)
                if storage[start...].contains(0) {
                    throw PostgresError(code: .encodingFailed, reason: "text parameter $\(index + 1) contains a NUL byte")
                }
                storage.append(0)
                offsets.append(start)
                lengths.append(0)
                formats.append(0)
            }
        }
        if storage.isEmpty { storage.append(0) }
    }

    /// Calls `body` with `paramValues`; pointers are valid only inside `body`.
    func withValuePointers<R>(_ body: ([UnsafePointer<CChar>?]) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            let pointers = offsets.map { offset in offset.map { UnsafePointer(base + $0) } }
            return try body(pointers)
        }
    }
}
