"""The agent's durable state: one SQLite file (WAL, synchronous=FULL).

- `ticks`: every sampled tick (compressed arrays), keyed by time, so a restarted agent aggregates an epoch
  from what was sampled before the crash, and a replayed tick is never counted twice;
- `reports`: the outbox, one row per (asset, epoch), idempotent: measured -> observed (own observation signed)
  -> cosigned (a report co-signed) -> submitted -> confirmed (or refused / abandoned);
- `observations`: this agent's and its peers' signed observations, one per observer and epoch;
- `proposals` and `cosignatures`: the reports built from them, by digest, and who co-signed each;
- `submissions`: every transaction sent, with its nonce, so a restart knows what may still be in flight;
- `disagreements`: a checker's recorded differences with the site's report.
"""

from __future__ import annotations

import json
import sqlite3
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from wellhead.agent.samples import GpuTick, MeterTick, Tick
from wellhead.agent.store_evidence import EvidenceLedger
from wellhead.agent.store_schema import SCHEMA, SCHEMA_VERSION


class OutboxStatus(StrEnum):
    """Where a report stands in the outbox, from measurement to the chain."""

    MEASURED = "measured"  # aggregated from the samples; not yet signed
    OBSERVED = "observed"  # our observation signed and served to the peers
    COSIGNED = "cosigned"  # we co-signed a report of the peers' observations; submittable once it holds f + 1
    SUBMITTED = "submitted"  # a report of the epoch is on its way to the chain (ours or a peer's)
    CONFIRMED = "confirmed"  # on chain at the confirmation depth
    REFUSED = "refused"  # the peers' reports disagree with our measurement: we co-signed none
    ABANDONED = "abandoned"  # past the report deadline, or refused by the oracle as too late


OPEN_STATUSES = (OutboxStatus.MEASURED, OutboxStatus.OBSERVED, OutboxStatus.COSIGNED, OutboxStatus.SUBMITTED)


@dataclass(frozen=True)
class StoredObservation:
    observer: int
    signer: str
    claim: dict[str, object]  # the ObservationClaim as JSON
    signature: str


@dataclass
class OutboxRow:
    asset_id: int
    epoch: int
    status: OutboxStatus
    report: dict[str, object] | None
    measurement: dict[str, object] | None
    evidence_hash: str | None
    attempts: int
    next_attempt_at: float
    last_error: str | None


class AgentStore(EvidenceLedger):
    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, timeout=30)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self._migrate()
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _migrate(self) -> None:
        """Version 2 added the mining and generator meters' counters to each tick. Version 3 replaced whole
        signed reports by signed observations: an epoch signed under version 2 is signed again as an
        observation (its measured values are kept)."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(ticks)")}
        for column in ("mining_wh", "generator_wh"):
            if column not in columns:
                self.db.execute(f"ALTER TABLE ticks ADD COLUMN {column} INTEGER")
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is not None and int(row[0]) < 3:
            self.db.execute("UPDATE reports SET status = 'measured' WHERE status = 'signed'")
        # version 4 added the evidence table (created above): files written before it are not tracked

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes that land together or not at all."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def delete(self, key: str) -> None:
        self.db.execute("DELETE FROM meta WHERE key = ?", (key,))

    # ---------------------------------------------------------------- meta
    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # ---------------------------------------------------------------- ticks
    def add_tick(self, tick: Tick) -> bool:
        """Stores a tick; False if one at that time exists already (a replay)."""
        data = None
        gpus = 0
        if tick.gpus is not None:
            g = tick.gpus
            gpus = g.gpus
            data = zlib.compress(
                g.power_w.astype(np.float32).tobytes()
                + g.energy_mj.astype(np.int64).tobytes()
                + g.util_pct.astype(np.int16).tobytes()
                + g.health.astype(np.int8).tobytes(),
                level=1,
            )
        meter = tick.meter
        cur = self.db.execute(
            "INSERT OR IGNORE INTO ticks (ts, gpus, data, meter_power, meter_wh, mining_wh, generator_wh)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                tick.ts,
                gpus,
                data,
                None if meter is None else meter.power_w,
                None if meter is None else meter.energy_wh,
                None if tick.mining is None else tick.mining.energy_wh,
                None if tick.generator is None else tick.generator.energy_wh,
            ),
        )
        return cur.rowcount == 1

    def ticks(self, start: int, end: int) -> Iterator[Tick]:
        rows = self.db.execute(
            "SELECT ts, gpus, data, meter_power, meter_wh, mining_wh, generator_wh FROM ticks"
            " WHERE ts >= ? AND ts < ? ORDER BY ts",
            (start, end),
        )
        for ts, gpus, data, meter_power, meter_wh, mining_wh, generator_wh in rows:
            tick = Tick(ts=int(ts))
            if data is not None:
                raw = zlib.decompress(data)
                g = int(gpus)
                power = np.frombuffer(raw, np.float32, g, 0).astype(np.float64)
                energy = np.frombuffer(raw, np.int64, g, 4 * g).copy()
                util = np.frombuffer(raw, np.int16, g, 12 * g).astype(np.int64)
                health = np.frombuffer(raw, np.int8, g, 14 * g).copy()
                tick.gpus = GpuTick(power_w=power, energy_mj=energy, util_pct=util, health=health)
            if meter_power is not None or meter_wh is not None:
                tick.meter = MeterTick(power_w=meter_power, energy_wh=None if meter_wh is None else int(meter_wh))
            if mining_wh is not None:
                tick.mining = MeterTick(power_w=None, energy_wh=int(mining_wh))
            if generator_wh is not None:
                tick.generator = MeterTick(power_w=None, energy_wh=int(generator_wh))
            yield tick

    def last_tick_ts(self) -> int | None:
        row = self.db.execute("SELECT MAX(ts) FROM ticks").fetchone()
        return None if row[0] is None else int(row[0])

    def prune_ticks(self, before: int) -> None:
        self.db.execute("DELETE FROM ticks WHERE ts < ?", (before,))

    # ---------------------------------------------------------------- outbox
    def upsert_report(
        self,
        asset_id: int,
        epoch: int,
        status: OutboxStatus,
        report: dict[str, object] | None = None,
        measurement: dict[str, object] | None = None,
        evidence_hash: str | None = None,
    ) -> None:
        now = time.time()
        self.db.execute(
            """INSERT INTO reports (asset_id, epoch, status, report, measurement, evidence_hash, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (asset_id, epoch) DO UPDATE SET status = excluded.status,
                 report = COALESCE(excluded.report, report),
                 measurement = COALESCE(excluded.measurement, measurement),
                 evidence_hash = COALESCE(excluded.evidence_hash, evidence_hash), updated_at = excluded.updated_at""",
            (asset_id, epoch, status, _dump(report), _dump(measurement), evidence_hash, now, now),
        )

    def set_status(self, asset_id: int, epoch: int, status: OutboxStatus, error: str | None = None) -> None:
        self.db.execute(
            "UPDATE reports SET status = ?, last_error = ?, updated_at = ? WHERE asset_id = ? AND epoch = ?",
            (status, error, time.time(), asset_id, epoch),
        )

    def backoff(self, asset_id: int, epoch: int, error: str, base: float = 1.0, cap: float = 300.0) -> None:
        row = self.report(asset_id, epoch)
        attempts = (row.attempts if row else 0) + 1
        delay = min(cap, base * 2 ** (attempts - 1))
        self.db.execute(
            "UPDATE reports SET attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ? "
            "WHERE asset_id = ? AND epoch = ?",
            (attempts, time.time() + delay, error, time.time(), asset_id, epoch),
        )

    def report(self, asset_id: int, epoch: int) -> OutboxRow | None:
        row = self.db.execute(
            "SELECT asset_id, epoch, status, report, measurement, evidence_hash, attempts, next_attempt_at, "
            "last_error FROM reports WHERE asset_id = ? AND epoch = ?",
            (asset_id, epoch),
        ).fetchone()
        return None if row is None else _row(row)

    def open_reports(self) -> list[OutboxRow]:
        rows = self.db.execute(
            "SELECT asset_id, epoch, status, report, measurement, evidence_hash, attempts, next_attempt_at, "
            "last_error FROM reports WHERE status IN ('measured', 'observed', 'cosigned', 'submitted') ORDER BY epoch"
        ).fetchall()
        return [_row(r) for r in rows]

    def depth(self) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM reports WHERE status IN ('measured', 'observed', 'cosigned', 'submitted')"
        ).fetchone()
        return int(row[0])

    def oldest_pending_created_at(self) -> float | None:
        row = self.db.execute(
            "SELECT MIN(created_at) FROM reports WHERE status IN ('measured', 'observed', 'cosigned', 'submitted')"
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def last_epoch(self, status: OutboxStatus | None = None) -> int | None:
        if status is None:
            row = self.db.execute("SELECT MAX(epoch) FROM reports").fetchone()
        else:
            row = self.db.execute("SELECT MAX(epoch) FROM reports WHERE status = ?", (status,)).fetchone()
        return None if row[0] is None else int(row[0])

    def created_at(self, asset_id: int, epoch: int) -> float | None:
        row = self.db.execute(
            "SELECT created_at FROM reports WHERE asset_id = ? AND epoch = ?", (asset_id, epoch)
        ).fetchone()
        return None if row is None else float(row[0])

    def with_status(self, asset_id: int, status: OutboxStatus) -> list[int]:
        rows = self.db.execute(
            "SELECT epoch FROM reports WHERE asset_id = ? AND status = ? ORDER BY epoch", (asset_id, status)
        ).fetchall()
        return [int(e) for (e,) in rows]

    # ---------------------------------------------------------------- observations and reports
    def add_observation(
        self, asset_id: int, epoch: int, observer: int, signer: str, claim: dict[str, object], signature: str
    ) -> None:
        """Keeps the first observation seen of each observer: a second, different one is an equivocation
        (kept out, and provable on chain with both)."""
        self.db.execute(
            "INSERT OR IGNORE INTO observations (asset_id, epoch, observer, signer, claim, signature, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (asset_id, epoch, observer, signer, json.dumps(claim, sort_keys=True), signature, time.time()),
        )

    def observations(self, asset_id: int, epoch: int) -> list[StoredObservation]:
        rows = self.db.execute(
            "SELECT observer, signer, claim, signature FROM observations WHERE asset_id = ? AND epoch = ? "
            "ORDER BY observer",
            (asset_id, epoch),
        ).fetchall()
        return [StoredObservation(int(o), str(s), json.loads(c), str(sig)) for o, s, c, sig in rows]

    def observation_of(self, asset_id: int, epoch: int, signer: str) -> StoredObservation | None:
        return next((o for o in self.observations(asset_id, epoch) if o.signer == signer), None)

    def add_proposal(self, asset_id: int, epoch: int, digest: str, report: dict[str, object]) -> bool:
        """False if that report (digest) was known already."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO proposals (asset_id, epoch, digest, report, created_at) VALUES (?, ?, ?, ?, ?)",
            (asset_id, epoch, digest, json.dumps(report, sort_keys=True), time.time()),
        )
        return cur.rowcount == 1

    def proposals(self, asset_id: int, epoch: int) -> list[tuple[str, dict[str, object]]]:
        rows = self.db.execute(
            "SELECT digest, report FROM proposals WHERE asset_id = ? AND epoch = ? ORDER BY created_at",
            (asset_id, epoch),
        ).fetchall()
        return [(str(d), json.loads(r)) for d, r in rows]

    def add_cosignature(self, asset_id: int, epoch: int, digest: str, signer: str, signature: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO cosignatures (asset_id, epoch, digest, signer, signature, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (asset_id, epoch, digest, signer, signature, time.time()),
        )

    def delete_cosignatures(self, asset_id: int, epoch: int, signer: str) -> None:
        self.db.execute(
            "DELETE FROM cosignatures WHERE asset_id = ? AND epoch = ? AND signer = ?", (asset_id, epoch, signer)
        )

    def cosignatures(self, asset_id: int, epoch: int, digest: str) -> list[tuple[str, str]]:
        rows = self.db.execute(
            "SELECT signer, signature FROM cosignatures WHERE asset_id = ? AND epoch = ? AND digest = ? "
            "ORDER BY received_at",
            (asset_id, epoch, digest),
        ).fetchall()
        return [(str(s), str(sig)) for s, sig in rows]

    # ---------------------------------------------------------------- submissions
    def add_submission(self, tx_hash: str, asset_id: int, epoch: int, nonce: int, sender: str, raw: str) -> None:
        """Recorded before the transaction is broadcast: after a crash the exact same transaction
        (same nonce) can be broadcast again, so a report is never paid for twice."""
        self.db.execute(
            "INSERT OR REPLACE INTO submissions (tx_hash, asset_id, epoch, nonce, sender, raw, sent_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tx_hash, asset_id, epoch, nonce, sender, raw, time.time()),
        )

    def submissions(self, asset_id: int, epoch: int) -> list[tuple[str, int, str, float]]:
        rows = self.db.execute(
            "SELECT tx_hash, nonce, raw, sent_at FROM submissions WHERE asset_id = ? AND epoch = ? ORDER BY sent_at",
            (asset_id, epoch),
        ).fetchall()
        return [(str(h), int(n), str(r), float(t)) for h, n, r, t in rows]

    # ---------------------------------------------------------------- disagreements
    def add_disagreement(self, asset_id: int, epoch: int, field: str, ours: int, theirs: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO disagreements (asset_id, epoch, field, ours, theirs, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (asset_id, epoch, field, ours, theirs, time.time()),
        )

    def disagreements(self, asset_id: int) -> list[tuple[int, str, int, int]]:
        rows = self.db.execute(
            "SELECT epoch, field, ours, theirs FROM disagreements WHERE asset_id = ? ORDER BY epoch, field",
            (asset_id,),
        ).fetchall()
        return [(int(e), str(f), int(o), int(t)) for e, f, o, t in rows]


def _dump(value: dict[str, object] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _row(row: tuple[object, ...]) -> OutboxRow:
    a, e, status, report, measurement, evidence, attempts, next_at, error = row
    return OutboxRow(
        asset_id=int(a),  # type: ignore[call-overload]
        epoch=int(e),  # type: ignore[call-overload]
        status=OutboxStatus(str(status)),
        report=None if report is None else json.loads(str(report)),
        measurement=None if measurement is None else json.loads(str(measurement)),
        evidence_hash=None if evidence is None else str(evidence),
        attempts=int(attempts),  # type: ignore[call-overload]
        next_attempt_at=float(next_at),  # type: ignore[arg-type]
        last_error=None if error is None else str(error),
    )
