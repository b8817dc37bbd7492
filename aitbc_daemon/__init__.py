"""The AITBC daemon: the one process per user that holds and writes all state.

`__version__` is the package version; `API_VERSION` is the version of the HTTP
contract under `/v1/`. They move independently: a CLI and a daemon from
different releases can still talk while the API version matches, and the CLI
warns when it does not.
"""

__version__ = "0.1.0"
API_VERSION = "1"
API_VERSION_HEADER = "x-aitbc-api"  # on every response, so clients notice a mismatch for free
