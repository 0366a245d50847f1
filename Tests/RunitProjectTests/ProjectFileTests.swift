import Foundation
import RunitCore
import RunitKit
import Testing

@testable import RunitProject

/// A project directory of its own, with files written into it.
struct ProjectDirectory {
    let path: String

    init(name: String = "shop") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("runit-project-\(UUID().uuidString.prefix(8))")
        path = base.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func write(_ text: String, to name: String) throws {
        let full = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }

    /// The project in `runit.yaml` after writing `text` to it, or its problems.
    func load(_ text: String) throws -> Result<Project, ProjectErrors> {
        try write(text, to: "runit.yaml")
        do {
            return .success(try ProjectLoader.load(file: path + "/runit.yaml"))
        } catch {
            return .failure(error)
        }
    }

    /// The problems of `text`, as `line:column: message` (without the file).
    func problems(_ text: String) throws -> [String] {
        guard case .failure(let errors) = try load(text) else { return [] }
        return errors.problems.map { "\($0.line):\($0.column): \($0.message)" }
    }

    func remove() { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
}

@Suite("The project file: runit.yaml read, resolved and checked")
struct ProjectFileTests {
    @Test("a four-process project: commands, argv, env files merged, dependencies, policies, paths made absolute")
    func resolves() throws {
        let directory = try ProjectDirectory()
        defer { directory.remove() }
        try directory.write("DATABASE_URL=postgres://db/shop\nexport DEBUG='1'\n", to: ".env")
        try directory.write("", to: "api/keep")
        let result = try directory.load(
            """
            name: shop
            processes:
              migrate:
                command: ./migrate.sh
              db:
                command: postgres -D data
                ready_port: 5432
              api:
                argv: [python3, -m, api]
                cwd: api
                env_file: .env
                env:
                  DEBUG: "2"
                  EMPTY:
                restart: on-failure
                ready_http: http://127.0.0.1:8000/health
                health_cmd: curl -fsS localhost:8000
                health_interval: 5s
                max_restarts: 3
                stop_signal: INT
                stop_timeout: 2s
                depends_on:
                  db: ready
                  migrate: {condition: completed_successfully}
              web: npm run dev
            x-notes: anything
            """)
        let project = try result.get()
        #expect(project.name == "shop")
        #expect(project.processes.map(\.name) == ["migrate", "db", "api", "web"])
        let api = try #require(project.process("api"))
        #expect(api.argv == ["python3", "-m", "api"] && api.command == nil)
        #expect(api.cwd == directory.path + "/api")
        #expect(
            api.env.map { "\($0.key)=\($0.value)" } == ["DATABASE_URL=postgres://db/shop", "DEBUG=1", "DEBUG=2", "EMPTY="])
        #expect(api.restart == .onFailure)
        #expect(api.policies.ready.http == "http://127.0.0.1:8000/health")
        #expect(api.policies.health.intervalMillis == 5000 && api.policies.maxRestarts == 3)
        #expect(api.policies.stopSignal == SIGINT && api.policies.stopTimeoutMillis == 2000)
        #expect(
            api.dependsOn == [
                ProcessDependency(name: "db", condition: .ready),
                ProcessDependency(name: "migrate", condition: .completedSuccessfully),
            ])
        #expect(project.process("web")?.command == "npm run dev")
        #expect(project.process("db")?.policies.ready.port == 5432)
        #expect(ProjectGraph.levels(project.processes) == [["migrate", "db", "web"], ["api"]])
        // The start request carries the full name and the project's place.
        let request = api.startRequest(in: project)
        #expect(request.name == "shop/api")
        #expect(request.project?.directory == directory.path)
    }

    @Test("each mistake is reported with its line and column and what is allowed, all of them at once")
    func problemsWithPlaces() throws {
        let directory = try ProjectDirectory()
        defer { directory.remove() }
        let problems = try directory.problems(
            """
            processes:
              web:
                comand: npm start
              api:
                command: x
                restart: sometimes
                ready_port: eighty
                health_interval: soon
                depends_on: [nowhere]
              both:
                command: x
                argv: [x]
              bad name:
                command: x
            """)
        #expect(problems.contains { $0.hasPrefix("3:5: unknown key 'comand'; did you mean 'command'?") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("2:3: the process 'web' needs 'command'") }, "\(problems)")
        #expect(problems.contains("6:14: 'restart' must be never, on-failure or always, not 'sometimes'"), "\(problems)")
        #expect(problems.contains("7:17: 'ready_port' must be a whole number, not 'eighty'"), "\(problems)")
        #expect(problems.contains { $0.hasPrefix("8:22: 'health_interval' must be a duration, not 'soon'") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("4:3: 'api' depends on 'nowhere', which is not a process") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("10:3: the process 'both' needs 'command'") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("13:3: 'bad name' is not a valid process name") }, "\(problems)")
        // An argv of the wrong type is said once, not also as a process with neither command nor argv.
        for argv in ["python3 -m api", "[python3, [x]]", "{a: b}"] {
            let wrong = try directory.problems("processes:\n  api:\n    argv: \(argv)\n")
            #expect(wrong.count == 1 && !wrong[0].contains("needs 'command'"), "\(argv): \(wrong)")
        }
    }

    @Test("a NUL in any text is a problem at its place, before anything starts (found by a hostile review)")
    func nulInText() throws {
        let directory = try ProjectDirectory()
        defer { directory.remove() }
        let problems = try directory.problems(
            """
            processes:
              a: {argv: [echo, "x\\0y"]}
              b: {command: "echo \\0", env: {K: "v\\0"}}
              c: {command: x, health_cmd: "false\\0; true", cwd: "/tmp\\0"}
              d: {command: x, env: {K: "v\\0"}}
            """)
        for place in ["2:20", "3:16", "4:31", "4:53", "5:28"] {
            #expect(problems.contains { $0.hasPrefix(place + ": ") && $0.contains("holds a NUL byte") }, "\(place): \(problems)")
        }
        #expect(throws: EnvFile.Problem(line: 2, message: "the line holds a NUL byte, which no variable can hold")) {
            try EnvFile.parse("A=1\nB=x\u{0}y\n")
        }
    }

    @Test("a command that is empty, null or holds a NUL, and a condition its dependency has no check for, are problems")
    func emptyCommandsAndUncheckableConditions() throws {
        let directory = try ProjectDirectory()
        defer { directory.remove() }
        let problems = try directory.problems(
            """
            processes:
              a: "sleep\\0 1"
              b:
              c: ~
              d: {command: "  "}
              e: {command: x, depends_on: {f: ready, g: healthy}}
              f: {command: x}
              g: {command: x, ready_log: up}
            """)
        #expect(problems.contains { $0.hasPrefix("2:6: ") && $0.contains("holds a NUL byte") }, "\(problems)")
        for (place, name) in [("3:5", "b"), ("4:6", "c"), ("5:16", "d")] {
            #expect(
                problems.contains { $0.hasPrefix(place + ": ") && $0.contains("the process '\(name)' has an empty command") },
                "\(place): \(problems)")
        }
        #expect(problems.contains { $0.contains("'e' waits for 'f' to be ready, and 'f' has no readiness check") })
        #expect(problems.contains { $0.contains("'e' waits for 'g' to be healthy, and 'g' has no health check") })
        #expect(!problems.contains { $0.contains("needs 'command'") }, "one problem each: \(problems)")
        #expect(problems.count == 6, "\(problems)")
    }

    @Test("YAML nested hundreds deep, and a dependency of the only process, are said in the file's terms")
    func deepNestingAndLoneDependency() throws {
        let directory = try ProjectDirectory()
        defer { directory.remove() }
        let deep = try directory.problems("processes:\n  a: " + String(repeating: "[", count: 2000) + "\n")
        #expect(deep.count == 1 && deep[0].contains("nested too deep"), "\(deep)")
        #expect(!deep[0].contains("yaml_"), "\(deep)")
        let lone = try directory.problems("processes:\n  a: {command: x, depends_on: [b]}\n")
        #expect(lone.count == 1 && lone[0].contains("not a process of this project (it has no other)"), "\(lone)")
    }

    @Test("a cycle is named along its path; a value out of range says the range with the key's name")
    func cyclesAndRanges() throws {
        let directory = try ProjectDirectory()
        defer { directory.remove() }
        let cycle = try directory.problems(
            """
            processes:
              a: {command: x, depends_on: [b]}
              b: {command: x, depends_on: {c: started}}
              c: {command: x, depends_on: [a]}
            """)
        #expect(cycle.count == 1 && cycle[0].contains("go round in a circle: a → b → c → a"), "\(cycle)")
        let range = try directory.problems("processes:\n  a:\n    command: x\n    health_cmd: true\n    health_retries: 0\n")
        #expect(range.count == 1 && range[0].hasPrefix("2:3: health_retries of 'a', 0 is out of range"), "\(range)")
        let two = try directory.problems("processes:\n  a:\n    command: x\n    ready_port: 80\n    ready_log: up\n")
        #expect(two.count == 1 && two[0].contains("give one readiness check"), "\(two)")
    }

    @Test("not YAML, not a mapping, a duplicate key, merge keys, an empty list: clear errors, never a crash")
    func hostileFiles() throws {
        let directory = try ProjectDirectory()
        defer { directory.remove() }
        #expect(try directory.problems("processes: [unclosed").first?.contains("not valid YAML") == true)
        #expect(try directory.problems("- a\n- b\n").first?.contains("must be a mapping") == true)
        #expect(try directory.problems("processes:\n  a: {command: x}\n  a: {command: y}\n").first?.contains("twice") == true)
        let merge = try directory.problems("base: &b {command: x}\nprocesses:\n  a:\n    <<: *b\n")
        #expect(merge.contains { $0.contains("merge keys ('<<') are not supported") }, "\(merge)")
        #expect(try directory.problems("processes: {}\n").first?.contains("is empty") == true)
        #expect(try directory.problems("name: 'my shop'\nprocesses: {a: x}\n").first?.contains("project name") == true)
        // A billion laughs: aliases share their nodes, and a list where a command belongs is refused at once.
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            bomb +=
                "l\(level): &l\(level) ["
                + Array(repeating: "*\(level == 1 ? "a" : "l\(level - 1)")", count: 10).joined(separator: ", ") + "]\n"
        }
        bomb += "processes:\n  a:\n    argv: *l8\n"
        let problems = try directory.problems(bomb)
        #expect(problems.contains { $0.contains("unknown key 'a'") }, "\(problems)")
        // A FIFO where an env file should be is an error, not a hang.
        #expect(mkfifo(directory.path + "/fifo.env", 0o600) == 0)
        let fifo = try directory.problems("processes:\n  a:\n    command: x\n    env_file: fifo.env\n")
        #expect(fifo.first?.contains("not a regular file") == true, "\(fifo)")
        let missing = try directory.problems("processes:\n  a:\n    command: x\n    env_file: nowhere.env\n")
        #expect(missing.first?.contains("does not exist") == true, "\(missing)")
    }

    @Test("the file is found from a subdirectory upwards, runit.yaml before a Procfile; a Procfile project reads its .env")
    func findsUpwardsAndReadsProcfiles() throws {
        let directory = try ProjectDirectory(name: "my app!")
        defer { directory.remove() }
        try directory.write("# the stack\nweb: python3 -m http.server $PORT\n\nworker: ./work.sh --fast\n", to: "Procfile")
        try directory.write("PORT=8080\n", to: ".env")
        try directory.write("", to: "src/deep/keep")
        let found = try #require(ProjectLoader.find(from: directory.path + "/src/deep"))
        #expect(found == directory.path + "/Procfile")
        let project = try ProjectLoader.load(file: found)
        #expect(project.name == "my-app-")
        #expect(project.processes.map(\.name) == ["web", "worker"])
        #expect(project.process("web")?.env == [EnvironmentEntry(key: "PORT", value: "8080")])
        #expect(project.process("worker")?.command == "./work.sh --fast")
        try directory.write("processes: {web: x}\n", to: "runit.yaml")
        #expect(ProjectLoader.find(from: directory.path + "/src") == directory.path + "/runit.yaml")
        // A .env beside a Procfile that links to nowhere is named, not passed over.
        try FileManager.default.removeItem(atPath: directory.path + "/runit.yaml")
        try FileManager.default.removeItem(atPath: directory.path + "/.env")
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/.env", withDestinationPath: "gone.env")
        do {
            _ = try ProjectLoader.load(file: found)
            Issue.record("a Procfile beside a broken .env link was read")
        } catch {
            #expect(error.problems.first?.file == directory.path + "/.env")
            #expect(error.problems.first?.message.contains("is a broken link") == true, "\(error.problems)")
        }
        let bad = Procfile.entries("web python\n-x: y\nweb: a\nweb: b\nempty:\n")
        #expect(bad.problems.map(\.0) == [1, 2, 4, 5])
        let crlf = Procfile.entries("web: sleep 3105\r\nworker: sleep 3106\r\n")
        #expect(crlf.entries.map(\.command) == ["sleep 3105", "sleep 3106"], "a CRLF Procfile was read as one line")
    }
}
