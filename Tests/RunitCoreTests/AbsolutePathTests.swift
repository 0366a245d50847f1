import Foundation
import PropertyBased
import RunitCore
import Testing

@Suite("Paths made absolute: the home and the working directory")
struct AbsolutePathTests {
    static let parts = ["a", "bc", ".", "..", "", "d e", "ü"]

    @Test("an absolute path has no '.', '..' or empty part, is its own absolute form, and is what URL makes of it")
    func normalForm() async {
        await propertyCheck(input: Gen.element(of: Self.parts).array(of: 0...8), Gen.bool) { parts, relative in
            let parts = parts.compactMap { $0 }
            let path = (relative ? "" : "/") + parts.joined(separator: "/")
            let base = "/base/dir"
            let result = RunitContext.absolute(path, from: base)
            #expect(result.hasPrefix("/"))
            let components = result.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            #expect(result == "/" || !components.contains { $0.isEmpty || $0 == "." || $0 == ".." }, "\(path): \(result)")
            #expect(RunitContext.absolute(result, from: "/elsewhere") == result, "\(path)")
            // Where no '..' climbs above the root and no part is empty, Foundation's standardised URL agrees.
            let joined = path.hasPrefix("/") ? path : base + "/" + path
            var depth = 0
            var climbs = false
            for part in joined.split(separator: "/") where part != "." {
                depth += part == ".." ? -1 : 1
                if depth < 0 { climbs = true }
            }
            if !climbs && !parts.contains("") {
                #expect(result == URL(fileURLWithPath: joined).standardizedFileURL.path, "\(path)")
            }
        }
    }

    @Test("examples: '..' stops at the root, a relative path joins the base")
    func examples() {
        #expect(RunitContext.absolute("/a/b/../c/./d/", from: "/x") == "/a/c/d")
        #expect(RunitContext.absolute("/../../a", from: "/x") == "/a")
        #expect(RunitContext.absolute("state", from: "/home/u") == "/home/u/state")
        #expect(RunitContext.absolute("../s", from: "/home/u") == "/home/s")
        #expect(RunitContext.absolute("", from: "/home/u") == "/home/u")
        #expect(RunitContext.absolute("/", from: "/home/u") == "/")
    }
}
