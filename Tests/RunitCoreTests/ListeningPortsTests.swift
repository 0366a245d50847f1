import Foundation
import PropertyBased
import Testing

@testable import RunitKit

/// A TCP socket this test process binds to port 0 (the kernel chooses) on loopback.
struct TestSocket {
    let fd: Int32
    let port: Int

    /// Binds `127.0.0.1:0` (or `[::1]:0`) and listens unless `listening` is false; nil when the
    /// family is not available here.
    init?(ipv6: Bool = false, listening: Bool = true) {
        #if os(Linux)
            // Close-on-exec: a process that another test spawns meanwhile must not hold it too.
            let kind = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
            let kind = SOCK_STREAM
        #endif
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, kind, 0)
        guard fd >= 0 else { return nil }
        var bound: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = in6addr_loopback
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        if bound == 0, listening { bound = listen(fd, 8) }
        var storage = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            close(fd)
            return nil
        }
        // sin_port and sin6_port sit at the same offset, in network order.
        self.fd = fd
        self.port = Int(UInt16(bigEndian: storage.sin6_port))
    }

    func release() { close(fd) }
}

/// A `python3 -c` server under `/bin/sh`, so that the listener is the shell's child, not the
/// test's: it binds port 0, prints the port the kernel chose, and runs until its stdin closes.
private final class PythonServer {
    let shell = Process()
    let input = Pipe()
    let output = Pipe()
    private(set) var port = 0

    static let script = """
        import socket, sys
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
        print(s.getsockname()[1], flush=True)
        sys.stdin.read()
        """

    init() throws {
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        // `; exit 0` keeps the shell from replacing itself with python.
        shell.arguments = ["-c", "python3 -c \"$1\"; exit 0", "sh", Self.script]
        shell.standardInput = input
        shell.standardOutput = output
        try shell.run()
        var text = ""
        while !text.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// The python process: the shell's only child.
    var pythonPID: Int32? { ProcessTable.descendantPIDs(of: shell.processIdentifier).first }

    func stop() {
        try? input.fileHandleForWriting.close()
        for pid in ProcessTable.descendantPIDs(of: shell.processIdentifier) { kill(pid, SIGKILL) }
        kill(shell.processIdentifier, SIGKILL)
        shell.waitUntilExit()
    }
}

private let ipv6Available: Bool = {
    guard let socket = TestSocket(ipv6: true) else { return false }
    socket.release()
    return true
}()

@Suite("Listening ports from /proc")
struct ListeningPortsTests {
    @Test("only LISTEN lines count, from IPv4 and IPv6 tables; the header and connections do not")
    func parsesTables() {
        let tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0
               1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000  1000        0 4243 1 0 20 4 30 10 -1
               2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 0 1 0 100 0 0 10 0
            """
        let tcp6 = """
              sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000000000000000000001000000:A41F 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 9001 1 0 100 0 0 10 0
            """
        let ports = ListeningPorts(tables: [tcp, tcp6])
        // Inode 0 matches no descriptor: left out.
        #expect(ports.listeners.map(\.inode) == [4242, 9001])
        #expect(ports.listeners.map(\.port) == [8080, 42015])
        #expect(ports.isListening(on: 8080))
        #expect(!ports.isListening(on: 22))
    }

    @Test("a socket this process listens on, on a port the kernel chose, is found with its holder")
    func ownSocketOnPortZero() throws {
        let listening = try #require(TestSocket())
        defer { listening.release() }
        let boundOnly = try #require(TestSocket(listening: false))
        defer { boundOnly.release() }
        #expect(listening.port > 0)
        let ports = ListeningPorts()
        #expect(ListeningPorts.ports(heldBy: [getpid()]).contains(listening.port))
        #expect(
            !ListeningPorts.ports(heldBy: [getpid()]).contains(boundOnly.port),
            "a bound socket that does not listen is no listener")
        #expect(ports.isListening(on: listening.port))
        let holder = try #require(ports.listener(of: listening.port))
        #expect(holder.pid == getpid())
        #expect(!holder.command.isEmpty && !holder.command.contains("\0"))
        #expect(ports.listener(of: boundOnly.port) == nil)
    }

    #if os(Linux)
        @Test("the kernel's netlink answer lists exactly the LISTEN sockets of /proc/net/tcp and tcp6")
        func netlinkMatchesProcTables() throws {
            let own = try #require(TestSocket())
            defer { own.release() }
            let own6 = TestSocket(ipv6: true)
            defer { own6?.release() }
            let connectedOnly = try #require(TestSocket(listening: false))
            defer { connectedOnly.release() }
            // Read both ways until two reads agree with nothing opened in between (another
            // test may open or close a listener meanwhile).
            var agreed = false
            for _ in 0..<20 {
                var kernelSockets: [(inode: UInt64, port: Int)] = []
                var tableSockets: [(inode: UInt64, port: Int)] = []
                try #require(ListeningPorts.askKernel(family: AF_INET, into: &kernelSockets))
                try #require(ListeningPorts.askKernel(family: AF_INET6, into: &kernelSockets))
                ListeningPorts.readTable("/proc/net/tcp", into: &tableSockets)
                ListeningPorts.readTable("/proc/net/tcp6", into: &tableSockets)
                let fromKernel = ListeningPorts(listeners: kernelSockets)
                let fromTables = ListeningPorts(listeners: tableSockets)
                if fromKernel.inodes == fromTables.inodes
                    && fromKernel.listeners.map(\.port) == fromTables.listeners.map(\.port)
                {
                    agreed = true
                    #expect(fromKernel.isListening(on: own.port))
                    if let own6 { #expect(fromKernel.isListening(on: own6.port)) }
                    #expect(!fromKernel.isListening(on: connectedOnly.port), "a socket that does not listen is left out")
                    break
                }
                usleep(50_000)
            }
            #expect(agreed, "netlink and /proc/net/tcp never agreed")
        }
    #endif

    @Test("an IPv6 listener is found", .enabled(if: ipv6Available, "no IPv6 loopback here"))
    func ipv6() throws {
        let listening = try #require(TestSocket(ipv6: true))
        defer { listening.release() }
        #expect(ListeningPorts.ports(heldBy: [getpid()]).contains(listening.port))
        #expect(ListeningPorts().listener(of: listening.port)?.pid == getpid())
    }

    @Test("a tree's ports include its descendants' and no other process's")
    func treeAndOthers() throws {
        let server = try PythonServer()
        defer { server.stop() }
        try #require(server.port > 0, "the python server printed no port")
        let other = Process()
        other.executableURL = URL(fileURLWithPath: "/bin/sleep")
        other.arguments = ["30"]
        try other.run()
        defer {
            // SIGKILL: a child of the test runner may start with SIGTERM blocked.
            kill(other.processIdentifier, SIGKILL)
            other.waitUntilExit()
        }
        let own = try #require(TestSocket())
        defer { own.release() }

        let ports = ListeningPorts()
        #expect(ListeningPorts.ports(heldByTree: server.shell.processIdentifier) == [server.port])
        #expect(ListeningPorts.ports(heldByTree: other.processIdentifier) == [], "another process's listener is not this tree's")
        #expect(ListeningPorts.ports(heldBy: [server.shell.processIdentifier]) == [], "the shell itself holds no socket")
        let python = try #require(server.pythonPID)
        let holder = try #require(ports.listener(of: server.port))
        #expect(holder.pid == python)
        // NUL separators as spaces (python3 may be a full path, after a shim such as pyenv's).
        #expect(holder.command.contains("python3 -c import socket, sys"), "\(holder.command)")
        #expect(!holder.command.contains("\0"))
    }

    @Test("a command line is cut to its limit and marked")
    func commandIsBounded() throws {
        let server = try PythonServer()
        defer { server.stop() }
        let python = try #require(server.pythonPID)
        let cut = try #require(ListeningPorts.command(of: python, limit: 10))
        #expect(cut.hasSuffix("…") && cut.utf8.count == 10 + "…".utf8.count, "\(cut)")
        let full = try #require(ListeningPorts.command(of: python))
        #expect(full.utf8.count <= ListeningPorts.commandLimit + "…".utf8.count)
        #expect(ListeningPorts.command(of: Int32.max) == nil)
    }

    @Test("the socket table answers as a dictionary of its listeners would, the later of two with one inode counting")
    func tableMatchesDictionary() async {
        let sockets = zip(Gen.int(in: 0...40), Gen.int(in: 1...65535)).array(of: 0...30)
        await propertyCheck(input: sockets) { sockets in
            let listeners = sockets.map { (inode: UInt64($0.0), port: $0.1) }
            let table = ListeningPorts(listeners: listeners)
            var expected: [UInt64: Int] = [:]
            for (inode, port) in listeners { expected[inode] = port }
            #expect(table.inodes == expected.keys.sorted())
            #expect(table.listeners.map(\.port) == table.inodes.map { expected[$0]! })
            for inode in UInt64(0)...41 {
                #expect(table.port(ofInode: inode) == expected[inode])
            }
            #expect(table.isEmpty == expected.isEmpty)
            for port in [1, 80, 8080, 65535] {
                #expect(table.isListening(on: port) == expected.values.contains(port))
            }
        }
    }
}
