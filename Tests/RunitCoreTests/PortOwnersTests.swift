import Foundation
import PropertyBased
import Testing

@testable import RunitKit
@testable import RunitState

@Suite("The ports cache: which process holds each listening socket, between listings")
struct PortOwnersTests {
    static let name = Gen.element(of: ["web", "api/db", "a-b_c.d", "x/y"])

    /// A cache of `count` sockets, each held by a process or elsewhere, drawn from `seed`.
    static func owners(_ seed: Int64, count: Int, names: [String]) -> PortOwners {
        var owners = PortOwners(scanned: Set((0..<(count % 5)).map { Int32(100 + $0 * 7 + Int(abs(seed) % 50)) }))
        for index in 0..<count {
            let inode = UInt64(abs(seed) % 1_000_000) &+ UInt64(index) * 977 + 1
            if index % 3 == 2 || names.isEmpty {
                owners.holders[inode] = .elsewhere
            } else {
                let pid = Int32(2 + (abs(seed) + Int64(index)) % 4_000_000)
                owners.holders[inode] = .process(name: names[index % names.count], pid: pid, fd: Int32(index % 1024))
            }
        }
        return owners
    }

    @Test("any cache reads back as written; any cut of it reads as nothing or as part of it")
    func roundTrip() async {
        await propertyCheck(input: Self.name.array(of: 0...4), Gen.int64(in: 0...Int64.max)) { names, seed in
            let count = Int(seed % 13)
            let owners = Self.owners(seed, count: count, names: names.compactMap { $0 })
            let text = owners.text
            #expect(PortOwners(text: text) == owners)
            #expect(owners.text == text, "the same cache is written the same way")
            let cut = Int(seed % Int64(text.count))
            if let part = PortOwners(text: Array(text.prefix(cut))) {
                #expect(part.scanned == owners.scanned)
                #expect(part.holders.allSatisfy { owners.holders[$0.key] == $0.value })
            }
        }
    }

    @Test("a damaged or foreign file is no cache")
    func damaged() {
        let good = "runit-ports 1\nscanned 10 11\n5 10 3 web\n6 elsewhere\n"
        #expect(PortOwners(text: Array(good.utf8)) != nil)
        for text in [
            "", "runit-ports 2\nscanned\n", "runit-ports 1\n", "runit-ports 1\nscanned", "runit-ports 1\nscanned x\n",
            "runit-ports 1\nscanned 0\n", "runit-ports 1\nscanned\n5 10 3 ../etc\n", "runit-ports 1\nscanned\n5 0 3 web\n",
            "runit-ports 1\nscanned\n5 10 -1 web\n", "runit-ports 1\nscanned\n5 elsewhere\n5 elsewhere\n",
            "runit-ports 1\nscanned\n5 10 3\n", "runit-ports 1\nscanned\nx elsewhere\n", "runit-ports 1\nscanned\n\n",
            "runit-ports 1\nscanned\n5 somewhere\n", "{\"ports\": []}\n",
        ] {
            #expect(PortOwners(text: Array(text.utf8)) == nil, "\(text.debugDescription)")
        }
    }

    @Test("a holder is believed while it still holds the socket; elsewhere while the same trees run")
    func accounts() throws {
        let socket = try #require(TestSocket())
        defer { socket.release() }
        var info = stat()
        try #require(fstat(socket.fd, &info) == 0)
        let inode = UInt64(info.st_ino)
        let listening = ListeningPorts()
        try #require(listening.portsByInode[inode] == socket.port, "the kernel lists the test's socket")
        let others = listening.portsByInode.keys.filter { $0 != inode }
        func owners(_ holder: PortOwners.Holder, scanned: Set<Int32> = [7]) -> PortOwners {
            var owners = PortOwners(scanned: scanned)
            for other in others { owners.holders[other] = .elsewhere }
            owners.holders[inode] = holder
            return owners
        }
        func accounts(_ cache: PortOwners, running: Set<Int32>) -> Bool {
            var cache = cache
            return cache.accounts(for: listening, running: running)
        }
        #expect(accounts(owners(.process(name: "web", pid: getpid(), fd: socket.fd)), running: [7]))
        #expect(!accounts(owners(.process(name: "web", pid: getpid(), fd: socket.fd == 0 ? 1 : 0)), running: [7]))
        #expect(!accounts(owners(.process(name: "web", pid: Int32.max, fd: socket.fd)), running: [7]))
        #expect(accounts(owners(.elsewhere, scanned: [7, 8]), running: [8]))
        #expect(
            !accounts(owners(.elsewhere, scanned: [7, 8]), running: [8, 9]), "a process started since: its tree was never read")
        var missing = owners(.elsewhere)
        missing.holders[inode] = nil
        #expect(!accounts(missing, running: []))
        // A socket that no longer listens is forgotten.
        var stale = owners(.elsewhere)
        stale.holders[1] = .process(name: "old", pid: 1, fd: 3)
        let accounted = stale.accounts(for: listening, running: [])
        #expect(accounted)
        #expect(stale.holders[1] == nil)
    }
}
