import RunitCore
import RunitKit
import Testing

@Suite("Unit file text")
struct SystemdTextTests {
    @Test("a byte that is not UTF-8 is written as systemd's \\xHH escape, which gives the byte back (found by a hostile review)")
    func rawBytes() {
        #expect(SystemdText.environment("A", ByteText.text([0x78, 0xFF, 0xFE, 0x79])) == #""A=x\xff\xfey""#)
        #expect(SystemdText.quoted(["echo", ByteText.text([0x80]) + "%$"]) == #""echo" "\x80%%$$""#)
    }
}
