import RunitFront
import RunitKit

Platform.occupyClosedStandardDescriptors()

// The plain `list`, `status`, `stop` and `start` here, without Foundation; anything else in the
// full CLI (`runit-cli`).
Front.main()
