import Dispatch
import RunitCLI
import RunitKit

Platform.occupyClosedStandardDescriptors()

// The plain forms of list, status, stop and start never get here: the `runit` front runs them.
Task { await Runit.run() }
dispatchMain()
