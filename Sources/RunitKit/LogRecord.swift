/// Which stream a log record came from.
public enum LogStream: String, Sendable, CaseIterable {
    /// The process's standard output.
    case out
    /// The process's standard error.
    case err
    /// A line that runit itself wrote: a start, an exit, a stop.
    case sys
}

/// One line of a log file: `<timestamp> <stream>[+] <text>`.
///
/// The text is the raw bytes of one output line without its newline. A `+` after
/// the stream marks a piece that the next record of the same stream continues
/// (a line over 64 KiB, or a partial line flushed after a pause).
public struct LogRecord: Equatable, Sendable {
    /// Microseconds since the epoch when the supervisor read the line.
    public var micros: Int64
    /// The stream.
    public var stream: LogStream
    /// Whether the next record of this stream continues this one.
    public var continued: Bool
    /// The line's bytes, without a newline.
    public var text: [UInt8]

    /// A record with every field given.
    public init(micros: Int64, stream: LogStream, continued: Bool = false, text: [UInt8]) {
        self.micros = micros
        self.stream = stream
        self.continued = continued
        self.text = text
    }

    /// The text, with invalid UTF-8 shown as replacement characters.
    public var textString: String { String(decoding: text, as: UTF8.self) }

    /// Appends the record's line, newline included, to `out`.
    public func append(to out: inout [UInt8]) {
        Self.appendHeader(micros: micros, stream: stream, continued: continued, to: &out)
        out.append(contentsOf: text)
        out.append(0x0A)
    }

    /// Appends the header of a record (`<timestamp> <stream>[+] `) to `out`.
    public static func appendHeader(micros: Int64, stream: LogStream, continued: Bool, to out: inout [UInt8]) {
        Timestamp.append(micros: micros, to: &out)
        out.append(0x20)
        out.append(contentsOf: stream.rawValue.utf8)
        if continued { out.append(UInt8(ascii: "+")) }
        out.append(0x20)
    }

    /// Parses one line (without its newline); nil when it is not a record.
    public init?(line: ArraySlice<UInt8>) {
        guard let record = line.withUnsafeBufferPointer({ LogRecord(line: $0) }) else { return nil }
        self = record
    }

    /// Parses one line (without its newline) in place; nil when it is not a record.
    public init?(line: UnsafeBufferPointer<UInt8>) {
        guard line.count >= Timestamp.width + 5,
            let micros = Timestamp.parse(UnsafeBufferPointer(rebasing: line[0..<Timestamp.width])),
            line[Timestamp.width] == 0x20
        else { return nil }
        var streamEnd = Timestamp.width + 1
        while streamEnd < line.count && line[streamEnd] != 0x20 { streamEnd += 1 }
        guard streamEnd < line.count else { return nil }
        let continued = line[streamEnd - 1] == UInt8(ascii: "+")
        let tokenEnd = continued ? streamEnd - 1 : streamEnd
        guard let stream = Self.stream(UnsafeBufferPointer(rebasing: line[(Timestamp.width + 1)..<tokenEnd])) else { return nil }
        self.init(micros: micros, stream: stream, continued: continued, text: Array(line[(streamEnd + 1)...]))
    }

    private static func stream(_ token: UnsafeBufferPointer<UInt8>) -> LogStream? {
        guard token.count == 3 else { return nil }
        switch (token[0], token[1], token[2]) {
        case (0x6F, 0x75, 0x74): return .out
        case (0x65, 0x72, 0x72): return .err
        case (0x73, 0x79, 0x73): return .sys
        default: return nil
        }
    }
}

extension LogRecord {
    /// `records` with each run of continued pieces of one stream (a line the supervisor wrote
    /// out in parts, after a pause in the middle of it) joined into one record, at the place of
    /// its first piece; a run still open at the end stays as far as it goes. A start or an exit
    /// (a `sys` record) ends every unfinished line: the next run's output is not its rest.
    public static func joiningPieces(_ records: [LogRecord]) -> [LogRecord] {
        var joined: [LogRecord] = []
        var open: [LogStream: Int] = [:]
        for record in records {
            if record.stream == .sys { open.removeAll() }
            if let index = open[record.stream] {
                joined[index].text += record.text
                joined[index].continued = record.continued
                if !record.continued { open[record.stream] = nil }
                continue
            }
            if record.continued { open[record.stream] = joined.count }
            joined.append(record)
        }
        return joined
    }
}
