"""Challenging: an accepted report is challenged, inside its window, when one of its observations is more than
`challenge_margin_bps` from what we measured, or its medians are beyond our tolerances; the arbiter reads the
evidence and names the liar."""

from __future__ import annotations

import logging

from web3 import Web3

from wellhead.agent.measured import measured_observation, report_differences
from wellhead.agent.phases import AgentContext
from wellhead.agent.store import OutboxRow, OutboxStatus
from wellhead.agent.transactions import Transactor
from wellhead.chain.enums import ReportStatus
from wellhead.chain.observations import Observation
from wellhead.chain.reports import StoredReport, accepted_report
from wellhead.core.errors import ContractRevertError

log = logging.getLogger("wellhead.agent")
RECENT_REPORTED_EPOCHS = 3  # reported epochs still looked at (a challenge window is far shorter than 3 epochs)


class Challenger:
    name = "challenging"
    failures = 0  # it isolates no failures of its own: a failing pass raises

    def __init__(self, ctx: AgentContext, tx: Transactor) -> None:
        self.ctx = ctx
        self.tx = tx

    def run(self, now: float) -> None:
        ctx = self.ctx
        for row in ctx.store.open_reports() + self._reported_rows():
            if row.report is None or ctx.store.get(f"challenged:{row.asset_id}:{row.epoch}") is not None:
                continue
            # what we signed: our measurement, with the curtailment we took from the declared event
            claim = ctx.attestation.own(row)
            ours = claim.observation if claim is not None else measured_observation(dict(row.report), 1)

            def attempt(w3: Web3, row: OutboxRow = row, ours: Observation = ours) -> str | None:
                return self._attempt(w3, row, ours)

            try:
                outcome: str | None = ctx.pool.call(attempt)
            except ContractRevertError as exc:
                ctx.warn("challenge", "challenge failed", epoch=row.epoch, error=str(exc))
                continue
            if outcome is not None:
                ctx.store.put(f"challenged:{row.asset_id}:{row.epoch}", outcome)

    def _attempt(self, w3: Web3, row: OutboxRow, ours: Observation) -> str | None:
        """'challenged' or 'agreed' once decided; None while there is nothing (or no longer anything) to do."""
        ctx = self.ctx
        oracle = ctx.pool.contract(w3, "MetricsOracle")
        stored = StoredReport.read(oracle, row.asset_id, row.epoch)
        if stored.status != ReportStatus.PENDING or w3.eth.get_block("latest")["timestamp"] >= stored.challenge_ends_at:
            return None
        logs = oracle.events.ReportAccepted().get_logs(
            from_block=ctx.deployment.block, argument_filters={"assetId": row.asset_id, "epoch": row.epoch}
        )
        if not logs:
            return None
        accepted = accepted_report(w3, oracle, logs[-1])
        margin = ctx.settings.challenge_margin_bps
        far = [
            o.observer
            for o in accepted.report.observations
            if abs(o.uptime_bps - ours.uptime_bps) > margin or abs(o.curtailed_bps - ours.curtailed_bps) > margin
        ]
        if not far and not report_differences(ours, accepted.aggregate, ctx.settings.tolerances):
            return "agreed"
        coin = ctx.pool.contract(w3, "Stablecoin")
        self.tx.send(w3, coin.functions.approve(oracle.address, ctx.terms.challenge_bond))
        self.tx.send(w3, oracle.functions.challenge(row.asset_id, row.epoch))
        log.warning("report challenged", extra={"epoch": row.epoch, "observers_far_off": far})
        return "challenged"

    def _reported_rows(self) -> list[OutboxRow]:
        store, asset = self.ctx.store, self.ctx.asset_id
        rows = []
        for status in (OutboxStatus.CONFIRMED, OutboxStatus.REFUSED):
            for epoch in store.with_status(asset, status)[-RECENT_REPORTED_EPOCHS:]:
                row = store.report(asset, epoch)
                if row is not None:
                    rows.append(row)
        return rows
