"""The site's side of the grid: its OpenADR VEN, whose accepted events it declares on chain, and the NVML power
cap it holds while an event is on."""

from __future__ import annotations

from collections.abc import Callable

from web3 import Web3

from wellhead.agent.collectors import CollectorError
from wellhead.agent.collectors.nvml import NvmlPowerCap
from wellhead.agent.config import OpenAdrConfig
from wellhead.agent.openadr import CurtailmentDesk, Ven
from wellhead.agent.phases import AgentContext
from wellhead.agent.transactions import Transactor
from wellhead.chain.grid import GridEvent
from wellhead.chain.grid import digest as grid_digest


def start_ven(
    ctx: AgentContext, cfg: OpenAdrConfig, tx: Transactor, clock: Callable[[], float]
) -> tuple[CurtailmentDesk, Ven]:
    """Starts the VEN; each event it accepts is signed by this agent and declared on the GridLedger."""
    ledger = ctx.deployment.address("GridLedger")

    def declare(event: GridEvent, signature: bytes) -> None:
        def send(w3: Web3) -> None:
            grid = ctx.pool.contract(w3, "GridLedger")
            tx.send(w3, grid.functions.declareEvent(event.as_tuple(), signature))

        ctx.pool.call(send)

    desk = CurtailmentDesk(
        path=ctx.settings.data_dir / "grid-events.json",
        asset_id=ctx.asset_id,
        vtn_id=cfg.vtn_id,
        ven_id=cfg.ven_id,
        resource_id=cfg.resource_id,
        sign=lambda event: ctx.signer.sign_digest(grid_digest(event, ctx.deployment.chain_id, ledger)),
        declare=declare,
        command=cfg.curtail_command,
        clock=clock,
    )
    ven = Ven(
        cfg.vtn_url,
        cfg.ven_name,
        cfg.ven_id,
        str(cfg.cert),
        str(cfg.key),
        str(cfg.ca_file),
        cfg.vtn_fingerprint,
        desk.on_event,
    )
    ven.start()
    return desk, ven


class PowerCapping:
    """Holds the GPUs' NVML power cap exactly while an accepted grid event is on."""

    name = "power-cap"
    failures = 0  # it isolates no failures of its own: a failing pass raises

    def __init__(self, ctx: AgentContext, desk: CurtailmentDesk, cap: NvmlPowerCap) -> None:
        self.ctx = ctx
        self.desk = desk
        self.cap = cap

    def run(self, now: float) -> None:
        active = any(e.starts_at <= now < e.ends_at for e in self.desk.events())
        try:
            self.cap.apply(active)
        except CollectorError as exc:
            self.ctx.warn("power-cap", "curtailment power cap failed; will retry", error=str(exc))
