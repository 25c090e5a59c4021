"""Site and checkers together: quorum on agreement, refusal and challenge on disagreement, and reports
that still land with the site agent down."""

from __future__ import annotations

from tests.agent.env import AgentEnv
from wellhead.agent.config import Tolerances
from wellhead.agent.runtime import Agent, report_differences
from wellhead.chain.eip712 import Report

HONEST = {"type": "simulated", "seed": 11, "fault_rate": 0.2, "dark_rate": 0.0}
CHECKER_VIEW = {**HONEST, "noise_bps": 20}  # independent instruments: 0.2 % energy noise
FAULTY = {**HONEST, "failed_gpus": [3]}  # GPU 3 is broken: idle power, XID errors
FAULTY_CHECKER_VIEW = {**FAULTY, "noise_bps": 20}
DISHONEST = {**FAULTY, "hide_faults": True}  # the site reports faulty GPUs as healthy


def faults_in_epoch_0(env: AgentEnv) -> bool:
    from wellhead.agent.collectors.simulated import SimulatedSite

    site = SimulatedSite(seed=11, gpus=8, max_watts=700, fault_rate=0.2, dark_rate=0.0, failed_gpus=(3,))
    start = env.epoch_end(0) - 60
    return any((site.collect(ts).gpus.health == 0).any() for ts in range(start, start + 60, 10))  # type: ignore[union-attr]


def wire(agents: list[Agent], site: Agent | None) -> None:
    for a in agents:
        a.server.start()
    for a in agents:
        a.s.peers = [f"http://127.0.0.1:{b.server.port}" for b in agents if b is not a]
        if a.s.mode == "checker":
            a.s.site_peer = f"http://127.0.0.1:{site.server.port}" if site else "http://127.0.0.1:9"


def test_checker_cosigns_when_it_agrees(env2: AgentEnv) -> None:
    site = env2.agent(0, collectors=[HONEST])
    checker = env2.agent(1, collectors=[CHECKER_VIEW], tolerances={"uptime_bps": 50, "energy_pct": 1.0})
    wire([site, checker], site)
    env2.warp_to(env2.epoch_end(0) + 10)
    env2.run_until([site, checker], lambda: env2.report_on_chain(0)[4] != 0)
    event = env2.accepted_events()[0]
    assert sorted(event["signers"]) == sorted([env2.attestors[0].address, env2.attestors[1].address])
    assert checker.store.disagreements(env2.asset_id) == []


def test_checker_refuses_a_site_overstating_uptime(env2: AgentEnv) -> None:
    assert faults_in_epoch_0(env2), "precondition: the site has faults to hide"
    site = env2.agent(0, collectors=[DISHONEST])
    checker = env2.agent(1, collectors=[FAULTY_CHECKER_VIEW], tolerances={"uptime_bps": 50, "energy_pct": 1.0})
    wire([site, checker], site)
    env2.warp_to(env2.epoch_end(0) + 10)
    env2.run_until(
        [site, checker],
        lambda: (r := checker.store.report(env2.asset_id, 0)) is not None and r.status == "refused",
    )
    for _ in range(20):
        site.step()
        checker.step()
        env2.mine()
    assert env2.report_on_chain(0)[4] == 0, "one signature is below the quorum: nothing posted"
    fields = [f for _, f, _, _ in checker.store.disagreements(env2.asset_id)]
    assert fields == ["uptimeBps"]
    ((_, _, ours, theirs),) = checker.store.disagreements(env2.asset_id)
    assert theirs == 10_000 and ours < 10_000
    assert checker.metrics.disagreements._value.get() == 1


def test_honest_checker_challenges_a_colluding_quorum(env2: AgentEnv) -> None:
    site = env2.agent(0, collectors=[DISHONEST])
    accomplice = env2.agent(1, collectors=[DISHONEST])
    assert faults_in_epoch_0(env2), "precondition: the site has faults to hide"
    honest = env2.agent(
        2,
        collectors=[FAULTY_CHECKER_VIEW],
        challenge_on_disagreement=True,
        tolerances={"uptime_bps": 50, "energy_pct": 1.0},
    )
    wire([site, accomplice, honest], site)
    env2.warp_to(env2.epoch_end(0) + 10)
    env2.run_until([site, accomplice, honest], lambda: env2.report_on_chain(0)[4] == 2)  # Challenged
    assert env2.protocol.oracle.functions.challengerOf(env2.asset_id, 0).call() == env2.attestors[2].address
    assert honest.store.report(env2.asset_id, 0).status == "challenged"  # type: ignore[union-attr]


def test_checkers_report_with_the_site_agent_down(env2: AgentEnv) -> None:
    a = env2.agent(1, collectors=[CHECKER_VIEW])
    b = env2.agent(2, collectors=[{**CHECKER_VIEW, "noise_bps": 30}])
    wire([a, b], None)  # the site agent is down
    env2.warp_to(env2.epoch_end(0) + 10)
    env2.run_until([a, b], lambda: env2.report_on_chain(0)[4] != 0)
    signers = sorted(env2.accepted_events()[0]["signers"])
    assert signers == sorted([env2.attestors[1].address, env2.attestors[2].address])


def _report(uptime: int, gpu_wh: int, facility_wh: int) -> Report:
    return Report(
        assetId=1,
        epoch=0,
        uptimeBps=uptime,
        gpuEnergyWh=gpu_wh,
        facilityEnergyWh=facility_wh,
        renewableBps=0,
        carbonGramsPerKwh=0,
        evidenceHash=b"\0" * 32,
    )


def test_tolerances_allow_the_whole_wh_rounding_and_nothing_more() -> None:
    t = Tolerances(uptime_bps=50, energy_pct=1.0, facility_pct=1.0)
    assert report_differences(_report(10_000, 64, 80), _report(10_000, 63, 79), t) == []  # 1.6 %, but 1 Wh
    assert report_differences(_report(10_000, 64, 80), _report(10_000, 62, 80), t) == [("gpuEnergyWh", 64, 62)]
    assert report_differences(_report(10_000, 6_400, 80), _report(10_000, 6_336, 80), t) == []  # 1.0 %
    assert report_differences(_report(10_000, 6_400, 80), _report(10_000, 6_335, 80), t) == [
        ("gpuEnergyWh", 6_400, 6_335)
    ]
    assert report_differences(_report(9_950, 0, 0), _report(10_000, 0, 0), t) == []
    assert report_differences(_report(9_949, 0, 0), _report(10_000, 0, 0), t) == [("uptimeBps", 9_949, 10_000)]


def test_an_honest_checker_agrees_with_the_site_in_every_window() -> None:
    """The checker's instruments carry a 0.2 % bias; over 2,000 windows of 60 s (50-70 Wh, where whole-Wh
    rounding alone can be 2 %), a 1 % tolerance must never refuse an honest site."""
    from wellhead.agent.aggregate import EpochWindow, aggregate
    from wellhead.agent.collectors.simulated import SimulatedSite
    from wellhead.agent.samples import Tick

    site = SimulatedSite(seed=11, gpus=8, max_watts=700, fault_rate=0.2, dark_rate=0.0)
    ours = SimulatedSite(seed=11, gpus=8, max_watts=700, fault_rate=0.2, dark_rate=0.0, noise_bps=20)
    t = Tolerances(uptime_bps=50, energy_pct=1.0, facility_pct=1.0)

    def measure(sim: SimulatedSite, start: int) -> Report:
        window = EpochWindow(1, 0, start, start + 60, 10, 8, 700)
        ticks = []
        for ts in range(start - 10, start + 60, 10):
            reading = sim.collect(ts)
            ticks.append(Tick(ts=ts, gpus=reading.gpus, meter=reading.meter))
        m = aggregate(window, ticks).measurement
        return _report(m.uptime_bps, m.gpu_energy_wh, m.facility_energy_wh)

    refused = [
        start
        for start in range(1_795_400_000, 1_795_400_000 + 2_000 * 420, 420)
        if report_differences(measure(ours, start), measure(site, start), t)
    ]
    assert refused == []


def test_checker_refuses_a_renewable_share_its_own_source_does_not_back() -> None:
    t = Tolerances(renewable_bps=100)
    ours = _report(10_000, 64, 80).model_copy(update={"renewable_bps": 6_200})
    backed = ours.model_copy(update={"renewable_bps": 6_300})  # within the tolerance
    overstated = ours.model_copy(update={"renewable_bps": 9_000})
    assert report_differences(ours, backed, t) == []
    assert report_differences(ours, overstated, t) == [("renewableBps", 6_200, 9_000)]
    # claiming less renewable energy than the source shows is never refused
    assert report_differences(ours, ours.model_copy(update={"renewable_bps": 0}), t) == []
