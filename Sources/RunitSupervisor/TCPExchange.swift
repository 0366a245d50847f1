import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A port or HTTP check's connection: a non-blocking TCP connect to each address in turn until
/// one accepts, then, for HTTP, the request sent and the answer's status line read.
///
/// Addresses are tried one after the other, not at once, so that there is one descriptor to
/// poll; on this machine a closed port refuses at once, so the second address costs nothing.
struct TCPExchange {
    /// The most of the answer read: its status line, `HTTP/1.1 200 OK`, is all the check needs.
    static let answerLimit = 256
    /// The most of an answer's body read before the probe gives up waiting for its end.
    static let drainLimit = 1 << 20

    private enum Stage: Equatable {
        case connecting
        case sending
        case receiving
        /// The status line is read: the rest of the answer is read and dropped until the server
        /// closes (so that it never writes into a closed socket and logs a broken pipe).
        case draining(ProbeResult)
    }

    private var remaining: ArraySlice<String>
    private let port: Int
    /// The HTTP request; empty for a port check, which is done once connected.
    private let request: [UInt8]
    private var sent = 0
    private var answer: [UInt8] = []
    private var drained = 0
    private var stage = Stage.connecting
    /// The address being tried.
    private var address = ""
    /// The errno of the first address that failed, the one reported when all fail.
    private var firstError: Int32 = 0
    /// The socket, or -1.
    private(set) var fd: Int32 = -1

    init(addresses: [String], port: Int, request: [UInt8]) {
        self.remaining = addresses[...]
        self.port = port
        self.request = request
    }

    /// The result once the answer's status line is read, while the rest is drained.
    var answered: ProbeResult? {
        if case .draining(let result) = stage { return result }
        return nil
    }

    /// What to poll for.
    var events: Int16 {
        switch stage {
        case .connecting, .sending: Int16(POLLOUT)
        case .receiving, .draining: Int16(POLLIN)
        }
    }

    /// What the exchange was waiting for, for a timeout's message.
    var waitingFor: String {
        switch stage {
        case .connecting: "connecting to \(Self.describe(address, port))"
        case .sending: "sending the request to \(Self.describe(address, port))"
        case .receiving: "waiting for an answer from \(Self.describe(address, port))"
        case .draining: "reading the rest of the answer from \(Self.describe(address, port))"
        }
    }

    /// Starts the first connect; a result when no address could even be tried.
    mutating func begin() -> ProbeResult? {
        connectNext()
    }

    /// Moves on as far as possible without blocking; the result once known.
    mutating func advance() -> ProbeResult? {
        while true {
            switch stage {
            case .connecting:
                guard Self.isReady(fd, events: Int16(POLLOUT)) else { return nil }
                let error = crunit_socket_error(fd)
                if error != 0 {
                    release()
                    fd = -1
                    if firstError == 0 { firstError = error }
                    if let failed = connectNext() { return failed }
                    continue
                }
                if request.isEmpty {
                    release()
                    fd = -1
                    return ProbeResult(ok: true, detail: "\(Self.describe(address, port)) accepts connections")
                }
                stage = .sending
            case .sending:
                let count = request.withUnsafeBytes { crunit_send(fd, $0.baseAddress! + sent, UInt($0.count - sent)) }
                if count < 0 {
                    if crunit_errno() == EAGAIN || crunit_errno() == EINTR { return nil }
                    return ProbeResult(ok: false, detail: "sending the request: \(Self.describe(errno: crunit_errno()))")
                }
                sent += count
                if sent == request.count { stage = .receiving }
            case .receiving:
                let room = Self.answerLimit - answer.count
                let count = withUnsafeTemporaryAllocation(byteCount: room, alignment: 1) { buffer in
                    let count = read(fd, buffer.baseAddress, room)
                    if count > 0 { answer.append(contentsOf: buffer[0..<count]) }
                    return count
                }
                if count < 0 {
                    if crunit_errno() == EAGAIN || crunit_errno() == EINTR { return nil }
                    if answer.isEmpty {
                        return ProbeResult(ok: false, detail: "reading the answer: \(Self.describe(errno: crunit_errno()))")
                    }
                    return Self.status(of: answer)
                }
                if count == 0 { return Self.status(of: answer) }
                if answer.contains(0x0A) || answer.count == Self.answerLimit { stage = .draining(Self.status(of: answer)) }
            case .draining(let result):
                let count = withUnsafeTemporaryAllocation(byteCount: 16_384, alignment: 1) { buffer in
                    read(fd, buffer.baseAddress, buffer.count)
                }
                if count < 0 && (crunit_errno() == EAGAIN || crunit_errno() == EINTR) { return nil }
                drained += max(0, count)
                if count <= 0 || drained >= Self.drainLimit { return result }
            }
        }
    }

    /// Closes the socket (the owner forgets the exchange after).
    func release() {
        if fd >= 0 { close(fd) }
    }

    /// Starts a connect to the next address that can be tried; the failure when none is left.
    private mutating func connectNext() -> ProbeResult? {
        while let next = remaining.popFirst() {
            address = next
            fd = crunit_tcp_connect(next, Int32(port))
            if fd >= 0 {
                stage = .connecting
                return nil
            }
            if firstError == 0 { firstError = crunit_errno() }
        }
        return ProbeResult(ok: false, detail: Self.describe(errno: firstError))
    }

    /// The result for an answer's first bytes: ok for a 2xx or 3xx status.
    static func status(of answer: [UInt8]) -> ProbeResult {
        guard !answer.isEmpty else {
            return ProbeResult(ok: false, detail: "the server closed the connection without answering")
        }
        let line = answer.prefix { $0 != 0x0A && $0 != 0x0D }
        let parts = line.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: true)
        if parts.count >= 2, parts[0].starts(with: Array("HTTP/".utf8)), parts[1].count == 3,
            parts[1].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let code = Int(String(decoding: parts[1], as: UTF8.self))
        {
            return ProbeResult(ok: (200...399).contains(code), detail: "HTTP \(code)")
        }
        let shown = String(decoding: line.prefix(60).map { $0 >= 0x20 && $0 < 0x7F ? $0 : 0x3F }, as: UTF8.self)
        return ProbeResult(ok: false, detail: "not an HTTP answer: '\(shown)'")
    }

    /// Whether `fd` has one of `events` (or an error or hang-up) now.
    private static func isReady(_ fd: Int32, events: Int16) -> Bool {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        return poll(&entry, 1, 0) > 0 && entry.revents != 0
    }

    /// `127.0.0.1:8080`, `[::1]:8080`.
    private static func describe(_ address: String, _ port: Int) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// An errno's message as a detail: `connection refused`.
    static func describe(errno code: Int32) -> String {
        let text = Platform.describe(errno: code)
        return text.prefix(1).lowercased() + text.dropFirst()
    }
}
