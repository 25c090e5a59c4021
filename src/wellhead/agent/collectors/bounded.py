"""Collector reads off the sampling loop, each within a deadline of its own.

Every collector of a sample is read at once, each on a daemon thread of its own (a hung read never holds the
process's exit either); the loop waits for each until its
deadline (the collector's own pass deadline or read timeout, plus a second's grace, never past the sample
interval), then counts a read not done as missing. A collector whose read is still running when the next sample
comes is not read again (one read in flight per collector: a hung BMC or meter holds one thread, never the
loop); its late reading is dropped (the sample it belonged to is closed)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, wait

from wellhead.agent.collectors import Collector, CollectorError, Reading

GRACE = 1.0  # seconds beyond a collector's own deadline
DEFAULT_DEADLINE = 5.0  # for a collector that names none


def deadline_of(collector: Collector, interval: float) -> float:
    own = getattr(collector, "deadline", None) or getattr(collector, "timeout", None) or DEFAULT_DEADLINE
    return min(float(own) + GRACE, interval)


class BoundedReads:
    def __init__(self, collectors: list[Collector], interval: float) -> None:
        self.collectors = collectors
        self.deadlines = [deadline_of(c, interval) for c in collectors]
        self._running: dict[int, Future[Reading]] = {}  # by position: two collectors may share a name

    def read_all(self, ts: int) -> list[Reading | CollectorError]:
        """Each collector's reading at `ts`, or the CollectorError that stands for it, in the collectors' order."""
        started = time.monotonic()
        out: dict[int, Reading | CollectorError] = {}
        for i, c in enumerate(self.collectors):
            previous = self._running.get(i)
            if previous is not None and not previous.done():
                out[i] = CollectorError(f"{c.name}: still reading an earlier sample, past its deadline")
            else:
                self._running[i] = _start(c, ts)
        for i in sorted(range(len(self.collectors)), key=lambda k: self.deadlines[k]):
            if i in out:
                continue
            future = self._running[i]
            wait([future], timeout=max(0.0, started + self.deadlines[i] - time.monotonic()))
            if not future.done():
                out[i] = CollectorError(f"{self.collectors[i].name}: no reading within {self.deadlines[i]:g} s")
                continue
            del self._running[i]
            try:
                out[i] = future.result()
            except CollectorError as exc:
                out[i] = exc
        return [out[i] for i in range(len(self.collectors))]


def _start(collector: Collector, ts: int) -> Future[Reading]:
    future: Future[Reading] = Future()

    def read() -> None:
        try:
            future.set_result(collector.collect(ts))
        except BaseException as exc:  # handed to the loop, which raises what is not a CollectorError
            future.set_exception(exc)

    threading.Thread(target=read, name=f"collector-{collector.name}", daemon=True).start()
    return future
