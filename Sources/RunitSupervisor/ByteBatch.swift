#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A growable run of bytes in memory of its own, where log records are composed: appending is a
/// `memcpy`, with none of an array's checks of uniqueness and capacity per call (a heavy writer
/// appends three pieces per line, millions of times), and the bytes stay at one address while
/// the writer thread copies them into the log.
struct ByteBatch: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: Self.page)
    }

    deinit { base.deallocate() }

    var isEmpty: Bool { count == 0 }

    /// The bytes, valid until the batch is next changed.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        if count + bytes.count > capacity { grow(to: count + bytes.count) }
        (base + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    mutating func removeAll() { count = 0 }

    /// Gives the pages of an empty batch back to the system (they read as zeros when next used),
    /// so that a supervisor idle after a burst of output does not keep the memory it took.
    func releasePages() {
        guard count == 0 else { return }
        _ = madvise(base, capacity & ~(Self.page - 1), MADV_DONTNEED)
    }

    /// The system's page: 4 KiB on most machines, 16 or 64 KiB on some ARM ones, where a batch
    /// aligned and given back in 4 KiB steps would have madvise round past its end.
    private static let page = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))

    /// Doubles the room (at least), keeping the bytes.
    private mutating func grow(to needed: Int) {
        let larger = max(needed, capacity * 2)
        let moved = UnsafeMutableRawPointer.allocate(byteCount: larger, alignment: Self.page)
        moved.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = moved
        capacity = larger
    }
}
