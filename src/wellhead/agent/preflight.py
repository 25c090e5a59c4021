"""`wellhead agent check-config`'s online half: what the agent would find at start, found before it starts.

The deployment record exists and is valid; some RPC URL answers, on the deployment's chain; the asset is
registered there; the inventory lists exactly its registered GPUs; every collector can be built (target
files read, credentials present). Each failure is one line naming what to fix.
"""

from __future__ import annotations

from typing import Any

from wellhead.agent.collectors import build_collectors
from wellhead.agent.config import AgentSettings
from wellhead.agent.inventory import site_inventory
from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.rpc import RpcPool
from wellhead.agent.terms import load_terms
from wellhead.chain.deployment import Deployment


def check_online(settings: AgentSettings) -> dict[str, Any]:
    """A summary of what was checked; raises a WellheadError (one line) on the first problem."""
    deployment = Deployment.load(settings.deployment)
    pool = RpcPool(settings.rpc_urls, deployment, AgentMetrics(), timeout=5.0)
    terms = load_terms(pool, deployment, settings.asset_id)
    inventory = site_inventory(settings, terms.gpus)
    for collector in build_collectors(settings, terms, inventory):
        collector.close()
    return {
        "chain_id": deployment.chain_id,
        "registered_gpus": terms.gpus,
        "inventory": "synthetic (simulated site)" if inventory.synthetic else f"{len(inventory)} GPUs by UUID",
        "attestor_addresses": list(terms.attestors),
    }
