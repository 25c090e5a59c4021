"""The demo's story, epoch by epoch: what each epoch's reports say, or what the agents are made to suffer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EpochPlan:
    epoch: int
    uptime_bps: int | None  # None: no report reaches the chain
    curtailed_bps: int = 0
    grid_event: str = ""
    observers: int = 3  # scripted: how many attestors observe (a report needs 2f + 1 = 3)
    note: str = ""
    failed_gpus: tuple[int, ...] = ()  # agent mode: GPUs broken during the epoch
    liar: int = 0  # attestor index (1-based) that lies this epoch: it claims every GPU failed


# With site agents (make demo): the agents measure; the plan only breaks GPUs, makes a checker lie or takes the
# agents offline.
AGENT_PLAN = [
    EpochPlan(1, 0, liar=4, note="checker 3 lies (all GPUs down): the median stands; the liar is slashed"),
    EpochPlan(
        2, 0, curtailed_bps=2_500, grid_event="EEA-2026-08-14", note="grid curtailment: OpenADR event from the VTN"
    ),
    EpochPlan(3, 0, failed_gpus=(8, 9, 10, 11), note="4 GPUs fail (XID): below the 99 % SLA"),
    EpochPlan(4, None, note="agents offline: no report, nothing delivered"),
]

PLAN = [
    EpochPlan(1, 9_995, observers=4, liar=4, note="checker 3 lies (0 %): the median stands; the liar is slashed"),
    EpochPlan(
        2, 9_990, curtailed_bps=2_500, grid_event="ERCOT-EEA-2026-08-14", note="grid curtailment (ERCOT, by phone)"
    ),
    EpochPlan(3, 9_600, observers=4, note="downtime below the 99 % SLA"),
    EpochPlan(4, None, note="no report: nothing delivered"),
]
