"""sqlite-utils, imported without the pandas and numpy it pulls in when they are installed.

sqlite-utils imports both at module load only for its DataFrame helpers,
which the daemon never uses; that costs about 250 ms and 60 MB at every
daemon start (measured with bench/daemon_startup.py). Hiding them for the
duration of that one import makes sqlite-utils take its "not installed" path.
Code that needs pandas later imports it normally: nothing stays hidden.
"""

from __future__ import annotations

import sys
from types import ModuleType

_OPTIONAL_HEAVY = ("pandas", "numpy")


def _load_sqlite_utils() -> ModuleType:
    hidden = [name for name in _OPTIONAL_HEAVY if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import name` now raises ImportError
    try:
        import sqlite_utils
    finally:
        for name in hidden:
            if sys.modules.get(name) is None:
                del sys.modules[name]
    return sqlite_utils


sqlite_utils = _load_sqlite_utils()
