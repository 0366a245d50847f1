import Foundation
import RunitCore
import RunitKit

/// Watches the state directory on a thread of its own and says when a resource changes:
/// the list when a process is added or removed, a process's status when its state, pid,
/// restarts, health or last exit change (a start, readiness, an exit, a crash, a restart, an
/// unhealthy verdict), and a process's logs when it writes (at most once a second each).
///
/// Driven by inotify on the state files: with nothing happening it sleeps in `poll` with no
/// timeout, and it reads only the status file of a process whose directory changed.
final class ResourceWatcher: @unchecked Sendable {
    /// What changed.
    enum Change: Equatable {
        case listChanged
        case updated(ResourceURI)
    }

    private let registry: Registry
    // Guarded by `lock`: the processes whose logs someone wants to hear of, and whether to stop.
    private let lock = NSLock()
    private var logInterest: Set<String> = []
    private var stopped = false
    private var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1

    /// The shortest time between two updates of one process's logs.
    static let logsIntervalMillis: Int64 = 1000

    init(registry: Registry) {
        self.registry = registry
    }

    /// Starts the watching thread, which tells `emit` of each change.
    func start(emit: @escaping @Sendable (Change) -> Void) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        lock.lock()
        (wakeRead, wakeWrite) = (fds[0], fds[1])
        lock.unlock()
        let thread = Thread { [self] in
            run(emit: emit)
            lock.lock()
            close(wakeRead)
            close(wakeWrite)
            (wakeRead, wakeWrite) = (-1, -1)
            lock.unlock()
        }
        thread.stackSize = 512 * 1024
        thread.start()
    }

    /// Sets the processes whose logs are watched.
    func watchLogs(of names: Set<String>) {
        lock.lock()
        let changed = names != logInterest
        logInterest = names
        lock.unlock()
        if changed { wake() }
    }

    /// Ends the thread.
    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        wake()
    }

    private func wake() {
        lock.lock()
        let fd = wakeWrite
        lock.unlock()
        var byte: UInt8 = 1
        if fd >= 0 { _ = write(fd, &byte, 1) }
    }

    /// What a change of a process's status file is compared on, and its supervisor's pid.
    private func look(_ name: String) -> (print: String?, supervisor: Int32?) {
        guard let snapshot = try? registry.existing(name) else { return (nil, nil) }
        let status = snapshot.status
        let print = [
            snapshot.state.rawValue, "\(status?.pid ?? 0)", "\(status?.restarts ?? 0)", status?.health ?? "",
            status?.run ?? "", "\(status?.exitCode ?? -1)", "\(status?.exitSignal ?? -1)",
        ]
        .joined(separator: "|")
        return (print, snapshot.supervisorPID)
    }

    private func run(emit: @Sendable (Change) -> Void) {
        #if os(Linux)
            let inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
            guard inotify >= 0 else { return }
            defer { close(inotify) }
            var state = WatchState(inotify: inotify, registry: registry)
            // The folder of processes is made now if it is not there yet (as a start would make
            // it), so that the first process added is heard of.
            _ = Platform.makeDirectories(registry.context.processesDirectory)
            state.addRoot()
            defer { state.closeSupervisors() }
            var fingerprints: [String: String] = [:]
            var names = Set((try? registry.names()) ?? [])
            for name in names {
                state.watchDirectory(of: name)
                let seen = look(name)
                fingerprints[name] = seen.print
                state.watchSupervisor(of: name, pid: seen.supervisor)
            }
            var lastLogs: [String: Int64] = [:]
            var dueLogs: [String: Int64] = [:]
            while true {
                lock.lock()
                let (quit, interest, wakeFD) = (stopped, logInterest, wakeRead)
                lock.unlock()
                if quit { return }
                state.watchLogs(of: interest.intersection(names))
                let now = Platform.monotonicMillis()
                var timeout: Int32 = -1
                if let next = dueLogs.values.min() { timeout = Int32(clamping: max(0, next - now)) }
                // A supervisor that dies without a word (kill -9) changes no file: its pidfd says so.
                let watchedSupervisors = state.supervisors.filter { $0.value.fd >= 0 }.map { ($0.key, $0.value.fd) }
                var fds = [
                    pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
                ]
                fds += watchedSupervisors.map { pollfd(fd: $0.1, events: Int16(POLLIN), revents: 0) }
                _ = poll(&fds, nfds_t(fds.count), timeout)
                if fds[1].revents != 0 { Self.drain(wakeFD) }
                let events = state.read()
                var statusOf: Set<String> = []
                for (index, watched) in watchedSupervisors.enumerated() where fds[index + 2].revents != 0 {
                    statusOf.insert(watched.0)
                    state.watchSupervisor(of: watched.0, pid: nil)
                }
                var logsOf: Set<String> = []
                if events.overflowed || events.rootChanged {
                    let current = Set((try? registry.names()) ?? [])
                    if current != names {
                        emit(.listChanged)
                        for gone in names.subtracting(current) {
                            fingerprints[gone] = nil
                            state.forget(gone)
                            emit(.updated(.status(gone)))
                        }
                        for added in current.subtracting(names) { state.watchDirectory(of: added) }
                        statusOf.formUnion(current.subtracting(names))
                        names = current
                        emit(.updated(.list))
                    }
                    if events.overflowed { statusOf.formUnion(names) }
                }
                statusOf.formUnion(events.directories)
                logsOf.formUnion(events.logs)
                var listChanged = false
                for name in statusOf.intersection(names).sorted() {
                    let (print, supervisor) = look(name)
                    state.watchSupervisor(of: name, pid: supervisor)
                    if print != fingerprints[name] {
                        fingerprints[name] = print
                        emit(.updated(.status(name)))
                        listChanged = true
                    }
                }
                if listChanged { emit(.updated(.list)) }
                // Logs: at once when the last update is a second old, else once at the end of that second.
                let after = Platform.monotonicMillis()
                for name in logsOf where dueLogs[name] == nil {
                    dueLogs[name] = max(after, (lastLogs[name] ?? .min / 2) + Self.logsIntervalMillis)
                }
                for (name, due) in dueLogs where due <= after {
                    dueLogs[name] = nil
                    lastLogs[name] = after
                    if interest.contains(name) { emit(.updated(.logs(name))) }
                }
            }
        #endif
    }

    private static func drain(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
