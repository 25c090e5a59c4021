"""The gateway's Prometheus metrics (served at /metrics by the operations routes)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.head = Gauge("wellhead_gateway_chain_head_block", "The RPC node's latest block", registry=r)
        self.next_block = Gauge("wellhead_gateway_indexer_next_block", "The next block the index will read", registry=r)
        self.lag_blocks = Gauge(
            "wellhead_gateway_indexer_lag_blocks", "Blocks the index is behind the head", registry=r
        )
        self.lag_seconds = Gauge(
            "wellhead_gateway_indexer_lag_seconds", "Age of the newest block the index has read", registry=r
        )
        self.indexer_leading = Gauge(
            "wellhead_gateway_indexer_leading",
            "1 while this process is the active indexer (holds the advisory lock); 0 for a standby or no indexer",
            registry=r,
        )
        self.settlement_lag = Gauge(
            "wellhead_gateway_settlement_lag_epochs",
            "Epochs of the asset with an accepted report that are not settled yet",
            ["asset"],
            registry=r,
        )
