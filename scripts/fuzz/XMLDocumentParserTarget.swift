// libFuzzer entry point for the SQS Query response parser (built by scripts/fuzz/run.sh with
// Sources/SQS/XMLDocumentParser.swift; not part of CI). A crash, a hang or an ASan report is a
// finding; an XMLParseError is the expected outcome for most inputs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXMLDocumentParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let root = try? XMLDocumentParser.parse(bytes) {
        _ = root.descendant("Error")
    }
    return 0
}
