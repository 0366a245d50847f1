import CRunitSystem
import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One datagram of systemd's notify protocol, from a process that may speak for the managed one.
struct NotifyMessage: Equatable {
    /// The sender's pid, as the kernel attests it (SCM_CREDENTIALS).
    let pid: Int32
    /// Its lines: `READY=1`, `STATUS=…`, `MAINPID=…`, empty lines left out.
    let lines: [String]
}

/// The socket behind `--ready-notify`: a Unix datagram socket bound to an abstract name,
/// `@runit-notify/<unique>`, which the process finds in `$NOTIFY_SOCKET` and sends `READY=1` to,
/// as `sd_notify` does (systemd reads a leading `@` as the abstract namespace, and so does
/// every `sd_notify` implementation that follows it).
///
/// An abstract name has no file permissions: any local process may send to it. The kernel
/// attaches each sender's credentials (SO_PASSCRED), and datagrams from a user other than the
/// supervisor's (or root) are dropped and counted; the sender's pid comes with each message,
/// so that the supervisor can also require it to be in its process's tree. Descriptors sent
/// along (systemd's `FDSTORE=1`) are closed at once. Linux only: elsewhere `init` throws.
struct NotifySocket: ~Copyable {
    /// systemd's limit for one notify datagram; a longer one is dropped, as systemd drops it.
    static let datagramLimit = 4096
    /// The most datagrams read in one call, so that a flood cannot hold the loop.
    static let readLimit = 64

    /// The value for `NOTIFY_SOCKET`.
    let address: String
    /// The socket, non-blocking; poll it for POLLIN.
    let fd: Int32
    /// How many datagrams were dropped: too long, or from another user.
    private(set) var ignored = 0
    private let buffer: UnsafeMutableRawBufferPointer

    /// Binds a new socket under `@runit-notify/<unique>` (at most 80 bytes of name: the whole
    /// address must fit in a `sockaddr_un`).
    init(unique: String = NotifySocket.uniqueName()) throws(ProbeError) {
        guard !unique.isEmpty, unique.utf8.count <= 80, !unique.utf8.contains(0) else {
            throw ProbeError(message: "a notify socket's name must have 1 to 80 bytes, not '\(unique)'")
        }
        let name = "runit-notify/" + unique
        let fd = crunit_abstract_bind_datagram(name)
        guard fd >= 0 else {
            let error = crunit_errno()
            throw ProbeError(
                message: error == ENOSYS
                    ? "--ready-notify needs Linux's abstract Unix sockets, which this system does not have"
                    : "cannot bind the notify socket @\(name): \(Platform.describe(errno: error))")
        }
        self.fd = fd
        self.address = "@" + name
        self.buffer = .allocate(byteCount: Self.datagramLimit, alignment: 8)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    /// A name no other supervisor uses: this process's pid and 64 random bits.
    static func uniqueName() -> String {
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return "\(getpid())-" + String(repeating: "0", count: 16 - random.count) + random
    }

    /// Every datagram waiting, without blocking, with its sender's pid.
    mutating func receive() -> [NotifyMessage] {
        var messages: [NotifyMessage] = []
        let ownUser = getuid()
        for _ in 0..<Self.readLimit {
            var pid: pid_t = 0
            var uid: uid_t = 0
            let count = crunit_recv_datagram(fd, buffer.baseAddress, UInt(buffer.count), &pid, &uid)
            if count < 0 {
                if crunit_errno() == EINTR { continue }
                break
            }
            guard count <= buffer.count, uid == ownUser || uid == 0 else {
                ignored += 1
                continue
            }
            let lines = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                .split(separator: 0x0A)
                .map { String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self) }
            if !lines.isEmpty { messages.append(NotifyMessage(pid: pid, lines: lines)) }
        }
        return messages
    }
}
