"""The agent loop: sample -> close ended epochs -> observe -> exchange, propose and co-sign -> submit/track.

Every state change is in the SQLite store first, so the loop can be killed at any instruction and resume.

How attestors agree (wellhead.agent.attestation): every agent signs its own observation of each epoch and
serves it; it collects its peers', builds the report of all of them, and co-signs it (and any peer's report)
only if every observation is genuinely signed, its own is in it, and the medians the contract will take agree
with its own measurement within tolerance. Any agent holding f+1 co-signatures submits (the site at once,
checkers after `submit_delay`); the oracle accepts one report per epoch, and an agent that finds the report
already on chain only tracks it to its confirmation depth.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound

from wellhead.agent.aggregate import (
    Aggregation,
    EpochMeasurement,
    EpochWindow,
    aggregate,
    curtailment_compliance,
    write_evidence,
)
from wellhead.agent.attestation import (
    AttestationExchange,
    Terms,
    measured_event,
    measured_observation,
    report_differences,
)
from wellhead.agent.collectors import Collector, CollectorError, Reading
from wellhead.agent.collectors.nvml import NvmlPowerCap
from wellhead.agent.config import AgentSettings
from wellhead.agent.green import Certificate, GreenInputs, GreenValues, green_values, open_sources
from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.openadr import CurtailmentDesk, ReceivedEvent, Ven, curtailment_in
from wellhead.agent.rpc import RpcPool
from wellhead.agent.samples import GpuTick, Tick
from wellhead.agent.server import AgentServer
from wellhead.agent.signer import ReportSigner
from wellhead.agent.store import AgentStore, OutboxRow
from wellhead.chain.client import revert_from
from wellhead.chain.deployment import Deployment
from wellhead.chain.eip712 import ZERO32, ObservationClaim
from wellhead.chain.grid import GridEvent, declaration_id
from wellhead.chain.grid import digest as grid_digest
from wellhead.chain.reports import ReportStatus, StoredReport, accepted_report, attestor_stake
from wellhead.core.errors import ConfigError, ContractRevertError, RpcUnavailableError, WellheadError

log = logging.getLogger("wellhead.agent")
GPU_COLLECTORS = {"nvml", "dcgm", "simulated"}
MAX_BACKFILL_EPOCHS = 3


@dataclass(frozen=True)
class SiteTerms:
    genesis: int
    epoch_length: int
    gpus: int
    max_watts: int
    fault_tolerance: int
    attestors: tuple[str, ...]
    report_deadline: int
    challenge_window: int
    challenge_bond: int
    decimals: int  # the stablecoin's

    def bounds(self, epoch: int) -> tuple[int, int]:
        start = self.genesis + epoch * self.epoch_length
        return start, start + self.epoch_length

    def epoch_at(self, ts: int) -> int:
        return max(0, (ts - self.genesis) // self.epoch_length)


class Agent:
    def __init__(
        self,
        settings: AgentSettings,
        signer: ReportSigner,
        submitter: LocalAccount,
        collectors: list[Collector] | None = None,
    ) -> None:
        self.s = settings
        self.metrics = AgentMetrics()
        self.deployment = Deployment.load(settings.deployment)
        self.pool = RpcPool(settings.rpc_urls, self.deployment, self.metrics)
        self.store = AgentStore(settings.data_dir / "agent.sqlite")
        self.evidence_dir = settings.data_dir / "evidence"
        self.signer = signer
        self.submitter = submitter
        self._collectors = collectors
        self.collectors: list[Collector] = []
        self.terms: SiteTerms | None = None
        self.server = AgentServer(
            settings.listen.host,
            settings.listen.port,
            self.metrics,
            self.store,
            signer.address,
            self.evidence_dir,
        )
        self.grid_feed, self.earnings = open_sources(settings.green.grid_feed, settings.mining.earnings_file)
        self.curtailment: CurtailmentDesk | None = None
        self.power_cap: NvmlPowerCap | None = None
        if settings.openadr is not None and settings.openadr.curtail_power_cap_watts is not None:
            self.power_cap = NvmlPowerCap(settings.openadr.curtail_power_cap_watts)
        self.ven: Ven | None = None
        self.attestation: AttestationExchange | None = None
        self._staked_cache: tuple[float, set[str]] | None = None
        self._last_log: dict[str, float] = {}
        self._last_balance = 0.0
        self.stopping = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def run(self) -> None:
        self.server.start()
        log.info(
            "agent started",
            extra={
                "mode": self.s.mode,
                "asset": self.s.asset_id,
                "signer": self.signer.address,
                "port": self.server.port,
            },
        )
        try:
            while not self.stopping.is_set():
                started = time.monotonic()
                self.step()
                self.stopping.wait(max(0.0, self.s.poll_interval - (time.monotonic() - started)))
        finally:
            self.close()

    def close(self) -> None:
        if self.ven is not None:
            self.ven.stop()
        self.server.stop()
        for c in self.collectors:
            c.close()
        self.store.close()

    def step(self) -> None:
        """One pass of the loop. RPC outages are survived: the step ends and the next one retries."""
        try:
            if not self._ready():
                return
            now = self._now()
            self._cap_power(now)
            self.sample(now)
            self.close_epochs(now)
            self.observe(now)
            self.agree(now)
            self.submit(now)
            if self.s.challenge_on_disagreement:
                self.challenge_disagreements()
            self.refresh_metrics()
        except RpcUnavailableError as exc:
            self._warn("rpc", "all RPC URLs failing; will retry", error=str(exc))

    def _cap_power(self, now: float) -> None:
        """Holds the GPUs' NVML power cap exactly while an accepted grid event is on."""
        if self.power_cap is None or self.curtailment is None:
            return
        active = any(e.starts_at <= now < e.ends_at for e in self.curtailment.events())
        try:
            self.power_cap.apply(active)
        except CollectorError as exc:
            self._warn("power-cap", "curtailment power cap failed; will retry", error=str(exc))

    def _ready(self) -> bool:
        if self.terms is not None:
            return True
        self.terms = self.pool.call(self._load_terms)
        self.collectors = self._collectors if self._collectors is not None else build_collectors(self.s, self.terms)
        if self.store.get("next_epoch") is None:
            first = self.s.first_epoch
            if first is None:
                first = self.terms.epoch_at(int(self._now()))
            self.store.put("next_epoch", str(first))
        if self.s.openadr is not None and self.curtailment is None:
            self._start_ven()
        if self.signer.address not in self.terms.attestors:
            self._warn("attestor", "this agent's signer is not an attestor of the asset", signer=self.signer.address)
        self.attestation = AttestationExchange(
            self.s,
            self.store,
            self.signer,
            self.metrics,
            Terms(
                asset_id=self.s.asset_id,
                attestors=self.terms.attestors,
                fault_tolerance=self.terms.fault_tolerance,
                chain_id=self.deployment.chain_id,
                oracle=self.deployment.address("MetricsOracle"),
                max_gpu_energy_wh=self.terms.gpus * self.terms.max_watts * self.terms.epoch_length // 3600,
            ),
            self._coverage_bps,
            self._staked,
            self._warn,
        )
        return True

    def _start_ven(self) -> None:
        cfg = self.s.openadr
        assert cfg is not None
        ledger = self.deployment.address("GridLedger")

        def declare(event: GridEvent, signature: bytes) -> None:
            def send(w3: Web3) -> None:
                grid = self.pool.contract(w3, "GridLedger")
                self._transact(w3, grid.functions.declareEvent(event.as_tuple(), signature))

            self.pool.call(send)

        self.curtailment = CurtailmentDesk(
            path=self.s.data_dir / "grid-events.json",
            asset_id=self.s.asset_id,
            vtn_id=cfg.vtn_id,
            ven_id=cfg.ven_id,
            resource_id=cfg.resource_id,
            sign=lambda event: self.signer.sign_digest(grid_digest(event, self.deployment.chain_id, ledger)),
            declare=declare,
            command=cfg.curtail_command,
            clock=self._now,
        )
        self.ven = Ven(
            cfg.vtn_url,
            cfg.ven_name,
            cfg.ven_id,
            str(cfg.cert),
            str(cfg.key),
            str(cfg.ca_file),
            cfg.vtn_fingerprint,
            self.curtailment.on_event,
        )
        self.ven.start()

    def _load_terms(self, w3: Web3) -> SiteTerms:
        if w3.eth.chain_id != self.deployment.chain_id:
            raise ConfigError(
                f"the RPC node serves chain {w3.eth.chain_id}, the deployment is on chain {self.deployment.chain_id}"
            )
        registry = self.pool.contract(w3, "CapacityRegistry")
        t = registry.functions.terms(self.s.asset_id).call()
        if t.status == 0:
            raise ConfigError(f"asset {self.s.asset_id} is not registered on chain {self.deployment.chain_id}")
        params = registry.functions.protocolParams().call()
        attestors = tuple(registry.functions.attestors(self.s.asset_id).call())
        return SiteTerms(
            genesis=t.genesis,
            epoch_length=t.epochLength,
            gpus=t.gpuCount,
            max_watts=t.maxWattsPerGpu,
            fault_tolerance=t.faultTolerance,
            attestors=attestors,
            report_deadline=params.reportDeadline,
            challenge_window=params.challengeWindow,
            challenge_bond=params.challengeBond,
            decimals=int(self.pool.contract(w3, "Stablecoin").functions.decimals().call()),
        )

    def _now(self) -> float:
        if self.s.clock == "chain":
            ts: int = self.pool.call(lambda w3: w3.eth.get_block("latest")["timestamp"])
            return float(ts)
        return time.time()

    # ------------------------------------------------------------------ sampling
    def sample(self, now: float) -> None:
        assert self.terms is not None
        interval = self.s.sample_interval
        aligned = int(now) - int(now) % interval
        last = self.store.last_tick_ts()
        replayable = all(c.replayable for c in self.collectors)
        if replayable:
            if last is None:
                start, _ = self.terms.bounds(int(self.store.get("next_epoch") or 0))
                last = start - 2 * interval
            oldest = aligned - MAX_BACKFILL_EPOCHS * self.terms.epoch_length
            instants = range(max(last + interval, oldest), aligned + 1, interval)
        else:
            instants = range(aligned, aligned + 1) if last is None or aligned > last else range(0)
        for ts in instants:
            self.store.add_tick(self._collect(ts))

    def _collect(self, ts: int) -> Tick:
        assert self.terms is not None
        tick = Tick(ts=ts)
        for c in self.collectors:
            try:
                reading: Reading = c.collect(ts)
            except CollectorError as exc:
                self.metrics.collector_errors.labels(collector=c.name).inc()
                self.metrics.missing.labels(collector=c.name).inc(self.terms.gpus if c.name in GPU_COLLECTORS else 1)
                self._warn(f"collector:{c.name}", "collector failed; sample marked missing", error=str(exc))
                continue
            self.metrics.samples.labels(collector=c.name).inc()
            if reading.gpus is not None:
                gpus = reading.gpus
                if gpus.gpus != self.terms.gpus:
                    gpus = _resize(gpus, self.terms.gpus)
                missing = gpus.missing_count()
                if missing:
                    self.metrics.missing.labels(collector=c.name).inc(missing)
                if tick.gpus is None:
                    tick.gpus = gpus
            if reading.meter is not None:
                if reading.meter.energy_wh is None:
                    self.metrics.missing.labels(collector=c.name).inc()
                if tick.meter is None:
                    tick.meter = reading.meter
            for role in ("mining", "generator"):
                meter = getattr(reading, role)
                if meter is not None:
                    if meter.energy_wh is None:
                        self.metrics.missing.labels(collector=c.name).inc()
                    if getattr(tick, role) is None:
                        setattr(tick, role, meter)
        return tick

    # ------------------------------------------------------------------ epochs
    def close_epochs(self, now: float) -> None:
        assert self.terms is not None
        nxt = int(self.store.get("next_epoch") or 0)
        while True:
            start, end = self.terms.bounds(nxt)
            if now < end + self.s.sample_interval:
                return
            if self.store.report(self.s.asset_id, nxt) is None:
                if now > end + self.terms.report_deadline:
                    self.store.upsert_report(self.s.asset_id, nxt, "abandoned")
                    self.metrics.abandoned.inc()
                    log.warning("epoch past its report deadline: not reported", extra={"epoch": nxt})
                else:
                    self._measure(nxt, start, end)
            nxt += 1
            self.store.put("next_epoch", str(nxt))
            self.store.prune_ticks(start - self.s.sample_interval)

    def _measure(self, epoch: int, start: int, end: int) -> None:
        assert self.terms is not None
        interval = self.s.sample_interval
        window = EpochWindow(self.s.asset_id, epoch, start, end, interval, self.terms.gpus, self.terms.max_watts)
        agg = aggregate(window, self.store.ticks(start - interval, end), self.s.pue_band)
        m = agg.measurement
        green = self._green(m, epoch, start, end)
        mining_revenue, earnings_rows = self._mining_revenue(start, end)
        curtailed_bps, grid_event = (0, b"\x00" * 32)
        extra: dict[str, object] = {
            "agent": self.signer.address,
            "mode": self.s.mode,
            "collectors": [c.name for c in self.collectors],
            "green": green.evidence,
            "mining": {"energy_wh": m.mining_energy_wh, "revenue": mining_revenue, "earnings_rows": earnings_rows},
        }
        if self.curtailment is not None:
            events = self.curtailment.events()
            curtailed_bps, program_event = curtailment_in(events, start, end)
            if curtailed_bps:
                # reports name the declaration this agent's VEN made on chain, scoped to the asset and signer
                grid_event = declaration_id(self.s.asset_id, program_event, self.signer.address)
            extra["curtailment"] = self._compliance(agg, window, events)
        evidence = write_evidence(agg, window, self.evidence_dir, extra)
        values: dict[str, object] = {
            "gridEventId": "0x" + grid_event.hex(),
            "uptimeBps": m.uptime_bps,
            "curtailedBps": curtailed_bps,
            "gpuEnergyWh": m.gpu_energy_wh,
            "facilityEnergyWh": m.facility_energy_wh,
            "miningEnergyWh": m.mining_energy_wh,
            "miningRevenue": mining_revenue,
            "renewableBps": green.renewable_bps,
            "carbonGramsPerKwh": green.carbon_g_per_kwh,
            "evidenceHash": "0x" + evidence.hex(),
        }
        self.store.upsert_report(
            self.s.asset_id, epoch, "measured", report=values, measurement=m.summary(), evidence_hash=evidence.hex()
        )
        if m.rejected_counter_readings:
            self.metrics.counter_rejections.inc(m.rejected_counter_readings)
        self.metrics.last_measured_epoch.set(epoch)
        self.metrics.epoch_uptime.set(m.uptime_bps)
        log.info(
            "epoch measured",
            extra={
                "epoch": epoch,
                "uptime_bps": m.uptime_bps,
                "gpu_wh": m.gpu_energy_wh,
                "facility_wh": m.facility_energy_wh,
                "missing_gpu_slots": m.missing_gpu_slots,
                "flags": m.flags,
            },
        )

    def _green(self, m: EpochMeasurement, epoch: int, start: int, end: int) -> GreenValues:
        cfg = self.s.green
        return green_values(
            GreenInputs(
                facility_wh=m.facility_energy_wh,
                generator_wh=m.generator_energy_wh,
                ppa_share_bps=cfg.ppa_share_bps,
                certificates=self._retired_certificates(epoch) if cfg.certificates else (),
                feed=tuple(self.grid_feed.window(start, end)) if self.grid_feed else (),
                static_renewable_bps=cfg.renewable_bps,
                static_carbon_g_per_kwh=cfg.carbon_g_per_kwh,
            )
        )

    def _mining_revenue(self, start: int, end: int) -> tuple[int, list[list[object]]]:
        """A hybrid site's pool earnings in [start, end), in stablecoin base units, with the rows behind them."""
        if self.earnings is None:
            return 0, []
        assert self.terms is not None
        return self.earnings.earned(start, end, self.terms.decimals)

    def _retired_certificates(self, epoch: int) -> tuple[Certificate, ...]:
        """Renewable certificates retired on chain against this asset's epoch (GridLedger events)."""

        def read(w3: Web3) -> tuple[Certificate, ...]:
            grid = self.pool.contract(w3, "GridLedger")
            logs = grid.events.CertificateRetired.get_logs(
                argument_filters={"assetId": self.s.asset_id, "epoch": epoch}, from_block=self.deployment.block
            )
            return tuple(Certificate(bytes(e["args"]["certificateId"]), int(e["args"]["energyWh"])) for e in logs)

        certificates: tuple[Certificate, ...] = self.pool.call(read)
        return certificates

    def _compliance(
        self, agg: Aggregation, window: EpochWindow, events: list[ReceivedEvent]
    ) -> list[dict[str, object]]:
        """For each grid event in the epoch, the load the facility meter shows was shed."""
        out = []
        for e in events:
            if e.overlap(window.start, window.end):
                shed = curtailment_compliance(agg, window, e.starts_at, e.ends_at)
                out.append({"event": e.program_id, **shed})
                if shed.get("measured"):
                    self.metrics.curtailment_shed.set(float(str(shed["shed_w"])))
        return out

    # ------------------------------------------------------------------ attestation
    def observe(self, now: float) -> None:
        """Signs our observation of each measured epoch: the site agent at once under its VEN's grid event; a
        checker once the site agent's observation arrives (taking its event and curtailment only as far as the
        declared event covers them), or without it after `submit_delay`."""
        assert self.attestation is not None and self.terms is not None
        for row in self.store.open_reports():
            if row.status != "measured" or row.report is None:
                continue
            values = dict(row.report)
            if self.s.mode == "site":
                self.attestation.observe(row, values, measured_event(values))
                continue
            site = self._site_observation(row)
            if site is None:
                waited = time.time() - (self.store.created_at(row.asset_id, row.epoch) or time.time())
                if waited >= self.s.submit_delay:
                    log.warning("site silent: observing without its grid event", extra={"epoch": row.epoch})
                    self.attestation.observe(row, {**values, "curtailedBps": 0}, ZERO32)
                continue
            ours = measured_observation(values, max(self.attestation.index, 1))
            differences = report_differences(ours, site.observation, self.s.tolerances)
            for field, a, b in differences:
                self.store.add_disagreement(row.asset_id, row.epoch, field, a, b)
            if differences:
                self.metrics.disagreements.inc()
                log.warning(
                    "the site agent's observation disagrees with our measurement",
                    extra={"epoch": row.epoch, "differences": differences},
                )
            event, curtailed = ZERO32, 0
            if site.grid_event_id != ZERO32:
                covered = self._coverage_bps(site.grid_event_id, row.epoch)
                if covered is not None:
                    event, curtailed = site.grid_event_id, min(site.observation.curtailed_bps, covered)
            self.attestation.observe(row, {**values, "curtailedBps": curtailed}, event)

    def _site_observation(self, row: OutboxRow) -> ObservationClaim | None:
        """The site agent's observation of the epoch, once held (fetched from it or a peer)."""
        assert self.attestation is not None and self.s.site_peer is not None
        self.attestation.fetch_observations(row)
        body = self.attestation._get(self.s.site_peer, f"/v1/observations/{row.asset_id}/{row.epoch}")
        if body is None:
            return None
        got = self.attestation._verified_observation(body, row.epoch, self.s.site_peer)
        return None if got is None else got[0]

    def agree(self, now: float) -> None:
        """Exchanges observations and reports with the peers, proposes and co-signs."""
        assert self.attestation is not None
        for row in self.store.open_reports():
            if row.status not in ("observed", "cosigned") or row.report is None:
                continue
            self.attestation.fetch_observations(row)
            self.attestation.fetch_proposals(row)
            self.attestation.propose(row, time.time())
            self.attestation.cosign(row, dict(row.report))

    def _coverage_bps(self, event: bytes, epoch: int) -> int | None:
        """How much of the epoch (bps, rounded up) the declared grid event covers; None if it is not one of
        the asset's declarations."""
        assert self.terms is not None
        start, end = self.terms.bounds(epoch)

        def overlap(w3: Web3) -> tuple[bool, int]:
            grid = self.pool.contract(w3, "GridLedger")
            known, secs = grid.functions.overlap(event, self.s.asset_id, start, end).call()
            return bool(known), int(secs)

        known, secs = self.pool.call(overlap)
        return -(-secs * 10_000 // (end - start)) if known else None

    def _staked(self) -> set[str]:
        """The asset's attestors holding the oracle's minimum stake, read at most every 30 s."""
        assert self.terms is not None
        if self._staked_cache is not None and time.monotonic() - self._staked_cache[0] < 30:
            return self._staked_cache[1]

        def read(w3: Web3) -> set[str]:
            oracle = self.pool.contract(w3, "MetricsOracle")
            minimum = int(oracle.functions.params().call().minAttestorStake)
            out = set()
            for attestor in self.terms.attestors:  # type: ignore[union-attr]
                if attestor_stake(oracle, self.s.asset_id, attestor) >= minimum:
                    out.add(attestor)
            return out

        staked: set[str] = self.pool.call(read)
        self._staked_cache = (time.monotonic(), staked)
        return staked

    def challenge_disagreements(self) -> None:
        """Challenges an accepted report, inside its window, when one of its observations is more than
        `challenge_margin_bps` from what we measured, or its medians are beyond our tolerances: the arbiter
        reads the evidence and names the liar."""
        assert self.terms is not None and self.attestation is not None
        for row in self.store.open_reports() + self._reported_rows():
            if row.report is None or self.store.get(f"challenged:{row.asset_id}:{row.epoch}") is not None:
                continue
            # what we signed: our measurement, with the curtailment we took from the declared event
            claim = self.attestation.own(row)
            ours = claim.observation if claim is not None else measured_observation(dict(row.report), 1)

            def attempt(w3: Web3, row: OutboxRow = row, ours: Any = ours) -> str | None:
                oracle = self.pool.contract(w3, "MetricsOracle")
                stored = StoredReport.read(oracle, row.asset_id, row.epoch)
                if (
                    stored.status != ReportStatus.PENDING
                    or w3.eth.get_block("latest")["timestamp"] >= stored.challenge_ends_at
                ):
                    return None
                logs = oracle.events.ReportAccepted().get_logs(
                    from_block=self.deployment.block, argument_filters={"assetId": row.asset_id, "epoch": row.epoch}
                )
                if not logs:
                    return None
                accepted = accepted_report(w3, oracle, logs[-1])
                margin = self.s.challenge_margin_bps
                far = [
                    o.observer
                    for o in accepted.report.observations
                    if abs(o.uptime_bps - ours.uptime_bps) > margin
                    or abs(o.curtailed_bps - ours.curtailed_bps) > margin
                ]
                if not far and not report_differences(ours, accepted.aggregate, self.s.tolerances):
                    return "agreed"
                coin = self.pool.contract(w3, "Stablecoin")
                self._transact(w3, coin.functions.approve(oracle.address, self.terms.challenge_bond))  # type: ignore[union-attr]
                self._transact(w3, oracle.functions.challenge(row.asset_id, row.epoch))
                log.warning("report challenged", extra={"epoch": row.epoch, "observers_far_off": far})
                return "challenged"

            try:
                outcome = self.pool.call(attempt)
            except ContractRevertError as exc:
                self._warn("challenge", "challenge failed", epoch=row.epoch, error=str(exc))
                continue
            if outcome is not None:
                self.store.put(f"challenged:{row.asset_id}:{row.epoch}", outcome)

    def _reported_rows(self) -> list[OutboxRow]:
        rows = []
        for status in ("confirmed", "refused"):
            for epoch in self.store.with_status(self.s.asset_id, status)[-MAX_BACKFILL_EPOCHS:]:
                row = self.store.report(self.s.asset_id, epoch)
                if row is not None:
                    rows.append(row)
        return rows

    # ------------------------------------------------------------------ submission
    def submit(self, now: float) -> None:
        assert self.terms is not None
        for row in self.store.open_reports():
            if row.status == "cosigned" and time.time() >= row.next_attempt_at:
                self._try_submit(row, now)
            elif row.status == "submitted":

                def track(w3: Web3, row: OutboxRow = row) -> None:
                    self._track(w3, row)

                self.pool.call(track)

    def _try_submit(self, row: OutboxRow, now: float) -> None:
        assert self.terms is not None and self.attestation is not None
        _, end = self.terms.bounds(row.epoch)
        if now > end + self.terms.report_deadline:
            self.store.set_status(row.asset_id, row.epoch, "abandoned", "past the report deadline")
            self.metrics.abandoned.inc()
            return
        ready = self.attestation.submittable(row)
        if ready is None:
            return
        waited = time.time() - (self.store.created_at(row.asset_id, row.epoch) or time.time())
        if self.s.mode == "checker" and waited < self.s.submit_delay:
            return
        report, cosignatures = ready

        def send(w3: Web3) -> None:
            oracle = self.pool.contract(w3, "MetricsOracle")
            if StoredReport.read(oracle, row.asset_id, row.epoch).exists:
                self.store.set_status(row.asset_id, row.epoch, "submitted")  # someone else's landed
                return
            self._transact(w3, oracle.functions.submitReport(report.as_tuple(), cosignatures), row)
            self.store.set_status(row.asset_id, row.epoch, "submitted")

        try:
            self.pool.call(send)
        except ContractRevertError as exc:
            if exc.error in ("OracleUnknownSigner", "OracleDuplicateSigner", "OracleCosignerUnderstaked"):
                # never send that co-signature again; the next attempt picks another
                self.attestation.drop_cosignature(row, str(exc.error_args.get("signer", "")))
                self._staked_cache = None
            if exc.error == "OracleReportExists":
                self.store.set_status(row.asset_id, row.epoch, "submitted")
            elif exc.error == "OracleReportTooLate":
                self.store.set_status(row.asset_id, row.epoch, "abandoned", str(exc))
                self.metrics.abandoned.inc()
            else:
                self.store.backoff(row.asset_id, row.epoch, str(exc))
                self._warn(f"submit:{row.epoch}", "report rejected; will retry", epoch=row.epoch, error=str(exc))

    def _transact(self, w3: Web3, fn: ContractFunction, row: OutboxRow | None = None) -> str:
        """Builds, signs and records a transaction before broadcasting it."""
        try:
            tx = fn.build_transaction(
                {
                    "from": self.submitter.address,
                    "nonce": w3.eth.get_transaction_count(self.submitter.address, "pending"),
                    "chainId": self.deployment.chain_id,
                }
            )
        except (ContractCustomError, ContractLogicError) as exc:
            raise revert_from(exc) from None
        signed = self.submitter.sign_transaction(dict(tx))  # type: ignore[arg-type]
        tx_hash = "0x" + bytes(signed.hash).hex()
        if row is not None:
            self.store.add_submission(
                tx_hash,
                row.asset_id,
                row.epoch,
                int(tx["nonce"]),
                self.submitter.address,
                "0x" + bytes(signed.raw_transaction).hex(),
            )
        w3.eth.send_raw_transaction(signed.raw_transaction)
        self.metrics.submissions.inc()
        log.info("transaction sent", extra={"tx": tx_hash, "nonce": int(tx["nonce"])})
        return tx_hash

    def _track(self, w3: Web3, row: OutboxRow) -> None:
        """Follows a submitted report to its confirmation depth; re-submits if a reorg or a dropped
        transaction took it off chain."""
        oracle = self.pool.contract(w3, "MetricsOracle")
        head = w3.eth.block_number
        seen_key = f"seen:{row.asset_id}:{row.epoch}"
        if StoredReport.read(oracle, row.asset_id, row.epoch).exists:
            seen = self.store.get(seen_key)
            if seen is None:
                self.store.put(seen_key, str(head))
            elif head - int(seen) >= self.s.confirmations:
                self.store.set_status(row.asset_id, row.epoch, "confirmed")
                self.store.delete(seen_key)
                last = self.store.last_epoch("confirmed")
                self.metrics.last_reported_epoch.set(last if last is not None else row.epoch)
                log.info("report confirmed", extra={"epoch": row.epoch})
            return
        self.store.delete(seen_key)
        subs = self.store.submissions(row.asset_id, row.epoch)
        if not subs:
            self.store.set_status(row.asset_id, row.epoch, "cosigned")
            return
        tx_hash, nonce, raw, _ = subs[-1]
        try:
            receipt = w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        except TransactionNotFound:
            receipt = None
        if receipt is not None:
            if receipt["status"] == 0:
                self.store.set_status(row.asset_id, row.epoch, "cosigned")
                self.store.backoff(row.asset_id, row.epoch, f"transaction {tx_hash} reverted")
            return  # mined but not visible yet: wait for the next pass
        try:
            w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            return  # still pending
        except TransactionNotFound:
            pass
        if w3.eth.get_transaction_count(self.submitter.address, "pending") <= nonce:
            log.warning("report transaction dropped (reorg?): broadcasting it again", extra={"tx": tx_hash})
            try:
                w3.eth.send_raw_transaction(HexStr(raw))
            except ValueError as exc:
                self._warn("rebroadcast", "rebroadcast refused; sending anew", error=str(exc))
                self.store.set_status(row.asset_id, row.epoch, "cosigned")
        else:
            log.warning("report transaction lost and its nonce used: sending anew", extra={"tx": tx_hash})
            self.store.set_status(row.asset_id, row.epoch, "cosigned")

    # ------------------------------------------------------------------ metrics
    def refresh_metrics(self) -> None:
        self.metrics.outbox_depth.set(self.store.depth())
        if time.monotonic() - self._last_balance > 10:
            self._last_balance = time.monotonic()
            balance = self.pool.call(lambda w3: w3.eth.get_balance(self.submitter.address))
            self.metrics.signer_balance.set(balance)

    def _warn(self, key: str, message: str, **fields: object) -> None:
        """Logs a warning at most once a minute per key (a dead peer must not flood the log)."""
        if time.monotonic() - self._last_log.get(key, -1e9) >= 60:
            self._last_log[key] = time.monotonic()
            log.warning(message, extra=fields)


def _resize(gpus: GpuTick, n: int) -> GpuTick:
    out = GpuTick.missing(n)
    k = min(n, gpus.gpus)
    out.power_w[:k] = gpus.power_w[:k]
    out.energy_mj[:k] = gpus.energy_mj[:k]
    out.util_pct[:k] = gpus.util_pct[:k]
    out.health[:k] = gpus.health[:k]
    return out


def build_collectors(settings: AgentSettings, terms: SiteTerms) -> list[Collector]:
    import os

    from wellhead.agent.collectors.dcgm import DcgmCollector
    from wellhead.agent.collectors.nvml import NvmlCollector
    from wellhead.agent.collectors.redfish import RedfishCollector
    from wellhead.agent.collectors.sunspec import SunSpecMeterCollector
    from wellhead.devkit.collectors.simulated import SimulatedSite

    out: list[Collector] = []
    for c in settings.collectors:
        if c.type == "simulated":
            out.append(
                SimulatedSite(
                    seed=c.seed,
                    gpus=terms.gpus,
                    max_watts=terms.max_watts,
                    fault_rate=c.fault_rate,
                    dark_rate=c.dark_rate,
                    pue=c.pue,
                    hide_faults=c.hide_faults,
                    failed_gpus=tuple(c.failed_gpus),
                    noise_bps=c.noise_bps,
                    mining_kw=c.mining_kw,
                    solar_kw=c.solar_kw,
                    curtail_schedule=c.curtail_schedule,
                )
            )
        elif c.type == "dcgm":
            out.append(DcgmCollector(url=c.url, gpus=terms.gpus, hostname=c.hostname, timeout=c.timeout))
        elif c.type == "redfish":
            password = os.environ.get(c.password_env) if c.password_env else None
            out.append(
                RedfishCollector(
                    base_url=c.base_url,
                    chassis=c.chassis,
                    username=c.username,
                    password=password,
                    verify=c.verify,
                    timeout=c.timeout,
                )
            )
        elif c.type == "sunspec":
            out.append(SunSpecMeterCollector(host=c.host, port=c.port, unit_id=c.unit_id, timeout=c.timeout))
        elif c.type == "nvml":
            out.append(NvmlCollector(gpus=terms.gpus, slowdown_celsius=c.slowdown_celsius))
    return out


__all__ = ["Agent", "SiteTerms", "WellheadError", "build_collectors", "report_differences"]
