import RunitCLI

await Runit.run()
