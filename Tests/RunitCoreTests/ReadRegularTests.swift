import Foundation
import RunitKit
import Testing

@Suite("Reading a whole small file: every byte, and a clear refusal past the limit")
struct ReadRegularTests {
    @Test("files around the buffer's sizes read whole; one past the limit is too large; a FIFO is refused")
    func sizes() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runit-read-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let limit = 20_000
        for size in [0, 1, 4095, 4096, 4097, 8192, 12_289, limit - 1, limit, limit + 1, 3 * limit] {
            let path = directory.appendingPathComponent("f\(size)").path
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            switch Platform.readRegular(path, limit: limit) {
            case .success(let read):
                #expect(size <= limit, "a file of \(size) bytes passed a limit of \(limit)")
                #expect(read == bytes, "a file of \(size) bytes")
            case .failure(.tooLarge(let reported)):
                #expect(size > limit, "a file of \(size) bytes was refused")
                #expect(reported == Int64(size))
            case .failure(let problem):
                Issue.record("a file of \(size) bytes: \(problem)")
            }
        }
        let fifo = directory.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        guard case .failure = Platform.readRegular(fifo) else {
            Issue.record("a FIFO was read as a file")
            return
        }
    }
}
