"""Operations: an HSM-held key (SoftHSM2), config errors as one line, /metrics scraped over HTTP."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.agent_env import AgentEnv, make_env
from tests.support.chain import assert_one_line_error, run_cli
from wellhead.agent.runtime import Agent
from wellhead.agent.signer import Pkcs11Signer, generate_pkcs11_key
from wellhead.chain.eip712 import observation_digest, recover_digest
from wellhead.chain.observations import Observation, ObservationClaim

SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")


@pytest.fixture
def token(tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not SOFTHSM.exists() or shutil.which("softhsm2-util") is None:
        pytest.fail("SoftHSM2 is not installed: `make setup` installs it (Debian package softhsm2)")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", "wellhead", "--pin", "1234", "--so-pin", "5678"],
        check=True,
        capture_output=True,
    )
    yield "wellhead", "1234"


def test_hsm_key_signs_reports_the_contract_accepts(token: tuple[str, str], tmp_path: Path) -> None:
    label, pin = token
    address = generate_pkcs11_key(str(SOFTHSM), label, "attestor", pin)
    env = make_env(tmp_path / "chain", signer0=address)
    try:
        signer = Pkcs11Signer(str(SOFTHSM), label, "attestor", pin)
        assert signer.address == address
        claim = ObservationClaim(
            assetId=env.asset_id,
            epoch=0,
            observation=Observation(
                observer=1, uptimeBps=9_999, gpuEnergyWh=1, facilityEnergyWh=2, evidenceHash=b"\x01" * 32
            ),
        )
        oracle = env.protocol.oracle
        digest = observation_digest(claim, env.protocol.chain_id, oracle.address)
        sig = signer.sign_digest(digest)
        assert int.from_bytes(sig[32:64], "big") <= 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
        assert recover_digest(digest, sig) == address
        # the agent itself, with the HSM key as its attestor key, gets an epoch on chain
        agent = Agent(env.settings(0), signer, env.attestors[0])
        env.agents.append(agent)
        env.warp_to(env.epoch_end(0) + 10)
        for _ in range(100):
            agent.step()
            if env.report_on_chain(0).exists:
                break
            env.mine()
        (accepted,) = env.accepted()
        assert accepted.cosigners == 1, "the HSM-held attestor key co-signed"
        assert [o.observer for o in accepted.report.observations] == [1]
    finally:
        env.close()


def one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert_one_line_error(proc, "config", *needles)


def test_bad_config_fails_with_one_line_naming_the_field(tmp_path: Path) -> None:
    good = {
        "asset_id": 1,
        "deployment": "d.json",
        "rpc_urls": ["http://127.0.0.1:1"],
        "signer": {"keystore": {"keystore": "k.json", "password_env": "X"}},
        "collectors": [{"type": "simulated"}],
    }
    cases: list[tuple[dict[str, object], str]] = [
        ({"asset_id": 0}, "asset_id"),
        ({"rpc_urls": ["ftp://x"]}, "not an http(s) URL"),
        ({"collectors": [{"type": "dcgm"}]}, "collectors.0.dcgm"),
        ({"collectors": [{"type": "sunspec", "host": "m", "port": 70000}]}, "collectors.0.sunspec.port"),
        ({"mode": "checker"}, "site_peer"),
        ({"signer": {}}, "signer"),
        ({"unknown_setting": 1}, "unknown_setting"),
    ]
    for change, needle in cases:
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump({**good, **change}))
        one_line_error(run_cli("agent", "check-config", "--config", str(path)), needle)
    path.write_text("asset_id: [unclosed")
    one_line_error(run_cli("agent", "run", "--config", str(path)), "not valid YAML")
    # the environment overrides the file, and is validated the same way
    path.write_text(yaml.safe_dump(good))
    one_line_error(
        run_cli("agent", "check-config", "--config", str(path), env={"WELLHEAD_AGENT_ASSET_ID": "-3"}), "asset_id"
    )
    one_line_error(run_cli("agent", "check-config", "--config", str(tmp_path / "missing.yaml")), "cannot read")
    # the green and mining sources are read at start: a bad file is named, never a traceback
    feed = tmp_path / "feed.csv"
    feed.write_text("timestamp,carbon\n1,2\n")
    path.write_text(yaml.safe_dump({**good, "green": {"grid_feed": str(feed)}}))
    assert_one_line_error(run_cli("agent", "check-config", "--config", str(path)), "feed.csv", "missing column")
    path.write_text(yaml.safe_dump({**good, "mining": {"earnings_file": str(tmp_path / "none.csv")}}))
    assert_one_line_error(run_cli("agent", "check-config", "--config", str(path)), "cannot read pool earnings")


def test_keystore_refuses_an_unset_or_bad_key_variable(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("password")
    args = ["agent", "keystore", "--password-file", str(tmp_path / "pw"), "--out", str(tmp_path / "k.json")]
    assert_one_line_error(run_cli(*args, "--key-env", "WELLHEAD_TEST_UNSET"), "WELLHEAD_TEST_UNSET", "not set")
    assert_one_line_error(run_cli(*args, "--key-env", "K", env={"K": "0x1234"}), "not a 32-byte hex private key")
    assert not (tmp_path / "k.json").exists(), "no key written in either case"


def test_metrics_scraped_over_http(env: AgentEnv) -> None:
    agent = env.agent(
        0,
        collectors=[
            {"type": "simulated", "seed": 11, "fault_rate": 0.2, "dark_rate": 0.0},
            {"type": "dcgm", "url": "http://127.0.0.1:9/metrics", "deadline": 0.2},
        ],
        inventory=[f"GPU-{g:04d}" for g in range(8)],
    )
    agent.server.start()
    env.warp_to(env.epoch_end(0) + 10)
    for _ in range(100):
        agent.step()
        row = agent.store.report(env.asset_id, 0)
        if row is not None and row.status == "confirmed":
            break
        env.mine()
    text = requests.get(f"http://127.0.0.1:{agent.server.port}/metrics", timeout=5).text
    # promtool (Prometheus's own linter) accepts the page, and no label carries an RPC URL (they hold API keys)
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert env.anvil.url not in text and "127.0.0.1:9" not in text
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }
    assert values[("wellhead_agent_last_reported_epoch", ())] == 0
    assert (
        values[("wellhead_agent_current_epoch", ())] >= 1
        and values[("wellhead_agent_outbox_oldest_age_seconds", ())] == 0
    )
    assert values[("wellhead_agent_outbox_depth", ())] == 0
    # a live collector cannot be replayed, so the agent samples only "now": chain time stood still here
    sampled = values[("wellhead_agent_samples_total", (("collector", "simulated"),))]
    assert sampled >= 1
    # the DCGM endpoint is down: every reading counted missing, per GPU
    assert values[("wellhead_agent_samples_missing_total", (("collector", "dcgm"),))] == sampled * 8
    assert values[("wellhead_agent_collector_errors_total", (("collector", "dcgm"),))] == sampled
    # and what was not sampled is unproven time, not uptime
    row = agent.store.report(env.asset_id, 0)
    assert row is not None and row.measurement is not None
    assert int(str(row.measurement["missing_gpu_slots"])) >= 8 * (6 - int(sampled))
    assert values[("wellhead_agent_signer_balance_wei", ())] > 0
    ready = requests.get(f"http://127.0.0.1:{agent.server.port}/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    agent._last_good_pass = time.monotonic() - 3600  # as if no pass had run every phase for an hour
    stale = requests.get(f"http://127.0.0.1:{agent.server.port}/readyz", timeout=5)
    assert stale.status_code == 503 and "no pass has run every phase for" in stale.json()["detail"]
    base = f"http://127.0.0.1:{agent.server.port}/v1"
    observed = requests.get(f"{base}/observations/{env.asset_id}/0", timeout=5)
    assert observed.status_code == 200 and observed.json()["signer"] == env.attestors[0].address
    assert observed.json()["claim"]["observation"]["observer"] == 1
    missing = requests.get(f"{base}/observations/{env.asset_id}/99", timeout=5)
    assert missing.status_code == 404 and missing.json()["code"] == "not_observed"
    (proposal,) = requests.get(f"{base}/reports/{env.asset_id}/0", timeout=5).json()["proposals"]
    assert [c["signer"] for c in proposal["cosignatures"]] == [env.attestors[0].address]


def test_counter_going_backwards_is_unproven_and_counted(env: AgentEnv) -> None:
    """A DCGM exporter whose energy counter jumps backwards for one GPU: that reading is rejected."""
    from tests.support.peers import TextServer, dcgm_text

    server = TextServer(dcgm_text([10**12] * 8))  # ~ a month of a GPU, in mJ
    agent = env.agent(
        0, collectors=[{"type": "dcgm", "url": server.url + "/metrics"}], inventory=[f"GPU-{g:04d}" for g in range(8)]
    )
    try:
        env.warp_to(env.epoch_end(0) - 30)
        agent.step()  # a first reading
        server.body = dcgm_text([10**12 + 5_000_000] * 7 + [10**12 - 10**9])  # GPU 7 goes backwards
        env.warp_to(env.epoch_end(0) - 20)
        agent.step()
        env.warp_to(env.epoch_end(0) + 10)
        for _ in range(50):
            agent.step()
            if agent.store.report(env.asset_id, 0) is not None:
                break
            env.mine()
        row = agent.store.report(env.asset_id, 0)
        assert row is not None and row.measurement is not None
        assert row.measurement["rejected_counter_readings"] == 1
        assert agent.metrics.counter_rejections._value.get() == 1
    finally:
        server.close()
