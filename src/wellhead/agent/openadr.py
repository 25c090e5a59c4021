"""Grid curtailment events from an OpenADR 2.0b VTN, received by the site agent's VEN (openleadr).

The VEN talks TLS to the VTN and accepts only messages signed with the VTN's certificate (its fingerprint is
configured: openleadr refuses the rest). Each event is checked here before the agent opts in: it must target
this VEN or site, last 1 s to a day, not be over already, and not overlap an event already accepted. An
accepted event is kept in the agent's store, attested on chain (GridLedger.declareEvent, signed by the agent's
key) and the configured curtailment command runs; the epoch reports then carry the curtailed share of each
epoch and the event's id.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import subprocess
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from wellhead.chain.enums import GridEventSource
from wellhead.chain.grid import MAX_EVENT_DURATION, GridEvent, grid_event_id
from wellhead.core.constants import BPS
from wellhead.core.errors import ContractRevertError, WellheadError

log = logging.getLogger("wellhead.agent.openadr")


class GridEventRejected(WellheadError):
    """A grid event the agent will not act on; the message says why."""


@dataclass(frozen=True)
class ReceivedEvent:
    program_id: str  # "<vtn id>/<event id>": unique per VTN
    starts_at: int
    ends_at: int
    payload_hash: bytes  # sha-256 of the event as received (canonical JSON), kept as evidence

    @property
    def event_id(self) -> bytes:
        return grid_event_id(self.program_id)

    def grid_event(self, asset_id: int) -> GridEvent:
        return GridEvent(
            assetId=asset_id,
            eventId=self.event_id,
            source=GridEventSource.OPEN_ADR,
            startsAt=self.starts_at,
            endsAt=self.ends_at,
            payloadHash=self.payload_hash,
        )

    def overlap(self, start: int, end: int) -> int:
        """Seconds of [start, end) inside the event."""
        return max(0, min(end, self.ends_at) - max(start, self.starts_at))

    def to_json(self) -> dict[str, object]:
        return {
            "program_id": self.program_id,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "payload_hash": self.payload_hash.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReceivedEvent:
        return cls(
            data["program_id"], int(data["starts_at"]), int(data["ends_at"]), bytes.fromhex(data["payload_hash"])
        )


def canonical(event: dict[str, Any]) -> bytes:
    return json.dumps(event, default=str, sort_keys=True, separators=(",", ":")).encode()


def parse_event(
    event: dict[str, Any],
    vtn_id: str,
    ven_id: str,
    resource_id: str | None,
    now: float,
    accepted: Iterable[ReceivedEvent] = (),
) -> ReceivedEvent:
    """The event as the agent acts on it; GridEventRejected (with the reason) if it must not."""
    descriptor = event.get("event_descriptor") or {}
    name = str(descriptor.get("event_id") or "")
    if not name:
        raise GridEventRejected("grid event without an event id")
    targets = event.get("targets") or []
    ours = [t for t in targets if t.get("ven_id") == ven_id or (resource_id and t.get("resource_id") == resource_id)]
    if targets and not ours:
        raise GridEventRejected(f"grid event {name} is for another site (targets {targets})")
    period = event.get("active_period") or {}
    start, duration = period.get("dtstart"), period.get("duration")
    if not isinstance(start, datetime) or duration is None:
        raise GridEventRejected(f"grid event {name} has no active period")
    starts_at = int(start.timestamp())
    ends_at = starts_at + int(duration.total_seconds())
    if not 0 < ends_at - starts_at <= MAX_EVENT_DURATION:
        raise GridEventRejected(f"grid event {name} lasts {ends_at - starts_at} s; 1 s to {MAX_EVENT_DURATION} s")
    if ends_at <= now:
        raise GridEventRejected(f"grid event {name} expired at {ends_at}")
    received = ReceivedEvent(f"{vtn_id}/{name}", starts_at, ends_at, hashlib.sha256(canonical(event)).digest())
    for other in accepted:
        if other.program_id == received.program_id:
            return other  # the VTN repeats events on every poll
        if received.overlap(other.starts_at, other.ends_at):
            raise GridEventRejected(f"grid event {name} overlaps {other.program_id}")
    return received


def curtailment_in(events: Iterable[ReceivedEvent], start: int, end: int) -> tuple[int, bytes]:
    """The share of [start, end) under the event covering most of it (bps, rounded down), and its id."""
    best: tuple[int, bytes] = (0, b"\x00" * 32)
    for e in events:
        bps = e.overlap(start, end) * BPS // (end - start)
        if bps > best[0]:
            best = (bps, e.event_id)
    return best


class Ven:
    """An openleadr VEN on its own event loop thread; `on_event` decides (returns 'optIn' or 'optOut')."""

    def __init__(
        self,
        vtn_url: str,
        ven_name: str,
        ven_id: str | None,
        cert: str,
        key: str,
        ca_file: str,
        vtn_fingerprint: str,
        on_event: Callable[[dict[str, Any]], str],
    ) -> None:
        self._args = dict(
            ven_name=ven_name,
            vtn_url=vtn_url,
            ven_id=ven_id,
            cert=cert,
            key=key,
            ca_file=ca_file,
            vtn_fingerprint=vtn_fingerprint,
            show_fingerprint=False,
        )
        self._on_event = on_event
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="openadr-ven", daemon=True)
        self._client: Any = None

    def start(self) -> None:
        from openleadr import OpenADRClient  # type: ignore[import-untyped]

        self._thread.start()

        async def run() -> None:
            self._client = OpenADRClient(**self._args)
            self._client.add_handler("on_event", self._handle)
            await self._client.run()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    async def _handle(self, event: dict[str, Any]) -> str:
        return await asyncio.get_running_loop().run_in_executor(None, self._on_event, event)

    @property
    def registered(self) -> bool:
        return self._client is not None and self._client.registration_id is not None

    def stop(self) -> None:
        if self._client is not None:
            asyncio.run_coroutine_threadsafe(self._client.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


class CurtailmentDesk:
    """What the agent does with a grid event: check it, attest it on chain, curtail, remember it.

    Accepted events are kept in memory and in a JSON file beside the agent's store (rewritten atomically on
    each new event, read once at start), since the VEN calls in from its own thread.
    """

    def __init__(
        self,
        path: Path,
        asset_id: int,
        vtn_id: str,
        ven_id: str,
        resource_id: str | None,
        sign: Callable[[GridEvent], bytes],
        declare: Callable[[GridEvent, bytes], None],
        command: list[str],
        clock: Callable[[], float],
    ) -> None:
        self.path = path
        self.asset_id = asset_id
        self.vtn_id, self.ven_id, self.resource_id = vtn_id, ven_id, resource_id
        self._sign, self._declare, self._command, self._clock = sign, declare, command, clock
        self._lock = threading.Lock()
        self.rejected: list[str] = []
        stored = json.loads(path.read_text()) if path.exists() else []
        self._events = [ReceivedEvent.from_json(e) for e in stored]

    def events(self) -> list[ReceivedEvent]:
        with self._lock:
            return list(self._events)

    def on_event(self, event: dict[str, Any]) -> str:
        with self._lock:
            known = self._events
            try:
                received = parse_event(event, self.vtn_id, self.ven_id, self.resource_id, self._clock(), known)
            except GridEventRejected as exc:
                return self._refuse(str(exc))
            if received in known:
                return "optIn"
            grid_event = received.grid_event(self.asset_id)
            try:
                self._declare(grid_event, self._sign(grid_event))
            except ContractRevertError as exc:
                # declared before a restart (the VTN repeats its events), or by another agent of the site
                if exc.error != "GridEventExists":
                    return self._refuse(f"grid event {received.program_id} not declared on chain: {exc}")
            except WellheadError as exc:
                return self._refuse(f"grid event {received.program_id} not declared on chain: {exc}")
            self._events = [*known, received]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps([e.to_json() for e in self._events]))
            tmp.replace(self.path)
            log.info("grid event accepted", extra=received.to_json())
            self._curtail(received)
            return "optIn"

    def _refuse(self, reason: str) -> str:
        self.rejected.append(reason)
        log.warning("grid event refused", extra={"reason": reason})
        return "optOut"

    def _curtail(self, e: ReceivedEvent) -> None:
        if not self._command:
            return
        env = {  # a minimal environment: never the agent's own (its keystore password or HSM PIN may be there)
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "WELLHEAD_EVENT_ID": e.program_id,
            "WELLHEAD_EVENT_STARTS_AT": str(e.starts_at),
            "WELLHEAD_EVENT_ENDS_AT": str(e.ends_at),
        }
        try:
            subprocess.run(self._command, env=env, check=True, timeout=60, capture_output=True)
        except (OSError, subprocess.SubprocessError) as exc:
            log.error("curtailment command failed", extra={"event": e.program_id, "error": str(exc)})
