import Foundation
import Testing

@testable import RunitCore
@testable import RunitKit
@testable import RunitState

@Suite("Reading logs: tail, filters, cursors")
struct LogReaderTests {
    /// Writes records with times 1 s apart, from `start` seconds; returns the file's path.
    func writeLog(
        _ paths: ProcessPaths, count: Int, start: Int64 = 1_700_000_000,
        stream: (Int) -> LogStream = { $0 % 3 == 0 ? .err : .out }
    ) {
        try? FileManager.default.createDirectory(atPath: paths.logs, withIntermediateDirectories: true)
        var bytes: [UInt8] = []
        for index in 0..<count {
            LogRecord(micros: (start + Int64(index)) * 1_000_000, stream: stream(index), text: Array("message \(index)".utf8))
                .append(to: &bytes)
        }
        _ = FileManager.default.createFile(atPath: paths.currentLog, contents: Data(bytes))
    }

    @Test("the last N lines come back in order")
    func tail() {
        let directory = TemporaryProcessDirectory()
        writeLog(directory.paths, count: 500)
        let records = LogReader(paths: directory.paths).tail(LogQuery(lines: 5)).records
        #expect(records.map(\.textString) == (495..<500).map { "message \($0)" })
    }

    @Test("the tail of a large log reads only its end")
    func tailReadsOnlyTheEnd() throws {
        let directory = TemporaryProcessDirectory()
        writeLog(directory.paths, count: 400_000)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: directory.paths.currentLog)[.size] as? Int)
        #expect(size > 10_000_000)
        let (records, bytesRead) = LogReader(paths: directory.paths).tail(LogQuery(lines: 100))
        #expect(records.count == 100)
        #expect(records.last?.textString == "message 399999")
        #expect(bytesRead <= 2 * LogReader.blockSize, "read \(bytesRead) bytes of \(size)")
    }

    @Test("since, until, stream and grep filters")
    func filters() throws {
        let directory = TemporaryProcessDirectory()
        writeLog(directory.paths, count: 100)
        let reader = LogReader(paths: directory.paths)
        var query = LogQuery(lines: 1000)
        query.sinceMicros = (1_700_000_000 + 90) * 1_000_000
        #expect(reader.tail(query).records.map(\.textString) == (90..<100).map { "message \($0)" })
        query.untilMicros = (1_700_000_000 + 95) * 1_000_000
        #expect(reader.tail(query).records.count == 5)
        var errors = LogQuery(lines: 1000)
        errors.stream = .err
        #expect(reader.tail(errors).records.count == 34)
        #expect(reader.tail(errors).records.allSatisfy { $0.stream == .err })
        var grep = LogQuery(lines: 3)
        grep.pattern = try LogPattern("MESSAGE 1[0-9]$", ignoreCase: true)
        #expect(reader.tail(grep).records.map(\.textString) == ["message 17", "message 18", "message 19"])
    }

    @Test("--since after the clock stepped back: every record in the window, though older ones follow it")
    func sinceAcrossAClockStep() throws {
        let directory = TemporaryProcessDirectory()
        try? FileManager.default.createDirectory(atPath: directory.paths.logs, withIntermediateDirectories: true)
        // 10:00 and 10:05 written first; then the clock stepped back an hour: 09:00, 09:01.
        let base: Int64 = 1_800_000_000
        var bytes: [UInt8] = []
        for (offset, text) in [(3600, "at ten"), (3900, "at five past ten"), (0, "at nine"), (60, "at nine one")] {
            LogRecord(micros: (base + Int64(offset)) * 1_000_000, stream: .out, text: Array(text.utf8)).append(to: &bytes)
        }
        _ = FileManager.default.createFile(atPath: directory.paths.currentLog, contents: Data(bytes))
        var query = LogQuery(lines: 100)
        query.sinceMicros = (base + 3600) * 1_000_000
        #expect(LogReader(paths: directory.paths).tail(query).records.map(\.textString) == ["at ten", "at five past ten"])
        // On a large log, the window's tail stays cheap: the read stops a bounded number of records past it.
        writeLog(directory.paths, count: 400_000)
        var recent = LogQuery(lines: 100)
        recent.sinceMicros = (1_700_000_000 + 399_990) * 1_000_000
        let (records, bytesRead) = LogReader(paths: directory.paths).tail(recent)
        #expect(records.count == 10)
        #expect(bytesRead < 2_000_000, "read \(bytesRead) bytes")
    }

    @Test("grep with context keeps the lines around each match")
    func grepContext() throws {
        let directory = TemporaryProcessDirectory()
        writeLog(directory.paths, count: 50)
        var query = LogQuery(lines: 2)
        query.pattern = try LogPattern("message (20|40)$")
        query.context = 1
        let texts = LogReader(paths: directory.paths).tail(query).records.map(\.textString)
        #expect(texts == ["message 19", "message 20", "message 21", "message 39", "message 40", "message 41"])
    }

    @Test("a cursor reads on from where the last read stopped, and past a rotation")
    func cursor() throws {
        let directory = TemporaryProcessDirectory()
        writeLog(directory.paths, count: 10)
        let reader = LogReader(paths: directory.paths)
        let end = try #require(reader.endCursor())
        #expect(reader.read(from: end, limit: 100).records.isEmpty)
        let handle = try #require(FileHandle(forWritingAtPath: directory.paths.currentLog))
        handle.seekToEndOfFile()
        var more: [UInt8] = []
        LogRecord(micros: 1_800_000_000_000_000, stream: .out, text: Array("after".utf8)).append(to: &more)
        handle.write(Data(more))
        try handle.close()
        let (records, next) = reader.read(from: end, limit: 100)
        #expect(records.map(\.textString) == ["after"])
        // Rotate: the current file moves away and a new one starts.
        try FileManager.default.moveItem(atPath: directory.paths.currentLog, toPath: directory.paths.rotatedLog(1))
        writeLog(directory.paths, count: 2, start: 1_900_000_000)
        let (rotated, _) = reader.read(from: next, limit: 100)
        #expect(rotated.map(\.textString) == ["message 0", "message 1"])
        #expect(LogCursor(next.description) == next)
        #expect(LogCursor("garbage") == nil)
    }

    @Test("since and until accept durations and RFC 3339 times, and refuse anything else")
    func timeParsing() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try LogQuery.time("10m", now: now) == (1_800_000_000 - 600) * 1_000_000)
        #expect(try LogQuery.time("2026-11-24T21:40:00Z", now: now) == 1_795_556_400 * 1_000_000)
        #expect(try LogQuery.time("2026-11-24 21:40:00z", now: now) == 1_795_556_400 * 1_000_000)
        #expect(try LogQuery.time("2026-11-24t21:40:00.5Z", now: now) == 1_795_556_400 * 1_000_000 + 500_000)
        #expect(try LogQuery.time("2026-11-24T21:40:00.1234567Z", now: now) == 1_795_556_400 * 1_000_000 + 123_456)
        #expect(try LogQuery.time("2026-11-24T22:40:00.000001+01:00", now: now) == 1_795_556_400 * 1_000_000 + 1)
        #expect(throws: RunitError.self) { try LogQuery.time("yesterday", now: now) }
        #expect(throws: RunitError.self) { try LogQuery.time("2026-11-24T21:40:00.Z", now: now) }
    }

    @Test("a record's printed time, given back to --since, is that record's time to the microsecond")
    func printedTimeRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let micros = Int64.random(in: 0...4_102_444_800_000_000, using: &generator)
            #expect(try LogQuery.time(Timestamp.string(micros: micros)) == micros)
        }
    }

    @Test("ANSI escapes are stripped and carriage-return redraws collapse to the final text")
    func cleanText() {
        #expect(LogText.clean("\u{1B}[32mgreen\u{1B}[0m") == "green")
        #expect(LogText.clean("10%\r50%\r100%") == "100%")
        #expect(LogText.clean("\u{1B}]0;title\u{07}plain") == "plain")
        #expect(LogText.clean("done\r") == "done")
        #expect(LogText.clean("loading\rab") == "abading")
        #expect(LogText.clean("a\r\n") == "\u{FFFD}")
    }
}
