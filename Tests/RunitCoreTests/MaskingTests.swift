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
        ]
        for (key, value, shown) in cases {
            #expect(EnvironmentEntry(key: key, value: value).displayValue == shown, "\(key)=\(value)")
        }
    }

    @Test("whatever the password, the masked value never shows it")
    func neverShown() async {
        let character = Gen.element(of: Array("abcXYZ019!$%^&*()-_=+[]{}~;"))
        await propertyCheck(input: character.array(of: 6...20)) { characters in
            let password = "P" + String(characters.compactMap { $0 })
            let shown = EnvironmentEntry(key: "URL", value: "postgres://user:\(password)@db.local:5432/app").displayValue
            #expect(!shown.contains(password), "\(shown)")
            #expect(shown.hasSuffix("@db.local:5432/app"))
        }
    }
}
