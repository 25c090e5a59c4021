"""Submitting: a report holding f + 1 co-signatures sent to the oracle (when the role allows), then tracked."""

from __future__ import annotations

import time

from web3 import Web3

from wellhead.agent.chain_reads import ChainReads
from wellhead.agent.phases import AgentContext
from wellhead.agent.roles import Role
from wellhead.agent.store import OutboxRow, OutboxStatus
from wellhead.agent.transactions import Transactor
from wellhead.chain.reports import StoredReport
from wellhead.core.errors import ContractRevertError

# the oracle refused one of the co-signers: never send that co-signature again
REFUSED_COSIGNER = ("OracleUnknownSigner", "OracleDuplicateSigner", "OracleCosignerUnderstaked")


class Submitter:
    name = "submitting"
    failures = 0  # it isolates no failures of its own: a failing pass raises

    def __init__(self, ctx: AgentContext, role: Role, reads: ChainReads, tx: Transactor) -> None:
        self.ctx = ctx
        self.role = role
        self.reads = reads
        self.tx = tx

    def run(self, now: float) -> None:
        for row in self.ctx.store.open_reports():
            if row.status == OutboxStatus.COSIGNED and time.time() >= row.next_attempt_at:
                self.try_submit(row, now)
            elif row.status == OutboxStatus.SUBMITTED:

                def track(w3: Web3, row: OutboxRow = row) -> None:
                    self.tx.track(w3, row)

                self.ctx.pool.call(track)

    def try_submit(self, row: OutboxRow, now: float) -> None:
        ctx = self.ctx
        _, end = ctx.terms.bounds(row.epoch)
        if now > end + ctx.terms.report_deadline:
            ctx.store.set_status(row.asset_id, row.epoch, OutboxStatus.ABANDONED, "past the report deadline")
            ctx.metrics.abandoned.inc()
            return
        ready = ctx.attestation.submittable(row)
        waited = time.time() - (ctx.store.created_at(row.asset_id, row.epoch) or time.time())
        if ready is None or not self.role.may_submit(waited):
            return
        report, cosignatures = ready

        def send(w3: Web3) -> None:
            oracle = ctx.pool.contract(w3, "MetricsOracle")
            if not StoredReport.read(oracle, row.asset_id, row.epoch).exists:  # else someone else's landed
                self.tx.send(w3, oracle.functions.submitReport(report.as_tuple(), cosignatures), row)
            ctx.store.set_status(row.asset_id, row.epoch, OutboxStatus.SUBMITTED)

        try:
            ctx.pool.call(send)
        except ContractRevertError as exc:
            self._refused(row, exc)

    def _refused(self, row: OutboxRow, exc: ContractRevertError) -> None:
        ctx = self.ctx
        if exc.error in REFUSED_COSIGNER:
            ctx.attestation.drop_cosignature(row, str(exc.error_args.get("signer", "")))
            self.reads.forget_stakes()
        if exc.error == "OracleReportExists":
            ctx.store.set_status(row.asset_id, row.epoch, OutboxStatus.SUBMITTED)
        elif exc.error == "OracleReportTooLate":
            ctx.store.set_status(row.asset_id, row.epoch, OutboxStatus.ABANDONED, str(exc))
            ctx.metrics.abandoned.inc()
        else:
            ctx.store.backoff(row.asset_id, row.epoch, str(exc))
            ctx.warn(f"submit:{row.epoch}", "report rejected; will retry", epoch=row.epoch, error=str(exc))
