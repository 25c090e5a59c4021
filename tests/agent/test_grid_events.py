"""Grid events end to end on loopback: a real openleadr VTN (TLS, signed messages) sends an event, the
agent's VEN receives it, attests it on chain, runs the curtailment command, and the epoch report carries it;
settlement charges the interruptible lessee nothing for the window and the firm lessee as usual."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any, cast

import pytest
from web3 import Web3

from tests.support.agent_env import AgentEnv
from tests.support.chain import Site, now
from wellhead.agent.openadr import CurtailmentDesk, GridEventRejected, Ven, curtailment_in, parse_event
from wellhead.chain.client import Protocol, send
from wellhead.chain.grid import GridEvent, declaration_id, grid_event_id, sign_grid_event
from wellhead.core.errors import ContractRevertError
from wellhead.devkit.gridsim import VEN_ID, LoopbackVtn
from wellhead.devkit.scenario import Actors, Scenario


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    d = tmp_path / "certs"
    d.mkdir()
    return d


def _desk(
    w3: Web3, protocol: Protocol, actors: Actors, asset_id: int, tmp: Path, command: list[str]
) -> CurtailmentDesk:
    agent = actors.attestors[0]

    def declare(event: GridEvent, signature: bytes) -> None:
        send(w3, agent, protocol.grid.functions.declareEvent(event.as_tuple(), signature))

    return CurtailmentDesk(
        path=tmp / "grid-events.json",
        asset_id=asset_id,
        vtn_id="ercot-vtn",
        ven_id=VEN_ID,
        resource_id="TX-ABILENE-1",
        sign=lambda e: sign_grid_event(e, protocol.chain_id, protocol.grid.address, agent),
        declare=declare,
        command=command,
        clock=lambda: float(now(w3)),
    )


def _ven(vtn: LoopbackVtn, desk: CurtailmentDesk) -> Ven:
    ven = Ven(
        vtn.url,
        "abilene",
        VEN_ID,
        str(vtn.ven_crt),
        str(vtn.ven_key),
        str(vtn.vtn_crt),
        vtn.fingerprint,
        desk.on_event,
    )
    ven.start()
    return ven


def _wait(condition: Any, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def site(w3: Web3, protocol: Protocol, actors: Actors) -> Site:
    return Site(w3, protocol, actors)


def test_vtn_event_curtails_interruptible_and_settles(
    w3: Web3,
    protocol: Protocol,
    actors: Actors,
    site: Site,
    certs: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asset = site.asset_id
    leases = site.scenario.open_leases()  # firm 32 GPUs, interruptible 16 GPUs, from epoch 1
    epoch_start = site.epoch_end(0)
    # the grid operator calls a 15-minute event inside epoch 1; the VTN signs it, the VEN checks the signature
    site.warp_to(epoch_start + 60)
    marker, environment = tmp_path / "curtailed.txt", tmp_path / "environment.txt"
    monkeypatch.setenv("WELLHEAD_AGENT_KEYSTORE_PASSWORD", "hunter2")  # the agent's secret, in its environment
    command = ["sh", "-c", f'echo "$WELLHEAD_EVENT_ID" > {marker}; env > {environment}']
    desk = _desk(w3, protocol, actors, asset, tmp_path, command)
    vtn = LoopbackVtn(certs, signed=True)
    ven = _ven(vtn, desk)
    try:
        vtn.add_event("EEA-2026-08-14-01", epoch_start + 1800, 900)
        assert _wait(lambda: desk.events()), f"no event accepted: {desk.rejected}"
        assert _wait(lambda: "optIn" in vtn.responses), "the VEN opted in"
        assert _wait(lambda: environment.exists() and "WELLHEAD_EVENT_ID" in environment.read_text())
        assert "hunter2" not in environment.read_text(), "the command got the agent's secrets"
    finally:
        ven.stop()
        vtn.close()
    (event,) = desk.events()
    assert marker.read_text().strip() == "ercot-vtn/EEA-2026-08-14-01", "the curtailment command ran"
    declared = declaration_id(asset, event.event_id, actors.attestors[0].address)
    stored = protocol.grid.functions.eventOf(declared).call()
    assert tuple(stored) == (asset, epoch_start + 1800, epoch_start + 2700, 0), "declared on chain as an OpenADR event"

    # the epoch report carries the event: 25 % of the epoch curtailed
    end = site.epoch_end(1)
    curtailed, grid_id = curtailment_in(desk.events(), end - 3600, end)
    assert (curtailed, grid_id) == (2_500, event.event_id)
    site.skip_and_finalize(0)  # before the leases start
    site.warp_to(end)
    site.submit(site.report(1, grid_event=declared, curtailedBps=curtailed))
    site.warp_to(end + protocol.registry.functions.protocolParams().call().challengeWindow + 1)
    market = protocol.market.functions
    send(w3, actors.admin, market.finalizeEpoch(asset, 1))
    firm_refund, _ = market.refundable(leases["firm 32 GPUs"]).call()
    int_refund, _ = market.refundable(leases["interruptible 16 GPUs"]).call()
    int_rate = market.leaseOf(leases["interruptible 16 GPUs"]).call().ratePerEpoch
    assert firm_refund == 0, "the firm lease is charged as usual"
    assert int_refund == int_rate // 4, "the interruptible lease is not charged for the 15 curtailed minutes"


def test_unsigned_vtn_messages_are_refused(
    w3: Web3, protocol: Protocol, actors: Actors, site: Site, certs: Path, tmp_path: Path
) -> None:
    desk = _desk(w3, protocol, actors, site.asset_id, tmp_path, [])
    vtn = LoopbackVtn(certs, signed=False)
    ven = _ven(vtn, desk)  # registration fails: the VTN's answers carry no signature
    try:
        vtn.add_event("UNSIGNED-1", now(w3) + 60, 600)
        assert not _wait(lambda: desk.events(), seconds=4), "an unsigned event was acted on"
        assert not ven.registered, "no registration with a VTN whose messages are unsigned"
    finally:
        ven.stop()
        vtn.close()
    assert desk.events() == []


def _oadr(event_id: str, start: int, seconds: int, targets: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "event_descriptor": {"event_id": event_id},
        "active_period": {
            "dtstart": dt.datetime.fromtimestamp(start, dt.UTC),
            "duration": dt.timedelta(seconds=seconds),
        },
        "targets": targets if targets is not None else [{"ven_id": VEN_ID}],
    }


def test_bad_grid_events_are_refused_with_a_reason() -> None:
    t = 1_800_000_000
    ok = parse_event(_oadr("E1", t, 600), "vtn", VEN_ID, "TX-1", now=t - 10)
    assert (ok.starts_at, ok.ends_at, ok.program_id) == (t, t + 600, "vtn/E1")
    cases = [
        (_oadr("E2", t, 600, [{"ven_id": "ven-elsewhere"}]), "for another site"),
        (_oadr("E3", t - 900, 600), "expired"),
        (_oadr("E4", t, 2 * 86_400), "lasts"),
        (_oadr("E5", t + 300, 600), "overlaps vtn/E1"),
        ({"event_descriptor": {}}, "without an event id"),
    ]
    for event, reason in cases:
        with pytest.raises(GridEventRejected, match=reason):
            parse_event(event, "vtn", VEN_ID, "TX-1", now=t - 10, accepted=[ok])
    # a resource target naming this site is ours; the VTN's repeat of an accepted event is the same event
    assert parse_event(_oadr("E6", t + 600, 60, [{"resource_id": "TX-1"}]), "vtn", VEN_ID, "TX-1", t).ends_at == t + 660
    assert parse_event(_oadr("E1", t, 600), "vtn", VEN_ID, "TX-1", t - 10, accepted=[ok]) is ok


def test_grid_event_for_another_site_is_not_declared(w3: Web3, protocol: Protocol, actors: Actors, site: Site) -> None:
    """The agent of asset 1 signs an event; relayed in the name of another asset, the ledger refuses it."""
    other = Scenario(w3, protocol, actors)
    other_id = other.register(attestors=[actors.lender.address], fault_tolerance=0)
    start = now(w3) + 60
    event = parse_event(_oadr("E9", start, 600), "vtn", VEN_ID, None, start - 60).grid_event(site.asset_id)
    signature = sign_grid_event(event, protocol.chain_id, protocol.grid.address, actors.attestors[0])
    relayed = event.model_copy(update={"asset_id": other_id})
    with pytest.raises(ContractRevertError) as err:
        send(w3, actors.admin, protocol.grid.functions.declareEvent(relayed.as_tuple(), signature))
    assert err.value.error == "GridUnauthorizedSigner"
    send(w3, actors.admin, protocol.grid.functions.declareEvent(event.as_tuple(), signature))
    with pytest.raises(ContractRevertError) as err:
        send(w3, actors.admin, protocol.grid.functions.declareEvent(event.as_tuple(), signature))
    assert err.value.error == "GridEventExists"


def test_python_grid_event_digest_matches_the_contract(protocol: Protocol) -> None:
    event = parse_event(_oadr("E10", 1_800_000_000, 600), "vtn", VEN_ID, None, 0).grid_event(1)
    from wellhead.chain.grid import digest

    assert protocol.grid.functions.hashEvent(event.as_tuple()).call() == digest(
        event, protocol.chain_id, protocol.grid.address
    )


def test_site_agent_reports_a_vtn_event_and_the_checkers_cosign(env2: AgentEnv, certs: Path) -> None:
    """The whole agent: its VEN takes a VTN event, attests it, and the epoch report (observed and co-signed by
    checkers that verify the event on chain) carries the curtailed half of the epoch."""
    from tests.agent.test_checker import CHECKER_VIEW, HONEST, checkers, wire

    vtn = LoopbackVtn(certs, signed=True)
    openadr = vtn.ven_config().model_dump(mode="json")
    epoch1 = env2.epoch_end(0)
    vtn.add_event("EEA-7", epoch1 + 15, 30)  # half of the 60 s epoch 1
    try:
        site = env2.agent(0, collectors=[HONEST], openadr=openadr)
        agents = [site, *checkers(env2, [CHECKER_VIEW, CHECKER_VIEW])]
        wire(agents, site)
        site.step()  # starts the VEN: registration and the first poll
        assert _wait(lambda: site.curtailment is not None and site.curtailment.events() != []), "event accepted"
        env2.warp_to(env2.epoch_end(1) + 10)
        env2.run_until(agents, lambda: env2.report_on_chain(1).exists)
    finally:
        vtn.close()
    accepted = {e.epoch: e for e in env2.accepted()}
    declared = declaration_id(env2.asset_id, grid_event_id("ercot-vtn/EEA-7"), env2.attestors[0].address)
    assert accepted[1].curtailed_bps == 5_000
    assert accepted[1].report.grid_event_id == declared, "named by the site agent's declaration"
    assert [o.curtailed_bps for o in accepted[1].report.observations] == [5_000] * 3, "the checkers took it"
    assert len(env2.cosigners(accepted[1])) >= 2, "co-signed"
    assert accepted[0].curtailed_bps == 0, "epoch 0 had no event"


def test_curtailment_shows_on_the_modbus_meter_and_the_agent_measures_it(env: AgentEnv, certs: Path) -> None:
    """A VTN event -> the VEN runs the site's curtailment command -> the facility meter (a real SunSpec
    device over Modbus TCP) drops from 200 kW to 40 kW inside the window -> the agent's evidence for the
    epoch holds the shed load it measured from that meter."""
    import json
    import sys

    from tests.agent.test_checker import HONEST
    from tests.support.peers import SunSpecMeter
    from wellhead.agent.evidence import read_manifest

    marker = certs.parent / "curtailing.json"
    command = [sys.executable, "-c", _WRITE_WINDOW, str(marker)]
    vtn = LoopbackVtn(certs, signed=True)
    meter = SunSpecMeter()
    start = env.epoch_end(0)  # epoch 1 is [start, start + 60): the event covers its second half
    vtn.add_event("EEA-9", start + 30, 30)
    try:
        meter_cfg = {"type": "sunspec", "host": "127.0.0.1", "port": meter.port, "timeout": 2.0}
        site = env.agent(0, collectors=[meter_cfg, HONEST], openadr=vtn.ven_config(command).model_dump(mode="json"))
        site.server.start()
        site.step()
        assert _wait(lambda: marker.exists()), "the curtailment command ran"
        window = json.loads(marker.read_text())
        energy_wh = 1_000_000
        first = start - start % 10 - 20  # on the agent's 10 s sampling grid
        for ts in range(first, start + 80, 10):  # the meter as the load runs, 10 s a step
            curtailed = window["startsAt"] <= ts < window["endsAt"]
            meter.set(power_w=40_000 if curtailed else 200_000, energy_wh=energy_wh)
            energy_wh += (40_000 if curtailed else 200_000) * 10 // 3600
            env.warp_to(ts)
            site.step()
    finally:
        vtn.close()
        meter.close()
    manifests = [read_manifest(p) for p in (site.evidence_dir).glob("*.npz")]
    epoch1 = next(m for m in manifests if m["window"]["epoch"] == 1)
    (shed,) = cast(list[dict[str, Any]], epoch1["curtailment"])
    assert shed["event"] == "ercot-vtn/EEA-9" and shed["measured"], shed
    assert 7_500 <= shed["shed_bps"] <= 8_500, shed  # 200 kW -> 40 kW: 80 % shed
    assert shed["baseline_w"] > 190_000 and shed["during_w"] < 50_000, shed


_WRITE_WINDOW = (
    "import json, os, sys; json.dump({'startsAt': int(os.environ['WELLHEAD_EVENT_STARTS_AT']),"
    " 'endsAt': int(os.environ['WELLHEAD_EVENT_ENDS_AT'])}, open(sys.argv[1], 'w'))"
)
