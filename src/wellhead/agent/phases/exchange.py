"""Observing and exchange: our observation of each measured epoch signed (as the role does it), then the
peers' observations and reports fetched, a report proposed and co-signed."""

from __future__ import annotations

import time

from wellhead.agent.phases import AgentContext
from wellhead.agent.roles import Role
from wellhead.agent.store import OutboxStatus


class Observing:
    name = "observing"
    failures = 0  # it isolates no failures of its own: a failing pass raises

    def __init__(self, ctx: AgentContext, role: Role) -> None:
        self.ctx = ctx
        self.role = role

    def run(self, now: float) -> None:
        with self.ctx.attestation.peers.phase():  # a checker asks the site for each epoch: one wait for all
            for row in self.ctx.store.open_reports():
                if row.status == OutboxStatus.MEASURED and row.report is not None:
                    self.role.observe(row, dict(row.report))


class Exchange:
    name = "exchange"
    failures = 0  # it isolates no failures of its own: a failing pass raises

    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx

    def run(self, now: float) -> None:
        exchange = self.ctx.attestation
        measured = [
            (row, dict(row.report))
            for row in self.ctx.store.open_reports()
            if row.status in (OutboxStatus.OBSERVED, OutboxStatus.COSIGNED) and row.report is not None
        ]
        exchange.fetch_round([row for row, _ in measured])  # every peer, every row, at once (agent/peers.py)
        for row, values in measured:
            exchange.propose(row, time.time())
            exchange.cosign(row, values)
