"""Liquidations of unhealthy credit positions, when they pay for their gas (optional, off by default).

Borrowers are learned from the market's `Borrowed` logs, read from a cursor kept in the keeper's state (a
borrower once seen is watched for good; a reorg can only add a name, never hide one). Each pass asks every
watched position's health; for one below 1, the chain itself answers what a liquidation would seize now (an
`eth_call` of `liquidate(asset, borrower, max, keeper)` from the keeper), and the keeper sends it only when

    seized value - repaid - gas x (base fee + tip) x ETH price  >=  min_profit

in stablecoin base units. The repayment is the seized value less the bonus (seized = repaid x (1 + bonus) /
price) or, when the whole collateral goes, the whole debt (the bad-debt case, where the bonus is not paid in
full). The ETH price is the operator's stated figure (`eth_price`, stablecoin base units per ether): no price
feed for gas is trusted here. The keeper repays from its own balance and allowance; a position it cannot pay
for is skipped and counted, never half-sent. One transaction per position is in flight at most.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError

from wellhead.chain.artifacts import abi
from wellhead.core.errors import ConfigError
from wellhead.keeper.flight import Flight, InFlight
from wellhead.keeper.settler import Chain

log = logging.getLogger("wellhead.keeper")
MAX_UINT = 2**256 - 1
ONE = 10**18  # health factor 1, and one whole share
BPS = 10_000
LOG_SPAN = 5_000  # blocks per log query


@dataclass(frozen=True)
class LiquidationConfig:
    enabled: bool = False
    min_profit: int = 0  # stablecoin base units left after gas, at least
    eth_price: int = 0  # stablecoin base units per ether, to price gas; 0 refuses every liquidation
    start_block: int = 0  # where the borrower scan starts (the market's deployment block)


@dataclass(frozen=True)
class Quote:
    seized: int
    value: int  # of the seized shares at the liquidation price, stablecoin base units
    repaid: int
    gas_cost: int  # stablecoin base units
    profit: int  # value - repaid - gas_cost


def quote_liquidation(seized: int, price: int, bonus_bps: int, whole: bool, debt: int, gas_wei: int, eth: int) -> Quote:
    """What a liquidation nets its caller, rounded against the caller (value down, costs up)."""
    value = seized * price // ONE
    repaid = debt if whole else -(-value * BPS // (BPS + bonus_bps))
    gas_cost = -(-gas_wei * eth // ONE)
    return Quote(seized, value, repaid, gas_cost, value - repaid - gas_cost)


class Liquidator:
    name = "liquidating"

    def __init__(self, chain: Chain, flight: InFlight, assets: Any, config: LiquidationConfig) -> None:
        self.chain = chain
        self.flight = flight
        self.assets = assets
        self.config = config
        self.metrics = flight.metrics

    def pass_(self, w3: Web3) -> None:
        if not self.config.enabled:
            return
        if self.config.eth_price <= 0:
            raise ConfigError("liquidations need eth_price (stablecoin base units per ether) to price their gas")
        market = self.chain.contract(w3, "CreditMarket")
        coin = self.chain.contract(w3, "Stablecoin")
        for asset, borrower in self._positions(w3, market):
            job = f"liquidate:{asset}:{borrower}"
            if self.flight.clear(w3, job, "liquidate") is not Flight.CLEAR:
                continue
            if int(market.functions.healthFactor(asset, borrower).call()) >= ONE:
                continue
            quote = self.quote(w3, market, asset, borrower)
            if quote is None:
                continue
            if quote.profit < self.config.min_profit:
                self._skip("unprofitable", asset, borrower, quote)
                continue
            me = self.flight.sender.address
            funds = min(
                int(coin.functions.balanceOf(me).call()), int(coin.functions.allowance(me, market.address).call())
            )
            if funds < quote.repaid:
                self._skip("unfunded", asset, borrower, quote)
                continue
            self.flight.send(w3, job, "liquidate", market.functions.liquidate(asset, borrower, MAX_UINT, me))

    def quote(self, w3: Web3, market: Contract, asset: int, borrower: str) -> Quote | None:
        """What liquidating the position now would net the keeper; None when the call reverts."""
        me = self.flight.sender.address
        fn = market.functions.liquidate(asset, borrower, MAX_UINT, me)
        try:
            seized = int(fn.call({"from": me}))
            gas = int(fn.estimate_gas({"from": me}))
        except (ContractCustomError, ContractLogicError):  # a grace period, a paused stablecoin, no allowance yet
            self.metrics.liquidations_skipped.labels(reason="reverts").inc()
            return None
        feed = w3.eth.contract(address=market.functions.feedOf(asset).call(), abi=abi("NavOracle"))
        price, _epoch, _stale, _seasoned = feed.functions.lendingPrice().call()  # what `liquidate` prices at
        bonus = int(market.functions.collateralParams(asset).call().liquidationBonusBps)
        collateral = int(market.functions.positionOf(asset, borrower).call().collateral)
        debt = int(market.functions.debtOf(asset, borrower).call())
        base = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
        gas_wei = gas * (base + int(w3.eth.max_priority_fee))
        whole = seized >= collateral
        return quote_liquidation(seized, int(price), bonus, whole, debt, gas_wei, self.config.eth_price)

    def _skip(self, reason: str, asset: int, borrower: str, quote: Quote) -> None:
        self.metrics.liquidations_skipped.labels(reason=reason).inc()
        log.info(
            "liquidation skipped",
            extra={"reason": reason, "asset": asset, "borrower": borrower, "profit": quote.profit},
        )

    # ------------------------------------------------------------------ who borrowed
    def _positions(self, w3: Web3, market: Contract) -> list[tuple[int, str]]:
        state = self.flight.state
        stored = state.get("keeper:borrowers")
        known: dict[str, Any] = json.loads(stored) if stored else {"next": self.config.start_block, "seen": []}
        head = int(w3.eth.block_number)
        event = market.events.Borrowed
        while known["next"] <= head:
            end = min(head, known["next"] + LOG_SPAN - 1)
            for entry in event.get_logs(from_block=known["next"], to_block=end):
                pair = [int(entry["args"]["assetId"]), str(entry["args"]["borrower"])]
                if pair not in known["seen"]:
                    known["seen"].append(pair)
            known["next"] = end + 1
            state.put("keeper:borrowers", json.dumps(known))
        wanted = set(self.assets(w3))
        return [(a, b) for a, b in known["seen"] if a in wanted]
