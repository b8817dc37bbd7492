"""One module per command group; each is loaded only when its group is used."""
