"""The agent against anvil: epochs measured, signed, posted once, confirmed."""

from __future__ import annotations

from functools import partial

import numpy as np

from tests.support.agent_env import EPOCH, AgentEnv
from wellhead.agent.aggregate import EpochWindow, aggregate
from wellhead.agent.collectors import CollectorError
from wellhead.agent.runtime import Agent
from wellhead.devkit.collectors.simulated import SimulatedSite


def _confirmed(agent: Agent, asset_id: int, epoch: int) -> bool:
    row = agent.store.report(asset_id, epoch)
    return row is not None and row.status == "confirmed"


def _healthy(site: SimulatedSite, ts: int) -> int:
    gpus = site.collect(ts).gpus
    assert gpus is not None
    return int(np.count_nonzero(gpus.health == 1))


def test_site_agent_reports_each_epoch_once(env: AgentEnv) -> None:
    agent = env.agent(0)
    for epoch in range(3):
        env.warp_to(env.epoch_end(epoch) + 10)
        env.run_until([agent], partial(_confirmed, agent, env.asset_id, epoch))
    events = env.accepted()
    assert [e.epoch for e in events] == [0, 1, 2]
    # the on-chain uptime is what the simulated site's health says, recomputed independently here
    terms = agent.terms
    assert terms is not None
    site = SimulatedSite(seed=11, gpus=8, max_watts=700, fault_rate=0.2, dark_rate=0.0)
    for e in events:
        start, end = terms.bounds(e.epoch)
        healthy = sum(_healthy(site, ts) for ts in range(start, end, 10))
        assert e.uptime_bps == healthy * 10_000 // (8 * (EPOCH // 10))
        # f = 0: the site agent's observation alone, co-signed by itself
        assert [o.observer for o in e.report.observations] == [1]
        assert env.cosigners(e) == [env.attestors[0].address]
    assert agent.metrics.last_reported_epoch._value.get() == 2
    assert agent.store.depth() == 0


def test_aggregate_counts_gaps_as_unproven() -> None:
    site = SimulatedSite(seed=3, gpus=8, max_watts=700, fault_rate=0.0, dark_rate=0.0)
    window = EpochWindow(1, 0, 1_700_000_000, 1_700_000_060, 10, 8, 700)
    full = [site.collect(ts) for ts in range(window.start - 10, window.end, 10)]
    from wellhead.agent.samples import Tick

    ticks = [
        Tick(ts=ts, gpus=r.gpus, meter=r.meter)
        for ts, r in zip(range(window.start - 10, window.end, 10), full, strict=True)
    ]
    assert aggregate(window, ticks).measurement.uptime_bps == 10_000
    gappy = [t for t in ticks if t.ts != window.start + 20]  # one slot without any sample
    m = aggregate(window, gappy).measurement
    assert m.uptime_bps == 10_000 * 5 // 6
    assert m.missing_gpu_slots == 8
    # energy still integrates across the gap: the counter is cumulative
    assert m.gpu_energy_wh == aggregate(window, ticks).measurement.gpu_energy_wh


class _Failing:
    name = "failing"
    failures = 0

    def run(self, now: float) -> None:
        raise CollectorError("the BMC is gone")


class _Recording:
    name = "recording"
    failures = 0

    def __init__(self) -> None:
        self.runs = 0

    def run(self, now: float) -> None:
        self.runs += 1


def test_a_failing_phase_is_counted_and_the_others_still_run(env: AgentEnv) -> None:
    agent = env.agent(0)
    agent.step()  # wires the real phases
    recording = _Recording()
    agent.phases = [_Failing(), recording]
    agent.step()
    agent.step()
    assert recording.runs == 2
    assert agent.metrics.phase_errors.labels(phase="failing")._value.get() == 2
    assert agent.metrics.phase_errors.labels(phase="recording")._value.get() == 0
