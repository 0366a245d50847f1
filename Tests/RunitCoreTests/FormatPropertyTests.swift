import Foundation
import PropertyBased
import Testing

@testable import RunitCore
@testable import RunitKit
@testable import RunitState

@Suite("Formats: round trips and invariants")
struct FormatPropertyTests {
    static let nameCharacter = Gen.element(of: Array("abcXYZ019._-"))
    static let anyCharacter = Gen.element(of: Array("aZ9._-/ \\\"'é😀\n\t$*"))

    @Test("a generated valid name is accepted and keeps its text")
    func validNames() async {
        await propertyCheck(input: Gen.letterOrNumber, Self.nameCharacter.array(of: 0...63)) { first, rest in
            let text = String(first) + String(rest.compactMap { $0 })
            #expect(ProcessName(text)?.rawValue == text)
            #expect(ProcessName.problem(with: text) == nil)
        }
    }

    @Test("a name is valid exactly when it matches the documented rule")
    func nameRule() async {
        await propertyCheck(input: Self.anyCharacter.array(of: 0...70)) { characters in
            let text = String(characters.compactMap { $0 })
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
            let leading = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            func part(_ part: Substring) -> Bool {
                part.utf8.count <= 64 && part.allSatisfy(allowed.contains) && part.first.map(leading.contains) == true
            }
            // One part, or a project's PROJECT/NAME: two.
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            let expected = parts.count <= 2 && parts.allSatisfy(part)
            let valid = ProcessName.isValid(text)
            #expect(valid == expected, "\(text)")
            #expect((ProcessName.problem(with: text) == nil) == valid)
            // A file name under `procs/` names a process exactly when, its '~' read as '/', the
            // text is a valid name; a '/' in a file name never does.
            let stored = text.replacingOccurrences(of: "/", with: "~")
            #expect(ProcessName(storage: stored) == ProcessName(text), "\(stored)")
            if text.contains("/") { #expect(ProcessName(storage: text) == nil, "\(text)") }
            // A valid name's storage name (its directory) maps back to it, and holds no '/'.
            if let name = ProcessName(text) {
                #expect(!name.storage.contains("/"))
                #expect(ProcessName(storage: name.storage) == name)
                #expect(name.project.map { $0 + "/" + name.base } ?? name.base == text)
            }
        }
    }

    @Test("a duration formats and parses back to the same milliseconds")
    func durationRoundTrip() async {
        await propertyCheck(input: Gen.int64(in: 0...(400 * 86_400_000))) { millis in
            let text = DurationText.format(milliseconds: millis)
            #expect(DurationText.milliseconds(text) == millis, "\(text)")
        }
    }

    @Test("durations: examples and refusals")
    func durationExamples() {
        #expect(DurationText.milliseconds("10m") == 600_000)
        #expect(DurationText.milliseconds("2h") == 7_200_000)
        #expect(DurationText.milliseconds("1.5s") == 1500)
        #expect(DurationText.milliseconds("500ms") == 500)
        #expect(DurationText.milliseconds("3") == 3000)
        for bad in ["", "m", "-1s", "ten", "1e9999s", "5 s", "nan"] { #expect(DurationText.milliseconds(bad) == nil, "\(bad)") }
    }

    @Test("a timestamp formats to 27 characters and parses back")
    func timestampRoundTrip() async {
        await propertyCheck(input: Gen.int64(in: 0...(253_402_300_799 * 1_000_000))) { micros in
            let text = Timestamp.string(micros: micros)
            #expect(text.utf8.count == Timestamp.width)
            #expect(Timestamp.parse(Array(text.utf8)) == micros)
        }
    }

    @Test("timestamps agree with Foundation's calendar")
    func timestampMatchesFoundation() async {
        await propertyCheck(input: Gen.int64(in: 0...4_102_444_800)) { seconds in
            let formatter = ISO8601DateFormatter()
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
            let ours = Timestamp.string(micros: seconds * 1_000_000)
            #expect(ours.prefix(19) == expected.prefix(19))
        }
    }

    @Test("a log record renders to one line and parses back, whatever bytes its text holds")
    func logRecordRoundTrip() async {
        let streams = Gen.element(of: LogStream.allCases)
        await propertyCheck(
            input: Gen.int64(in: 0...4_102_444_800_000_000), streams, Gen.bool, Gen.uint8(in: 0...255).array(of: 0...300)
        ) { micros, stream, continued, bytes in
            let text = bytes.filter { $0 != 0x0A }
            let record = LogRecord(micros: micros, stream: stream!, continued: continued, text: text)
            var line: [UInt8] = []
            record.append(to: &line)
            #expect(line.last == 0x0A)
            #expect(line.filter { $0 == 0x0A }.count == 1)
            #expect(LogRecord(line: line.dropLast()) == record)
        }
    }

    @Test("lines that are not records are refused")
    func notRecords() {
        for text in [
            "", "hello", "2026-11-24T21:40:37.123456Z", "2026-11-24T21:40:37.123456Z xyz text",
            "2026-13-24T21:40:37.123456Z out x",
        ] {
            #expect(LogRecord(line: Array(text.utf8)[...]) == nil, "\(text)")
        }
    }

    @Test("a status record written by the supervisor is read back identically by clients")
    func statusRoundTrip() async throws {
        let states = Gen.element(of: ProcessState.allCases)
        let text = Self.anyCharacter.array(of: 0...40).map { String($0.compactMap { $0 }) }
        await propertyCheck(
            input: states, Gen.int32(in: 0...4_000_000), Gen.int(in: 0...1000), Gen.int32(in: 0...255).optional, text, text
        ) { state, pid, restarts, code, name, message in
            var record = StatusRecord(
                name: name, state: state!, pid: pid, supervisorPID: pid &+ 1, startedAtMilliseconds: Int64(pid) * 1000,
                restarts: restarts, exitCode: code, exitSignal: code == nil ? 9 : nil, message: message,
                updatedAtMilliseconds: 1_795_556_841_470)
            record.quickFailures = restarts % 7
            record.inputClosed = restarts % 2 == 1
            record.nextRestartAtMilliseconds = restarts % 3 == 0 ? 0 : 1_795_556_841_470 + Int64(restarts)
            let decoded = try? StateFiles.decodeStatus(Array(record.json.utf8), path: "status.json")
            #expect(decoded == record)
        }
    }

    @Test("a damaged status file is refused with its path in the message")
    func damagedStatus() {
        #expect(throws: RunitError.self) { try StateFiles.decodeStatus(Array("{\"name\":".utf8), path: "/x/status.json") }
        do {
            _ = try StateFiles.decodeStatus(Array("[]".utf8), path: "/x/status.json")
        } catch {
            #expect(error.message.contains("/x/status.json is damaged"))
        }
    }

    @Test("supervisor arguments survive the command line")
    func supervisorArgumentsRoundTrip() async {
        let word = Self.anyCharacter.array(of: 1...12).map { String($0.compactMap { $0 }) }.filter { !$0.isEmpty }
        await propertyCheck(
            input: word.array(of: 1...5), word.array(of: 0...3), Gen.element(of: RestartPolicy.allCases),
            Gen.int(in: 1...1 << 30), word.array(of: 0...3), word.array(of: 0...3)
        ) { argv, env, policy, size, watched, ignored in
            var arguments = SupervisorArguments(directory: "/tmp/x", name: "svc", argv: argv)
            arguments.environment = env.map { "K\($0.count)=\($0)" }
            arguments.policies.watch = watched
            arguments.policies.watchIgnore = ignored
            // A value that looks like an option is still the value.
            if ignored.count == 2 { arguments.policies.watch += ["--", "--watch"] }
            arguments.restart = policy!
            arguments.logMaxSize = size
            arguments.restarts = size % 7
            #expect((try? SupervisorArguments(parsing: arguments.commandLine)) == arguments)
        }
    }

    @Test("bad supervisor command lines say what is wrong")
    func supervisorArgumentErrors() {
        let cases: [([String], String)] = [
            (["--name", "a", "--", "x"], "--dir is required"),
            (["--dir", "/d", "--name", "../a", "--", "x"], "valid name"),
            (["--dir", "/d", "--name", "a"], "a program is required"),
            (["--dir", "/d", "--name", "a", "--restart", "maybe", "--", "x"], "never, on-failure, always"),
            (["--dir", "/d", "--name", "a", "--log-keep", "-1", "--", "x"], "from 0 to 1000"),
            (["--dir", "/d", "--name", "a", "--env", "NOEQ", "--", "x"], "KEY=VALUE"),
            (["--bogus"], "unknown option"),
            (["--dir"], "needs a value"),
            (["--dir", "/d", "--name", "a", "--watch", "", "--", "x"], "--watch needs a path"),
            (["--dir", "/d", "--name", "a", "--watch-ignore", "", "--", "x"], "--watch-ignore needs a glob"),
            (["--dir", "/d", "--name", "a", "--watch"], "needs a value"),
        ]
        for (line, message) in cases {
            do {
                _ = try SupervisorArguments(parsing: line)
                Issue.record("accepted \(line)")
            } catch {
                #expect(error.message.contains(message), "\(line): \(error.message)")
            }
        }
    }

    @Test("control commands round trip and unknown ones are refused")
    func controlCommands() async {
        await propertyCheck(input: Gen.int(in: 0...1_000_000)) { grace in
            let command = ControlCommand.stop(graceMilliseconds: grace)
            #expect(ControlCommand(line: Substring(command.line.dropLast())) == command)
        }
        for command in [ControlCommand.closeInput, .signal(2), .restart(graceMilliseconds: 5)] {
            #expect(ControlCommand(line: Substring(command.line.dropLast())) == command)
        }
        for bad in ["", "stop", "stop -1", "start 5", "stop 1 2", "eof 1", "eof", "signal 65"] {
            #expect(ControlCommand(line: Substring(bad)) == nil)
        }
    }

    @Test("JSON string escaping produces text Foundation reads back")
    func jsonEscaping() async {
        await propertyCheck(input: Self.anyCharacter.array(of: 0...50), Gen.uint8(in: 0...255).array(of: 0...20)) {
            characters, controls in
            let text = String(characters.compactMap { $0 }) + String(decoding: controls.map { $0 & 0x1F }, as: UTF8.self)
            var json = ""
            JSONText.appendString(text, to: &json)
            let decoded = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) as? String
            #expect(decoded == text)
        }
    }
}
