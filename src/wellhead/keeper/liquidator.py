"""Liquidations of unhealthy credit positions, when they pay for their gas (optional, off by default).

Borrowers are learned from the market's `Borrowed` logs, read from a cursor kept in the keeper's state (a
borrower once seen is watched for good; a reorg can only add a name, never hide one). Each pass asks every
watched position's health; for one below 1, the chain itself answers what a liquidation would seize now (an
`eth_call` of `liquidate(asset, borrower, max, keeper)` from the keeper), and the keeper sends it only when

    seized value - repaid - gas x (base fee + tip) x ETH price  >=  min_profit

in stablecoin base units. The repayment is the seized value at the bonus's discount (seized = repaid x
(1 + bonus) / price), at most the debt: under water, `liquidate` takes all the collateral for its discounted
worth and writes the rest of the debt off. The price is the feed's lending price, the one `liquidate` uses; a
position whose feed has a newer round to record (`update()` would record one, and `liquidate` records it first)
waits for it (`price_pending`): the keeper's NAV job records it. The ETH price is the operator's stated figure
(`eth_price`, stablecoin base units per ether): no price feed for gas is trusted here. A liquidation is sent
with a fee cap at its break-even (gross - min_profit over its gas limit): a replacement never outbids its profit.
The keeper repays from its own balance and allowance; a position it cannot pay for is skipped and counted,
never half-sent. One transaction per position is in flight at most; one position's failure stops no other.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from typing import Any

from web3 import Web3
from web3.contract.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception

from wellhead.agent.rpc import TRANSPORT_ERRORS
from wellhead.chain.artifacts import abi
from wellhead.core.errors import ConfigError, WellheadError
from wellhead.keeper.flight import Flight, InFlight
from wellhead.keeper.settler import Chain
from wellhead.keeper.transactions import GAS_HEADROOM, ceil_ratio

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
    gas: int = 0  # the estimate the gas cost was priced at


def quote_liquidation(seized: int, price: int, bonus_bps: int, debt: int, gas_wei: int, eth: int) -> Quote:
    """What a liquidation nets its caller, rounded against the caller (value down, costs up)."""
    value = seized * price // ONE
    repaid = min(debt, -(-value * BPS // (BPS + bonus_bps)))
    gas_cost = -(-gas_wei * eth // ONE)
    return Quote(seized, value, repaid, gas_cost, value - repaid - gas_cost)


def break_even_fee(quote: Quote, min_profit: int, gas_limit: int, eth: int) -> int:
    """The most wei per gas the liquidation may pay and still leave `min_profit` (its replacements' cap)."""
    spare = quote.value - quote.repaid - min_profit
    return max(0, spare * ONE // (eth * gas_limit))


class Liquidator:
    name = "liquidating"

    def __init__(self, chain: Chain, flight: InFlight, assets: Any, config: LiquidationConfig) -> None:
        self.chain = chain
        self.flight = flight
        self.assets = assets
        self.config = config
        self.metrics = flight.metrics
        self.failures = 0  # positions whose step failed in the last pass

    def pass_(self, w3: Web3) -> None:
        if not self.config.enabled:
            return
        if self.config.eth_price <= 0:
            raise ConfigError("liquidations need eth_price (stablecoin base units per ether) to price their gas")
        market = self.chain.contract(w3, "CreditMarket")
        coin = self.chain.contract(w3, "Stablecoin")
        failures = 0
        for asset, borrower in self._positions(w3, market):
            try:
                self._position(w3, market, coin, asset, borrower)
            except (Web3Exception, ValueError, WellheadError) as exc:  # one position's trouble stops no other
                if isinstance(exc, TRANSPORT_ERRORS):
                    raise
                failures += 1
                self.metrics.liquidation_errors.inc()
                log.warning("liquidation step failed", extra={"asset": asset, "error": type(exc).__name__})
        self.failures = failures

    def _position(self, w3: Web3, market: Contract, coin: Contract, asset: int, borrower: str) -> None:
        job = f"liquidate:{asset}:{borrower}"
        if self.flight.clear(w3, job, "liquidate") is not Flight.CLEAR:
            return
        if int(market.functions.healthFactor(asset, borrower).call()) >= ONE:
            return
        quote = self.quote(w3, market, asset, borrower)
        if quote is None:
            return
        if quote.profit < self.config.min_profit:
            self._skip("unprofitable", asset, borrower, quote)
            return
        me = self.flight.sender.address
        funds = min(int(coin.functions.balanceOf(me).call()), int(coin.functions.allowance(me, market.address).call()))
        if funds < quote.repaid:
            self._skip("unfunded", asset, borrower, quote)
            return
        fn = market.functions.liquidate(asset, borrower, MAX_UINT, me)
        limit = ceil_ratio(quote.gas, GAS_HEADROOM)  # what `send` sets: the most gas it can pay for
        cap = break_even_fee(quote, self.config.min_profit, limit, self.config.eth_price)
        self.flight.send(w3, job, "liquidate", fn, fee_cap=max(cap, 1))

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
        if feed.functions.update().call():  # `liquidate` would record a newer round first and price at it
            self.metrics.liquidations_skipped.labels(reason="price_pending").inc()
            return None
        price, _epoch, _stale, _seasoned = feed.functions.lendingPrice().call()  # what `liquidate` prices at
        bonus = int(market.functions.collateralParams(asset).call().liquidationBonusBps)
        debt = int(market.functions.debtOf(asset, borrower).call())
        base = int(w3.eth.get_block("latest").get("baseFeePerGas", 0))
        gas_wei = gas * (base + int(w3.eth.max_priority_fee))
        quote = quote_liquidation(seized, int(price), bonus, debt, gas_wei, self.config.eth_price)
        return replace(quote, gas=gas)

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
