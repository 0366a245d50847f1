import Dispatch
import RunitCLI

// The fast path runs in plain synchronous code: without an async main, a `runit list` does not
// set up the concurrency runtime's executor and dispatch's thread data (a third of its page faults).
Runit.runFastPathIfPossible()
Task { await Runit.run() }
dispatchMain()
