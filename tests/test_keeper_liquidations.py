"""The keeper's optional liquidations on a real node: an unhealthy position is liquidated when it pays after
gas, and only then; a healthy one, an unfunded keeper or a loss sends nothing; the quote errs against the
keeper (value rounded down, repayment and gas rounded up)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3 import Web3
from web3.logs import DISCARD

from tests.support.chain import Desk
from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.rpc import RpcPool
from wellhead.chain.client import Protocol, send
from wellhead.chain.connection import rpc
from wellhead.chain.deployment import Deployment
from wellhead.core.constants import WAD
from wellhead.devkit.scenario.actors import USDC
from wellhead.keeper.flight import InFlight
from wellhead.keeper.liquidator import LiquidationConfig, Liquidator, Quote, break_even_fee, quote_liquidation
from wellhead.keeper.metrics import KeeperMetrics
from wellhead.keeper.service import KeeperState
from wellhead.keeper.transactions import AccountSender, SentTx

ETHER = 10**18


def keeper_account(desk: Desk) -> LocalAccount:
    """A keeper of its own for each test, funded and approved: its transactions' hashes are its own too (the same
    signed bytes in two tests, one of them reverted by a snapshot, confuse anvil's lookup by hash)."""
    account: LocalAccount = Account.create()
    rpc(desk.w3, "anvil_setBalance", [account.address, hex(10**20)])
    coin = desk.p.stablecoin.functions
    send(desk.w3, desk.a.admin, coin.mint(account.address, 10**6 * USDC))
    send(desk.w3, account, coin.approve(desk.credit.address, 2**256 - 1))
    return account


def liquidator(desk: Desk, deployment: Deployment, tmp_path: Path, **config: int) -> tuple[Liquidator, RpcPool]:
    pool = RpcPool([desk.w3.provider.endpoint_uri], deployment, AgentMetrics())  # type: ignore[attr-defined]
    sender = AccountSender(keeper_account(desk), deployment.chain_id)
    flight = InFlight(sender, KeeperState(tmp_path / "k.sqlite"), KeeperMetrics())
    return Liquidator(pool, flight, lambda _w3: [desk.asset_id], LiquidationConfig(enabled=True, **config)), pool


def skipped(k: Liquidator, reason: str) -> float:
    got = k.metrics.registry.get_sample_value("wellhead_keeper_liquidations_skipped_total", {"reason": reason})
    return 0.0 if got is None else float(got)


def liquidations(desk: Desk, k: Liquidator) -> list[dict[str, Any]]:
    """The Liquidated events of the keeper's transaction in flight for the desk's position, from its receipt
    (logs queried from block 0 are not reliable on a node whose snapshots were reverted). These tests never
    replace a transaction, so the newest version is the one."""
    stored = k.flight.state.get(f"keeper:liquidate:{desk.asset_id}:{desk.borrower.address}")
    if stored is None:
        return []
    tx = SentTx.loads(stored)
    # anvil mines a transaction just after accepting it: under load its receipt can be a moment behind
    receipts = [desk.w3.eth.wait_for_transaction_receipt(HexStr(tx.hash), timeout=30)]
    return [
        dict(e["args"]) for r in receipts for e in desk.credit.events.Liquidated().process_receipt(r, errors=DISCARD)
    ]


def under_water(desk: Desk) -> None:
    """Borrowed to the limit, then an epoch at 25 % uptime: unhealthy, yet the collateral still covers debt plus
    bonus (a partial liquidation, at the close factor)."""
    desk.borrow(desk.credit.functions.borrowCapacity(desk.asset_id, desk.borrower.address).call())
    desk.epochs(1, 2_500)
    assert desk.health() < WAD
    assert 200_000 * desk.price() > desk.debt() * 10_800 // 10_000, "solvent"


def test_a_position_is_liquidated_once_it_pays_after_gas_and_not_before(
    desk: Desk, w3: Web3, protocol: Protocol, deployment: Deployment, tmp_path: Path
) -> None:
    k, pool = liquidator(desk, deployment, tmp_path, eth_price=USDC)  # 1 USDC per ether: gas costs next to nothing
    pool.call(k.pass_)
    assert liquidations(desk, k) == [] and skipped(k, "unprofitable") == 0, "healthy: nothing asked, nothing sent"
    under_water(desk)
    coin = protocol.stablecoin.functions
    me = k.flight.sender.account  # type: ignore[attr-defined]
    send(w3, me, coin.approve(desk.credit.address, 0))
    pool.call(k.pass_)
    assert liquidations(desk, k) == [] and skipped(k, "reverts") == 1, "no allowance: the liquidation would revert"
    send(w3, me, coin.approve(desk.credit.address, 2**256 - 1))

    quote = pool.call(lambda w3: k.quote(w3, desk.credit, desk.asset_id, desk.borrower.address))
    assert isinstance(quote, Quote) and quote.profit > 0
    k.config = replace(k.config, min_profit=quote.profit + 1)
    pool.call(k.pass_)
    assert liquidations(desk, k) == [] and skipped(k, "unprofitable") == 1, "one unit short of the minimum"
    k.config = replace(k.config, min_profit=quote.profit)
    pool.call(k.pass_)
    (event,) = liquidations(desk, k)
    assert event["liquidator"] == me.address and event["borrower"] == desk.borrower.address
    assert int(event["repaid"]) <= quote.repaid, "the quote never understates the repayment"
    assert int(event["seized"]) == quote.seized
    assert int(event["seized"]) * int(event["pricePerShare"]) // 10**18 >= quote.value
    pool.call(k.pass_)  # follows its transaction: mined
    mined = k.metrics.registry.get_sample_value(
        "wellhead_keeper_transactions_total", {"kind": "liquidate", "outcome": "mined"}
    )
    assert mined == 1


def test_gas_priced_in_the_stablecoin_can_make_a_liquidation_not_worth_it(
    desk: Desk, deployment: Deployment, tmp_path: Path
) -> None:
    under_water(desk)
    k, pool = liquidator(desk, deployment, tmp_path, eth_price=10**12 * USDC)  # ether at a trillion dollars
    pool.call(k.pass_)
    assert liquidations(desk, k) == [] and skipped(k, "unprofitable") == 1


def test_the_quote_rounds_against_the_keeper() -> None:
    half, debt = ETHER // 2, 10**30
    assert quote_liquidation(3, half, 800, debt, 0, 0).value == 1, "1.5 rounds down"
    assert quote_liquidation(1_081 * ETHER, 1, 800, debt, 0, 0).repaid == 1_001, "1,000.9 rounds up"
    assert quote_liquidation(1_080 * ETHER, 1, 800, debt, 0, 0).repaid == 1_000, "exact stays exact"
    assert quote_liquidation(0, ETHER, 800, debt, 1, 1).gas_cost == 1, "a wei of gas costs a unit"
    assert quote_liquidation(0, ETHER, 800, debt, ETHER, 3).gas_cost == 3
    capped = quote_liquidation(1_080 * ETHER, 1, 800, 999, 0, 0)
    assert (capped.repaid, capped.profit) == (999, 81), "never more than the debt"
    under_water = quote_liquidation(1_080 * ETHER, 1, 800, 5_000, 0, 0)
    assert (under_water.repaid, under_water.profit) == (1_000, 80), "all the collateral, at its discounted worth"


def test_a_liquidation_never_offers_more_gas_than_its_profit() -> None:
    quote = Quote(seized=0, value=1_000, repaid=900, gas_cost=0, profit=100)
    assert break_even_fee(quote, 40, 60_000, ETHER) == 60 * ETHER // (ETHER * 60_000)
    assert break_even_fee(quote, 40, 1, 10) == 6 * ETHER, "60 units spare / (10 units per ether x 1 gas)"
    assert break_even_fee(quote, 100, 1, 10) == 0 and break_even_fee(quote, 200, 1, 10) == 0
