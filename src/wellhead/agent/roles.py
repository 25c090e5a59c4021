"""The agent's role: the site agent measures and declares; a checker measures beside it and keeps it honest.

Each role observes a measured epoch its own way and decides when it may submit; nothing else in the agent
asks which role it plays.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from wellhead.agent.chain_reads import ChainReads
from wellhead.agent.measured import measured_event, measured_observation, report_differences
from wellhead.agent.phases import AgentContext
from wellhead.agent.store import OutboxRow
from wellhead.chain.observations import ZERO32, ObservationClaim

log = logging.getLogger("wellhead.agent")


class Role(Protocol):
    name: str

    def observe(self, row: OutboxRow, values: dict[str, Any]) -> None:
        """Signs our observation of the measured epoch `row` (`values` as measured), or waits."""

    def may_submit(self, waited: float) -> bool:
        """Whether a submittable report, `waited` seconds after the epoch was measured, goes out now."""


class SiteRole:
    """Observes at once under its own VEN's grid event, and submits as soon as a report holds f + 1."""

    name = "site"

    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx

    def observe(self, row: OutboxRow, values: dict[str, Any]) -> None:
        self.ctx.attestation.observe(row, values, measured_event(values))

    def may_submit(self, waited: float) -> bool:
        return True


class CheckerRole:
    """Observes once the site agent's observation arrives, taking its grid event and curtailment only as far as
    the declared event covers them (or without it after `submit_delay`); submits only after `submit_delay`, so
    the site's own submission normally lands first."""

    name = "checker"

    def __init__(self, ctx: AgentContext, reads: ChainReads, site_peer: str) -> None:
        self.ctx = ctx
        self.reads = reads
        self.site_peer = site_peer

    def observe(self, row: OutboxRow, values: dict[str, Any]) -> None:
        ctx = self.ctx
        site = self._site_observation(row)
        if site is None:
            waited = time.time() - (ctx.store.created_at(row.asset_id, row.epoch) or time.time())
            if waited >= ctx.settings.submit_delay:
                log.warning("site silent: observing without its grid event", extra={"epoch": row.epoch})
                ctx.attestation.observe(row, {**values, "curtailedBps": 0}, ZERO32)
            return
        self._compare(row, values, site)
        event, curtailed = ZERO32, 0
        if site.grid_event_id != ZERO32:
            covered = self.reads.coverage_bps(site.grid_event_id, row.epoch)
            if covered is not None:
                event, curtailed = site.grid_event_id, min(site.observation.curtailed_bps, covered)
        ctx.attestation.observe(row, {**values, "curtailedBps": curtailed}, event)

    def may_submit(self, waited: float) -> bool:
        return waited >= self.ctx.settings.submit_delay

    def _compare(self, row: OutboxRow, values: dict[str, Any], site: ObservationClaim) -> None:
        """Records where the site's observation differs from our measurement beyond the tolerances."""
        ctx = self.ctx
        ours = measured_observation(values, max(ctx.attestation.index, 1))
        differences = report_differences(ours, site.observation, ctx.settings.tolerances)
        for field, a, b in differences:
            ctx.store.add_disagreement(row.asset_id, row.epoch, field, a, b)
        if differences:
            ctx.metrics.disagreements.inc()
            log.warning(
                "the site agent's observation disagrees with our measurement",
                extra={"epoch": row.epoch, "differences": differences},
            )

    def _site_observation(self, row: OutboxRow) -> ObservationClaim | None:
        """The site agent's observation of the epoch, once held (fetched from it or a peer)."""
        bodies = self.ctx.attestation.fetch_observations(row, also=(self.site_peer,))
        return self.ctx.attestation.peer_observation(self.site_peer, row, bodies.get(self.site_peer))


def role_for(ctx: AgentContext, reads: ChainReads) -> Role:
    """The role the settings name (a checker's `site_peer` is required by the config)."""
    if ctx.settings.mode == "checker":
        assert ctx.settings.site_peer is not None  # the config's validator requires it
        return CheckerRole(ctx, reads, ctx.settings.site_peer)
    return SiteRole(ctx)
