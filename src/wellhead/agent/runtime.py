"""The agent: a thin loop over phases — sampling, epochs, observing, exchange, submitting, challenging.

Every state change is in the SQLite outbox first, so the loop can be killed at any instruction and resume.
Each phase owns its errors: a failing phase is counted (`wellhead_agent_phase_errors_total{phase}`) and
logged, and the others still run; an RPC outage ends the pass, and the next pass retries.

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

from eth_account.signers.local import LocalAccount

from wellhead.agent.attestation import AttestationExchange, Terms
from wellhead.agent.chain_reads import ChainReads
from wellhead.agent.collectors import Collector, build_collectors
from wellhead.agent.collectors.nvml import NvmlPowerCap
from wellhead.agent.config import AgentSettings
from wellhead.agent.green import open_sources
from wellhead.agent.grid import PowerCapping, start_ven
from wellhead.agent.inventory import site_inventory
from wellhead.agent.logs import Warnings
from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.openadr import CurtailmentDesk, Ven
from wellhead.agent.phases import AgentContext, Phase
from wellhead.agent.phases.challenging import Challenger
from wellhead.agent.phases.epochs import EpochCloser
from wellhead.agent.phases.evidence import EvidenceKeeper, Uploader
from wellhead.agent.phases.exchange import Exchange, Observing
from wellhead.agent.phases.sampling import Sampler
from wellhead.agent.phases.submitting import Submitter
from wellhead.agent.roles import role_for
from wellhead.agent.rpc import RpcPool
from wellhead.agent.server import AgentServer
from wellhead.agent.signer import ReportSigner
from wellhead.agent.store import AgentStore, OutboxStatus
from wellhead.agent.terms import SiteTerms, load_terms
from wellhead.agent.transactions import Transactor
from wellhead.chain.deployment import Deployment
from wellhead.core.errors import RpcUnavailableError, WellheadError
from wellhead.core.objectstore import EvidenceBucket
from wellhead.keeper.metrics import KeeperMetrics
from wellhead.keeper.settler import Settler, SettlerConfig

log = logging.getLogger("wellhead.agent")


class Agent:
    """How the agent is driven (a loop at `poll_interval`, or `step()` from a test); what it does is its phases."""

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
        self.signer = signer
        self.submitter = submitter
        self._collectors = collectors
        self.collectors: list[Collector] = []
        self.server = AgentServer(
            settings.listen.host,
            settings.listen.port,
            self.metrics,
            self.store,
            signer.address,
            settings.evidence_dir,
        )
        self.evidence_dir = settings.evidence_dir
        self.warn = Warnings(log)
        self.terms: SiteTerms | None = None
        self.attestation: AttestationExchange | None = None
        self.curtailment: CurtailmentDesk | None = None
        self.ven: Ven | None = None
        self.phases: list[Phase] = []
        self.evidence: EvidenceKeeper | None = None
        self._last_balance = 0.0
        self._last_good_pass: float | None = None  # monotonic time of the last pass with no phase failing
        self._failing = ""  # the phase that failed in the last pass
        self.server.readiness = self.readiness
        self.server.liveness = self.liveness
        self._loop_at = time.monotonic()  # when the loop last started a pass
        self.stopping = threading.Event()

    # ------------------------------------------------------------------ driving
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
                started = self._loop_at = time.monotonic()
                self.step()
                self.stopping.wait(max(0.0, self.s.poll_interval - (time.monotonic() - started)))
        finally:
            self.close()

    def close(self) -> None:
        if self.ven is not None:
            self.ven.stop()
        self.server.stop()
        if self.attestation is not None:
            self.attestation.peers.close()
        if self.evidence is not None:
            self.evidence.close()
        for c in self.collectors:
            c.close()
        self.store.close()

    def step(self) -> None:
        """One pass over the phases. An RPC outage ends the pass; the next one retries."""
        try:
            if not self.phases:
                self._start()
            now = self._now()
            failed = [phase.name for phase in self.phases if not self._run_phase(phase, now)]
            self.refresh_metrics(now)
            self._failing = ", ".join(failed)
            if not failed:
                self._last_good_pass = time.monotonic()
        except RpcUnavailableError as exc:
            self.warn("rpc", "all RPC URLs failing; will retry", error=str(exc))

    def liveness(self) -> tuple[bool, str]:
        """Alive: the loop started a pass within 30 s (or five poll intervals). A loop stuck on a peer or a
        collector samples nothing, and what is not sampled is unproven time: that is not healthy."""
        late = time.monotonic() - self._loop_at
        if late > max(30.0, 5 * self.s.poll_interval):
            return False, f"the agent's loop has not run for {late:.0f} s"
        return True, "ok"

    def readiness(self) -> tuple[bool, str]:
        """Ready: wired to the asset's terms, and a pass ran every phase without failing within the last minute
        (or three poll intervals)."""
        if self.terms is None:
            return False, "not started: the asset's terms are not read yet"
        failing = f" (failing: {self._failing})" if self._failing else ""
        if self._last_good_pass is None:
            return False, f"no pass has run every phase yet{failing}"
        since = time.monotonic() - self._last_good_pass
        if since > max(60.0, 3 * self.s.poll_interval):
            return False, f"no pass has run every phase for {since:.0f} s{failing}"
        return True, "ok"

    def _run_phase(self, phase: Phase, now: float) -> bool:
        """Runs one phase; False when it failed (counted and logged; the other phases still run)."""
        started = time.perf_counter()
        try:
            phase.run(now)
            return phase.failures == 0  # the keeper loop isolates its assets' failures itself
        except RpcUnavailableError:
            raise
        except WellheadError as exc:
            self.metrics.phase_errors.labels(phase=phase.name).inc()
            self.warn(f"phase:{phase.name}", "phase failed; will retry", phase=phase.name, error=str(exc))
            return False
        finally:
            self.metrics.phase_seconds.labels(phase=phase.name).observe(time.perf_counter() - started)

    # ------------------------------------------------------------------ wiring
    def _start(self) -> None:
        """Reads the asset's terms and wires the phases (once; an RPC outage leaves it for the next pass)."""
        terms = load_terms(self.pool, self.deployment, self.s.asset_id)
        inventory = site_inventory(self.s, terms.gpus)
        if not self.collectors:  # once, even if an earlier pass stopped half-way through wiring
            injected = self._collectors
            self.collectors = injected if injected is not None else build_collectors(self.s, terms, inventory)
        if self.store.get("next_epoch") is None:
            first = self.s.first_epoch if self.s.first_epoch is not None else terms.epoch_at(int(self._now()))
            self.store.put("next_epoch", str(first))
        confirmed = self.store.last_epoch(OutboxStatus.CONFIRMED)
        if confirmed is not None:  # a restart keeps what the outbox knows, not 0
            self.metrics.last_reported_epoch.set(confirmed)
        if self.signer.address not in terms.attestors:
            self.warn("attestor", "this agent's signer is not an attestor of the asset", signer=self.signer.address)
        reads = ChainReads(self.pool, self.deployment, self.s.asset_id, terms)
        self.attestation = AttestationExchange(
            self.s,
            self.store,
            self.signer,
            self.metrics,
            Terms(
                asset_id=self.s.asset_id,
                attestors=terms.attestors,
                fault_tolerance=terms.fault_tolerance,
                chain_id=self.deployment.chain_id,
                oracle=self.deployment.address("MetricsOracle"),
                max_gpu_energy_wh=terms.max_gpu_energy_wh,
            ),
            reads.coverage_bps,
            reads.staked,
            self.warn,
        )
        ctx = AgentContext(
            self.s,
            terms,
            self.store,
            self.pool,
            self.deployment,
            self.metrics,
            self.signer,
            self.attestation,
            self.warn,
            inventory,
        )
        self.phases = self._phases(ctx, reads, Transactor(ctx, self.submitter))
        self.terms = terms

    def _phases(self, ctx: AgentContext, reads: ChainReads, tx: Transactor) -> list[Phase]:
        phases: list[Phase] = []
        if self.s.openadr is not None:
            self.curtailment, self.ven = start_ven(ctx, self.s.openadr, tx, self._now)
            if self.s.openadr.curtail_power_cap_watts is not None:
                phases.append(PowerCapping(ctx, self.curtailment, NvmlPowerCap(self.s.openadr.curtail_power_cap_watts)))
        role = role_for(ctx, reads)
        sources = open_sources(self.s.green.grid_feed, self.s.mining.earnings_file)
        phases += [
            Sampler(ctx, self.collectors),
            EpochCloser(ctx, reads, [c.name for c in self.collectors], sources, self.curtailment),
            Observing(ctx, role),
            Exchange(ctx),
            Submitter(ctx, role, reads, tx),
        ]
        if self.s.challenge_on_disagreement:
            phases.append(Challenger(ctx, tx))
        if self.s.mode == "site" and self.s.keeper.enabled:
            k = self.s.keeper
            phases.append(
                Settler(
                    self.pool,
                    lambda _w3: [self.s.asset_id],
                    tx,
                    self.store,
                    KeeperMetrics(self.metrics.registry),
                    SettlerConfig(k.batch, k.gas_budget, stagger=0.0, nav=k.nav, every=k.every),
                )
            )
        upload = self.s.evidence.upload
        self.evidence = EvidenceKeeper(
            ctx, Uploader(EvidenceBucket(upload), self.s.evidence_dir) if upload is not None else None
        )
        phases.append(self.evidence)
        return phases

    def _now(self) -> float:
        if self.s.clock == "chain":
            ts: int = self.pool.call(lambda w3: w3.eth.get_block("latest")["timestamp"])
            return float(ts)
        return time.time()

    # ------------------------------------------------------------------ metrics
    def refresh_metrics(self, now: float) -> None:
        self.metrics.outbox_depth.set(self.store.depth())
        oldest = self.store.oldest_pending_created_at()
        self.metrics.outbox_oldest_age.set(0 if oldest is None else max(0.0, time.time() - oldest))
        if self.terms is not None:
            self.metrics.current_epoch.set(self.terms.epoch_at(int(now)))
        if time.monotonic() - self._last_balance > 10:
            self._last_balance = time.monotonic()
            balance = self.pool.call(lambda w3: w3.eth.get_balance(self.submitter.address))
            self.metrics.signer_balance.set(balance)
