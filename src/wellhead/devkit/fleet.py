"""Simulated site agents for the devnet: a site agent and three independent checkers (tolerating one faulty
attestor), run in-process.

The demo drives chain time; the fleet steps its agents until the epoch's report is on chain. The
simulated sites are shared objects, so the demo can break GPUs for an epoch and every agent sees it. A
grid operator's OpenADR VTN on loopback sends curtailment events to the site agent's VEN, whose curtailment
command sheds the miners and the interruptible GPUs (every agent's meter sees it).

The site is hybrid: Bitcoin miners on their own feeder beside the GPUs, paid by a pool whose earnings
export the agents read. Its green claims come from an 80 % share of a solar farm's export (a PPA), renewable
certificates the operator retires on chain, and a grid-intensity feed file for the rest.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from wellhead.agent.collectors import Collector
from wellhead.agent.config import (
    AgentKeeperConfig,
    AgentSettings,
    GreenConfig,
    KeystoreConfig,
    ListenConfig,
    MiningConfig,
    SignerConfig,
    SimulatedConfig,
    Tolerances,
)
from wellhead.agent.runtime import Agent
from wellhead.agent.signer import KeystoreSigner
from wellhead.chain.connection import rpc
from wellhead.chain.grid import grid_event_id
from wellhead.devkit.collectors.simulated import SimulatedSite
from wellhead.devkit.gridsim import VTN_ID, LoopbackVtn
from wellhead.devkit.sitesim import export_pool_earnings, write_grid_feed

SITE_SEED = 2026
MINING_KW = 120.0  # the Bitcoin miners beside the GPUs
SOLAR_KW = 90.0  # peak of the contracted solar farm
PPA_SHARE_BPS = 8_000  # the site's share of the farm's export
SHED_GPUS = 16  # the GPUs of the interruptible lease drop to idle in a grid event


class AgentFleet:
    def __init__(
        self,
        w3: Web3,
        rpc_url: str,
        deployment_path: Path,
        asset_id: int,
        keys: list[LocalAccount],
        gpus: int,
        max_watts: int,
        workdir: Path | None = None,
        start: int | None = None,
        keeper: bool = False,
    ) -> None:
        self.w3 = w3
        self.keeper = keeper  # the site agent settles its own epochs (the live devnet); the demo settles itself
        self.asset_id = asset_id
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="wellhead-agents-"))
        self.sites: list[SimulatedSite] = []
        self.agents: list[Agent] = []
        certs = self.workdir / "openadr"
        certs.mkdir(parents=True, exist_ok=True)
        self.vtn = LoopbackVtn(certs)
        self.vtn_id = VTN_ID
        self.schedule = self.workdir / "curtail-schedule.json"
        self.grid_feed = self.workdir / "grid-intensity.csv"
        self.earnings = self.workdir / "pool-earnings.csv"
        now = start or int(w3.eth.get_block("latest")["timestamp"])
        write_grid_feed(self.grid_feed, now, hours=48)
        for i, key in enumerate(keys):
            site = self._site(i, gpus, max_watts)
            self.sites.append(site)
            if i == 0:
                export_pool_earnings(self.earnings, site, now, now)  # the pool's export exists: no rows yet
            collectors: list[Collector] = [site]
            self.agents.append(Agent(self._settings(i, deployment_path, rpc_url), KeystoreSigner(key), key, collectors))
        for a in self.agents:
            a.server.start()
        site_url = f"http://127.0.0.1:{self.agents[0].server.port}"
        for a in self.agents:
            a.s.peers = [f"http://127.0.0.1:{b.server.port}" for b in self.agents if b is not a]
            if a.s.mode == "checker":
                a.s.site_peer = site_url

    def _site(self, i: int, gpus: int, max_watts: int) -> SimulatedSite:
        """The site agent reads the site; checkers read it from outside, with their own calibration error."""
        return SimulatedSite(
            seed=SITE_SEED,
            gpus=gpus,
            max_watts=max_watts,
            fault_rate=0.0,
            dark_rate=0.0,
            noise_bps=0 if i == 0 else 10 + 5 * i,
            mining_kw=MINING_KW,
            solar_kw=SOLAR_KW,
            curtail_schedule=self.schedule,
        )

    def _settings(self, i: int, deployment_path: Path, rpc_url: str) -> AgentSettings:
        """Agent `i`'s settings: the site agent (0, with the VEN) or a checker (1: the one that disputes)."""
        shed = [sys.executable, "-m", "wellhead.devkit.sitesim", "shed", "--schedule", str(self.schedule)]
        return AgentSettings(
            mode="site" if i == 0 else "checker",
            asset_id=self.asset_id,
            deployment=deployment_path,
            rpc_urls=[rpc_url],
            confirmations=1,
            clock="chain",
            sample_interval=60,
            poll_interval=0.05,
            first_epoch=0,
            data_dir=self.workdir / f"agent{i}",
            listen=ListenConfig(host="127.0.0.1", port=0),
            signer=SignerConfig(keystore=KeystoreConfig(keystore="in-memory", password_env="UNUSED")),
            site_peer="http://127.0.0.1:9" if i else None,
            submit_delay=0,
            aggregate_delay=1.0,
            # checker 1 disputes a report carrying an observation far from its own (the demo's liar)
            challenge_on_disagreement=i == 1,
            tolerances=Tolerances(uptime_bps=50, energy_pct=2.0, facility_pct=2.0),
            collectors=[SimulatedConfig(type="simulated")],
            keeper=AgentKeeperConfig(enabled=self.keeper and i == 0),
            openadr=self.vtn.ven_config([*shed, "--gpus", str(SHED_GPUS)]) if i == 0 else None,
            green=GreenConfig(grid_feed=self.grid_feed, ppa_share_bps=PPA_SHARE_BPS, certificates=True),
            mining=MiningConfig(earnings_file=self.earnings),
        )

    def export_pool_earnings(self, start: int, end: int) -> None:
        """The pool's earnings export for [start, end) lands where the agents read it."""
        export_pool_earnings(self.earnings, self.sites[0], start, end)

    def fail_gpus(self, gpus: tuple[int, ...]) -> None:
        for site in self.sites:
            site.failed_gpus = gpus
            site.failed_between = None

    def lie(self, attestor: int, start: int, end: int) -> None:
        """Attestor `attestor` (1-based: 1 is the site agent) claims every GPU failed in [start, end): what a
        dishonest checker would sign. Devnet only: its simulated view of the site is broken on purpose."""
        site = self.sites[attestor - 1]
        site.failed_gpus = tuple(range(site.gpus))
        site.failed_between = (start, end)

    def call_grid_event(self, name: str, starts_at: int, seconds: int, timeout: float = 30.0) -> bytes:
        """The VTN sends a curtailment event; returns its on-chain id once the site agent has attested it."""
        site = self.agents[0]
        site.step()  # the site agent's VEN starts with its first step
        self.vtn.add_event(name, starts_at, seconds)
        event_id = grid_event_id(f"{VTN_ID}/{name}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            desk = site.curtailment
            if desk is not None and any(e.event_id == event_id for e in desk.events()):
                return event_id
            time.sleep(0.2)
        rejected = site.curtailment.rejected if site.curtailment else []
        raise RuntimeError(f"the site agent did not take grid event {name}: {rejected}")

    def report(self, oracle_reported: object, max_steps: int = 400) -> bool:
        """Steps the agents until `oracle_reported()` is true; mines a block between passes."""
        for _ in range(max_steps):
            for a in self.agents:
                a.step()
            if oracle_reported():  # type: ignore[operator]
                return True
            rpc(self.w3, "evm_mine", [])
        return False

    def close(self) -> None:
        for a in self.agents:
            a.close()
        self.vtn.close()
