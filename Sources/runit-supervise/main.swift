import RunitSupervisor

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

exit(Supervisor.main(Array(CommandLine.arguments.dropFirst())))
