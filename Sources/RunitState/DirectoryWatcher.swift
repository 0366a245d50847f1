import RunitKit

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Wakes a reader when a directory's files change: inotify on Linux, a short sleep elsewhere.
public struct DirectoryWatcher: Sendable {
    package let fd: Int32

    /// Watches one directory.
    public init(path: String) {
        self.init(paths: [path])
    }

    /// Watches several directories with one descriptor.
    public init(paths: [String]) {
        #if os(Linux)
            let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
            if fd >= 0 {
                for path in paths {
                    _ = inotify_add_watch(fd, path, UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE))
                }
            }
            self.fd = fd
        #else
            self.fd = -1
        #endif
    }

    /// The descriptor that becomes readable when something changes, for a caller's own poll loop
    /// (-1 where there is no inotify); ``wait(timeoutMillis:)`` with 0 then takes the events.
    public var descriptor: Int32 { fd }

    /// Waits until something changes, or at most `timeoutMillis`.
    public func wait(timeoutMillis: Int32) {
        guard fd >= 0 else {
            usleep(100_000)
            return
        }
        var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&pollFD, 1, timeoutMillis) > 0 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        }
    }

    /// Releases the watch.
    public func close() {
        if fd >= 0 { Platform.closeDescriptor(fd) }
    }
}
