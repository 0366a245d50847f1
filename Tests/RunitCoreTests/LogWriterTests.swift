import Foundation
import Testing

@testable import RunitKit
@testable import RunitSupervisor

/// A temporary process directory, removed at the end of the test.
struct TemporaryProcessDirectory: ~Copyable {
    let paths: ProcessPaths

    init() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("runit-logs-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        paths = ProcessPaths(directory: path)
    }

    deinit { try? FileManager.default.removeItem(atPath: paths.directory) }

    /// Every record of every log file, oldest first.
    func records() -> [LogRecord] {
        var files: [String] = []
        var index = 1
        while FileManager.default.fileExists(atPath: paths.rotatedLog(index)) {
            files.insert(paths.rotatedLog(index), at: 0)
            index += 1
        }
        files.append(paths.currentLog)
        return files.flatMap { path -> [LogRecord] in
            let data = FileManager.default.contents(atPath: path) ?? Data()
            return Array(data).split(separator: 0x0A).compactMap { LogRecord(line: Array($0)[...]) }
        }
    }
}

@Suite("The supervisor's log writer")
struct LogWriterTests {
    func feed(_ writer: inout LogWriter, _ text: [UInt8], stream: LogStream = .out) {
        text.withUnsafeBytes { writer.take($0, stream: stream) }
    }

    @Test("complete lines become one record each, in order, per stream")
    func lines() {
        let directory = TemporaryProcessDirectory()
        var writer = LogWriter(paths: directory.paths, maxSize: 1 << 20, keep: 2)
        let opened = writer.open()
        #expect(opened)
        feed(&writer, Array("one\ntwo\n".utf8))
        feed(&writer, Array("oops\n".utf8), stream: .err)
        writer.flush()
        let records = directory.records()
        #expect(records.map(\.textString) == ["one", "two", "oops"])
        #expect(records.map(\.stream) == [.out, .out, .err])
        #expect(records.allSatisfy { !$0.continued })
    }

    @Test("a line split across reads is joined; a partial line waits, then is written marked continued")
    func partialLines() {
        let directory = TemporaryProcessDirectory()
        var writer = LogWriter(paths: directory.paths, maxSize: 1 << 20, keep: 2)
        let opened = writer.open()
        #expect(opened)
        feed(&writer, Array("hel".utf8))
        feed(&writer, Array("lo\nprogress 10%\r".utf8))
        writer.flush()
        #expect(directory.records().map(\.textString) == ["hello"])
        #expect(writer.partialDeadline != nil, "the partial line has a deadline")
        writer.flushPartials(now: Platform.monotonicMillis() + LogWriter.partialDelayMillis, force: false)
        let records = directory.records()
        #expect(records.count == 2)
        #expect(records.last?.textString == "progress 10%\r")
        #expect(records.last?.continued == true)
        #expect(writer.partialDeadline == nil)
    }

    @Test("a note of runit's own never cuts a line still being written; one that waited its delay goes first")
    func noteBesidePartialLine() throws {
        let directory = TemporaryProcessDirectory()
        var writer = LogWriter(paths: directory.paths, maxSize: 1 << 20, keep: 2)
        let opened = writer.open()
        #expect(opened)
        feed(&writer, Array("read".utf8))
        writer.system("sent end of input (Ctrl-D) to the terminal")
        feed(&writer, Array(" last\n".utf8))
        writer.flush()
        #expect(directory.records().map(\.textString) == ["sent end of input (Ctrl-D) to the terminal", "read last"])
        #expect(directory.records().map(\.stream) == [.sys, .out])
        // A prompt that waits for input has waited past the delay: it is written before the note.
        feed(&writer, Array("> ".utf8))
        Thread.sleep(forTimeInterval: Double(LogWriter.partialDelayMillis) / 1000 + 0.05)
        writer.system("sent SIGINT to the process, as asked")
        let records = directory.records().suffix(2)
        #expect(records.map(\.textString) == ["> ", "sent SIGINT to the process, as asked"])
        #expect(records.first?.continued == true)
    }

    @Test("a 1 MiB line is split into 64 KiB pieces marked continued, losing no byte")
    func longLine() {
        let directory = TemporaryProcessDirectory()
        var writer = LogWriter(paths: directory.paths, maxSize: 1 << 30, keep: 2)
        let opened = writer.open()
        #expect(opened)
        let line = (0..<(1 << 20)).map { UInt8(0x61 + $0 % 26) }
        for start in stride(from: 0, to: line.count, by: 10_000) {
            feed(&writer, Array(line[start..<min(line.count, start + 10_000)]))
        }
        feed(&writer, [0x0A])
        writer.flush()
        let records = directory.records()
        #expect(records.count == 16)
        #expect(records.dropLast().allSatisfy { $0.continued && $0.text.count == LogWriter.maxLine })
        #expect(records.last?.continued == false)
        #expect(records.flatMap(\.text) == line)
    }

    @Test("binary data and invalid UTF-8 are stored byte for byte and shown with replacement characters")
    func binary() {
        let directory = TemporaryProcessDirectory()
        var writer = LogWriter(paths: directory.paths, maxSize: 1 << 20, keep: 2)
        let opened = writer.open()
        #expect(opened)
        let bytes: [UInt8] = [0x00, 0xFF, 0xFE, 0x41, 0xC3, 0x28, 0x0D, 0x1B]
        feed(&writer, bytes + [0x0A])
        writer.flush()
        let record = directory.records().first
        #expect(record?.text == bytes)
        #expect(record?.textString.contains("\u{FFFD}") == true)
    }

    @Test("rotation keeps the configured number of files and loses no line")
    func rotation() {
        let directory = TemporaryProcessDirectory()
        var writer = LogWriter(paths: directory.paths, maxSize: 4096, keep: 3)
        let opened = writer.open()
        #expect(opened)
        for index in 0..<2000 {
            feed(&writer, Array("line \(index)\n".utf8))
            writer.flush()
        }
        writer.flush()
        #expect(FileManager.default.fileExists(atPath: directory.paths.rotatedLog(3)))
        #expect(!FileManager.default.fileExists(atPath: directory.paths.rotatedLog(4)))
        let texts = directory.records().map(\.textString)
        // The oldest files were dropped; what is kept is a contiguous run ending with the last line.
        let first = Int(texts.first!.dropFirst(5))!
        #expect(texts == (first..<2000).map { "line \($0)" })
    }

    @Test("a heavy writer's batches go to the writer thread and reach the log whole and in order")
    func handOff() throws {
        let directory = TemporaryProcessDirectory()
        let maxSize = 2 << 20
        var writer = LogWriter(paths: directory.paths, maxSize: maxSize, keep: 20)
        let opened = writer.open()
        #expect(opened)
        var next = 0
        func burst(_ writer: inout LogWriter, chunks: Int) {
            for _ in 0..<chunks {
                var chunk: [UInt8] = []
                while chunk.count < 256 * 1024 {
                    chunk += Array("line \(next)\n".utf8)
                    next += 1
                }
                feed(&writer, chunk)
            }
            writer.flush(handOff: true)
        }
        burst(&writer, chunks: 12)
        let handedOff = writer.holdsBatchMemory
        #expect(handedOff)
        // Given back when idle; the batches still work after (their pages read as zeros).
        writer.releaseBatchMemory()
        let released = !writer.holdsBatchMemory
        #expect(released)
        burst(&writer, chunks: 4)
        writer.settle()
        #expect(directory.records().map(\.textString) == (0..<next).map { "line \($0)" })
        // Rotation counts the bytes the thread wrote: each rotated file ends within a record of the limit.
        var index = 1
        while let size = try? FileManager.default.attributesOfItem(atPath: directory.paths.rotatedLog(index))[.size] as? Int {
            #expect(size >= maxSize && size < maxSize + 64, "previous.\(index).log holds \(size) bytes")
            index += 1
        }
        #expect(index > 4)
    }

    @Test("a log that ends inside a record (its writer killed mid-write) is cut back to its last whole record")
    func tornEnd() throws {
        let directory = TemporaryProcessDirectory()
        var whole: [UInt8] = []
        LogRecord(micros: 1_000_000, stream: .out, text: Array("kept".utf8)).append(to: &whole)
        try FileManager.default.createDirectory(atPath: directory.paths.logs, withIntermediateDirectories: true)
        for (content, survives) in [(whole + Array(whole.prefix(20)), true), (Array(whole.prefix(15)), false), (whole, true)] {
            #expect(FileManager.default.createFile(atPath: directory.paths.currentLog, contents: Data(content)))
            var writer = LogWriter(paths: directory.paths, maxSize: 1 << 20, keep: 2)
            let opened = writer.open()
            #expect(opened)
            feed(&writer, Array("next\n".utf8))
            writer.flush()
            let data = try #require(FileManager.default.contents(atPath: directory.paths.currentLog))
            let lines = Array(data).split(separator: 0x0A, omittingEmptySubsequences: false)
            let shown = String(decoding: data, as: UTF8.self)
            #expect(data.last == 0x0A && lines.dropLast().allSatisfy { LogRecord(line: $0) != nil }, "\(shown)")
            let texts = directory.records().map(\.textString)
            let torn = content.count - (survives ? whole.count : 0)
            let note = "cut off \(torn) bytes at the end of the log: a record its writer did not finish (killed mid-write)"
            #expect(texts == (survives ? ["kept"] : []) + (torn > 0 ? [note] : []) + ["next"])
        }
    }
}

@Suite("The log writer recovers and trims")
struct LogWriterRecoveryTests {
    func feed(_ writer: inout LogWriter, _ text: String) {
        Array(text.utf8).withUnsafeBytes { writer.take($0, stream: .out) }
        writer.flush()
    }

    @Test("a deleted log folder is made again on the next write, losing no later line")
    func deletedFolder() throws {
        let directory = TemporaryProcessDirectory()
        var writer = LogWriter(paths: directory.paths, maxSize: 1 << 20, keep: 2)
        let opened = writer.open()
        #expect(opened)
        feed(&writer, "before\n")
        try FileManager.default.removeItem(atPath: directory.paths.logs)
        feed(&writer, "after\n")
        #expect(directory.records().map(\.textString) == ["after"])
    }

    @Test("a lower keep deletes the rotated files beyond it when the log opens")
    func lowerKeep() {
        let directory = TemporaryProcessDirectory()
        var writer = LogWriter(paths: directory.paths, maxSize: 1024, keep: 6)
        let opened = writer.open()
        #expect(opened)
        for index in 0..<400 { feed(&writer, "line \(index)\n") }
        #expect(FileManager.default.fileExists(atPath: directory.paths.rotatedLog(6)))
        var lower = LogWriter(paths: directory.paths, maxSize: 1024, keep: 2)
        let reopened = lower.open()
        #expect(reopened)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.paths.logs).sorted()) ?? []
        #expect(names == ["current.log", "previous.1.log", "previous.2.log"])
    }
}
