"""Bad input is rejected on chain with the named custom error and the offending values; nothing is recorded."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from tests.support.chain import Site
from wellhead.chain.client import Protocol, send
from wellhead.chain.observations import Report, build_report
from wellhead.chain.reports import StoredReport
from wellhead.core.errors import ContractRevertError
from wellhead.devkit.scenario import Actors
from wellhead.devkit.scenario.actors import FIRM


@pytest.fixture
def site(w3: Web3, protocol: Protocol, actors: Actors) -> Site:
    s = Site(w3, protocol, actors)
    s.warp_to(s.epoch_end(1))  # epochs 0 and 1 have ended
    return s


def _rejects(site: Site, report: Report, cosigners: Sequence[LocalAccount] | None = None) -> ContractRevertError:
    with pytest.raises(ContractRevertError) as err:
        site.submit(report, cosigners)
    assert not StoredReport.read(site.p.oracle, site.asset_id, report.epoch).exists, "nothing recorded"
    return err.value


def test_wrong_cosigner(site: Site) -> None:
    stranger = Account.create()
    err = _rejects(site, site.report(1), [site.a.attestors[0], stranger])
    assert err.error == "OracleUnknownSigner" and err.error_args["signer"] == stranger.address


def test_duplicate_cosigner(site: Site) -> None:
    err = _rejects(site, site.report(1), [site.a.attestors[0], site.a.attestors[0]])
    assert err.error == "OracleDuplicateSigner" and err.error_args["signer"] == site.a.attestors[0].address


def test_too_few_cosigners(site: Site) -> None:
    err = _rejects(site, site.report(1), [site.a.attestors[0]])
    assert (err.error, err.error_args) == ("OracleTooFewCosigners", {"cosigners": 1, "required": 2})


def test_below_quorum(site: Site) -> None:
    err = _rejects(site, site.report(1, observers=2))
    assert (err.error, err.error_args) == ("OracleObservationCount", {"observations": 2, "quorum": 3, "attestors": 4})


def test_replay_on_another_epoch(site: Site) -> None:
    r1 = site.report(1)
    cosignatures = site.cosign(r1, site.a.attestors[:2])
    site.submit(r1)
    assert _rejects_raw(site, r1, cosignatures).error == "OracleReportExists"
    # epoch 1's co-signatures presented for epoch 2 recover to strangers
    site.warp_to(site.epoch_end(2))
    r2 = r1.model_copy(update={"epoch": 2})
    assert _rejects_raw(site, r2, cosignatures).error == "OracleUnknownSigner"


def _rejects_raw(site: Site, report: Report, cosignatures: bytes) -> ContractRevertError:
    with pytest.raises(ContractRevertError) as err:
        send(site.w3, site.a.attestors[0], site.p.oracle.functions.submitReport(report.as_tuple(), cosignatures))
    return err.value


def test_observation_signed_by_another_attestor_is_caught_by_the_cosigners(site: Site) -> None:
    """An honest co-signer refuses a report whose observation 3 is not attestor 3's; with co-signers that do
    not check (beyond the fault bound) it passes, and anyone proves it on chain: the report is voided."""
    own = [site.signed(1, site.observation(i)) for i in (1, 2)]
    forged_obs = site.observation(3, 0)
    _, forged_sig = site.signed(1, site.observation(1, 0))  # attestor 1's signature, not 3's
    report = build_report(site.asset_id, 1, b"\0" * 32, [*own, (forged_obs, forged_sig)])
    site.submit(report)
    send(site.w3, site.a.lender, site.p.oracle.functions.proveObservationFault(report.as_tuple()))
    stored = StoredReport.read(site.p.oracle, site.asset_id, 1)
    assert stored.status.name == "VOIDED", "two valid observations are below the quorum"


def test_impossible_energy(site: Site) -> None:
    max_wh = 64 * 700  # 64 GPUs x 700 W x 1 h
    err = _rejects(site, site.report(1, gpuEnergyWh=max_wh + 1, facilityEnergyWh=max_wh * 2))
    assert (err.error, err.error_args) == (
        "OracleEnergyAboveCapacity",
        {"observer": 1, "gpuEnergyWh": max_wh + 1, "maxWh": max_wh},
    )
    err = _rejects(site, site.report(1, gpuEnergyWh=1_000, facilityEnergyWh=999))
    assert (err.error, err.error_args) == (
        "OracleFacilityBelowLoad",
        {"observer": 1, "facilityEnergyWh": 999, "gpuEnergyWh": 1_000, "miningEnergyWh": 0},
    )
    err = _rejects(site, site.report(1, gpuEnergyWh=1_000, facilityEnergyWh=1_500, miningEnergyWh=501))
    assert err.error_args == {"observer": 1, "facilityEnergyWh": 1_500, "gpuEnergyWh": 1_000, "miningEnergyWh": 501}


def test_future_epoch(site: Site) -> None:
    err = _rejects(site, site.report(5))
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
