"""The asset's terms as the agent needs them, read once from the registry, the oracle and the stablecoin."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from wellhead.agent.rpc import RpcPool
from wellhead.chain.deployment import Deployment
from wellhead.core.errors import ConfigError


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
    dispute_deadline: int = 3 * 86_400  # how long the arbiter has to rule on a challenged report

    def bounds(self, epoch: int) -> tuple[int, int]:
        """The epoch's [start, end) timestamps."""
        start = self.genesis + epoch * self.epoch_length
        return start, start + self.epoch_length

    def epoch_at(self, ts: int) -> int:
        return max(0, (ts - self.genesis) // self.epoch_length)

    @property
    def evidence_needed_for(self) -> int:
        """Seconds after an epoch ends during which its evidence may still be needed: a report can come up to
        the report deadline, be challenged up to the challenge window after, and be arbitrated up to the
        dispute deadline after that."""
        return self.report_deadline + self.challenge_window + self.dispute_deadline

    @property
    def max_gpu_energy_wh(self) -> int:
        """The most energy the asset's GPUs can draw in one epoch at their rated power."""
        return self.gpus * self.max_watts * self.epoch_length // 3600


def load_terms(pool: RpcPool, deployment: Deployment, asset_id: int) -> SiteTerms:
    """Reads the asset's terms; a chain or asset the deployment does not know is a ConfigError."""

    def read(w3: Web3) -> SiteTerms:
        if w3.eth.chain_id != deployment.chain_id:
            raise ConfigError(
                f"the RPC node serves chain {w3.eth.chain_id}, the deployment is on chain {deployment.chain_id}"
            )
        registry = pool.contract(w3, "CapacityRegistry")
        t = registry.functions.terms(asset_id).call()
        if t.status == 0:
            raise ConfigError(f"asset {asset_id} is not registered on chain {deployment.chain_id}")
        params = registry.functions.protocolParams().call()
        return SiteTerms(
            genesis=t.genesis,
            epoch_length=t.epochLength,
            gpus=t.gpuCount,
            max_watts=t.maxWattsPerGpu,
            fault_tolerance=t.faultTolerance,
            attestors=tuple(registry.functions.attestors(asset_id).call()),
            report_deadline=params.reportDeadline,
            challenge_window=params.challengeWindow,
            challenge_bond=params.challengeBond,
            decimals=int(pool.contract(w3, "Stablecoin").functions.decimals().call()),
            dispute_deadline=params.disputeDeadline,
        )

    terms: SiteTerms = pool.call(read)
    return terms
