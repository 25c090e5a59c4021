"""The keeper's Prometheus metrics (its own registry; the site agent adds them to its own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class KeeperMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        r = registry or CollectorRegistry()
        self.registry = r
        self.finalizable = Gauge(
            "wellhead_keeper_epochs_finalizable",
            "Epochs that would settle now (reported and past their challenge window, or past the report deadline)",
            ["asset"],
            registry=r,
        )
        self.next_epoch = Gauge(
            "wellhead_keeper_next_epoch_to_finalize", "The asset's next unsettled epoch", ["asset"], registry=r
        )
        self.sent = Counter(
            "wellhead_keeper_transactions_sent", "Keeper transactions sent, per kind", ["kind"], registry=r
        )
        self.outcomes = Counter(
            "wellhead_keeper_transactions",
            "Keeper transactions by what became of them (mined, reverted, replaced), per kind",
            ["kind", "outcome"],
            registry=r,
        )
        self.errors = Counter(
            "wellhead_keeper_asset_errors",
            "Passes in which an asset's settling or NAV step failed (a revert, a refused send); the others went on",
            ["asset"],
            registry=r,
        )
        self.rebroadcasts = Counter(
            "wellhead_keeper_rebroadcasts", "Transactions broadcast again after leaving the chain", registry=r
        )
        self.replacements = Counter(
            "wellhead_keeper_replacements",
            "Transactions pending too long, replaced by the same call and nonce with higher fees, per kind",
            ["kind"],
            registry=r,
        )
        self.liquidations_skipped = Counter(
            "wellhead_keeper_liquidations_skipped",
            "Unhealthy positions not liquidated in a pass, by reason (unprofitable, unfunded, reverts)",
            ["reason"],
            registry=r,
        )
        self.replacements_capped = Counter(
            "wellhead_keeper_replacements_capped",
            "Replacements not sent because the fee would pass the cap (the policy's, or a liquidation's break-even)",
            ["kind"],
            registry=r,
        )
        self.liquidation_errors = Counter(
            "wellhead_keeper_liquidation_errors",
            "Positions skipped in a pass because their liquidation step failed (a refused send, a revert)",
            registry=r,
        )
