internal import CCurl
internal import CCurlShims
import Foundation

/// libcurl's global state, initialised once per process before the first handle.
enum CurlGlobal {
    private static let initialised: Bool = fetchde_curl_global_init() == CURLE_OK
    static func ensure() -> Bool { initialised }
}

/// The single owner of one `CURLM*`, freed in `deinit`.
///
/// `@unchecked Sendable`: the handle is only used by the transport's loop thread, except for
/// `wakeup()`, which libcurl documents as safe to call from any thread.
final class CurlMultiHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer

    init?(maxConnections: Int) {
        guard CurlGlobal.ensure(), let raw = curl_multi_init() else { return nil }
        self.raw = raw
        _ = fetchde_curl_multi_setopt_long(raw, CURLMOPT_MAXCONNECTS, max(1, maxConnections))
    }

    /// Interrupts a `curl_multi_poll` in progress (or the next one); thread-safe.
    func wakeup() { _ = curl_multi_wakeup(raw) }

    deinit { curl_multi_cleanup(raw) }
}

/// The single owner of one `CURL*` easy handle, freed in `deinit`. Loop-thread only.
final class CurlEasyHandle {
    let raw: UnsafeMutableRawPointer

    init?() {
        guard let raw = curl_easy_init() else { return nil }
        self.raw = raw
    }

    /// Back to defaults, keeping the handle's caches; for reuse from the pool.
    func reset() { curl_easy_reset(raw) }

    deinit { curl_easy_cleanup(raw) }
}

/// The single owner of one `curl_slist` of request headers, freed in `deinit`.
final class CurlHeaderList {
    private(set) var raw: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) {
        for line in lines {
            raw = line.withCString { curl_slist_append(raw, $0) } ?? raw
        }
    }

    deinit { curl_slist_free_all(raw) }
}
