"""A full life cycle on a deployed system, with every payout checked against the protocol's formulas."""

from __future__ import annotations

from math import ceil
from pathlib import Path
from typing import Any, cast

import pytest
from web3 import Web3

from tests.support.chain import Site
from wellhead.chain.client import Protocol, send
from wellhead.chain.deployment import Deployment
from wellhead.chain.grid import declaration_id, grid_event_id
from wellhead.core.errors import ContractRevertError
from wellhead.devkit.anvil import Anvil
from wellhead.devkit.scenario import Actors, Demo
from wellhead.devkit.scenario.actors import FIRM, INTERRUPTIBLE, USDC

SCALE = 10**8


def test_demo_lifecycle_settles_by_the_formulas(w3: Web3, protocol: Protocol, actors: Actors) -> None:
    result = Demo(w3, protocol, actors).run()
    by_epoch = {row.epoch: row for row in result.epochs}
    # lower medians of the attestors' values (each signs u, u-3, u-6, ...): in epoch 1 checker 3 lies (0 %)
    # beside 9,995 / 9,992 / 9,989, and the median of the four is 9,989, an honest value
    assert [by_epoch[e].uptime_bps for e in (1, 2, 3, 4)] == [9_989, 9_987, 9_594, 0]
    assert by_epoch[4].proven is False and by_epoch[4].delivered == 0
    (dispute,) = result.disputes
    assert (dispute.claimed_bps, dispute.honest_bps, dispute.settled_bps) == (0, (9_995, 9_992, 9_989), 9_989)
    assert dispute.status == "upheld", "the median stood; the liar was named"
    assert dispute.slashed == 500 * USDC, "half of the liar's 1,000 stake"
    assert dispute.challenger_paid == 100 * USDC + 100 * USDC, "bond back + 20 % of the slash"

    firm_rate = 32 * 2_250_000  # 50 % utilization: 2 USDC x 1.125 per GPU-hour, hourly epochs
    int_rate = 16 * ceil(2_375_000 * 7_000 / 10_000)  # 75 %: x 1.1875, interruptible -30 %
    firm_fraction = (9_989 + 9_987 + 9_594) * 10_000  # never curtailed
    int_fraction = 9_989 * 10_000 + 9_987 * 7_500 + 9_594 * 10_000  # not charged for the 25 % curtailed
    firm = result.lessees["firm 32 GPUs"]
    intr = result.lessees["interruptible 16 GPUs"]
    assert firm["prepaid"] == 4 * firm_rate and intr["prepaid"] == 4 * int_rate
    assert firm["charged"] == ceil(firm_rate * firm_fraction / SCALE)
    assert intr["charged"] == ceil(int_rate * int_fraction / SCALE)
    # SLA 99 %: credit (99 % - 95.94 %) of epoch 3 and 99 % of the unreported epoch 4, from the bond
    assert firm["credit"] == firm_rate * (9_900 - 9_594) // 10_000 + firm_rate * 9_900 // 10_000
    assert intr["credit"] == 0
    assert result.bond_used >= firm["credit"]

    delivered = sum(r.delivered for r in result.epochs)
    assert delivered <= firm["charged"] + intr["charged"] <= delivered + 2
    # the demand-response credit of the grid event is split like lease revenue
    (grid,) = result.grid_events
    assert grid.income == 1_250 * USDC and grid.epoch == 2 and grid.ends_at - grid.starts_at == 900
    assert (grid.protocol_fee, grid.operator_fee) == (grid.income * 500 // 10_000, grid.income * 1_000 // 10_000)
    assert grid.holders_income == grid.income - grid.protocol_fee - grid.operator_fee
    assert sum(r.protocol_fee for r in result.epochs) + grid.protocol_fee == result.treasury
    assert sum(r.operator_fee for r in result.epochs) + grid.operator_fee == result.operator_fees
    holders = sum(r.holders for r in result.epochs) + grid.holders_income
    paid = sum(h["revenue"] for h in result.holders.values())
    assert holders - 3 <= paid <= holders
    # investor A holds 30 %, B 15 %, the operator the rest
    assert result.holders["investor A"]["revenue"] == pytest.approx(holders * 0.30, abs=2)
    assert result.market_dust <= 4, "every unit but rounding dust was paid out"


def test_lease_nft_transfer_moves_refunds_and_user(w3: Web3, protocol: Protocol, actors: Actors) -> None:
    site = Site(w3, protocol, actors)
    lessee, buyer = actors.lessee_firm, actors.lessee_interruptible
    lease_id = site.open_lease(lessee, 8, 2, FIRM)
    market = protocol.market.functions
    send(w3, lessee, market.setUser(lease_id, actors.investor_a.address, 2**63))
    assert market.userOf(lease_id).call() == actors.investor_a.address
    send(w3, lessee, market.transferFrom(lessee.address, buyer.address, lease_id))
    assert market.ownerOf(lease_id).call() == buyer.address
    assert market.userOf(lease_id).call() == "0x" + "00" * 20
    site.skip_and_finalize(0)
    site.report_and_finalize(1, 10_000)
    site.skip_and_finalize(2)
    with pytest.raises(ContractRevertError) as err:
        send(w3, lessee, market.claimRefund(lease_id, lessee.address))
    assert err.value.error == "MarketNotLeaseOwner"
    before = protocol.stablecoin.functions.balanceOf(buyer.address).call()
    rate = market.leaseOf(lease_id).call().ratePerEpoch
    send(w3, buyer, market.claimRefund(lease_id, buyer.address))
    refund_and_credit = protocol.stablecoin.functions.balanceOf(buyer.address).call() - before
    assert refund_and_credit == rate + rate * 9_900 // 10_000  # epoch 2 unreported: refund + SLA credit


def test_challenge_corrects_an_overstated_report_refunds_the_lessee_and_pays_the_challenger(
    w3: Web3, protocol: Protocol, actors: Actors
) -> None:
    site = Site(w3, protocol, actors)
    lease_id = site.open_lease(actors.lessee_firm, 16, 1, FIRM)
    site.skip_and_finalize(0)
    site.warp_to(site.epoch_end(1))
    site.submit(site.report(1, 10_000))  # three attestors claim 100 %; the arbiter finds 90 %
    challenger = actors.investor_b
    oracle = protocol.oracle.functions
    send(w3, challenger, oracle.challenge(site.asset_id, 1))
    bond = protocol.registry.functions.bondOf(site.asset_id).call()
    verdict = (False, 9_000, 0, 0b111)  # corrected; the three observers were wrong
    with pytest.raises(ContractRevertError) as err:
        send(w3, challenger, oracle.resolveChallenge(site.asset_id, 1, verdict))
    assert err.value.error == "OracleNotArbiter"
    send(w3, actors.admin, oracle.resolveChallenge(site.asset_id, 1, verdict))
    assert protocol.registry.functions.bondOf(site.asset_id).call() == bond - bond // 2, "overstated: bond slashed"
    send(w3, actors.admin, protocol.market.functions.finalizeEpoch(site.asset_id, 1))
    refund, _credit = protocol.market.functions.refundable(lease_id).call()
    rate = protocol.market.functions.leaseOf(lease_id).call().ratePerEpoch
    assert refund == rate - rate * 9_000 // 10_000, "charged for the corrected 90 % only"
    stakes = 3 * 500 * USDC  # half of each observer's 1,000
    assert oracle.creditOf(challenger.address).call() == 100 * USDC + (bond // 2 + stakes) // 5


def test_interruptible_and_firm_capacity_never_oversold(w3: Web3, protocol: Protocol, actors: Actors) -> None:
    site = Site(w3, protocol, actors)
    site.open_lease(actors.lessee_firm, 40, 3, FIRM)
    site.open_lease(actors.lessee_interruptible, 24, 3, INTERRUPTIBLE)
    assert protocol.market.functions.availableGpus(site.asset_id).call() == 0
    with pytest.raises(ContractRevertError) as err:
        site.open_lease(actors.investor_a, 1, 1, FIRM)
    assert err.value.error == "MarketCapacityExceeded"
    assert err.value.error_args == {"assetId": site.asset_id, "requested": 1, "available": 0}


def test_agent_demo_settles_an_openadr_event(
    w3: Web3, protocol: Protocol, actors: Actors, anvil: Anvil, deployment: Deployment, tmp_path: Path
) -> None:
    """`make demo`'s story: the agents measure and sign, the grid operator's VTN calls a curtailment that the
    site agent's VEN attests, and a borrower is liquidated after the missing report."""
    from wellhead.devkit.fleet import AgentFleet

    path = deployment.save(tmp_path / "deployments")

    def fleet(asset_id: int) -> AgentFleet:
        return AgentFleet(w3, anvil.url, path, asset_id, actors.attestors, 64, 700, tmp_path / "agents")

    result = Demo(w3, protocol, actors, fleet).run()
    by_epoch = {row.epoch: row for row in result.epochs}
    assert [by_epoch[e].curtailed_bps for e in (1, 2, 3)] == [0, 2_500, 0], "the VTN's 15 minutes, only in epoch 2"
    (grid,) = result.grid_events
    assert grid.name == "ercot-vtn/EEA-2026-08-14" and grid.holders_income > 0
    declared = declaration_id(result.asset_id, grid_event_id(grid.name), actors.attestors[0].address)
    event = protocol.grid.functions.eventOf(declared).call()
    assert tuple(event) == (result.asset_id, grid.starts_at, grid.ends_at, 0), "declared as an OpenADR event"
    # checker 3 lied in epoch 1 (every GPU down): the median stood, checker 1 challenged, the liar was slashed
    assert by_epoch[1].uptime_bps == 10_000
    (dispute,) = result.disputes
    assert dispute.liar == 4 and dispute.claimed_bps < 2_000 and dispute.settled_bps == 10_000
    assert dispute.challenger == "checker 1" and dispute.slashed == 500 * USDC
    intr = result.lessees["interruptible 16 GPUs"]
    assert intr["refund"] > intr["prepaid"] // 4, "epoch 4 unproven and a quarter of epoch 2 not charged"
    assert result.credit.seized > 0, "the borrower was liquidated"
    # the curtail command shed the miners and 16 GPUs: the site agent measured it from the facility meter
    from wellhead.agent.evidence import read_manifest

    manifests = [read_manifest(p) for p in (tmp_path / "agents" / "agent0" / "evidence").glob("*.npz")]
    epoch2 = next(m for m in manifests if m["window"]["epoch"] == 2)
    (shed,) = cast(list[dict[str, Any]], epoch2["curtailment"])
    assert shed["measured"] and shed["shed_bps"] > 3_000, shed  # miners off, 16 of 64 GPUs idle: ~46 %
    # hybrid: the miners' energy and the pool's earnings reach the report; green: PPA + certificates + feed
    by_report = {r.epoch: r for r in result.energy}
    assert all(by_report[e].mining_wh > 0 and by_report[e].mining_revenue > 0 for e in (1, 2, 3))
    assert by_report[2].mining_wh < by_report[1].mining_wh, "the miners stopped for the event"
    green = next(m for m in manifests if m["window"]["epoch"] == 1)["green"]
    assert len(green["certificates"]) == 2 and green["certificate_wh"] == 50_000
    assert by_report[1].renewable_bps > 0 and by_report[1].certificates == 2
