// swift-tools-version: 6.1
import PackageDescription

/// This manifest's folder: the linker does not run in it.
let packageRoot = String(#filePath.dropLast("/Package.swift".count))
/// In a release, each function of the modules the `runit` front runs in a section of its own,
/// so that its link can put the ones it runs side by side.
let functionSections: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-function-sections"], .when(platforms: [.linux], configuration: .release))
]
/// A static executable; its release linked with lld, the functions it runs most laid out side by
/// side as `Sources/TARGET/symbol-order.txt` lists them (`Scripts/symbol-order` writes it).
func staticExecutable(_ target: String) -> [LinkerSetting] {
    [
        .unsafeFlags(["-static-executable"], .when(platforms: [.linux])),
        .unsafeFlags(
            [
                "-use-ld=lld", "-Xlinker", "--symbol-ordering-file=\(packageRoot)/Sources/\(target)/symbol-order.txt",
                "-Xlinker", "--no-warn-symbol-ordering",
            ],
            .when(platforms: [.linux], configuration: .release)),
    ]
}

let package = Package(
    name: "runit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "runit", targets: ["runit"]),
        .executable(name: "runit-cli", targets: ["runit-cli"]),
        .executable(name: "runit-supervise", targets: ["runit-supervise"]),
        .executable(name: "runit-mcp", targets: ["runit-mcp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(
            name: "CRunitSystem",
            cSettings: [.unsafeFlags(["-ffunction-sections"], .when(platforms: [.linux], configuration: .release))]),
        .target(name: "RunitKit", dependencies: ["CRunitSystem"], swiftSettings: functionSections),
        .target(name: "RunitSupervisor", dependencies: ["RunitKit"], swiftSettings: functionSections),
        .executableTarget(
            name: "runit-supervise",
            dependencies: ["RunitSupervisor"],
            exclude: ["symbol-order.txt"],
            swiftSettings: functionSections,
            // Fully static: one copy runs per managed process. Without Foundation and
            // without the dynamic loader's relocations, each copy keeps about 200 KB of
            // private memory; its text is shared by all, and the fewer pages of it each
            // touches, the less each counts. (The linker warns that the Swift runtime's
            // optional dlopen needs glibc at run time; it is never called here.)
            linkerSettings: staticExecutable("runit-supervise")
        ),
        // The state files' read side, Foundation-free: the `runit` front starts on it.
        .target(name: "RunitState", dependencies: ["CRunitSystem", "RunitKit"], swiftSettings: functionSections),
        .target(name: "RunitCore", dependencies: ["RunitState", "RunitKit"]),
        // The project file (`runit.yaml`, `Procfile`, `.env`): the CLI and the MCP server read it;
        // the supervisor never links it.
        .target(name: "RunitProject", dependencies: ["RunitCore", "RunitKit", .product(name: "Yams", package: "Yams")]),
        .target(
            name: "RunitMCP",
            dependencies: [
                "RunitCore", "RunitKit", "RunitProject", .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `runit top`, the live view: a client like the others, on the same files.
        .target(name: "RunitTop", dependencies: ["RunitCore", "RunitKit"]),
        // `list` and `status` as text and JSON, and the front that runs them or execs the full CLI.
        .target(name: "RunitFront", dependencies: ["RunitState", "RunitKit"], swiftSettings: functionSections),
        .target(
            name: "RunitCLI",
            dependencies: [
                "RunitCore", "RunitFront", "RunitKit", "RunitProject", "RunitTop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "runit",
            dependencies: ["RunitFront", "RunitKit"],
            exclude: ["symbol-order.txt"],
            swiftSettings: functionSections,
            // Static and Foundation-free, as the supervisor: `runit list` and `runit status NAME`
            // start in under a millisecond; every other command is `exec`'d in `runit-cli`. The
            // functions of those commands side by side, they touch fewer pages of text.
            linkerSettings: staticExecutable("runit")
        ),
        .executableTarget(
            name: "runit-cli",
            dependencies: ["RunitCLI", "RunitKit"],
            // Static Swift libraries: every command starts in about 2 ms instead of 5 to 8 ms
            // spent loading shared libraries. The MCP server, which needs FoundationNetworking,
            // is its own executable (`runit mcp` execs it), so the CLI does not carry it.
            linkerSettings: [
                .unsafeFlags(
                    [
                        "-static-stdlib", "-lCoreFoundation", "-l_FoundationICU", "-l_FoundationCShims",
                        "-l_FoundationCollections", "-lswiftSynchronization",
                        "-Xclang-linker", "-no-pie",
                    ],
                    .when(platforms: [.linux]))
            ]
        ),
        .executableTarget(name: "runit-mcp", dependencies: ["RunitMCP", "RunitCore"]),
        .testTarget(
            name: "RunitCoreTests",
            dependencies: [
                "RunitCore", "RunitState", "RunitKit", "RunitSupervisor",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "RunitCLITests",
            dependencies: [
                "RunitCLI", "RunitCore", "RunitKit", .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(name: "RunitTopTests", dependencies: ["RunitTop", "RunitCore", "RunitKit"]),
        .testTarget(
            name: "RunitProjectTests",
            dependencies: [
                "RunitProject", "RunitCore", "RunitKit", .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(name: "RunitMCPTests", dependencies: ["RunitMCP", "RunitCore", "RunitKit"]),
    ]
)
