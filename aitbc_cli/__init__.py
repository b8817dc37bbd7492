"""The `aitbc` command line: a thin Typer layer over `aitbc_daemon.client`."""
