"""The devnet kept running after the demo: the site agent and its checkers go on measuring, signing and
reporting, the site agent's keeper loop settles each epoch and records NAV rounds, the grid operator's VTN
stays up, and the chain's clock runs `speed` times the wall clock (anvil's time is moved forward every wall
second and a block mined), so an hourly epoch passes in a minute at the default speed.

Chain time = the chain's time when the live phase starts + speed x wall seconds since; the demo left the
chain ahead of the wall clock, so the mapping is printed rather than implied.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from wellhead.chain.connection import rpc
from wellhead.devkit.fleet import AgentFleet


class LiveDevnet:
    def __init__(
        self,
        w3: Web3,
        rpc_url: str,
        record: Path,
        asset_id: int,
        attestors: list[LocalAccount],
        workdir: Path,
        speed: int = 60,
    ) -> None:
        self.w3 = w3
        self.speed = speed
        self.stopping = threading.Event()
        self.fleet = AgentFleet(
            w3, rpc_url, record, asset_id, attestors, gpus=64, max_watts=700, workdir=workdir, keeper=True
        )
        self.started_chain = int(w3.eth.get_block("latest")["timestamp"])
        self.started_wall = time.time()
        self._clock_thread = threading.Thread(target=self._clock, name="devnet-clock", daemon=True)

    def start(self) -> LiveDevnet:
        self._clock_thread.start()
        return self

    def _clock(self) -> None:
        while not self.stopping.wait(1.0):
            try:
                rpc(self.w3, "evm_increaseTime", [self.speed - 1])  # the mined block adds the wall second
                rpc(self.w3, "evm_mine", [])
            except (OSError, ValueError):
                return  # anvil went away: the devnet is stopping

    def run(self, stopped: threading.Event) -> None:
        """Steps the agents until `stopped` (on the thread that made them: their outbox is SQLite)."""
        while not stopped.is_set():
            for agent in self.fleet.agents:
                agent.step()
            stopped.wait(0.2)

    def describe(self) -> list[str]:
        site = self.fleet.agents[0]
        lines = [
            f"  chain clock    {self.speed} chain seconds per wall second, from chain time {self.started_chain}"
            f" at wall time {int(self.started_wall)}",
            f"  site agent     http://127.0.0.1:{site.server.port}/metrics  (settles its asset's epochs)",
        ]
        for i, agent in enumerate(self.fleet.agents[1:], start=1):
            lines.append(f"  checker {i}      http://127.0.0.1:{agent.server.port}/metrics")
        lines.append(f"  grid VTN       https://127.0.0.1:{self.fleet.vtn.port}/OpenADR2/Simple/2.0b")
        return lines

    def stop(self) -> None:
        self.stopping.set()
        self._clock_thread.join(timeout=15)
        self.fleet.close()
