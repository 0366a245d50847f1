import Foundation
import PropertyBased
import Testing

@testable import RunitCore
@testable import RunitKit
@testable import RunitState

@Suite("Log search: block by block, the same records as reading them one by one")
struct LogSearchTests {
    /// A log of random records (some coloured, some redrawn with a carriage return, some pieces,
    /// a line that is not a record) and maybe a last record still being written.
    static func log(_ random: inout RandomPattern) -> [UInt8] {
        var bytes: [UInt8] = []
        for index in 0..<random.next(60) {
            switch random.next(12) {
            case 0: bytes += Array("not a record at all \(random.text())\n".utf8)
            default:
                var text = Array(random.text().utf8)
                if random.next(6) == 0 { text = Array("\u{1B}[31m".utf8) + text + Array("\u{1B}[0m".utf8) }
                if random.next(8) == 0 { text = Array("old\r".utf8) + text }
                if random.next(10) == 0 { text = Array("\u{9B}32m".utf8) + text }
                let stream: LogStream = [.out, .err, .sys][random.next(3)]
                LogRecord(
                    micros: Int64(1_700_000_000_000_000 + index), stream: stream, continued: random.next(5) == 0, text: text
                )
                .append(to: &bytes)
            }
        }
        if random.next(3) == 0 { bytes += Array("2026-12-03T09:00:00.000000Z out partial".utf8) }
        return bytes
    }

    @Test("a line with 8-bit CSI colors is matched as it is shown, in a block search as one by one")
    func eightBitColors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runit-c1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("current").path
        var bytes: [UInt8] = []
        let record = LogRecord(
            micros: 1_700_000_000_000_000, stream: .out, continued: false, text: Array("\u{9B}31mred\u{9B}0m alert ©".utf8))
        record.append(to: &bytes)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let pattern = try LogPattern("red alert ©$")
        #expect(pattern.matches(record))
        var found: [LogRecord] = []
        _ = LogSearch(pattern).backward(path) { record in
            found.append(record)
            return true
        }
        #expect(found == [record])
    }

    @Test("any pattern, any block size: the matching records, newest first, as a line-by-line read finds them")
    func agreesWithLineByLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runit-search-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("current").path
        await propertyCheck(input: Gen.int(in: 0...Int.max)) { seed in
            var random = RandomPattern(state: UInt64(seed))
            let source = random.pattern()
            guard let pattern = try? LogPattern(source) else { return }
            let bytes = Self.log(&random)
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            var expected: [LogRecord] = []
            _ = LogReader.readBackward(path) { record in
                if pattern.matches(record) { expected.append(record) }
                return true
            }
            for blockSize in [7, 64, 1 << 20] {
                var found: [LogRecord] = []
                _ = LogSearch(pattern, blockSize: blockSize).backward(path) { record in
                    found.append(record)
                    return true
                }
                #expect(found == expected, "'\(source)' in blocks of \(blockSize)")
            }
        }
    }

    @Test("a forward stream, in any block size, gives every record that passes, oldest first, pieces kept together")
    func streamAgreesWithLineByLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runit-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let paths = ProcessPaths(home: directory.path, name: "s")
        try FileManager.default.createDirectory(atPath: paths.logs, withIntermediateDirectories: true)
        await propertyCheck(input: Gen.int(in: 0...Int.max)) { seed in
            var random = RandomPattern(state: UInt64(seed))
            var query = LogQuery(lines: Int.max)
            if random.next(2) == 0 { query.pattern = try? LogPattern(random.pattern()) }
            if random.next(3) == 0 { query.stream = .err }
            let bytes = Self.log(&random)
            FileManager.default.createFile(atPath: paths.currentLog, contents: Data(bytes))
            var expected: [LogRecord] = []
            _ = LogReader.readBackward(paths.currentLog) { record in
                if query.selects(record) { expected.append(record) }
                return true
            }
            expected.reverse()
            for blockSize in [5, 64, 1 << 20] {
                var batches: [[LogRecord]] = []
                LogReader(paths: paths).stream(query, blockSize: blockSize) { batch in
                    batches.append(batch)
                    return true
                }
                #expect(batches.joined().elementsEqual(expected), "'\(query.pattern?.source ?? "")' in blocks of \(blockSize)")
                if query.pattern == nil {
                    // No batch ends in the middle of a line written in pieces, but the last.
                    #expect(batches.dropLast().allSatisfy { $0.last?.continued != true })
                }
            }
        }
    }

    @Test("a search stops where its visitor says, and where it is cancelled")
    func stopsAndCancels() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runit-search-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("current").path
        var bytes: [UInt8] = []
        for index in 0..<10_000 {
            LogRecord(micros: Int64(index), stream: .out, text: Array("line \(index) GET /items/\(index % 100)".utf8)).append(
                to: &bytes)
        }
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        let pattern = try LogPattern("items/42$")
        var found: [String] = []
        _ = LogSearch(pattern, blockSize: 4096).backward(path) { record in
            found.append(record.textString)
            return found.count < 3
        }
        #expect(found == ["line 9942 GET /items/42", "line 9842 GET /items/42", "line 9742 GET /items/42"])
        var blocks = 0
        var seen = 0
        let read = LogSearch(pattern, blockSize: 4096) {
            blocks += 1
            return blocks > 2
        }.backward(path) { _ in
            seen += 1
            return true
        }
        #expect(read == 2 * 4096)
        #expect(seen < 100)
    }
}
