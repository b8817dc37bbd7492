"""A test plugin detector that raises on every block with events: the monitor must isolate it."""

from __future__ import annotations


class Broken:
    name = "broken"

    def detect(self, window, block):
        raise RuntimeError("broken on purpose")


detector = Broken()
