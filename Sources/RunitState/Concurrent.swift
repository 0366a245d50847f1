import CRunitSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Work spread over the machine's cores without Foundation: plain pthreads, joined before
/// the call returns.
///
/// `runit list` spends most of its time in system calls on `/proc` and on the state
/// directory, one process after another; those run side by side on two cores.
package enum Concurrent {
    /// The most threads a map uses, the caller's own included.
    package static let maximumThreads = 2

    /// `transform` of each of `items`, in their order, worked out by up to `threads` threads
    /// (the calling one included), each taking every `threads`-th item; one thread when there
    /// are fewer than `minimumPerThread` items for each, when the machine has one core, or
    /// when a thread cannot be started.
    package static func map<Item: Sendable, Result: Sendable>(
        _ items: [Item], threads: Int = maximumThreads, minimumPerThread: Int = 16,
        _ transform: @escaping @Sendable (Item) -> Result
    ) -> [Result] {
        let count = min(threads, Int(crunit_usable_cpus()), items.count / max(minimumPerThread, 1))
        guard count > 1 else { return items.map(transform) }
        let work = Work(items: items, stride: count, transform: transform)
        var started: [pthread_t] = []
        for lane in 1..<count {
            let context = Unmanaged.passRetained(Lane(work: work, index: lane)).toOpaque()
            var thread = pthread_t()
            if crunit_thread_start(&thread, runLane, context) == 0 {
                started.append(thread)
            } else {
                Unmanaged<Lane>.fromOpaque(context).release()
                work.run(lane: lane)
            }
        }
        work.run(lane: 0)
        for thread in started { pthread_join(thread, nil) }
        return work.results()
    }

    /// The shared state of one map: each lane writes only its own slots.
    private final class Work<Item: Sendable, Result: Sendable>: @unchecked Sendable, Runnable {
        let items: [Item]
        let stride: Int
        let transform: @Sendable (Item) -> Result
        let slots: UnsafeMutableBufferPointer<Result?>

        init(items: [Item], stride: Int, transform: @escaping @Sendable (Item) -> Result) {
            self.items = items
            self.stride = stride
            self.transform = transform
            slots = .allocate(capacity: items.count)
            slots.initialize(repeating: nil)
        }

        deinit {
            _ = slots.deinitialize()
            slots.deallocate()
        }

        func run(lane: Int) {
            var index = lane
            while index < items.count {
                slots[index] = transform(items[index])
                index += stride
            }
        }

        /// Every result, once all lanes have ended.
        func results() -> [Result] { slots.map { $0! } }
    }
}

/// A map's work, without its types (a C thread entry cannot be generic).
private protocol Runnable: AnyObject, Sendable {
    func run(lane: Int)
}

/// One lane of a map, handed to its thread.
private final class Lane: Sendable {
    let work: any Runnable
    let index: Int

    init(work: any Runnable, index: Int) {
        self.work = work
        self.index = index
    }
}

/// A thread's entry: runs its lane, then lets go of it.
private func runLane(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let lane = Unmanaged<Lane>.fromOpaque(context!).takeRetainedValue()
    lane.work.run(lane: lane.index)
    return nil
}
