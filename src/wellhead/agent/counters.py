"""Counter hygiene: deltas of cumulative counters across resets, wraparound, glitches and gaps.

- a reading of -1 (missing, or a "not supported" sentinel mapped by the collector) adds nothing and keeps
  the last good value, so the next good reading integrates across the gap;
- a counter near its maximum that comes back small wrapped around;
- a counter that comes back small otherwise was reset (driver reload): the new value is the delta;
- a counter that goes backwards to a value that is not small is a glitch: that reading is rejected
  (reported as missing), never counted as zero or as a huge delta.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass
class CounterTracker:
    """Tracks one cumulative counter per channel (e.g. per GPU)."""

    channels: int
    bits: int = 63  # counters are unsigned 64-bit in NVML/DCGM; numpy int64 holds 63 bits
    reset_floor: int = 0  # a value below this after a drop is a reset, above it a glitch

    def __post_init__(self) -> None:
        self.last = np.full(self.channels, -1, dtype=np.int64)
        self.wrap_at = (1 << self.bits) - 1

    def update(self, current: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """Deltas since the last good reading, and a mask of readings rejected as glitches."""
        current = current.astype(np.int64, copy=False)
        valid = current >= 0
        known = self.last >= 0
        both = valid & known
        delta = np.zeros(self.channels, dtype=np.int64)
        forward = both & (current >= self.last)
        delta[forward] = current[forward] - self.last[forward]
        back = both & (current < self.last)
        near_top = self.last > (self.wrap_at - (self.wrap_at >> 4))  # within the top 1/16 of the range
        wrapped = back & near_top
        delta[wrapped] = (self.wrap_at - self.last[wrapped]) + current[wrapped] + 1
        reset = back & ~near_top & (current <= self.reset_floor)
        delta[reset] = current[reset]
        glitch = back & ~near_top & ~reset
        accept = valid & ~glitch
        self.last[accept] = current[accept]
        return delta, glitch


@dataclass
class ScalarCounter:
    """The same hygiene for a single counter (a facility meter)."""

    bits: int = 32  # SunSpec acc32
    reset_floor: int = 0

    def __post_init__(self) -> None:
        self._tracker = CounterTracker(1, bits=self.bits, reset_floor=self.reset_floor)

    def update(self, value: int | None) -> tuple[int, bool]:
        """(delta, rejected)."""
        delta, glitch = self._tracker.update(np.array([-1 if value is None else value], dtype=np.int64))
        return int(delta[0]), bool(glitch[0])
