"""Ape contract tests: ape's own fixtures (accounts, project, chain) against anvil via ape-foundry.

Run with `make test-ape` (`ape test tests/ape`); the main pytest run skips this folder.
"""

from __future__ import annotations

import pytest

USDC = 10**6


@pytest.fixture(scope="module")
def admin(accounts):  # type: ignore[no-untyped-def]
    return accounts[0]


@pytest.fixture(scope="module")
def operator(accounts):  # type: ignore[no-untyped-def]
    return accounts[1]


@pytest.fixture(scope="module")
def lessee(accounts):  # type: ignore[no-untyped-def]
    return accounts[2]


@pytest.fixture(scope="module")
def protocol(project, admin, operator, lessee):  # type: ignore[no-untyped-def]
    coin = project.TestStablecoin.deploy(admin, sender=admin)
    factory = project.CapacitySharesFactory.deploy(sender=admin)
    # treasury, protocol fee, min bond, challenge bond, window, deadline, fraud slash, challenger reward,
    # attestor slash, min attestor stake, grid event horizon, dispute deadline
    params = (
        admin.address,
        500,
        1_000 * USDC,
        100 * USDC,
        600,
        1_800,
        5_000,
        2_000,
        5_000,
        500 * USDC,
        86_400,
        3 * 86_400,
    )
    blocklist = (coin.address, bytes.fromhex("fe575a87"))  # the test coin's isBlacklisted(address), as USDC's
    registry = project.CapacityRegistry.deploy(admin, coin, factory, params, blocklist, sender=admin)
    grid = project.GridLedger.deploy(registry, sender=admin)
    oracle = project.MetricsOracle.deploy(registry, grid, sender=admin)
    market = project.LeaseMarket.deploy(registry, oracle, sender=admin)
    registry.wire(market, oracle, sender=admin)
    for who in (operator, lessee):
        coin.mint(who, 1_000_000 * USDC, sender=admin)
        coin.approve(registry, 2**256 - 1, sender=who)
        coin.approve(market, 2**256 - 1, sender=who)
    return coin, registry, oracle, market
