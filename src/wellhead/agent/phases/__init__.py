"""The agent's loop, phase by phase: each reads and writes the outbox store and owns its errors and metrics.

sampling -> epochs (close and measure) -> observing (the role's) -> exchange (propose, co-sign) -> submitting
-> challenging. A phase never calls another; they meet in the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from wellhead.agent.attestation import AttestationExchange
from wellhead.agent.config import AgentSettings
from wellhead.agent.inventory import Inventory
from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.rpc import RpcPool
from wellhead.agent.signer import ReportSigner
from wellhead.agent.store import AgentStore
from wellhead.agent.terms import SiteTerms
from wellhead.chain.deployment import Deployment

Warn = Callable[..., None]


@dataclass
class AgentContext:
    """What every phase shares: settings, the asset's terms, the store, the chain and the exchange."""

    settings: AgentSettings
    terms: SiteTerms
    store: AgentStore
    pool: RpcPool
    deployment: Deployment
    metrics: AgentMetrics
    signer: ReportSigner
    attestation: AttestationExchange
    warn: Warn
    inventory: Inventory

    @property
    def asset_id(self) -> int:
        return self.settings.asset_id


class Phase(Protocol):
    name: str
    failures: int  # items that failed in the last pass while the rest went on (the keeper's assets); 0: clean

    def run(self, now: float) -> None:
        """One pass over what this phase has to do at `now` (chain or wall time, per the settings)."""
