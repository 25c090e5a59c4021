"""Prometheus metrics of one agent (its own registry, served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class AgentMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._sampling(r)
        self._evidence(r)
        self.last_reported_epoch = Gauge(
            "wellhead_agent_last_reported_epoch", "Last epoch whose report is confirmed on chain", registry=r
        )
        self.last_measured_epoch = Gauge("wellhead_agent_last_measured_epoch", "Last epoch aggregated", registry=r)
        self.epoch_uptime = Gauge("wellhead_agent_epoch_uptime_bps", "Uptime measured for the last epoch", registry=r)
        self.curtailment_shed = Gauge(
            "wellhead_agent_curtailment_shed_watts",
            "Load the facility meter shows shed during the last measured grid event",
            registry=r,
        )
        self.outbox_depth = Gauge("wellhead_agent_outbox_depth", "Reports not yet confirmed on chain", registry=r)
        self.rpc_errors = Counter(
            "wellhead_agent_rpc_errors",
            "RPC transport failures, per endpoint (its position in rpc_urls: URLs may carry API keys)",
            ["endpoint"],
            registry=r,
        )
        self.current_epoch = Gauge("wellhead_agent_current_epoch", "The asset's epoch at the agent's clock", registry=r)
        self.outbox_oldest_age = Gauge(
            "wellhead_agent_outbox_oldest_age_seconds",
            "Age of the oldest report not yet confirmed on chain (0 when none)",
            registry=r,
        )
        self.signer_balance = Gauge(
            "wellhead_agent_signer_balance_wei",
            "Balance of the account that pays for submissions",
            registry=r,
        )
        self.submissions = Counter("wellhead_agent_submissions", "Report transactions sent", registry=r)
        self.disagreements = Counter("wellhead_agent_disagreements", "Epochs a checker refused to co-sign", registry=r)
        self.counter_rejections = Counter(
            "wellhead_agent_energy_readings_rejected",
            "Energy counter readings rejected as glitches (went backwards): counted as unproven time",
            registry=r,
        )
        self.abandoned = Counter("wellhead_agent_reports_abandoned", "Reports past their deadline", registry=r)
        self.phase_errors = Counter(
            "wellhead_agent_phase_errors",
            "Passes in which a phase of the loop failed, per phase",
            ["phase"],
            registry=r,
        )
        self.phase_seconds = Histogram(
            "wellhead_agent_phase_seconds",
            "Time one pass of a phase of the loop took, per phase",
            ["phase"],
            buckets=(0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )

    def _sampling(self, r: CollectorRegistry) -> None:
        """What the sampler counts: readings, what is missing, and why."""
        self.samples = Counter("wellhead_agent_samples", "Readings taken, per collector", ["collector"], registry=r)
        self.missing = Counter(
            "wellhead_agent_samples_missing",
            "Readings missing or rejected (peer down, malformed, exception, counter glitch), per collector",
            ["collector"],
            registry=r,
        )
        self.collector_errors = Counter(
            "wellhead_agent_collector_errors", "Collector failures, per collector", ["collector"], registry=r
        )
        self.inventory_errors = Counter(
            "wellhead_agent_inventory_errors",
            "GPU readings dropped because their UUID is not in the inventory (unknown), was read twice by one "
            "collector (duplicate) or is absent (no_uuid), per collector",
            ["collector", "kind"],
            registry=r,
        )
        self.gpus_unattributed = Gauge(
            "wellhead_agent_gpus_unattributed",
            "Inventory GPUs no collector read in the last sample (unproven time)",
            registry=r,
        )
        self.target_failures = Counter(
            "wellhead_agent_target_failures",
            "Scrape targets or queries of a collector that failed or missed the pass deadline, per collector",
            ["collector"],
            registry=r,
        )

    def _evidence(self, r: CollectorRegistry) -> None:
        self.evidence_uploads = Counter(
            "wellhead_agent_evidence_uploads", "Evidence files copied to object storage", registry=r
        )
        self.evidence_upload_failures = Counter(
            "wellhead_agent_evidence_upload_failures", "Evidence uploads that failed (retried)", registry=r
        )
        self.evidence_pending = Gauge(
            "wellhead_agent_evidence_pending", "Evidence files not yet in object storage", registry=r
        )
        self.evidence_removed = Counter(
            "wellhead_agent_evidence_removed", "Local evidence files removed past retention", registry=r
        )
