"""Morpho Blue, unmodified from npm, lends against capacity shares priced by a Wellhead NAV feed."""

from __future__ import annotations

import pytest
from scripts.solc_compile import deploy, morpho_blue
from web3 import Web3

from tests.support.chain import Desk
from wellhead.chain.client import Protocol, send
from wellhead.core.errors import ContractRevertError
from wellhead.devkit.scenario import Actors
from wellhead.devkit.scenario.actors import SHARE, USDC

LLTV = 770_000_000_000_000_000  # 77 %, one of Morpho's usual tiers


def test_morpho_blue_market_on_the_nav_feed(w3: Web3, protocol: Protocol, actors: Actors) -> None:
    arts = morpho_blue()  # compiled once (~30 s), then cached under out/bench-anchors
    desk = Desk(w3, protocol, actors)
    desk.epochs(1, 10_000)
    assert desk.nav.functions.price().call() == 0, "a young feed prices the shares at zero for any lender"
    desk.epochs(3, 10_000)  # two full windows and more: seasoned
    admin, lender, borrower, liquidator = actors.admin, actors.lender, actors.investor_a, actors.liquidator
    morpho = deploy(w3, admin, arts["Morpho"], admin.address)
    irm = deploy(w3, admin, arts["IrmMock"])
    send(w3, admin, morpho.functions.enableIrm(irm.address))
    send(w3, admin, morpho.functions.enableLltv(LLTV))
    shares = protocol.shares(desk.asset_id)
    market = (protocol.stablecoin.address, shares.address, desk.nav.address, irm.address, LLTV)
    send(w3, admin, morpho.functions.createMarket(market))
    for who in (lender, liquidator):
        send(w3, who, protocol.stablecoin.functions.approve(morpho.address, 2**256 - 1))
    send(w3, borrower, shares.functions.approve(morpho.address, 2**256 - 1))
    send(w3, lender, morpho.functions.supply(market, 100_000 * USDC, 0, lender.address, b""))
    send(w3, borrower, morpho.functions.supplyCollateral(market, 200_000 * SHARE, borrower.address, b""))

    # Morpho's own health check with our price: collateral x price / 1e36 x LLTV
    price = desk.nav.functions.price().call()
    assert price == desk.price() * 10**18
    max_borrow = 200_000 * SHARE * price // 10**36 * LLTV // 10**18
    assert max_borrow == 200_000 * desk.price() * 77 // 100, "77 % of 200,000 shares at the lending price"
    with pytest.raises(ContractRevertError) as refused:
        send(w3, borrower, morpho.functions.borrow(market, 0 + max_borrow + 1, 0, borrower.address, borrower.address))
    assert refused.value.error_args == {"reason": "insufficient collateral"}
    send(w3, borrower, morpho.functions.borrow(market, max_borrow, 0, borrower.address, borrower.address))

    # an SLA shortfall lowers the NAV; Morpho liquidates on it, as on any Chainlink-style price
    desk.epochs(3, 2_000)
    assert desk.price() < price // 10**18
    send(w3, liquidator, morpho.functions.liquidate(market, borrower.address, 1_000 * SHARE, 0, b""))
    assert shares.functions.balanceOf(liquidator.address).call() == 1_000 * SHARE
