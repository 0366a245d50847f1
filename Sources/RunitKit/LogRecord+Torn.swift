#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension LogRecord {
    /// The longest text of one record: a longer line is written as continued pieces.
    public static let maxText = 64 * 1024

    /// What a writer that finds a torn record says when it has cut it off.
    public static func tornNote(bytes: Int) -> String {
        "cut off \(bytes) bytes at the end of the log: a record its writer did not finish (killed mid-write)"
    }

    /// Cuts the log open at `fd` (for reading and writing), `size` bytes long, back to its last
    /// whole record when it ends inside one: a supervisor killed in the middle of a write
    /// (SIGKILL can cut a write to a file short) leaves a piece, which the next record would run
    /// on from. Returns how many bytes were cut; 0 when the log ends with a newline, or when its
    /// end cannot be a piece of a record (no newline in the longest record's length).
    public static func cutTornEnd(_ fd: Int32, size: Int) -> Int {
        guard size > 0 else { return 0 }
        let window = min(size, maxText + 64)
        var tail = [UInt8](repeating: 0, count: window)
        let read = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, window, off_t(size - window)) }
        guard read == window, tail[window - 1] != 0x0A else { return 0 }
        let kept = tail.lastIndex(of: 0x0A).map { size - window + $0 + 1 } ?? (window == size ? 0 : size)
        guard kept < size, ftruncate(fd, off_t(kept)) == 0 else { return 0 }
        return size - kept
    }
}
