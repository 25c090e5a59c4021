"""Register an asset and lease it through ape's contract layer; reverts surface as named errors."""

from __future__ import annotations

import pytest

import ape
from wellhead.chain.structs import struct_arg

USDC = 10**6


def _asset(operator, attestors, fault_tolerance=0):  # type: ignore[no-untyped-def]
    return struct_arg(
        "CapacityRegistry",
        "registerAsset",
        "AssetParams",
        {
            "siteId": b"SITE-APE".ljust(32, b"\0"),
            "gpuClass": b"H200".ljust(32, b"\0"),
            "gpuCount": 16,
            "maxWattsPerGpu": 700,
            "epochLength": 3600,
            "operatorFeeBps": 1_000,
            "slaTargetBps": 9_900,
            "faultTolerance": fault_tolerance,  # 0: tolerates no faulty attestor, one is enough
            "attestors": [a.address for a in attestors],
            "curve": {
                "basePricePerGpuHour": 3 * USDC,
                "kinkBps": 8_000,
                "slope1Bps": 2_000,
                "slope2Bps": 20_000,
                "interruptibleDiscountBps": 3_000,
            },
            "bond": 5_000 * USDC,
            "sharesName": "Ape test shares",
            "sharesSymbol": "whAPE",
            "totalShares": 1_000 * 10**18,
            "investors": [],
            "investorShares": [],
            "restrictedTransfers": False,
            "curtailmentCapHours": 24,  # hours per 30 days
        },
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
    params = _asset(operator, accounts[5:7], fault_tolerance)
    with ape.reverts(
        registry.RegistryInvalidFaultModel, faultTolerance=fault_tolerance, attestors=2, minAttestors=needed
    ):
        registry.registerAsset(params, sender=operator)
