import ArgumentParser
import Foundation
import PropertyBased
import RunitFront
import RunitKit
import RunitState
import Testing

@testable import RunitCLI

/// `runit start NAME [options] -- PROGRAM` runs in the front, without ArgumentParser: for every
/// form it takes, it must build the very request the full CLI builds, or fail with its message.
@Suite("start in the front and in the full CLI")
struct FrontStartTests {
    static func describe(_ request: StartRequest) -> String {
        "\(request.name)|\(String(describing: request.command))|\(String(describing: request.argv))|"
            + "\(String(describing: request.cwd))|\(request.env)|\(String(describing: request.restart))|"
            + "\(String(describing: request.logMaxSize))|\(String(describing: request.logKeep))|\(request.policies == nil)|\(request.replace)|\(request.settleMillis)|"
            + "\(String(describing: request.port))|\(request.readyOnPort)|\(request.startedBy)"
    }

    /// What one side makes of `arguments`: the request, or the error's message.
    static func outcome(_ make: () throws -> StartRequest) -> String {
        do { return describe(try make()) } catch let error as RunitError { return "error: \(error.message)" } catch {
            return "other error: \(error)"
        }
    }

    static func compare(_ arguments: [String]) throws {
        let options = try #require(StartOptions.plain(arguments), "the front should run \(arguments)")
        let full = try StartCommand.parse(Array(arguments.dropFirst()))
        #expect(outcome { try options.request() } == outcome { try full.request() }, "\(arguments)")
        #expect(options.json == full.output.json, "\(arguments)")
    }

    @Test("any mix of the options the front takes, valid or not, gives the full CLI's request or error")
    func sameRequest() async throws {
        let pairs: [[String]] = [
            ["--settle", "0"], ["--settle", "1.5s"], ["--settle", "2m"], ["--settle", "soon"], ["--restart", "always"],
            ["--restart", "on-failure"], ["--restart", "sometimes"], ["--log-max-size", "64M"],
            ["--log-max-size", "10MiB"], ["--log-max-size", "huge"], ["--log-keep", "0"], ["--log-keep", "100"],
            ["--log-keep", "5000"], ["--cwd", "/tmp"], ["--cwd", "sub dir"], ["--cwd", ""], ["--port", "auto"],
            ["--port", "8080"], ["--port", "70000"], ["--replace"], ["--json"],
        ]
        let env: [[String]] = [["-e", "A=1"], ["--env", "B=two words"], ["--env", "C="], ["-e", "noequals"]]
        let program: [[String]] = [[], ["--"], ["--", "sleep", "300"], ["--", "sh", "-c", "echo --settle $0", "--json"]]
        await propertyCheck(
            input: Gen.element(of: pairs).array(of: 0...4), Gen.element(of: env).array(of: 0...3), Gen.element(of: program)
        ) { chosen, variables, tail in
            var options: [String] = []
            for pair in chosen.compactMap({ $0 }) where !options.contains(pair[0]) { options += pair }
            let arguments = ["start", "web"] + options + variables.compactMap { $0 }.flatMap { $0 } + tail!
            do { try Self.compare(arguments) } catch { Issue.record("\(arguments): \(error)") }
        }
    }

    @Test("the front leaves every other form to the full CLI")
    func othersGoToTheFullCLI() {
        for arguments in [
            ["start"], ["start", "--name", "w", "--", "true"], ["start", "w", "--command", "true"],
            ["start", "w", "--wait", "--", "true"], ["start", "--restart", "always", "w", "--", "true"],
            ["start", "w", "--settle=0", "--", "true"], ["start", "w", "--settle", "0", "--settle", "1"],
            ["start", "w", "--replace", "--replace"], ["start", "w", "--cwd", "-x", "--", "true"],
            ["start", "w", "extra", "--", "true"], ["start", "w", "--help"], ["start", "w", "--ready-port", "80"],
            ["start", "w", "--log-keep", "+3"], ["start", "w", "--log-keep", "-1"], ["start", "w", "--settle"],
            ["start", "w*", "--", "true"], ["start", "-h"], ["stop", "w", "--", "true"],
        ] {
            #expect(StartOptions.plain(arguments) == nil, "\(arguments)")
        }
    }
}
