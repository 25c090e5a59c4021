"""What the agent reads from the chain beside its reports: grid-event coverage, staked attestors, certificates."""

from __future__ import annotations

import time

from web3 import Web3

from wellhead.agent.green import Certificate
from wellhead.agent.rpc import RpcPool
from wellhead.agent.terms import SiteTerms
from wellhead.chain.deployment import Deployment
from wellhead.chain.reports import attestor_stake

STAKE_CACHE_SECONDS = 30


class ChainReads:
    def __init__(self, pool: RpcPool, deployment: Deployment, asset_id: int, terms: SiteTerms) -> None:
        self.pool = pool
        self.deployment = deployment
        self.asset_id = asset_id
        self.terms = terms
        self._staked: tuple[float, set[str]] | None = None

    def coverage_bps(self, event: bytes, epoch: int) -> int | None:
        """How much of the epoch (bps, rounded up) the declared grid event covers; None if it is not one of
        the asset's declarations."""
        start, end = self.terms.bounds(epoch)

        def overlap(w3: Web3) -> tuple[bool, int]:
            grid = self.pool.contract(w3, "GridLedger")
            known, secs = grid.functions.overlap(event, self.asset_id, start, end).call()
            return bool(known), int(secs)

        known, secs = self.pool.call(overlap)
        return -(-secs * 10_000 // (end - start)) if known else None

    def staked(self) -> set[str]:
        """The asset's attestors holding the oracle's minimum stake, read at most every 30 s."""
        if self._staked is not None and time.monotonic() - self._staked[0] < STAKE_CACHE_SECONDS:
            return self._staked[1]

        def read(w3: Web3) -> set[str]:
            oracle = self.pool.contract(w3, "MetricsOracle")
            minimum = int(oracle.functions.params().call().minAttestorStake)
            return {a for a in self.terms.attestors if attestor_stake(oracle, self.asset_id, a) >= minimum}

        staked: set[str] = self.pool.call(read)
        self._staked = (time.monotonic(), staked)
        return staked

    def forget_stakes(self) -> None:
        """The oracle refused a co-signer as unknown or understaked: read the stakes again."""
        self._staked = None

    def retired_certificates(self, epoch: int) -> tuple[Certificate, ...]:
        """Renewable certificates retired on chain against this asset's epoch (GridLedger events)."""

        def read(w3: Web3) -> tuple[Certificate, ...]:
            grid = self.pool.contract(w3, "GridLedger")
            logs = grid.events.CertificateRetired.get_logs(
                argument_filters={"assetId": self.asset_id, "epoch": epoch}, from_block=self.deployment.block
            )
            return tuple(Certificate(bytes(e["args"]["certificateId"]), int(e["args"]["energyWh"])) for e in logs)

        certificates: tuple[Certificate, ...] = self.pool.call(read)
        return certificates
