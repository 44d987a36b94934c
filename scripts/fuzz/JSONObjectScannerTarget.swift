// libFuzzer entry point for the message scanner (built by scripts/fuzz/run.sh with
// Sources/Pipeline/Message/JSONObjectScanner.swift; not part of CI). Besides crashes, it checks
// the scanner's contract: `.invalidUTF8` exactly when the body is not well-formed UTF-8.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONObjectScanner(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = UnsafeBufferPointer(start: data, count: size)
    let result = JSONObjectScanner.scan(body)
    let wellFormed = String(validating: body, as: UTF8.self) != nil
    if (result == .failure(.invalidUTF8)) == wellFormed {
        fatalError("invalidUTF8 disagrees with UTF-8 validation")
    }
    return 0
}
