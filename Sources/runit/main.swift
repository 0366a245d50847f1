print("runit")
