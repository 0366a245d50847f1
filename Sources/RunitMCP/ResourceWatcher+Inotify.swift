import Foundation
import RunitCore
import RunitKit

#if os(Linux)
    /// The inotify watches of a ``ResourceWatcher``: the folder of processes, each process's
    /// folder (its status file is replaced on each change), and the log folders of the processes
    /// someone listens to.
    struct WatchState {
        let inotify: Int32
        let registry: Registry
        private var root: Int32 = -1
        private var directories: [Int32: String] = [:]
        private var logs: [Int32: String] = [:]
        /// Each live supervisor's pidfd: readable once it ends, which a `kill -9` tells no file.
        private(set) var supervisors: [String: (pid: Int32, fd: Int32)] = [:]

        static let stateFiles: Set<[UInt8]> = [Array("status.json".utf8), Array("spec.json".utf8)]

        /// What one read of the events said.
        struct Events {
            var rootChanged = false
            var overflowed = false
            var directories: Set<String> = []
            var logs: Set<String> = []
        }

        init(inotify: Int32, registry: Registry) {
            self.inotify = inotify
            self.registry = registry
        }

        mutating func addRoot() {
            let mask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ONLYDIR
            root = inotify_add_watch(inotify, registry.context.processesDirectory, UInt32(mask))
        }

        mutating func watchDirectory(of name: String) {
            let path = ProcessPaths(home: registry.context.home, name: name).directory
            let wd = inotify_add_watch(inotify, path, UInt32(IN_MOVED_TO | IN_MODIFY | IN_ONLYDIR | IN_DONT_FOLLOW))
            if wd >= 0 { directories[wd] = name }
        }

        /// Watches the logs of exactly `names`.
        mutating func watchLogs(of names: Set<String>) {
            for (wd, name) in logs where !names.contains(name) {
                inotify_rm_watch(inotify, wd)
                logs[wd] = nil
            }
            let watched = Set(logs.values)
            for name in names.subtracting(watched) {
                let path = ProcessPaths(home: registry.context.home, name: name).logs
                let wd = inotify_add_watch(
                    inotify, path, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_DONT_FOLLOW))
                if wd >= 0 { logs[wd] = name }
            }
        }

        /// Watches the supervisor `pid` of `name` (none when nil), closing a watch on another one.
        mutating func watchSupervisor(of name: String, pid: Int32?) {
            if let held = supervisors[name], held.pid == pid { return }
            if let held = supervisors.removeValue(forKey: name), held.fd >= 0 { close(held.fd) }
            guard let pid else { return }
            supervisors[name] = (pid, Platform.exitDescriptor(pid))
        }

        /// Closes every supervisor's pidfd.
        mutating func closeSupervisors() {
            for name in Array(supervisors.keys) { watchSupervisor(of: name, pid: nil) }
        }

        /// Drops the watches of a removed process (the kernel has dropped them already).
        mutating func forget(_ name: String) {
            watchSupervisor(of: name, pid: nil)
            for (wd, watched) in directories where watched == name { directories[wd] = nil }
            for (wd, watched) in logs where watched == name { logs[wd] = nil }
        }

        /// Reads every event waiting, without blocking.
        mutating func read() -> Events {
            var events = Events()
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { Foundation.read(inotify, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let (wd, mask, length) = buffer.withUnsafeBytes { raw in
                        let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                        return (event.wd, event.mask, Int(event.len))
                    }
                    let start = offset + MemoryLayout<inotify_event>.size
                    offset = start + length
                    // The file's name, up to its padding of zeros.
                    let file = buffer[start..<min(offset, count)].prefix { $0 != 0 }
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        events.overflowed = true
                    } else if wd == root {
                        events.rootChanged = true
                    } else if let name = directories[wd] {
                        // Only the state files: reading a process's state opens its lock file,
                        // which must not count as a change (it would wake this reader again).
                        if mask & UInt32(IN_IGNORED) != 0 {
                            directories[wd] = nil
                        } else if Self.stateFiles.contains(Array(file)) {
                            events.directories.insert(name)
                        }
                    } else if let name = logs[wd] {
                        if mask & UInt32(IN_IGNORED) != 0 { logs[wd] = nil } else { events.logs.insert(name) }
                    }
                }
            }
            return events
        }
    }
#endif
