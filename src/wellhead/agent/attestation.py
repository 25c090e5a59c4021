"""How attestors agree on an epoch's report (the protocol is in README, "Attestation").

1. **Observe.** Each agent signs its own observation of the epoch (EIP-712 `SignedObservation`) once and serves
   it at `/v1/observations/<asset>/<epoch>`. The site agent names the grid event its VEN received; a checker
   takes the site's event and curtailment only as far as the event declared on chain covers it, and waits for
   the site up to `submit_delay` before observing without it.
2. **Exchange.** Each agent fetches its peers' observations (kept only if signed by the attestor of that index,
   for this asset and epoch) and the reports they proposed with their co-signatures.
3. **Propose and co-sign.** With every attestor's observation, or a quorum of 2f+1 after `aggregate_delay`, an
   agent builds the report of all it holds (ascending observers) and co-signs it, and co-signs any peer's
   report, only if: every observation's signature is its observer's; its own observation is in it, unchanged;
   the medians the contract will take agree with its own measurement within its tolerances; and any
   curtailment lies inside the declared event. Otherwise it records why and refuses.
4. **Submit.** Any agent holding a report with f+1 co-signatures submits it (checkers after `submit_delay`).

With at most f attestors faulty, the 2f+1 honest ones observe, co-sign the same full report, and any of them
submits it: one agent down or lying still yields a correct report on time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wellhead.agent.config import AgentSettings
from wellhead.agent.measured import measured_observation, report_differences
from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.peers import PeerClient
from wellhead.agent.signer import ReportSigner
from wellhead.agent.store import AgentStore, OutboxRow, OutboxStatus
from wellhead.chain.eip712 import invalid_observers, observation_digest, recover_digest, report_digest
from wellhead.chain.observations import (
    ObservationClaim,
    Report,
    aggregate,
    build_report,
    claim_from_json,
    observation_problems,
    report_from_json,
    to_json,
)

log = logging.getLogger("wellhead.agent")


@dataclass(frozen=True)
class Terms:
    """What the exchange needs of the asset."""

    asset_id: int
    attestors: tuple[str, ...]
    fault_tolerance: int
    chain_id: int
    oracle: str
    max_gpu_energy_wh: int  # every GPU at full power for a whole epoch: the contract's bound

    @property
    def quorum(self) -> int:
        return 2 * self.fault_tolerance + 1

    @property
    def cosigners_needed(self) -> int:
        return self.fault_tolerance + 1

    def index_of(self, address: str) -> int:
        """1-based index in the attestor set, 0 if not an attestor."""
        return self.attestors.index(address) + 1 if address in self.attestors else 0


class AttestationExchange:
    def __init__(
        self,
        settings: AgentSettings,
        store: AgentStore,
        signer: ReportSigner,
        metrics: AgentMetrics,
        terms: Terms,
        coverage_bps: Callable[[bytes, int], int | None],
        staked: Callable[[], set[str]],
        warn: Callable[..., None],
    ) -> None:
        """`coverage_bps(event, epoch)`: how much of the epoch (bps, rounded up) the declared event covers on
        chain, None if it is not a declaration of the asset. `staked()`: the attestors holding the minimum
        stake now (only their co-signatures count, and only their observations go into our reports)."""
        self.s = settings
        self.store = store
        self.signer = signer
        self.metrics = metrics
        self.terms = terms
        self.coverage_bps = coverage_bps
        self.staked = staked
        self._warn = warn
        self.index = terms.index_of(signer.address)
        self.peers = PeerClient(warn)

    # ------------------------------------------------------------------ peers over HTTP (agent/peers.py)
    def _verified_observation(self, body: Any, epoch: int, url: str) -> tuple[ObservationClaim, str] | None:
        """A peer's observation, if it is signed by the attestor of its index, for this asset and epoch."""
        try:
            claim = claim_from_json(body["claim"])
            signature = bytes.fromhex(str(body["signature"]).removeprefix("0x"))
            signer = recover_digest(observation_digest(claim, self.terms.chain_id, self.terms.oracle), signature)
        except (ValueError, KeyError, TypeError):
            self._warn(f"peer:{url}", "peer served an invalid observation", peer=url)
            return None
        o = claim.observation
        if claim.asset_id != self.terms.asset_id or claim.epoch != epoch:
            return None
        if o.observer > len(self.terms.attestors) or self.terms.attestors[o.observer - 1] != signer:
            self._warn(f"peer:{url}", "observation not signed by the attestor of its index", peer=url)
            return None
        problems = observation_problems(o, self.terms.max_gpu_energy_wh)
        if problems:
            # the contract would refuse any report carrying it: keep it out of ours
            self._warn(f"peer:{url}", "peer's observation is impossible; left out", peer=url, problems=problems)
            return None
        return claim, "0x" + signature.hex()

    def peer_observation(self, url: str, row: OutboxRow, body: Any | None) -> ObservationClaim | None:
        """The observation `body` (the peer at `url`'s answer) holds, if genuinely signed for the row's epoch."""
        got = None if body is None else self._verified_observation(body, row.epoch, url)
        return None if got is None else got[0]

    @staticmethod
    def _observation_path(row: OutboxRow) -> str:
        return f"/v1/observations/{row.asset_id}/{row.epoch}"

    @staticmethod
    def _reports_path(row: OutboxRow) -> str:
        return f"/v1/reports/{row.asset_id}/{row.epoch}"

    def fetch_round(self, rows: list[OutboxRow]) -> None:
        """Every peer's observation and reports of every row in `rows`, asked for at once (one wait, at most
        PASS_BUDGET, for all of them); what is in is verified and kept, the rest comes in on a later pass."""
        paths = [path(row) for row in rows for path in (self._observation_path, self._reports_path)]
        wanted = [(url, path) for path in paths for url in self.s.peers]
        answers = self.peers.fetch(wanted)
        for row in rows:
            for url in self.s.peers:
                observation = answers.get((url, self._observation_path(row)))
                if observation is not None:
                    self._take_observation(row, url, observation)
                reports = answers.get((url, self._reports_path(row)))
                if isinstance(reports, dict):
                    self._take_proposals(row, url, reports)

    def fetch_observations(self, row: OutboxRow, also: tuple[str, ...] = ()) -> dict[str, Any]:
        """Every peer's observation of the row's epoch (unless every attestor's is held already) and those of
        the peers in `also`, in one fetch; the answers by peer URL (the peers' own are kept as they come)."""
        peers = list(self.s.peers) if len(self._held_observers(row)) < len(self.terms.attestors) else []
        urls = list(dict.fromkeys([*peers, *also]))
        answers = self.peers.fetch([(url, self._observation_path(row)) for url in urls])
        bodies = {url: body for (url, _), body in answers.items()}
        for url in peers:
            if url in bodies:
                self._take_observation(row, url, bodies[url])
        return bodies

    def _held_observers(self, row: OutboxRow) -> set[int]:
        return {o.observer for o in self.store.observations(row.asset_id, row.epoch)}

    def _take_observation(self, row: OutboxRow, url: str, body: Any) -> None:
        got = self._verified_observation(body, row.epoch, url)
        if got is not None and got[0].observation.observer not in self._held_observers(row):
            claim, signature = got
            o = claim.observation
            self.store.add_observation(
                row.asset_id, row.epoch, o.observer, self.terms.attestors[o.observer - 1], to_json(claim), signature
            )

    def _take_proposals(self, row: OutboxRow, url: str, body: dict[str, Any]) -> None:
        for item in body.get("proposals", []):
            try:
                report = report_from_json(item["report"])
            except (ValueError, KeyError, TypeError):
                self._warn(f"peer:{url}", "peer served an invalid report", peer=url)
                continue
            if report.asset_id != row.asset_id or report.epoch != row.epoch:
                continue
            digest = report_digest(report, self.terms.chain_id, self.terms.oracle)
            self.store.add_proposal(row.asset_id, row.epoch, "0x" + digest.hex(), to_json(report))
            for c in item.get("cosignatures", []):
                self._add_cosignature(row, digest, str(c.get("signature", "")))

    def _add_cosignature(self, row: OutboxRow, digest: bytes, signature: str) -> None:
        try:
            signer = recover_digest(digest, bytes.fromhex(signature.removeprefix("0x")))
        except (ValueError, TypeError):
            return
        if signer in self.terms.attestors:
            self.store.add_cosignature(row.asset_id, row.epoch, "0x" + digest.hex(), signer, signature)

    # ------------------------------------------------------------------ observing
    def observe(self, row: OutboxRow, values: dict[str, Any], event: bytes) -> None:
        """Signs our observation once: `values` measured, under grid event `event`."""
        if self.index == 0:
            return
        observation = measured_observation(values, self.index)
        claim = ObservationClaim(assetId=row.asset_id, epoch=row.epoch, gridEventId=event, observation=observation)
        signature = self.signer.sign_digest(observation_digest(claim, self.terms.chain_id, self.terms.oracle))
        with self.store.transaction():
            self.store.add_observation(
                row.asset_id, row.epoch, self.index, self.signer.address, to_json(claim), "0x" + signature.hex()
            )
            self.store.set_status(row.asset_id, row.epoch, OutboxStatus.OBSERVED)

    def own(self, row: OutboxRow) -> ObservationClaim | None:
        mine = self.store.observation_of(row.asset_id, row.epoch, self.signer.address)
        return None if mine is None else claim_from_json(mine.claim)

    # ------------------------------------------------------------------ proposing and co-signing
    def propose(self, row: OutboxRow, now: float) -> None:
        """Builds the report of every staked attestor's observation we hold under our grid event, once we hold
        all of them or a quorum has waited `aggregate_delay`. An unstaked attestor's observation is left out: the
        contract checks only co-signers' stake (a read per observer would cost every report), so we do."""
        mine = self.own(row)
        if mine is None:
            return
        staked = self.staked()
        held = [(claim_from_json(o.claim), o.signature) for o in self.store.observations(row.asset_id, row.epoch)]
        matching = [
            (c.observation, bytes.fromhex(sig.removeprefix("0x")))
            for c, sig in held
            if c.grid_event_id == mine.grid_event_id and self.terms.attestors[c.observation.observer - 1] in staked
        ]
        waited = now - (self.store.created_at(row.asset_id, row.epoch) or now)
        if len(matching) < self.terms.quorum:
            return
        if len(matching) < len(staked) and waited < self.s.aggregate_delay:
            return
        report = build_report(row.asset_id, row.epoch, mine.grid_event_id, matching)
        digest = "0x" + report_digest(report, self.terms.chain_id, self.terms.oracle).hex()
        self.store.add_proposal(row.asset_id, row.epoch, digest, to_json(report))
        # ours even when a peer built the same report first: we refuse it if it fails our checks
        self.store.put(self._own_key(row), digest)

    def own_proposal(self, row: OutboxRow) -> Report | None:
        """The report we built for the epoch, if we have built one."""
        digest = self.store.get(self._own_key(row))
        return next(
            (report_from_json(r) for d, r in self.store.proposals(row.asset_id, row.epoch) if d == digest), None
        )

    @staticmethod
    def _own_key(row: OutboxRow) -> str:
        return f"proposal:{row.asset_id}:{row.epoch}"

    def cosign(self, row: OutboxRow, values: dict[str, Any]) -> None:
        """Co-signs every known report of the epoch that passes our checks; refuses (and records why) when the
        report we built ourselves does not. A peer's report that fails is only passed over: a faulty peer
        cannot make us refuse by serving a bad one."""
        mine = self.own(row)
        if mine is None:
            return
        ours = self.store.get(self._own_key(row))
        signed_any = False
        for digest_hex, data in self.store.proposals(row.asset_id, row.epoch):
            cosigners = {s for s, _ in self.store.cosignatures(row.asset_id, row.epoch, digest_hex)}
            if self.signer.address in cosigners:
                signed_any = True
                continue
            report = report_from_json(data)
            problems = self.check(report, mine, values)
            if problems:
                if digest_hex == ours:
                    self._refuse(row, report, problems)
                continue
            digest = bytes.fromhex(digest_hex.removeprefix("0x"))
            signature = self.signer.sign_digest(digest)
            self.store.add_cosignature(row.asset_id, row.epoch, digest_hex, self.signer.address, "0x" + signature.hex())
            signed_any = True
        if signed_any and row.status == OutboxStatus.OBSERVED:
            self.store.set_status(row.asset_id, row.epoch, OutboxStatus.COSIGNED)

    def check(self, report: Report, mine: ObservationClaim, values: dict[str, Any]) -> list[str]:
        """Why we would not co-sign `report` (nothing: we co-sign)."""
        problems: list[str] = []
        if len(report.observations) < self.terms.quorum:
            problems.append(f"{len(report.observations)} observations, below the quorum of {self.terms.quorum}")
        if mine.observation not in report.observations or report.grid_event_id != mine.grid_event_id:
            problems.append("our own observation is not in it as we signed it")
        bad = invalid_observers(report, self.terms.attestors, self.terms.chain_id, self.terms.oracle)
        if bad:
            problems.append(f"observations of attestors {bad} are not signed by them")
        impossible = [o.observer for o in report.observations if observation_problems(o, self.terms.max_gpu_energy_wh)]
        if impossible:
            problems.append(f"observations of attestors {impossible} are impossible: the contract would refuse it")
        staked = self.staked()
        unstaked = [o.observer for o in report.observations if self.terms.attestors[o.observer - 1] not in staked]
        if unstaked:
            problems.append(f"observers {unstaked} have nothing at stake")
        if problems:
            return problems
        median = aggregate(report.observations, report.grid_event_id)
        ours = measured_observation(values, max(self.index, 1))
        differences = report_differences(ours, median, self.s.tolerances)
        if differences:
            problems.append(f"its medians disagree with our measurement on {[d[0] for d in differences]}")
            for field, a, b in differences:
                self.store.add_disagreement(report.asset_id, report.epoch, field, a, b)
        if median.curtailed_bps:
            covered = self.coverage_bps(report.grid_event_id, report.epoch)
            if covered is None or median.curtailed_bps > covered:
                problems.append("its curtailment is not covered by a grid event declared for the asset")
        return problems

    def _refuse(self, row: OutboxRow, report: Report, problems: list[str]) -> None:
        if row.status in (OutboxStatus.REFUSED, OutboxStatus.COSIGNED):
            return
        self.store.set_status(row.asset_id, row.epoch, OutboxStatus.REFUSED, "; ".join(problems))
        self.metrics.disagreements.inc()
        log.warning(
            "not co-signing the epoch's report",
            extra={"epoch": row.epoch, "observations": len(report.observations), "problems": problems},
        )

    # ------------------------------------------------------------------ submitting
    def submittable(self, row: OutboxRow) -> tuple[Report, bytes] | None:
        """The best report with f+1 usable co-signatures (the most observations), and exactly f+1 of them: each
        recovers to a distinct attestor holding the minimum stake, ours first. A faulty peer's malformed,
        unknown or unstaked co-signature is never put in (the contract would refuse the whole report)."""
        staked = self.staked()
        best: tuple[int, Report, bytes] | None = None
        for digest_hex, data in self.store.proposals(row.asset_id, row.epoch):
            digest = bytes.fromhex(digest_hex.removeprefix("0x"))
            usable: dict[str, bytes] = {}
            for signer, sig in self.store.cosignatures(row.asset_id, row.epoch, digest_hex):
                raw = bytes.fromhex(sig.removeprefix("0x"))
                try:
                    recovered = recover_digest(digest, raw)
                except Exception:
                    continue
                if recovered == signer and signer in staked and len(raw) == 65:
                    usable.setdefault(signer, raw)
            if len(usable) < self.terms.cosigners_needed:
                continue
            chosen = sorted(usable, key=lambda a: (a != self.signer.address, self.terms.index_of(a)))
            blob = b"".join(usable[a] for a in chosen[: self.terms.cosigners_needed])
            report = report_from_json(data)
            if best is None or len(report.observations) > best[0]:
                best = (len(report.observations), report, blob)
        return None if best is None else (best[1], best[2])

    def drop_cosignature(self, row: OutboxRow, signer: str) -> None:
        """A co-signature the contract refused (its signer unknown, doubled or understaked): never sent again."""
        self.store.delete_cosignatures(row.asset_id, row.epoch, signer)
