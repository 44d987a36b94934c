@testable import Pipeline
import Testing

/// The bounds of receive concurrency: the base loops, and added ones up to the maximum.
@Suite("ReceiveConcurrency")
struct ReceiveConcurrencyTests {
    @Test("loops are added up to the maximum and no further; an ended loop frees its place; the peak is kept")
    func boundedByMaximum() {
        let concurrency = ReceiveConcurrency(minimum: 2, maximum: 5)
        concurrency.startBase()
        concurrency.startBase()
        #expect(concurrency.claimExtra())
        #expect(concurrency.claimExtra())
        #expect(concurrency.claimExtra())
        #expect(!concurrency.claimExtra())
        #expect(concurrency.running == 5)
        concurrency.stopped()
        #expect(concurrency.running == 4)
        #expect(concurrency.claimExtra())
        #expect(concurrency.peak == 5)
    }

    @Test("a maximum below the minimum means the minimum")
    func maximumAtLeastMinimum() {
        let concurrency = ReceiveConcurrency(minimum: 4, maximum: 2)
        #expect(concurrency.maximum == 4)
        for _ in 0..<4 { concurrency.startBase() }
        #expect(!concurrency.claimExtra())
    }
}
