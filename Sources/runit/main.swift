import RunitCLI

Runit.runFastPathIfPossible()
await Runit.run()
