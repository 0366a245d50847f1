import RunitFront

// `list` and `status` here, without Foundation; anything else in the full CLI (`runit-cli`).
Front.main()
