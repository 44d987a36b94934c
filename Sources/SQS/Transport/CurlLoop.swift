internal import CCurl
internal import CCurlShims
import Foundation

/// The loop thread's private state: easy handles in flight, the pool of idle ones.
/// Created and used on the loop thread only.
final class CurlLoop {
    private struct InFlight {
        let box: CurlRequestBox
        let easy: CurlEasyHandle
        let headerList: CurlHeaderList
    }

    static let shutdownError = SQSError(code: .shutdown, isRetryable: false, reason: "client shut down")

    private let shared: CurlLoopShared
    private var active: [UnsafeMutableRawPointer: InFlight] = [:]
    private var pool: [CurlEasyHandle] = []

    init(shared: CurlLoopShared) { self.shared = shared }

    func run() {
        let multi = shared.multi.raw
        while true {
            let (commands, stopping) = shared.take()
            for command in commands {
                switch command {
                case .start(let box): start(box)
                case .cancel(let box): cancel(box)
                }
            }
            if stopping { break }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            collectCompleted()
            var ready: Int32 = 0
            _ = curl_multi_poll(multi, nil, 0, 1000, &ready)
        }
        for (raw, inFlight) in active {
            _ = curl_multi_remove_handle(multi, raw)
            inFlight.box.finish(.failure(Self.shutdownError))
        }
        active.removeAll()
        pool.removeAll()
        shared.loopDidExit()
    }

    private func start(_ box: CurlRequestBox) {
        if box.isCancelled {
            box.finish(.failure(CancellationError()))
            return
        }
        guard let easy = pool.popLast() ?? CurlEasyHandle() else {
            box.finish(.failure(SQSError(code: .transport, isRetryable: true, reason: "libcurl handle allocation failed")))
            return
        }
        let request = box.request
        var lines = request.headers.map { "\($0.name): \($0.value)" }
        lines.append("Expect:")  // no 100-continue round trip
        let headerList = CurlHeaderList(lines)
        let h = easy.raw
        var ok = true
        func check(_ code: CURLcode) { if code != CURLE_OK { ok = false } }
        check(request.url.withCString { fetchde_curl_setopt_string(h, CURLOPT_URL, $0) })
        check(fetchde_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1))
        check(fetchde_curl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)))
        check(fetchde_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.milliseconds))
        check(fetchde_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, request.timeout.milliseconds))
        check(fetchde_curl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1))
        check(fetchde_curl_setopt_long(h, CURLOPT_TCP_KEEPIDLE, 30))
        check(fetchde_curl_setopt_long(h, CURLOPT_TCP_KEEPINTVL, 15))
        check(fetchde_curl_setopt_long(h, CURLOPT_TCP_NODELAY, 1))
        if request.noProxy { check(fetchde_curl_setopt_string(h, CURLOPT_NOPROXY, "*")) }
        if let caBundle = request.caBundle { check(caBundle.withCString { fetchde_curl_setopt_string(h, CURLOPT_CAINFO, $0) }) }
        check(fetchde_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList.raw))
        let userdata = Unmanaged.passUnretained(box).toOpaque()
        check(fetchde_curl_setopt_data_callback(h, CURLOPT_WRITEFUNCTION, curlWriteBody))
        check(fetchde_curl_setopt_ptr(h, CURLOPT_WRITEDATA, userdata))
        check(fetchde_curl_setopt_data_callback(h, CURLOPT_HEADERFUNCTION, curlWriteHeader))
        check(fetchde_curl_setopt_ptr(h, CURLOPT_HEADERDATA, userdata))
        switch request.method {
        case "GET":
            check(fetchde_curl_setopt_long(h, CURLOPT_HTTPGET, 1))
        default:
            check(fetchde_curl_setopt_long(h, CURLOPT_POST, 1))
            check(fetchde_curl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            // COPYPOSTFIELDS copies the body, so nothing has to outlive this call.
            check(request.body.withUnsafeBufferPointer { buffer in
                let empty: [CChar] = [0]
                return buffer.count == 0
                    ? empty.withUnsafeBufferPointer { fetchde_curl_setopt_string(h, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
                    : fetchde_curl_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            })
            if request.method != "POST" {
                check(request.method.withCString { fetchde_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, $0) })
            }
        }
        guard ok, curl_multi_add_handle(shared.multi.raw, h) == CURLM_OK else {
            easy.reset()
            box.finish(.failure(SQSError(code: .transport, isRetryable: false, reason: "libcurl rejected the request options")))
            return
        }
        active[h] = InFlight(box: box, easy: easy, headerList: headerList)
    }

    private func cancel(_ box: CurlRequestBox) {
        guard let (raw, _) = active.first(where: { $0.value.box === box }) else { return }
        finish(raw, .failure(CancellationError()))
    }

    private func collectCompleted() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(shared.multi.raw, &remaining) {
            guard fetchde_curl_msg_is_done(message) != 0, let raw = message.pointee.easy_handle,
                let inFlight = active[raw] else { continue }
            let code = fetchde_curl_msg_result(message)
            let box = inFlight.box
            if code == CURLE_OK {
                var status = 0
                _ = fetchde_curl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &status)
                finish(raw, .success(HTTPResponse(status: status, headers: box.headers, body: box.body)))
            } else {
                finish(raw, .failure(Self.error(for: code, tooLarge: box.tooLarge)))
            }
        }
    }

    /// Detaches the handle, recycles it and resumes the caller.
    private func finish(_ raw: UnsafeMutableRawPointer, _ result: Result<HTTPResponse, any Error>) {
        guard let inFlight = active.removeValue(forKey: raw) else { return }
        _ = curl_multi_remove_handle(shared.multi.raw, raw)
        inFlight.easy.reset()
        if pool.count < shared.poolLimit { pool.append(inFlight.easy) }
        inFlight.box.body = []
        inFlight.box.finish(result)
    }

    static func error(for code: CURLcode, tooLarge: Bool) -> SQSError {
        if tooLarge {
            return SQSError(code: .invalidResponse, isRetryable: false, reason: "response too large")
        }
        let reason = String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return SQSError(code: .timeout, isRetryable: true, reason: reason)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT, CURLE_SEND_ERROR,
            CURLE_RECV_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2,
            CURLE_HTTP2_STREAM, CURLE_WEIRD_SERVER_REPLY:
            return SQSError(code: .transport, isRetryable: true, reason: reason)
        default:
            return SQSError(code: .transport, isRetryable: false, reason: reason)
        }
    }
}

/// libcurl write callback: appends body bytes to the request's box.
private func curlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let data, let userdata else { return 0 }
    let box = Unmanaged<CurlRequestBox>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard box.body.count + length <= CurlRequestBox.maxBodyBytes else {
        box.tooLarge = true
        return 0
    }
    data.withMemoryRebound(to: UInt8.self, capacity: length) {
        box.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
    }
    return length
}

/// libcurl header callback: one header line per call; a status line starts a new response
/// (after `100 Continue` or a redirect), so headers are reset then.
private func curlWriteHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let data, let userdata else { return 0 }
    let box = Unmanaged<CurlRequestBox>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    // Split and trimmed on the bytes: Foundation's trimming cost more than the rest of a call.
    let bytes = data.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    if bytes.starts(with: "HTTP/".utf8) {
        box.headers = [:]
    } else if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var start = colon + 1
        var end = bytes.count
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let name = String(decoding: bytes[..<colon], as: UTF8.self).lowercased()
        let value = String(decoding: bytes[start..<end], as: UTF8.self)
        if let existing = box.headers[name] { box.headers[name] = existing + ", " + value } else { box.headers[name] = value }
    }
    return length
}

/// libcurl result codes the tests name without importing libcurl.
enum CurlCodes {
    static let operationTimedOut = CURLE_OPERATION_TIMEDOUT
    static let couldNotConnect = CURLE_COULDNT_CONNECT
    static let urlMalformed = CURLE_URL_MALFORMAT
}
