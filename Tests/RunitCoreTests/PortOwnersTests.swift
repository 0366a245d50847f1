import Foundation
import PropertyBased
import Testing

@testable import RunitKit
@testable import RunitState

@Suite("The ports cache: which process holds each listening socket, between listings")
struct PortOwnersTests {
    static let name = Gen.element(of: ["web", "api/db", "a-b_c.d", "x/y"])

    /// A cache of `count` sockets, each held by up to two processes or elsewhere, drawn from `seed`.
    static func owners(_ seed: Int64, count: Int, names: [String]) -> PortOwners {
        var owners = PortOwners(
            scanned: Set((0..<(count % 5)).map { Int32(100 + $0 * 7 + Int(abs(seed) % 50)) }), scannedAt: seed / 3)
        for index in 0..<count {
            let inode = UInt64(abs(seed) % 1_000_000) &+ UInt64(index) * 977 + 1
            owners.holders[inode] = []
            guard index % 3 != 2, !names.isEmpty else { continue }
            for sharer in 0...(index % 2) {
                let pid = Int32(2 + (abs(seed) + Int64(index + sharer)) % 4_000_000)
                let holder = PortOwners.Holder(
                    name: names[(index + sharer) % names.count], root: pid / 2 + 1, pid: pid, fd: Int32(index % 1024))
                owners.holders[inode]!.append(holder)
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
                #expect(part.scanned == owners.scanned && part.scannedAt == owners.scannedAt)
                #expect(part.holders.allSatisfy { owners.holders[$0.key]?.starts(with: $0.value) == true })
            }
        }
    }

    @Test("a damaged or foreign file is no cache")
    func damaged() {
        let good = "runit-ports 1\nscanned 77 10 11\n5 10 10 3 web\n5 12 12 4 api/db\n6\n"
        #expect(PortOwners(text: Array(good.utf8)) != nil)
        for text in [
            "", "runit-ports 2\nscanned 1\n", "runit-ports 1\n", "runit-ports 1\nscanned 1", "runit-ports 1\nscanned\n",
            "runit-ports 1\nscanned -1\n", "runit-ports 1\nscanned 1 x\n", "runit-ports 1\nscanned 1 0\n",
            "runit-ports 1\nscanned 1\n5 10 10 3 ../etc\n", "runit-ports 1\nscanned 1\n5 10 0 3 web\n",
            "runit-ports 1\nscanned 1\n5 0 10 3 web\n", "runit-ports 1\nscanned 1\n5 10 10 -1 web\n",
            "runit-ports 1\nscanned 1\n5\n5\n", "runit-ports 1\nscanned 1\n5\n5 10 10 3 web\n",
            "runit-ports 1\nscanned 1\n5 10 10 3 web\n5\n", "runit-ports 1\nscanned 1\n5 10 10 3 web\n5 10 10 3 web\n",
            "runit-ports 1\nscanned 1\n5 10 3 web\n", "runit-ports 1\nscanned 1\nx\n", "runit-ports 1\nscanned 1\n\n",
            "runit-ports 1\nscanned 1\n5 elsewhere\n", "{\"ports\": []}\n",
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
        try #require(listening.port(ofInode: inode) == socket.port, "the kernel lists the test's socket")
        let others = listening.inodes.filter { $0 != inode }
        let now = Platform.monotonicMicros()
        func owners(_ found: [PortOwners.Holder], scanned: Set<Int32> = [7], at: Int64 = now) -> PortOwners {
            var owners = PortOwners(scanned: scanned, scannedAt: at)
            for other in others { owners.holders[other] = [] }
            owners.holders[inode] = found
            return owners
        }
        func accounts(_ cache: PortOwners, roots: [String: Int32]) -> Bool {
            var cache = cache
            return cache.accounts(for: listening, roots: roots, now: now)
        }
        let web = PortOwners.Holder(name: "web", root: 7, pid: getpid(), fd: socket.fd)
        #expect(accounts(owners([web]), roots: ["web": 7]))
        var shared = web
        shared.name = "api"
        #expect(accounts(owners([web, shared]), roots: ["web": 7, "api": 7]), "a socket two processes share")
        #expect(!accounts(owners([web, shared]), roots: ["web": 7]), "one of them is gone")
        #expect(!accounts(owners([web]), roots: ["web": 8]), "web runs another main process now")
        #expect(!accounts(owners([web]), roots: ["other": 7]), "a holder under a name that is not running")
        var wrongFD = web
        wrongFD.fd = socket.fd == 0 ? 1 : 0
        #expect(!accounts(owners([wrongFD]), roots: ["web": 7]))
        var gone = web
        gone.pid = Int32.max
        #expect(!accounts(owners([gone]), roots: ["web": 7]))
        #expect(accounts(owners([], scanned: [7, 8]), roots: ["a": 8]))
        #expect(
            !accounts(owners([], scanned: [7, 8]), roots: ["a": 8, "b": 9]), "a process started since: its tree was never read")
        #expect(!accounts(owners([web], at: now - PortOwners.maximumAge), roots: ["web": 7]), "too old")
        #expect(!accounts(owners([web], at: now + 1), roots: ["web": 7]), "from the future")
        var missing = owners([])
        missing.holders[inode] = nil
        #expect(!accounts(missing, roots: [:]))
        // A socket that no longer listens is forgotten.
        var stale = owners([])
        stale.holders[1] = [PortOwners.Holder(name: "old", root: 1, pid: 1, fd: 3)]
        let accounted = stale.accounts(for: listening, roots: [:], now: now)
        #expect(accounted)
        #expect(stale.holders[1] == nil)
    }

    @Test("a save writes the cache and removes only the leftovers of writers killed a minute ago or more")
    func saveRemovesOldLeftovers() throws {
        let folder = NSTemporaryDirectory() + "ports-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = FileManager.default
        #expect(files.createFile(atPath: folder + "/ports.cache.tmp.1.fresh", contents: Data("x".utf8)))
        #expect(files.createFile(atPath: folder + "/ports.cache.tmp.2.old", contents: Data("x".utf8)))
        #expect(files.createFile(atPath: folder + "/other.tmp.3.old", contents: Data("x".utf8)))
        try files.createDirectory(atPath: folder + "/ports.cache.tmp.4.folder", withIntermediateDirectories: false)
        let old = Date(timeIntervalSinceNow: -120)
        for name in ["ports.cache.tmp.2.old", "other.tmp.3.old", "ports.cache.tmp.4.folder"] {
            try files.setAttributes([.modificationDate: old], ofItemAtPath: folder + "/" + name)
        }
        let owners = PortOwners(holders: [7: []], scanned: [1], scannedAt: 5)
        PortOwners.save(owners, to: folder + "/ports.cache")
        #expect(PortOwners.load(folder + "/ports.cache") == owners)
        let left = Set(try files.contentsOfDirectory(atPath: folder))
        #expect(left == ["ports.cache", "ports.cache.tmp.1.fresh", "other.tmp.3.old", "ports.cache.tmp.4.folder"])
    }
}
