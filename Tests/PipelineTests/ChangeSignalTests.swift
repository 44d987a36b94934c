@testable import Pipeline
import SQS
import Testing

/// How `etl run`'s loops wait: they wake when the state they wait on changes, and a change
/// made between their check and their wait is never missed (a missed one would stall a
/// receive loop or the batch loop until some unrelated change).
@Suite("ChangeSignal: waiting for a change instead of polling", .timeLimit(.minutes(1)))
struct ChangeSignalTests {
    @Test("a change notified between the check and the wait is not missed")
    func changeBeforeWait() async {
        let changes = ChangeSignal()
        let seen = changes.generation
        changes.notify()
        await changes.wait(after: seen)  // returns at once: the generation moved on
        #expect(changes.generation != seen)
    }

    @Test("a waiter wakes when a change is notified")
    func waiterWakes() async {
        let changes = ChangeSignal()
        let seen = changes.generation
        async let woken: Void = changes.wait(after: seen)
        changes.notify()
        await woken
        #expect(changes.generation == seen + 1)
    }

    @Test("every waiter wakes on one notify")
    func everyWaiterWakes() async {
        let changes = ChangeSignal()
        let seen = changes.generation
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { await changes.wait(after: seen) } }
            changes.notify()
        }
    }

    @Test("a cancelled waiter returns without a change")
    func cancelledWaiterReturns() async {
        let changes = ChangeSignal()
        let seen = changes.generation
        let waiter = Task { await changes.wait(after: seen) }
        waiter.cancel()
        await waiter.value
        #expect(changes.generation == seen)
    }

    @Test("a wait with a deadline returns at the deadline without a change")
    func deadline() async {
        let changes = ChangeSignal()
        let seen = changes.generation
        let deadline = ContinuousClock.now + .milliseconds(50)
        await changes.wait(after: seen, deadline: deadline)
        #expect(ContinuousClock.now >= deadline)
        #expect(changes.generation == seen)
    }

    @Test("a receive waiting for room in the buffer wakes when messages are finished")
    func bufferFinishWakesReceive() async {
        let changes = ChangeSignal()
        let buffer = MessageBuffer(maxInFlight: 10, changes: changes)
        #expect(buffer.reserve(10))
        buffer.add(MessageBufferTests.messages(10), reserved: 10)
        let batch = buffer.takeBatch(max: 10, maxWait: .seconds(60), flush: true)
        let seen = changes.generation
        #expect(!buffer.reserve(10), "the budget is full")
        async let woken: Void = changes.wait(after: seen)
        buffer.finish(batch?.messages.map(\.receiptHandle) ?? [])
        await woken
        #expect(buffer.reserve(10), "room again once the batch is finished")
    }
}
