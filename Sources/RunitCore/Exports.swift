// The read side of the state files lives in RunitState, which starts without Foundation (the
// `runit` front runs `list` and `status` on it); every client of RunitCore sees it as before.
@_exported import RunitState
