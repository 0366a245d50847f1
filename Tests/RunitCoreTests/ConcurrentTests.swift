import CRunitSystem
import Foundation
import Testing

@testable import RunitState

@Suite("Concurrent.map: the same answer as map, in order, on two threads")
struct ConcurrentTests {
    @Test("every size from none to many, any share per thread: the results of map, in their order")
    func sameAsMap() {
        for count in [0, 1, 2, 3, 15, 16, 17, 33, 100, 1000] {
            let items = (0..<count).map { $0 * 7 + 1 }
            for minimum in [1, 16] {
                #expect(Concurrent.map(items, minimumPerThread: minimum) { String($0 * 3) } == items.map { String($0 * 3) })
            }
        }
    }

    @Test("work that takes a while on each item still comes back whole")
    func slowWork() {
        let items = Array(0..<64)
        let results = Concurrent.map(items, minimumPerThread: 1) { item -> [Int] in
            var value = item
            for _ in 0..<10_000 { value = (value &* 31 &+ 7) % 1_000_003 }
            return [item, value]
        }
        #expect(results.map { $0[0] } == items)
    }

    @Test(
        "with two CPUs and enough items, the work is done on two threads, each doing its share",
        .enabled(if: crunit_usable_cpus() >= 2, "this machine gives the tests one CPU"))
    func twoThreads() {
        let threads = Concurrent.map(Array(0..<64)) { _ in UInt(pthread_self()) }
        #expect(Set(threads).count == 2)
        #expect(threads.filter { $0 == threads[0] }.count == 32, "every other item on each thread")
        #expect(Set(Concurrent.map(Array(0..<31)) { _ in UInt(pthread_self()) }).count == 1, "under 16 items each: one")
    }
}
