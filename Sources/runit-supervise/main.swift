import RunitKit
import RunitSupervisor

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Arguments and `--env` values are passed on as the bytes they were given (``ByteText``).
exit(Supervisor.main(ByteText.arguments))
