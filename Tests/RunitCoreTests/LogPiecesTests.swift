import PropertyBased
import Testing

@testable import RunitKit

@Suite("Lines written in pieces read as one line")
struct LogPiecesTests {
    @Test("whatever the cuts, joining the pieces gives back the lines, each stream on its own")
    func joining() async {
        let line = Gen.element(of: Array("abc xyz")).array(of: 1...20)
        let cuts = Gen.int(in: 1...4)
        await propertyCheck(input: line.array(of: 1...8), cuts.array(of: 8...8), Gen.bool.array(of: 8...8)) {
            lines, pieces, toErr in
            let texts = lines.map { String($0.compactMap { $0 }) }
            var records: [LogRecord] = []
            var micros: Int64 = 0
            for (index, text) in texts.enumerated() {
                let stream: LogStream = toErr[index] ? .err : .out
                let bytes = Array(text.utf8)
                let size = max(1, bytes.count / pieces[index])
                var start = 0
                while start < bytes.count {
                    let end = min(bytes.count, start + size)
                    micros += 1
                    records.append(
                        LogRecord(micros: micros, stream: stream, continued: end < bytes.count, text: Array(bytes[start..<end])))
                    start = end
                }
            }
            let joined = LogRecord.joiningPieces(records)
            #expect(joined.map(\.textString) == texts)
            #expect(joined.allSatisfy { !$0.continued })
        }
    }

    @Test("a start or an exit ends a line left unfinished; an open piece at the end stays open")
    func runEnds() {
        let records = [
            LogRecord(micros: 1, stream: .out, continued: true, text: Array("half".utf8)),
            LogRecord(micros: 2, stream: .sys, text: Array("exited with code 1".utf8)),
            LogRecord(micros: 3, stream: .out, continued: true, text: Array("next".utf8)),
        ]
        let joined = LogRecord.joiningPieces(records)
        #expect(joined.map(\.textString) == ["half", "exited with code 1", "next"])
        #expect(joined.last?.continued == true)
    }
}
