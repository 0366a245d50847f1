import PropertyBased
import Testing

@testable import RunitSupervisor

/// The log writer's batch: whatever is appended, in pieces of any size, reads back as the same
/// bytes in the same order; growing keeps them, and giving the pages back keeps a batch usable.
@Suite("The log writer's byte batch")
struct ByteBatchTests {
    static let pieces = Gen.int(in: 0...255).map { UInt8($0) }.array(of: 0...300).array(of: 0...40)

    @Test("appended pieces read back as their concatenation, through every growth")
    func concatenation() async {
        await propertyCheck(input: Self.pieces) { pieces in
            var batch = ByteBatch(capacity: 0)
            var expected: [UInt8] = []
            for piece in pieces {
                if piece.count == 1 {
                    batch.append(piece[0])
                } else {
                    batch.append(piece)
                }
                expected += piece
            }
            let bytes = Array(batch.bytes)
            let empty = batch.isEmpty
            #expect(bytes == expected)
            #expect(empty == expected.isEmpty)
        }
    }

    @Test("an empty batch's pages go back and it fills again; a batch with bytes keeps them")
    func releasePages() {
        var batch = ByteBatch(capacity: 3 * 4096)
        batch.append(Array(repeating: 7, count: 9000))
        batch.releasePages()
        let kept = Array(batch.bytes)
        #expect(kept == Array(repeating: 7, count: 9000))
        batch.removeAll()
        batch.releasePages()
        let empty = batch.isEmpty
        #expect(empty)
        // Given back for real: the pages read as zeros where the 7s were.
        let given = [0, 4096, 8191].map { batch.base.load(fromByteOffset: $0, as: UInt8.self) }
        #expect(given == [0, 0, 0])
        batch.append([1, 2, 3])
        let refilled = Array(batch.bytes)
        #expect(refilled == [1, 2, 3])
    }
}
