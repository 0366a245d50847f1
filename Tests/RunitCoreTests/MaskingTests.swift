import PropertyBased
import Testing

@testable import RunitCore
@testable import RunitState

@Suite("Secrets in env values are masked where people and models see them")
struct MaskingTests {
    @Test("a URL's password or token is masked, the rest kept; secret-looking keys are masked whole")
    func examples() {
        let cases: [(String, String, String)] = [
            ("DATABASE_URL", "postgres://u:pw@h/db", "postgres://u:***@h/db"),
            ("REDIS_URL", "redis://:secret@localhost:6379/0", "redis://:***@localhost:6379/0"),
            ("REPO", "https://ghp_abc123@github.com/o/r.git", "https://***@github.com/o/r.git"),
            ("MIRRORS", "http://a:1@x, http://b:2@y", "http://a:***@x, http://b:***@y"),
            ("HOME_PAGE", "https://example.com/a@b", "https://example.com/a@b"),
            ("EMAIL", "me@example.com", "me@example.com"),
            ("API_KEY", "abc", "****"),
            // A password typed with a space or a quote in it (found by a hostile review).
            ("DATABASE_URL", "postgres://u:p w@h/db", "postgres://u:***@h/db"),
            ("DATABASE_URL", "postgres://u:p\"w@h/db", "postgres://u:***@h/db"),
            ("DATABASE_URL", "postgres://a user:pw@h", "postgres://a user:***@h"),
            ("SITES", "http://host:8080/a@b and http://c", "http://host:8080/a@b and http://c"),
            ("NOTE", "http://host me@x", "http://host me@x"),
        ]
        for (key, value, shown) in cases {
            #expect(EnvironmentEntry(key: key, value: value).displayValue == shown, "\(key)=\(value)")
        }
    }

    @Test("whatever the password, the masked value never shows it")
    func neverShown() async {
        let character = Gen.element(of: Array("abcXYZ019!$%^&*()-_=+[]{}~; \"'\t"))
        await propertyCheck(input: character.array(of: 6...20)) { characters in
            let password = "P" + String(characters.compactMap { $0 })
            let shown = EnvironmentEntry(key: "URL", value: "postgres://user:\(password)@db.local:5432/app").displayValue
            #expect(!shown.contains(password), "\(shown)")
            #expect(shown.hasSuffix("@db.local:5432/app"))
        }
    }

    @Test(
        "a combining mark after '://', '@' or ':' hides nothing: the password is masked all the same (found by a hostile review)")
    func combiningMarks() {
        let cases: [(String, String)] = [
            ("postgres://\u{301}u:pw@h/db", "postgres://\u{301}u:***@h/db"),
            ("https://\u{301}ghp_abc@github.com/o", "https://***@github.com/o"),
            ("postgres://u:pw@\u{301}h/db", "postgres://u:***@\u{301}h/db"),
            ("postgres://u:\u{301}pw@h", "postgres://u:***@h"),
            ("postgres:\u{301}//u:pw@h", "postgres:\u{301}//u:pw@h"),
            ("a://\u{301}x:1@y, b://\u{20DD}z:2@w", "a://\u{301}x:***@y, b://\u{20DD}z:***@w"),
        ]
        for (value, shown) in cases {
            let masked = EnvironmentEntry(key: "URL", value: value).displayValue
            #expect(Array(masked.utf8) == Array(shown.utf8), "\(value) -> \(masked)")
        }
    }

    @Test("whatever the user and password, combining marks and non-ASCII included, only the password is replaced")
    func anyUserAndPassword() async {
        let character = Gen.element(
            of: Array("aZ9!$%&*-_=+~;é😀".unicodeScalars) + ["\u{301}", "\u{20DD}", "\u{200D}", "\u{FE0F}"])
        await propertyCheck(input: character.array(of: 0...8), character.array(of: 1...12)) { user, password in
            var userText = ""
            userText.unicodeScalars.append(contentsOf: user.compactMap { $0 })
            var passwordText = ""
            passwordText.unicodeScalars.append(contentsOf: password.compactMap { $0 })
            let value = "postgres://" + userText + ":" + passwordText + "@db.local:5432/app"
            let shown = EnvironmentEntry(key: "URL", value: value).displayValue
            #expect(
                Array(shown.utf8) == Array(("postgres://" + userText + ":***@db.local:5432/app").utf8), "\(value) -> \(shown)")
        }
    }
}
