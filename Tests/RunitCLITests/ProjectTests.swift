import Foundation
import Testing

extension CLIFixture {
    /// Writes `runit.yaml` (or another file) into the project directory `proj` of the scratch.
    func project(_ text: String, file: String = "runit.yaml") throws -> String {
        try write(text, to: "shop/" + file)
        return scratch + "/shop"
    }

    /// The times (microseconds) of `name`'s log records whose text contains `text`, in order.
    func times(_ name: String, _ text: String) throws -> [Double] {
        let result = try run("logs", name, "--json", "--lines", "1000")
        return result.stdout.split(separator: "\n").compactMap { line -> Double? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                (object["text"] as? String)?.contains(text) == true, let time = object["time"] as? String
            else { return nil }
            return ISO8601DateFormatter.precise.date(from: time)?.timeIntervalSince1970
        }
    }
}

extension ISO8601DateFormatter {
    /// A formatter for RFC 3339 times with fractions (a new one each time: formatters are not Sendable).
    static var precise: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

@Suite("Projects: up in dependency order, down in reverse, names within a project")
struct ProjectTests {
    static let stack = """
        name: shop
        processes:
          migrate:
            command: echo migrating; sleep 1; echo migrated
          db:
            command: echo db starting; sleep 1; echo db accepting connections; sleep 300
            ready_log: accepting connections
          api:
            argv: [sh, -c, "echo api up; sleep 300"]
            depends_on:
              db: ready
              migrate: completed_successfully
          web:
            command: echo web up; sleep 300
            depends_on: [api]
        """

    @Test("a four-process project comes up in order, each dependency's condition held first, and goes down in reverse")
    func upInOrderDownInReverse() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let directory = try fixture.project(Self.stack)
        let up = try fixture.run(["up"], cwd: directory)
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        for line in ["shop/migrate: started", "shop/db: started", "shop/api: started", "shop/web: started"] {
            #expect(up.stdout.contains(line), "\(up.stdout)")
        }
        let dbReady = try #require(try fixture.times("shop/db", "accepting connections").first)
        let migrated = try #require(try fixture.times("shop/migrate", "exited with code 0").first)
        let apiStarted = try #require(try fixture.times("shop/api", "started pid").first)
        let webStarted = try #require(try fixture.times("shop/web", "started pid").first)
        #expect(apiStarted >= dbReady && apiStarted >= migrated, "api started before its dependencies' conditions held")
        #expect(webStarted >= apiStarted)
        #expect(fixture.state("shop/api") == "running" && fixture.state("shop/db") == "ready")
        // Again: nothing changed, nothing restarted.
        let again = try fixture.run(["up"], cwd: directory)
        #expect(again.stdout.contains("shop/api: running") && again.stdout.contains("shop/web: running"), "\(again.stdout)")
        let down = try fixture.run(["down"], cwd: directory + "/")
        #expect(down.status == 0, "\(down.stderr)")
        let order = ["shop/web", "shop/api", "shop/db"].map { down.stdout.range(of: $0 + ": stopped")?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order[0]! < order[1]! && order[1]! < order[2]!, "\(down.stdout)")
        #expect(fixture.state("shop/db") == "stopped")
    }

    @Test("a dependency that fails stops the start of what depends on it, saying which, why, and its last lines")
    func failureSkipsDependants() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let directory = try fixture.project(
            """
            processes:
              db:
                command: echo cannot open data directory >&2; exit 3
                ready_log: accepting
              api:
                command: sleep 300
                depends_on: {db: ready}
              web:
                command: sleep 300
                depends_on: [api]
              cache:
                command: sleep 300
            """)
        let up = try fixture.run(["up", "--timeout", "30s"], cwd: directory)
        #expect(up.status == 1, "\(up.stdout) \(up.stderr)")
        #expect(up.stderr.contains("shop/db: failed: 'shop/db' exited with code 3"), "\(up.stderr)")
        #expect(up.stderr.contains("shop/api: skipped: not started: its dependency 'db' failed"), "\(up.stderr)")
        #expect(up.stderr.contains("  cannot open data directory"), "the last lines: \(up.stderr)")
        #expect(up.stderr.contains("shop/web: skipped: not started: its dependency 'api' failed"), "\(up.stderr)")
        #expect(fixture.state("shop/cache") == "running", "an independent process was held back")
        #expect(fixture.state("shop/api") == nil, "a dependant was started")
        // A dependency that ends later, while its dependant waits for it to be ready.
        _ = try fixture.run(["down"], cwd: directory)
        try fixture.write(
            "processes:\n  db:\n    command: sleep 1; echo disk full >&2; exit 4\n    ready_log: accepting\n"
                + "  api:\n    command: sleep 300\n    depends_on: {db: ready}\n", to: "shop/runit.yaml")
        let later = try fixture.run(["up", "--timeout", "30s"], cwd: directory)
        #expect(later.status == 1, "\(later.stdout) \(later.stderr)")
        #expect(later.stderr.contains("shop/api: skipped: not started: 'db' exited with code 4"), "\(later.stderr)")
        #expect(later.stderr.contains("  disk full"), "\(later.stderr)")
    }

    @Test("up of a changed file restarts only what changed; a name inside the project is PROJECT/NAME, outside it is not")
    func changedSpecsAndNames() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        var directory = try fixture.project("processes:\n  api: {command: sleep 300}\n  web: {command: sleep 301}\n")
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        let apiPID = try #require(try fixture.status("shop/api")["pid"] as? Int)
        directory = try fixture.project("processes:\n  api: {command: sleep 300}\n  web: {command: sleep 302}\n")
        let up = try fixture.run(["up"], cwd: directory)
        #expect(up.stdout.contains("shop/web: restarted") && up.stdout.contains("shop/api: running"), "\(up.stdout)")
        #expect(try fixture.status("shop/api")["pid"] as? Int == apiPID)
        try fixture.write("", to: "shop/src/keep")
        let inside = try fixture.run(["status", "api", "--json"], cwd: directory + "/src")
        #expect(inside.status == 0 && inside.stdout.contains("\"name\" : \"shop/api\""), "\(inside.stdout)")
        #expect(try fixture.run(["status", "api"], cwd: fixture.scratch).status != 0, "a bare name resolved outside its project")
        #expect(try fixture.run(["start", "shop/other", "--", "sleep", "1"]).status == 2, "a project's name made by start")
        let list = try fixture.run("list", "--project", "shop", "--json")
        let entries = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
        #expect(entries.map { $0["project"] as? String } == ["shop", "shop"], "\(list.stdout)")
        let config = try fixture.run(["config", "--json"], cwd: directory)
        #expect(config.status == 0 && config.stdout.contains("\"name\" : \"shop\""), "\(config.stdout)")
    }

    @Test("up --settle 0 returns once every process runs, without watching for early exits; a settle out of range is refused")
    func upWithoutSettle() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let many = (0..<12).map { "  s\($0):\n    argv: [sleep, '300']" }.joined(separator: "\n")
        let directory = try fixture.project("name: shop\nprocesses:\n" + many + "\n  quits:\n    command: exit 3\n")
        let up = try fixture.run(["up", "--settle", "0", "--json"], cwd: directory)
        let results = try #require(
            try JSONSerialization.jsonObject(with: Data(up.stdout.utf8)) as? [[String: Any]], "\(up.stdout)")
        #expect(results.count == 13)
        for result in results where result["name"] as? String != "shop/quits" {
            #expect(result["result"] as? String == "started", "\(result)")
            let name = try #require(result["name"] as? String)
            // Running when up returned: the supervisor said so before up went on.
            #expect(fixture.state(name) == "running", "\(name)")
        }
        // Not watched for an early exit: reported started, as `start --settle 0` does.
        #expect(
            results.contains { $0["name"] as? String == "shop/quits" && $0["result"] as? String == "started" }, "\(up.stdout)")
        _ = try fixture.run(["down"], cwd: directory)
        // With the default settle time, the same exit is caught and up fails.
        let watched = try fixture.run(["up", "quits"], cwd: directory)
        #expect(
            watched.status == 1 && (watched.stdout + watched.stderr).contains("shop/quits: failed"),
            "\(watched.stdout) \(watched.stderr)")
        let bad = try fixture.run(["up", "--settle", "2m"], cwd: directory)
        #expect(bad.status == 2 && bad.stderr.contains("--settle") && bad.stderr.contains("0s to 1m"), "\(bad.stderr)")
        let junk = try fixture.run(["up", "--settle", "soon"], cwd: directory)
        #expect(junk.status == 2 && junk.stderr.contains("is not a duration"), "\(junk.stderr)")
        _ = try fixture.run(["down"], cwd: directory)
    }

    @Test("a Procfile project with its .env comes up; a bad project file starts nothing and says where")
    func procfileAndBadFile() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        let directory = try fixture.project(
            "web: echo web on $PORT; sleep 300\nworker: echo working; sleep 300\n", file: "Procfile")
        try fixture.write("PORT=8123\n", to: "shop/.env")
        let up = try fixture.run(["up"], cwd: directory)
        #expect(up.status == 0, "\(up.stderr)")
        #expect(fixture.eventually { try fixture.run("logs", "shop/web").stdout.contains("web on 8123") })
        _ = try fixture.run(["down"], cwd: directory)
        try fixture.write("processes:\n  a:\n    command: x\n    restrat: always\n", to: "other/runit.yaml")
        let bad = try fixture.run(["up"], cwd: fixture.scratch + "/other")
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains("runit.yaml:4:5: unknown key 'restrat'; did you mean 'restart'?"), "\(bad.stderr)")
        #expect(fixture.state("other/a") == nil)
        let none = try fixture.run(["up"], cwd: "/")
        #expect(none.status == 2 && none.stderr.contains("no runit.yaml or Procfile"), "\(none.stderr)")
    }

    @Test(
        "config shows the resolved project; up NAME brings its dependencies; up -f from elsewhere; down NAME takes its dependants"
    )
    func partsOfAProject() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        try fixture.write("TOKEN=abc\nURL=postgres://u:pw@h/db\n", to: "shop/.env")
        let directory = try fixture.project(
            """
            processes:
              db:
                command: echo up; sleep 300
                ready_log: ^up$
                health_cmd: "true"
                health_interval: 1s
                watch: [src]
              api:
                argv: [sleep, "300"]
                env_file: .env
                depends_on: {db: healthy}
              web:
                command: sleep 300
                depends_on: [api]
              cache:
                command: sleep 300
            """)
        let config = try fixture.run(["config"], cwd: directory)
        #expect(config.status == 0, "\(config.stderr)")
        for line in [
            "order:    db, cache → api → web", "  ready:    a line matching ^up$", "  health:   true, every 1s, 3 retries",
            "  env:      TOKEN=****", "  env:      URL=postgres://u:***@h/db", "  after:    db (healthy)", "  watch:    src",
            "  command:  sleep 300",
        ] {
            #expect(config.stdout.contains(line), "\(line) in:\n\(config.stdout)")
        }
        let up = try fixture.run(["up", "api", "-f", directory + "/runit.yaml", "--wait"], cwd: fixture.scratch)
        #expect(up.status == 0, "\(up.stdout) \(up.stderr)")
        #expect(up.stdout.contains("shop/db: ready") && up.stdout.contains("shop/api: started"), "\(up.stdout)")
        #expect(fixture.state("shop/web") == nil && fixture.state("shop/cache") == nil, "up NAME started more than it needs")
        #expect(try fixture.run(["up", "nosuch"], cwd: directory).status != 0)
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        let down = try fixture.run(["down", "api", "--json"], cwd: directory)
        let results = (try? JSONSerialization.jsonObject(with: Data(down.stdout.utf8)) as? [[String: Any]]) ?? []
        #expect(results.compactMap { $0["name"] as? String } == ["shop/web", "shop/api"], "\(down.stdout)")
        #expect(fixture.state("shop/db") != "stopped" && fixture.state("shop/cache") == "running")
        let all = try fixture.run(["down"], cwd: directory)
        #expect(all.stdout.contains("shop/db: stopped") && all.stdout.contains("shop/web: not running"), "\(all.stdout)")
        let resurrect = try fixture.run("resurrect", "--json")
        #expect(resurrect.status == 0 && resurrect.stdout.filter { !$0.isWhitespace } == "[]", "\(resurrect.stdout)")
        let removal = try fixture.run(["startup", "--remove"], environment: ["XDG_CONFIG_HOME": fixture.scratch + "/none"])
        #expect(removal.status == 0 && removal.stdout.contains("nothing to remove"))
    }

    @Test("batches: stop by glob and by project, an unknown name fails the batch while the others stop, --all")
    func batches() throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanUp() }
        for name in ["web-1", "web-2", "worker"] { #expect(try fixture.run("start", name, "--", "sleep", "300").status == 0) }
        let directory = try fixture.project("processes:\n  api: {command: sleep 300}\n  db: {command: sleep 300}\n")
        #expect(try fixture.run(["up"], cwd: directory).status == 0)
        let glob = try fixture.run("stop", "web-*")
        #expect(glob.status == 0 && glob.stdout.contains("web-1: stopped") && glob.stdout.contains("web-2: stopped"))
        #expect(fixture.state("worker") == "running")
        let mixed = try fixture.run("stop", "worker", "nosuch", "--json")
        #expect(mixed.status == 1)
        let results = (try? JSONSerialization.jsonObject(with: Data(mixed.stdout.utf8)) as? [[String: Any]]) ?? []
        #expect(results.map { ($0["result"] as? String)?.prefix(7) } == ["stopped", "failed"], "\(mixed.stdout)")
        #expect(fixture.state("worker") == "stopped")
        let project = try fixture.run("restart", "--project", "shop")
        #expect(project.status == 0 && project.stdout.contains("shop/api: restarted"), "\(project.stdout)")
        let logs = try fixture.run("logs", "shop/api", "shop/db")
        #expect(logs.stdout.contains("shop/api |") && logs.stdout.contains("shop/db  |"), "\(logs.stdout)")
        let refused = try fixture.run("remove", "--all")
        #expect(refused.status == 2 && refused.stderr.contains("--yes"), "\(refused.stderr)")
        // Patterns that take every process ask as --all does; one that leaves some does not.
        let star = try fixture.run("remove", "*", "shop/*")
        #expect(star.status == 2 && star.stderr.contains("every process"), "\(star.stderr)")
        #expect(fixture.state("worker") == "stopped", "nothing removed")
        #expect(try fixture.run("remove", "web-*").status == 0)
        // Names given one by one remove without a question, even when they are all there is.
        let named = try fixture.run(["remove", "worker", "shop/api", "shop/db"])
        #expect(named.status == 0, "\(named.stderr)")
        #expect(try fixture.run("list", "--json").stdout.filter { !$0.isWhitespace } == "[]")
        #expect(try fixture.run("start", "last", "--", "sleep", "300").status == 0)
        let all = try fixture.run("remove", "--all", "--yes")
        #expect(all.status == 0, "\(all.stderr)")
        #expect(try fixture.run("list", "--json").stdout.filter { !$0.isWhitespace } == "[]")
    }
}
