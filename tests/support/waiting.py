"""Waiting for something another process or thread does, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(done: Callable[[], bool], what: str, timeout: float = 60) -> float:
    """Seconds until `done()` held, polled every 0.1 s; an AssertionError naming `what` past `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if done():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
