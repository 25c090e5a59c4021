"""Nothing lost, nothing posted twice: crashes, RPC outages, a dead RPC URL, a reorg."""

from __future__ import annotations

import io
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.agent_env import PASSWORD, AgentEnv, make_env
from wellhead.agent.logs import setup_json_logging
from wellhead.agent.runtime import Agent
from wellhead.chain.connection import rpc
from wellhead.devkit.anvil import Anvil, free_port


def steps_until(env: AgentEnv, agent: Agent, done, steps: int = 300) -> None:  # type: ignore[no-untyped-def]
    for _ in range(steps):
        agent.step()
        if done():
            return
        env.mine()
    raise AssertionError("condition not reached")


def confirmed(agent: Agent, asset: int, epoch: int) -> bool:
    row = agent.store.report(asset, epoch)
    return row is not None and row.status == "confirmed"


def test_failover_from_a_dead_rpc_url(env: AgentEnv) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    agent = env.agent(0, rpc_urls=[dead, env.anvil.url])
    env.warp_to(env.epoch_end(0) + 10)
    steps_until(env, agent, lambda: confirmed(agent, env.asset_id, 0))
    assert agent.metrics.rpc_errors.labels(endpoint="0")._value.get() >= 1
    assert [e["epoch"] for e in env.accepted_events()] == [0]


def test_an_rpc_urls_api_key_is_in_no_metric_and_no_log_line(env: AgentEnv) -> None:
    """Providers put API keys in RPC URLs: the agent names an endpoint by its position in `rpc_urls` in its
    /metrics, and its log lines write each URL (and its path and query) as `rpc_urls[i]`, whatever logger wrote
    it, even at DEBUG with web3's and urllib3's own logs on (which print the URL of every request)."""
    key = "k3yS3cr3tF0rT3st1ng"
    urls = [f"http://127.0.0.1:{free_port()}/v3/{key}", f"{env.anvil.url}/?apikey={key}"]
    agent = env.agent(0, rpc_urls=urls)
    agent.server.start()
    lines = io.StringIO()
    setup_json_logging("DEBUG", rpc_urls=urls, stream=lines)
    for noisy in ("urllib3", "web3"):
        logging.getLogger(noisy).setLevel("DEBUG")
    try:
        env.warp_to(env.epoch_end(0) + 10)
        steps_until(env, agent, lambda: confirmed(agent, env.asset_id, 0))
        metrics = requests.get(f"http://127.0.0.1:{agent.server.port}/metrics", timeout=5).text
    finally:
        logging.getLogger().handlers.clear()
        logging.getLogger().setLevel(logging.WARNING)
        for noisy in ("urllib3", "web3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    assert agent.metrics.rpc_errors.labels(endpoint="0")._value.get() >= 1, "the dead endpoint failed, counted"
    assert 'endpoint="0"' in metrics and key not in metrics
    logged = lines.getvalue()
    assert "rpc_urls[0]" in logged and "rpc_urls[1]" in logged, "the libraries did name the URLs"
    assert key not in logged


@pytest.fixture
def durable_env(tmp_path: Path) -> Iterator[AgentEnv]:
    e = make_env(tmp_path, state_file=tmp_path / "anvil-state.json")
    yield e
    e.close()


def test_rpc_outage_backlog_lands_in_order(durable_env: AgentEnv) -> None:
    env = durable_env
    agent = env.agent(0)
    env.warp_to(env.epoch_end(0) + 10)
    steps_until(env, agent, lambda: confirmed(agent, env.asset_id, 0))
    env.anvil.stop()  # the node goes away (anvil writes its state on the way out)
    for _ in range(5):
        agent.step()  # must survive: the loop logs and retries
    # the first pass tried and failed; the next ones waited out the backoff without touching the network
    assert agent.metrics.rpc_errors.labels(endpoint="0")._value.get() == 1
    env.anvil = Anvil(port=env.anvil.port, extra_args=env.anvil.extra_args).start()
    env.warp_to(env.epoch_end(4) + 10)  # four epochs passed while the node was down
    time.sleep(1.6)  # the pool's first backoff (1 s, jittered by up to half) runs out
    steps_until(env, agent, lambda: all(confirmed(agent, env.asset_id, e) for e in range(1, 5)))
    epochs = [e["epoch"] for e in env.accepted_events()]
    assert epochs == [0, 1, 2, 3, 4], "every epoch once, in order"


def test_reorg_that_drops_the_report_gets_it_resubmitted(env: AgentEnv) -> None:
    agent = env.agent(0, confirmations=3)
    env.warp_to(env.epoch_end(0) + 10)
    snapshot = rpc(env.w3, "evm_snapshot", [])
    for _ in range(50):
        agent.step()
        if env.report_on_chain(0).exists:
            break
    assert env.report_on_chain(0).exists
    assert not confirmed(agent, env.asset_id, 0), "not yet deep enough"
    rpc(env.w3, "evm_revert", [snapshot])  # the block holding the report is gone
    assert env.report_on_chain(0).status == 0
    env.warp_to(env.epoch_end(0) + 11)
    steps_until(env, agent, lambda: confirmed(agent, env.asset_id, 0))
    assert env.report_on_chain(0).exists
    assert [e["epoch"] for e in env.accepted_events()] == [0]


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(env: AgentEnv) -> None:
    """50 epochs; the agent process is SIGKILLed at random moments and restarted each time."""
    epochs = 50
    config = env.config(0, poll_interval=0.02, confirmations=1)
    rng = random.Random(1234)
    proc_env = {**os.environ, "AGENT_TEST_PASSWORD": PASSWORD}
    log = open(env.tmp / "agent.log", "ab")  # noqa: SIM115 - closed below

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "wellhead.cli", "agent", "run", "--config", str(config)],
            stdout=log,
            stderr=log,
            env=proc_env,
        )

    proc = start()
    kills = 0
    next_kill: float | None = None
    try:
        for epoch in range(epochs):
            env.warp_to(env.epoch_end(epoch) + 10)
            if next_kill is None and rng.random() < 0.8:
                next_kill = time.monotonic() + rng.uniform(0.0, 0.5)  # mid-sampling, -signing or -sending
            deadline = time.monotonic() + 90
            while env.report_on_chain(epoch).status == 0 or (next_kill is not None and epoch == epochs - 1):
                assert time.monotonic() < deadline, f"epoch {epoch} never reported"
                if next_kill is not None and time.monotonic() >= next_kill:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    proc = start()
                    next_kill = None
                time.sleep(0.02)
                env.mine()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()
    events = env.accepted_events()
    assert sorted(e["epoch"] for e in events) == list(range(epochs)), "every epoch on chain exactly once"
    sender = env.attestors[0].address
    assert env.w3.eth.get_transaction_count(sender) == epochs, "one transaction per epoch: none wasted"
    print(
        f"crash test: {epochs} epochs, {kills} SIGKILLs, {len(events)} reports, "
        f"{env.w3.eth.get_transaction_count(sender)} transactions"
    )
    assert kills >= 10
