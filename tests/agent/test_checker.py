"""Site and checkers together (n = 4, f = 1): every observation in the report, the median protecting it from
a lying attestor, refusal and challenge on disagreement, and reports that land with an agent down or lying."""

from __future__ import annotations

from pathlib import Path

from tests.support.agent_env import AgentEnv, make_env
from wellhead.agent.config import Tolerances
from wellhead.agent.measured import report_differences
from wellhead.agent.runtime import Agent
from wellhead.chain.eip712 import sign_observation
from wellhead.chain.enums import ReportStatus
from wellhead.chain.observations import Observation, ObservationClaim, build_report, claim_from_json, to_json

HONEST = {"type": "simulated", "seed": 11, "fault_rate": 0.2, "dark_rate": 0.0}
CHECKER_VIEW = {**HONEST, "noise_bps": 20}  # independent instruments: 0.2 % energy noise
FAULTY = {**HONEST, "failed_gpus": [3]}  # GPU 3 is broken: idle power, XID errors
FAULTY_CHECKER_VIEW = {**FAULTY, "noise_bps": 20}
DISHONEST = {**FAULTY, "hide_faults": True}  # the site reports faulty GPUs as healthy
ALL_DOWN = {**HONEST, "failed_gpus": list(range(8))}  # a liar that claims every GPU failed
TIGHT = {"uptime_bps": 50, "energy_pct": 1.0}


def faults_in_epoch_0(env: AgentEnv) -> bool:
    from wellhead.devkit.collectors.simulated import SimulatedSite

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


def checkers(env: AgentEnv, views: list[dict[str, object]], **settings: object) -> list[Agent]:
    settings = {"tolerances": TIGHT, "aggregate_delay": 0, **settings}
    return [env.agent(i + 1, collectors=[v], **settings) for i, v in enumerate(views)]


def test_every_observation_reported_and_cosigned_when_all_agree(env2: AgentEnv) -> None:
    site = env2.agent(0, collectors=[HONEST])
    agents = [site, *checkers(env2, [CHECKER_VIEW] * 3)]
    wire(agents, site)
    env2.warp_to(env2.epoch_end(0) + 10)
    env2.run_until(agents, lambda: env2.report_on_chain(0).exists)
    (accepted,) = env2.accepted()
    assert [o.observer for o in accepted.report.observations] == [1, 2, 3, 4], "every attestor's observation"
    assert len(env2.cosigners(accepted)) >= 2, "f + 1 co-signers"
    for a in agents[1:]:
        assert a.store.disagreements(env2.asset_id) == []


def test_a_site_overstating_uptime_is_outvoted_and_the_checkers_record_why(env2: AgentEnv) -> None:
    """The review's attack, the other way round: one liar (here the site agent, hiding faults) cannot move the
    median; the honest checkers' value settles."""
    assert faults_in_epoch_0(env2), "precondition: the site has faults to hide"
    site = env2.agent(0, collectors=[DISHONEST], tolerances=TIGHT)
    agents = [site, *checkers(env2, [FAULTY_CHECKER_VIEW] * 3)]
    wire(agents, site)
    env2.warp_to(env2.epoch_end(0) + 10)
    env2.run_until(agents, lambda: env2.report_on_chain(0).exists)
    (accepted,) = env2.accepted()
    lie = next(o for o in accepted.report.observations if o.observer == 1)
    honest = [o.uptime_bps for o in accepted.report.observations if o.observer != 1]
    assert lie.uptime_bps == 10_000 and max(honest) < 10_000
    assert min(honest) <= accepted.uptime_bps <= max(honest), "the median is an honest value"
    fields = {f for _, f, _, _ in agents[1].store.disagreements(env2.asset_id)}
    assert "uptimeBps" in fields, "the checker recorded the site's overstatement"


def test_an_agent_down_and_another_lying_still_report_an_honest_median_on_time(env2: AgentEnv) -> None:
    site = env2.agent(0, collectors=[HONEST], tolerances=TIGHT)
    honest, liar = checkers(env2, [CHECKER_VIEW, ALL_DOWN])  # checker 3 is down: never started
    agents = [site, honest, liar]
    wire(agents, site)
    env2.warp_to(env2.epoch_end(0) + 10)
    env2.run_until(agents, lambda: env2.report_on_chain(0).exists)
    (accepted,) = env2.accepted()
    observed = {o.observer: o.uptime_bps for o in accepted.report.observations}
    assert sorted(observed) == [1, 2, 3] and observed[3] < 2_000, "the liar's observation is in the report"
    assert accepted.uptime_bps in (observed[1], observed[2]), "the median is one of the honest values"
    assert sorted(env2.cosigners(accepted)) == sorted(a.address for a in env2.attestors[:2])
    env2.run_until([liar], lambda: liar.store.report(env2.asset_id, 0).status == "refused")  # type: ignore[union-attr]


def test_checkers_report_with_the_site_agent_down(env2: AgentEnv) -> None:
    agents = checkers(env2, [CHECKER_VIEW, {**CHECKER_VIEW, "noise_bps": 30}, CHECKER_VIEW])
    wire(agents, None)  # the site agent is down
    env2.warp_to(env2.epoch_end(0) + 10)
    env2.run_until(agents, lambda: env2.report_on_chain(0).exists)
    (accepted,) = env2.accepted()
    assert [o.observer for o in accepted.report.observations] == [2, 3, 4]


def test_honest_checker_challenges_a_colluding_quorum(env2: AgentEnv) -> None:
    """Beyond the fault bound: with checker 3 down, the site and an accomplice both hide faults; their two
    observations and the honest one make a quorum whose median is theirs, and they co-sign it. The honest
    checker sees the medians disagree with its measurement and challenges."""
    assert faults_in_epoch_0(env2), "precondition: the site has faults to hide"
    site = env2.agent(0, collectors=[DISHONEST], tolerances=TIGHT)
    (accomplice,) = checkers(env2, [DISHONEST])
    honest = env2.agent(
        2, collectors=[FAULTY_CHECKER_VIEW], tolerances=TIGHT, aggregate_delay=0, challenge_on_disagreement=True
    )
    agents = [site, accomplice, honest]
    wire(agents, site)
    env2.warp_to(env2.epoch_end(0) + 10)
    env2.run_until(agents, lambda: env2.report_on_chain(0).status == ReportStatus.CHALLENGED)
    (accepted,) = env2.accepted()
    assert accepted.uptime_bps == 10_000, "two colluders beyond f = 1 set the median"
    assert env2.protocol.oracle.functions.challengerOf(env2.asset_id, 0).call() == env2.attestors[2].address
    assert honest.store.report(env2.asset_id, 0).status == "refused"  # type: ignore[union-attr]


def test_a_faulty_attestor_cannot_block_the_report(env2: AgentEnv) -> None:
    """The auditor's liveness attack: one faulty attestor serves an observation the contract would refuse
    (carbon 5,000 g/kWh) and a malformed co-signature. The honest agents keep both out of what they build and
    submit, and report on time."""
    site = env2.agent(0, collectors=[HONEST])
    honest1, faulty, honest3 = checkers(env2, [CHECKER_VIEW, CHECKER_VIEW, CHECKER_VIEW])
    agents = [site, honest1, faulty, honest3]
    wire(agents, site)
    env2.warp_to(env2.epoch_end(0) + 10)
    impossible = Observation(
        observer=3,
        uptimeBps=10_000,
        gpuEnergyWh=1,
        facilityEnergyWh=2,
        carbonGramsPerKwh=5_000,
        evidenceHash=b"\7" * 32,
    )
    claim = ObservationClaim(assetId=env2.asset_id, epoch=0, observation=impossible)
    signature = sign_observation(claim, env2.protocol.chain_id, env2.protocol.oracle.address, env2.attestors[2])
    faulty.store.add_observation(env2.asset_id, 0, 3, env2.attestors[2].address, to_json(claim), "0x" + signature.hex())
    faulty.store.add_cosignature(env2.asset_id, 0, "0x" + "11" * 32, env2.attestors[2].address, "0x" + "ff" * 65)
    env2.run_until([site, honest1, honest3], lambda: env2.report_on_chain(0).exists)
    (accepted,) = env2.accepted()
    assert [o.observer for o in accepted.report.observations] == [1, 2, 4], "the impossible observation left out"
    assert env2.attestors[2].address not in env2.cosigners(accepted)


def test_an_unstaked_attestor_neither_observes_nor_cosigns_for_the_report(tmp_path: Path) -> None:
    """Only co-signers need the minimum stake on chain (a stake read per observer would cost every report);
    the honest agents keep an unstaked attestor's observation and co-signature out, so within the fault bound
    no observation in a report is free of stake."""
    env = make_env(tmp_path, fault_tolerance=1, attestors=4, unstaked=(3,))
    try:
        # each waits 2 s for every attestor: all four observe at once, so a report of three shows a choice
        site = env.agent(0, collectors=[HONEST], aggregate_delay=2)
        agents = [site, *checkers(env, [CHECKER_VIEW] * 3, aggregate_delay=2)]
        wire(agents, site)
        env.warp_to(env.epoch_end(0) + 10)
        env.run_until(agents, lambda: env.report_on_chain(0).exists)
        (accepted,) = env.accepted()
        assert [o.observer for o in accepted.report.observations] == [1, 2, 3]
        assert env.attestors[3].address not in env.cosigners(accepted)
        for agent in agents:  # whichever observations each held when it built its report
            row = agent.store.report(env.asset_id, 0)
            assert agent.attestation is not None and row is not None
            built = agent.attestation.own_proposal(row)
            assert built is not None
            assert 4 not in [o.observer for o in built.observations]
        # the unstaked attestor proposes a report of all four observations: no honest agent would co-sign it
        checker = agents[1]
        held = checker.store.observations(env.asset_id, 0)
        assert len(held) == 4, "precondition: the checker holds the unstaked attestor's observation"
        signed = [(claim_from_json(o.claim).observation, bytes.fromhex(o.signature.removeprefix("0x"))) for o in held]
        four = build_report(env.asset_id, 0, accepted.report.grid_event_id, signed)
        row = checker.store.report(env.asset_id, 0)
        assert checker.attestation is not None and row is not None and row.report is not None
        mine = checker.attestation.own(row)
        assert mine is not None
        assert checker.attestation.check(four, mine, dict(row.report)) == ["observers [4] have nothing at stake"]
    finally:
        env.close()


def _obs(uptime: int, gpu_wh: int, facility_wh: int) -> Observation:
    return Observation(
        observer=1,
        uptimeBps=uptime,
        gpuEnergyWh=gpu_wh,
        facilityEnergyWh=facility_wh,
        renewableBps=0,
        carbonGramsPerKwh=0,
        evidenceHash=b"\0" * 32,
    )


def test_tolerances_allow_the_whole_wh_rounding_and_nothing_more() -> None:
    t = Tolerances(uptime_bps=50, energy_pct=1.0, facility_pct=1.0)
    assert report_differences(_obs(10_000, 64, 80), _obs(10_000, 63, 79), t) == []  # 1.6 %, but 1 Wh
    assert report_differences(_obs(10_000, 64, 80), _obs(10_000, 62, 80), t) == [("gpuEnergyWh", 64, 62)]
    assert report_differences(_obs(10_000, 6_400, 80), _obs(10_000, 6_336, 80), t) == []  # 1.0 %
    assert report_differences(_obs(10_000, 6_400, 80), _obs(10_000, 6_335, 80), t) == [("gpuEnergyWh", 6_400, 6_335)]
    assert report_differences(_obs(9_950, 0, 0), _obs(10_000, 0, 0), t) == []
    assert report_differences(_obs(9_949, 0, 0), _obs(10_000, 0, 0), t) == [("uptimeBps", 9_949, 10_000)]


def test_an_honest_checker_agrees_with_the_site_in_every_window() -> None:
    """The checker's instruments carry a 0.2 % bias; over 2,000 windows of 60 s (50-70 Wh, where whole-Wh
    rounding alone can be 2 %), a 1 % tolerance must never refuse an honest site."""
    from wellhead.agent.aggregate import EpochWindow, aggregate
    from wellhead.agent.samples import Tick
    from wellhead.devkit.collectors.simulated import SimulatedSite

    site = SimulatedSite(seed=11, gpus=8, max_watts=700, fault_rate=0.2, dark_rate=0.0)
    ours = SimulatedSite(seed=11, gpus=8, max_watts=700, fault_rate=0.2, dark_rate=0.0, noise_bps=20)
    t = Tolerances(uptime_bps=50, energy_pct=1.0, facility_pct=1.0)

    def measure(sim: SimulatedSite, start: int) -> Observation:
        window = EpochWindow(1, 0, start, start + 60, 10, 8, 700)
        ticks = []
        for ts in range(start - 10, start + 60, 10):
            reading = sim.collect(ts)
            ticks.append(Tick(ts=ts, gpus=reading.gpus, meter=reading.meter))
        m = aggregate(window, ticks).measurement
        return _obs(m.uptime_bps, m.gpu_energy_wh, m.facility_energy_wh)

    refused = [
        start
        for start in range(1_795_400_000, 1_795_400_000 + 2_000 * 420, 420)
        if report_differences(measure(ours, start), measure(site, start), t)
    ]
    assert refused == []


def test_checker_refuses_a_renewable_share_its_own_source_does_not_back() -> None:
    t = Tolerances(renewable_bps=100)
    ours = _obs(10_000, 64, 80).model_copy(update={"renewable_bps": 6_200})
    backed = ours.model_copy(update={"renewable_bps": 6_300})  # within the tolerance
    overstated = ours.model_copy(update={"renewable_bps": 9_000})
    assert report_differences(ours, backed, t) == []
    assert report_differences(ours, overstated, t) == [("renewableBps", 6_200, 9_000)]
    # claiming less renewable energy than the source shows is never refused
    assert report_differences(ours, ours.model_copy(update={"renewable_bps": 0}), t) == []
