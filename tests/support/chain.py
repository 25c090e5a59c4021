"""Test helpers: a registered asset, signed reports, time travel on anvil."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from web3 import Web3

from wellhead.chain.client import Protocol, lending_price, send
from wellhead.chain.connection import rpc
from wellhead.chain.observations import ZERO32, Observation, Report, build_report
from wellhead.devkit.scenario import Actors, Scenario
from wellhead.devkit.scenario.actors import FIRM, USDC
from wellhead.devkit.scenario.signing import cosign, signed_observation


class Site:
    """One registered demo asset (64 GPUs, hourly epochs, 4 staked attestors tolerating 1 faulty: a report
    needs 3 observations and 2 co-signers) and the hands to drive it."""

    def __init__(self, w3: Web3, protocol: Protocol, actors: Actors) -> None:
        self.w3 = w3
        self.p = protocol
        self.a = actors
        self.scenario = Scenario(w3, protocol, actors)
        self.scenario.fund()
        self.asset_id = self.scenario.register()
        self.shares = protocol.shares(self.asset_id)

    def epoch_end(self, epoch: int) -> int:
        return self.scenario.epoch_end(epoch)

    def warp_to(self, timestamp: int) -> None:
        self.scenario.warp_to(timestamp)

    def observation(self, observer: int, uptime_bps: int = 10_000, **overrides: object) -> Observation:
        fields: dict[str, object] = {
            "observer": observer,
            "uptimeBps": uptime_bps,
            "gpuEnergyWh": 30_000,
            "facilityEnergyWh": 36_000,
            "evidenceHash": keccak(text=f"ev-{observer}-{uptime_bps}"),
        }
        fields.update(overrides)
        return Observation.model_validate(fields)

    def signed(self, epoch: int, observation: Observation, grid_event: bytes = ZERO32) -> tuple[Observation, bytes]:
        """`observation` signed by the attestor of its index."""
        signer = self.a.attestors[observation.observer - 1]
        return signed_observation(self.p, self.asset_id, epoch, observation, signer, grid_event)

    def report(
        self, epoch: int, uptime_bps: int = 10_000, observers: int = 3, grid_event: bytes = ZERO32, **overrides: object
    ) -> Report:
        """Attestors 1..observers observe the same values, each signing its own observation."""
        signed = [
            self.signed(epoch, self.observation(i, uptime_bps, **overrides), grid_event)
            for i in range(1, observers + 1)
        ]
        return build_report(self.asset_id, epoch, grid_event, signed)

    def cosign(self, report: Report, signers: Sequence[LocalAccount]) -> bytes:
        return cosign(self.p, report, signers)

    def submit(self, report: Report, cosigners: Sequence[LocalAccount] | None = None) -> dict[str, object]:
        """Submits `report` co-signed by `cosigners` (default: attestors 1 and 2)."""
        cosignatures = self.cosign(report, cosigners if cosigners is not None else self.a.attestors[:2])
        fn = self.p.oracle.functions.submitReport(report.as_tuple(), cosignatures)
        return dict(send(self.w3, self.a.attestors[0], fn))

    def report_and_finalize(self, epoch: int, uptime_bps: int) -> None:
        self.warp_to(self.epoch_end(epoch))
        self.submit(self.report(epoch, uptime_bps))
        self.warp_to(self.epoch_end(epoch) + 600 + 1)
        send(self.w3, self.a.admin, self.p.market.functions.finalizeEpoch(self.asset_id, epoch))

    def skip_and_finalize(self, epoch: int) -> None:
        self.warp_to(self.epoch_end(epoch) + 1_800 + 1)
        send(self.w3, self.a.admin, self.p.market.functions.finalizeEpoch(self.asset_id, epoch))

    def open_lease(self, who: LocalAccount, gpus: int, epochs: int, cls: int, max_price: int = 2**256 - 1) -> int:
        receipt = send(self.w3, who, self.p.market.functions.openLease(self.asset_id, gpus, epochs, cls, max_price))
        from web3.logs import DISCARD

        ev = self.p.market.events.LeaseOpened().process_receipt(receipt, errors=DISCARD)[0]
        return int(ev["args"]["leaseId"])


def now(w3: Web3) -> int:
    ts: int = w3.eth.get_block("latest")["timestamp"]
    return ts


def mine(w3: Web3) -> None:
    rpc(w3, "evm_mine", [])


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`wellhead ...` in a subprocess, as a person would run it."""
    return subprocess.run(
        [sys.executable, "-m", "wellhead.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit 1, no traceback, one line `wellhead: error: ...` holding every needle."""
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wellhead: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


class Desk:
    """The demo asset with a NAV feed, listed as collateral, a lender's 200,000 supplied, fully leased."""

    def __init__(self, w3: Web3, protocol: Protocol, actors: Actors) -> None:
        self.site = Site(w3, protocol, actors)
        self.w3, self.p, self.a = w3, protocol, actors
        self.asset_id = self.site.asset_id
        self.borrower = actors.investor_a
        self.site.scenario.open_credit(200_000 * USDC)
        self.nav = protocol.nav(self.asset_id)
        self.credit = protocol.credit
        self.site.open_lease(actors.lessee_firm, 64, 40, FIRM)
        self.next_epoch = 0

    def epochs(self, count: int, uptime_bps: int) -> None:
        for _ in range(count):
            self.site.report_and_finalize(self.next_epoch, uptime_bps)
            send(self.w3, self.a.admin, self.nav.functions.update())
            self.next_epoch += 1

    def price(self) -> int:
        """The lending price: what the credit market lends and liquidates at."""
        return lending_price(self.nav).price

    def debt(self) -> int:
        debt: int = self.credit.functions.debtOf(self.asset_id, self.borrower.address).call()
        return debt

    def health(self) -> int:
        hf: int = self.credit.functions.healthFactor(self.asset_id, self.borrower.address).call()
        return hf

    def borrow(self, amount: int) -> None:
        fn = self.credit.functions.borrow(self.asset_id, amount, self.borrower.address)
        send(self.w3, self.borrower, fn)
