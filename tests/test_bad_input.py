"""Bad input is rejected on chain with the named custom error and the offending values."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3

from tests.helpers import FIRM, Site
from wellhead.chain.client import Protocol, send
from wellhead.chain.eip712 import sign_report
from wellhead.demo import Actors
from wellhead.errors import ContractRevertError


@pytest.fixture
def site(w3: Web3, protocol: Protocol, actors: Actors) -> Site:
    s = Site(w3, protocol, actors)
    s.warp_to(s.epoch_end(1))  # epochs 0 and 1 have ended
    return s


def _rejects(site: Site, reports: list, signers: list) -> ContractRevertError:  # type: ignore[type-arg]
    with pytest.raises(ContractRevertError) as err:
        site.submit(reports, signers)
    return err.value


def test_wrong_signer(site: Site) -> None:
    stranger = Account.create()
    r = site.report(1)
    err = _rejects(site, [r, r], [site.a.attestors[0], stranger])
    assert err.error == "OracleUnknownSigner" and err.error_args["signer"] == stranger.address


def test_duplicate_signer(site: Site) -> None:
    r = site.report(1)
    err = _rejects(site, [r, r], [site.a.attestors[0], site.a.attestors[0]])
    assert err.error == "OracleDuplicateSigner" and err.error_args["signer"] == site.a.attestors[0].address


def test_below_threshold(site: Site) -> None:
    err = _rejects(site, [site.report(1)], [site.a.attestors[0]])
    assert (err.error, err.error_args) == ("OracleBelowThreshold", {"signers": 1, "threshold": 2})


def test_replay_on_another_epoch(site: Site) -> None:
    r1 = site.report(1)
    site.submit([r1, r1], site.a.attestors[:2])
    assert _rejects(site, [r1, r1], site.a.attestors[:2]).error == "OracleReportExists"
    # epoch 1's signatures presented as epoch 2's report recover to strangers
    sigs = [sign_report(r1, site.p.chain_id, site.p.oracle.address, a) for a in site.a.attestors[:2]]
    site.warp_to(site.epoch_end(2))
    r2 = r1.model_copy(update={"epoch": 2})
    with pytest.raises(ContractRevertError) as err:
        send(site.w3, site.a.attestors[0], site.p.oracle.functions.submitReport([r2.as_tuple()] * 2, sigs))
    assert err.value.error == "OracleUnknownSigner"


def test_impossible_energy(site: Site) -> None:
    max_wh = 64 * 700  # 64 GPUs x 700 W x 1 h
    r = site.report(1, gpuEnergyWh=max_wh + 1, facilityEnergyWh=max_wh * 2)
    err = _rejects(site, [r, r], site.a.attestors[:2])
    assert (err.error, err.error_args) == (
        "OracleEnergyAboveCapacity",
        {"gpuEnergyWh": max_wh + 1, "maxWh": max_wh},
    )
    r = site.report(1, gpuEnergyWh=1_000, facilityEnergyWh=999)
    err = _rejects(site, [r, r], site.a.attestors[:2])
    assert (err.error, err.error_args) == (
        "OracleFacilityBelowLoad",
        {"facilityEnergyWh": 999, "gpuEnergyWh": 1_000, "miningEnergyWh": 0},
    )
    r = site.report(1, gpuEnergyWh=1_000, facilityEnergyWh=1_500, miningEnergyWh=501)
    err = _rejects(site, [r, r], site.a.attestors[:2])
    assert err.error_args == {"facilityEnergyWh": 1_500, "gpuEnergyWh": 1_000, "miningEnergyWh": 501}


def test_future_epoch(site: Site) -> None:
    r = site.report(5)
    err = _rejects(site, [r, r], site.a.attestors[:2])
    assert err.error == "OracleEpochNotEnded" and err.error_args["epoch"] == 5


def test_over_capacity_and_price_above_max(site: Site) -> None:
    with pytest.raises(ContractRevertError) as err:
        site.open_lease(site.a.lessee_firm, 65, 1, FIRM)
    assert err.value.error_args == {"assetId": site.asset_id, "requested": 65, "available": 64}
    quote = site.p.market.functions.quote(site.asset_id, 8, FIRM).call()
    with pytest.raises(ContractRevertError) as err:
        site.open_lease(site.a.lessee_firm, 8, 1, FIRM, max_price=quote - 1)
    assert (err.value.error, err.value.error_args) == (
        "MarketPriceAboveMax",
        {"pricePerGpuHour": quote, "maxPricePerGpuHour": quote - 1},
    )
