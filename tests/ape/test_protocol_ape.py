"""Register an asset and lease it through ape's contract layer; reverts surface as named errors."""

from __future__ import annotations

import pytest

import ape

USDC = 10**6


def _asset(operator, attestors):  # type: ignore[no-untyped-def]
    return (
        b"SITE-APE".ljust(32, b"\0"),
        b"H200".ljust(32, b"\0"),
        16,
        700,
        3600,
        1_000,
        9_900,
        0,  # tolerates no faulty attestor: one is enough
        [a.address for a in attestors],
        (3 * USDC, 8_000, 2_000, 20_000, 3_000),
        5_000 * USDC,
        "Ape test shares",
        "whAPE",
        1_000 * 10**18,
        [],
        [],
        False,
        24,  # curtailment cap: hours per 30 days
    )


def test_register_and_lease(protocol, operator, lessee, accounts):  # type: ignore[no-untyped-def]
    coin, registry, _oracle, market = protocol
    receipt = registry.registerAsset(_asset(operator, accounts[5:7]), sender=operator)
    asset_id = receipt.events.filter(registry.AssetRegistered)[0].assetId
    assert registry.bondOf(asset_id) == 5_000 * USDC
    quote = market.quote(asset_id, 4, 0)
    receipt = market.openLease(asset_id, 4, 3, 0, quote, sender=lessee)
    opened = receipt.events.filter(market.LeaseOpened)[0]
    assert opened.prepaid == 3 * opened.ratePerEpoch
    assert market.ownerOf(opened.leaseId) == lessee.address
    assert coin.balanceOf(market) == opened.prepaid


def test_over_capacity_reverts_with_named_error(protocol, operator, lessee, accounts):  # type: ignore[no-untyped-def]
    _coin, registry, _oracle, market = protocol
    receipt = registry.registerAsset(_asset(operator, accounts[5:7]), sender=operator)
    asset_id = receipt.events.filter(registry.AssetRegistered)[0].assetId
    with ape.reverts(market.MarketCapacityExceeded, assetId=asset_id, requested=17, available=16):
        market.openLease(asset_id, 17, 1, 0, 2**255, sender=lessee)


@pytest.mark.parametrize(("fault_tolerance", "needed"), [(1, 4), (2, 7)])
def test_fault_model_needs_3f_plus_1_attestors(protocol, operator, accounts, fault_tolerance, needed):  # type: ignore[no-untyped-def]
    _coin, registry, _oracle, _market = protocol
    params = list(_asset(operator, accounts[5:7]))
    params[7] = fault_tolerance
    with ape.reverts(
        registry.RegistryInvalidFaultModel, faultTolerance=fault_tolerance, attestors=2, minAttestors=needed
    ):
        registry.registerAsset(tuple(params), sender=operator)
