"""`python -m aitbc_cli`: the same as the `aitbc` console script (used to spawn the daemon)."""

from aitbc_cli.main import main

main()
