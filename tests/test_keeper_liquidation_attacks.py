"""The keeper's liquidations against what `liquidate` really does (found by review): a position under water is
worth taking; a NAV round `liquidate` would record first is waited for, never priced at the old round; a stuck
liquidation's replacements stop at its break-even fee; a refused liquidation never kills the keeper."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from eth_typing import HexStr
from web3 import Web3

from tests.support.chain import Desk
from tests.test_keeper_liquidations import keeper_account, liquidations, liquidator, skipped
from wellhead.chain.client import Protocol, send
from wellhead.chain.connection import rpc
from wellhead.chain.deployment import Deployment
from wellhead.core.constants import WAD
from wellhead.devkit.scenario.actors import USDC
from wellhead.keeper.liquidator import Liquidator, Quote
from wellhead.keeper.service import Keeper, KeeperSettings
from wellhead.keeper.transactions import SentTx


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def borrowed_to_the_limit(desk: Desk) -> int:
    desk.borrow(desk.credit.functions.borrowCapacity(desk.asset_id, desk.borrower.address).call())
    return int(desk.credit.functions.positionOf(desk.asset_id, desk.borrower.address).call().collateral)


def tune_gas(k: Liquidator, pool: Any, desk: Desk, share_of_gross: tuple[int, int]) -> Quote:
    """Sets eth_price so that the quoted gas is `share_of_gross` of the quoted value - repaid."""
    k.config = replace(k.config, eth_price=WAD)  # gas_cost == gas in wei
    probe = pool.call(lambda w3: k.quote(w3, desk.credit, desk.asset_id, desk.borrower.address))
    assert isinstance(probe, Quote)
    gross = probe.value - probe.repaid
    k.config = replace(k.config, eth_price=gross * share_of_gross[0] * WAD // (share_of_gross[1] * probe.gas_cost))
    quote = pool.call(lambda w3: k.quote(w3, desk.credit, desk.asset_id, desk.borrower.address))
    assert isinstance(quote, Quote) and quote.profit > 0
    return quote


def realised_profit(w3: Web3, desk: Desk, tx_hash: str, eth_price: int) -> int:
    receipt = w3.eth.get_transaction_receipt(HexStr(tx_hash))
    assert receipt["status"] == 1
    (event,) = desk.credit.events.Liquidated().process_receipt(receipt)
    value = int(event["args"]["seized"]) * int(event["args"]["pricePerShare"]) // WAD
    gas = -(-int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"]) * eth_price // WAD)
    return value - int(event["args"]["repaid"]) - gas


def test_an_underwater_position_is_liquidated_when_it_pays(
    desk: Desk, protocol: Protocol, deployment: Deployment, tmp_path: Path
) -> None:
    """Collateral worth less than the debt: `liquidate` takes all of it for its worth at the discount
    (CreditLib.liquidation: repaid = collateral value x BPS / (BPS + bonus)), the rest is written off. The quote
    assumes the keeper repays the whole debt, so it never liquidates a position under water."""
    collateral = borrowed_to_the_limit(desk)
    desk.epochs(1, 2_500)
    desk.epochs(1, 5_000)
    value = collateral * desk.price() // WAD
    assert value < desk.debt(), "under water: bad debt"
    bonus = int(desk.credit.functions.collateralParams(desk.asset_id).call().liquidationBonusBps)
    contract_repays = -(-value * 10_000 // (10_000 + bonus))
    assert value - contract_repays > USDC, "taking it pays more than a dollar at the lending price"
    k, pool = liquidator(desk, deployment, tmp_path, eth_price=USDC)  # gas costs next to nothing
    pool.call(k.pass_)
    reasons = {r: skipped(k, r) for r in ("unprofitable", "unfunded", "reverts", "price_pending")}
    assert reasons["unprofitable"] == 0, "refused as unprofitable: the quote counted the whole debt as repaid"
    assert len(liquidations(desk, k)) == 1, (reasons, k.failures, desk.health(), value, desk.debt())


def test_the_quote_prices_at_the_round_liquidate_records_first(
    desk: Desk, w3: Web3, deployment: Deployment, tmp_path: Path
) -> None:
    """`liquidate` records the newest NAV round before pricing. An epoch finalized with a worse uptime, its round
    not yet recorded: the keeper waits for the round (its NAV job records it), then quotes at it."""
    borrowed_to_the_limit(desk)
    desk.epochs(1, 2_500)
    desk.site.report_and_finalize(desk.next_epoch, 1_000)  # finalized; nobody has called update() yet
    desk.next_epoch += 1
    k, pool = liquidator(desk, deployment, tmp_path, eth_price=USDC)
    pool.call(k.pass_)
    assert liquidations(desk, k) == [] and skipped(k, "price_pending") == 1, "not priced at the old round"
    send(w3, desk.a.admin, desk.nav.functions.update())  # what the keeper's NAV job sends
    quote = tune_gas(k, pool, desk, (3, 4))  # gas is 3/4 of the bonus: still profitable at the new price
    pool.call(k.pass_)
    reasons = {r: skipped(k, r) for r in ("unprofitable", "unfunded", "reverts", "price_pending")}
    assert len(liquidations(desk, k)) == 1, (reasons, k.failures, quote)
    (event,) = liquidations(desk, k)
    tx = SentTx.loads(k.flight.state.get(f"keeper:liquidate:{desk.asset_id}:{desk.borrower.address}") or "")
    assert realised_profit(w3, desk, tx.hash, k.config.eth_price) >= k.config.min_profit
    assert int(event["seized"]) * int(event["pricePerShare"]) // WAD >= quote.value, "the quote overstated value"


def test_a_stuck_liquidation_is_never_outbid_beyond_its_profit(
    desk: Desk, w3: Web3, deployment: Deployment, tmp_path: Path
) -> None:
    """A liquidation that pays after gas at today's fees is sent; while it is pending the keeper replaces it every
    120 s with fees 12.5 % higher, without a cap and without asking whether it still pays."""
    borrowed_to_the_limit(desk)
    desk.epochs(1, 2_500)
    k, pool = liquidator(desk, deployment, tmp_path)
    tune_gas(k, pool, desk, (1, 2))  # gas is half of the bonus: profitable
    clock = Clock()
    k.flight.wall = clock
    job = f"keeper:liquidate:{desk.asset_id}:{desk.borrower.address}"
    rpc(w3, "evm_setAutomine", [False])
    try:
        pool.call(k.pass_)
        first = SentTx.loads(k.flight.state.get(job) or "")
        for _ in range(12):  # 24 minutes in a mempool that does not move
            clock.now += 120
            pool.call(k.pass_)
        last = SentTx.loads(k.flight.state.get(job) or "")
        rpc(w3, "evm_mine", [])
    finally:
        rpc(w3, "evm_setAutomine", [True])
    assert last.nonce == first.nonce and 0 < len(last.earlier) < 12, "bumped, then held at its break-even fee"
    capped = k.metrics.registry.get_sample_value("wellhead_keeper_replacements_capped_total", {"kind": "liquidate"})
    assert capped is not None and capped >= 1
    assert last.max_fee <= last.fee_cap
    assert realised_profit(w3, desk, last.hash, k.config.eth_price) >= k.config.min_profit, "mined at a loss"


def test_a_liquidation_the_node_refuses_does_not_kill_the_keeper(
    desk: Desk, w3: Web3, deployment: Deployment, tmp_path: Path
) -> None:
    """The keeper's ether runs low: the node refuses the liquidation. It is counted per position and the keeper
    goes on (it used to escape `Keeper.run` and end `wellhead keeper run` with a traceback), not ready."""
    borrowed_to_the_limit(desk)
    desk.epochs(1, 2_500)
    me = keeper_account(desk)
    rpc(w3, "anvil_setBalance", [me.address, hex(10**6)])  # a million wei: not enough for any gas
    path = deployment.save(tmp_path / "deployment")
    settings = KeeperSettings(
        deployment=path,
        rpc_urls=[w3.provider.endpoint_uri],  # type: ignore[attr-defined]
        keystore=tmp_path / "unused.json",
        password_file=tmp_path / "unused.password",
        data_dir=tmp_path,
        listen_port=0,
        poll_interval=0.05,
        assets=[desk.asset_id],
        liquidations={"enabled": True, "eth_price": USDC},  # type: ignore[arg-type]
    )
    service = Keeper(settings, me)
    timer = threading.Timer(2.0, service.stopping.set)
    timer.start()
    try:
        service.run()  # until the timer stops it
    finally:
        timer.cancel()
    errors = service.metrics.registry.get_sample_value("wellhead_keeper_liquidation_errors_total")
    assert errors is not None and errors >= 2, "refused on every pass, and the keeper kept passing"
    assert service.liquidator.failures == 1
    assert service.readiness()[0] is False, "a pass with a failing position is no good pass"
