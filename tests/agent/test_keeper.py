"""The keeper on a real node: the site agent settles its own epochs; standalone keepers settle each epoch once
between them, survive a restart and a dropped transaction with one transaction in flight, and fail in one line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from eth_account import Account

from tests.support.agent_env import PASSWORD, AgentEnv
from tests.support.chain import assert_one_line_error, run_cli
from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.rpc import RpcPool
from wellhead.chain.connection import rpc
from wellhead.chain.deployment import Deployment
from wellhead.keeper.metrics import KeeperMetrics
from wellhead.keeper.service import KeeperState
from wellhead.keeper.settler import Settler, SettlerConfig
from wellhead.keeper.transactions import AccountSender


def settled(env: AgentEnv) -> list[int]:
    logs = env.protocol.market.events.EpochSettled().get_logs(from_block=0)
    return [int(log["args"]["epoch"]) for log in logs if int(log["args"]["assetId"]) == env.asset_id]


def report_epochs(env: AgentEnv, epochs: int) -> None:
    """The site agent (its keeper loop off) reports epochs 0..epochs-1; then their challenge windows pass."""
    agent = env.agent(0)
    for epoch in range(epochs):
        env.warp_to(env.epoch_end(epoch) + 10)
        env.run_until([agent], lambda: env.report_on_chain(epoch).exists)  # noqa: B023 (called at once)
    env.warp_to(env.epoch_end(epochs - 1) + 10 + 61)


def keeper(env: AgentEnv, account: object, state: Path, stagger: float = 0.0) -> Settler:
    deployment = Deployment.load(env.deployment_path)
    pool = RpcPool([env.anvil.url], deployment, AgentMetrics())
    sender = AccountSender(account, deployment.chain_id)  # type: ignore[arg-type]
    return Settler(pool, lambda w3: [env.asset_id], sender, KeeperState(state), KeeperMetrics(),
                   SettlerConfig(stagger=stagger))  # fmt: skip


def sent(k: Settler) -> float:
    got = k.metrics.registry.get_sample_value("wellhead_keeper_transactions_sent_total", {"kind": "finalize"})
    return 0.0 if got is None else got


def test_the_site_agent_settles_its_own_epochs(env: AgentEnv) -> None:
    agent = env.agent(0, keeper={"enabled": True, "every": 0})
    env.warp_to(env.epoch_end(0) + 10)
    env.run_until([agent], lambda: env.report_on_chain(0).exists)
    assert settled(env) == [], "not before its challenge window ends"
    env.warp_to(env.epoch_end(0) + 10 + 61)
    env.run_until([agent], lambda: settled(env) == [0])
    value = agent.metrics.registry.get_sample_value
    # the next settling pass sees it mined (`every: 0`: anvil's clock stands still between warps here)
    env.run_until(
        [agent], lambda: value("wellhead_keeper_transactions_total", {"kind": "finalize", "outcome": "mined"}) == 1
    )
    assert settled(env) == [0], "settled once"


def test_two_keepers_settle_each_epoch_once(env: AgentEnv, tmp_path: Path) -> None:
    report_epochs(env, 3)
    other = Account.create()
    rpc(env.w3, "anvil_setBalance", [other.address, hex(10**20)])
    first, second = keeper(env, env.admin, tmp_path / "a.sqlite"), keeper(env, other, tmp_path / "b.sqlite", stagger=30)
    now = float(env.now())
    for step in range(6):
        for k in (first, second):
            k.run(now + 10 * step)
        env.mine()
    assert settled(env) == [0, 1, 2], "every epoch settled, once"
    assert [sent(k) for k in (first, second)] == [1.0, 0.0], "one batch by the first; the staggered one found none"


def test_a_restart_or_a_dropped_transaction_sends_nothing_twice(env: AgentEnv, tmp_path: Path) -> None:
    report_epochs(env, 2)
    rpc(env.w3, "evm_setAutomine", [False])
    try:
        k = keeper(env, env.admin, tmp_path / "k.sqlite")
        k.run(float(env.now()))
        rows = k.state.db.execute("SELECT value FROM kv").fetchall()  # type: ignore[attr-defined]
        (in_flight,) = [json.loads(v) for (v,) in rows]
        restarted = keeper(env, env.admin, tmp_path / "k.sqlite")  # the process died with it in flight
        restarted.run(float(env.now()))
        assert sent(restarted) == 0.0, "the transaction in flight was not sent again"
        rpc(env.w3, "anvil_dropTransaction", [in_flight["hash"]])  # a reorg took it away
        restarted.run(float(env.now()))
        assert restarted.metrics.rebroadcasts._value.get() == 1
        rpc(env.w3, "evm_mine", [])
        restarted.run(float(env.now()))
    finally:
        rpc(env.w3, "evm_setAutomine", [True])
    assert settled(env) == [0, 1]
    mined = restarted.metrics.registry.get_sample_value
    assert mined("wellhead_keeper_transactions_total", {"kind": "finalize", "outcome": "mined"}) == 1


def test_the_keeper_command_fails_in_one_line(env: AgentEnv, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(PASSWORD)
    good = {
        "deployment": str(env.deployment_path),
        "rpc_urls": [env.anvil.url],
        "keystore": str(env.keystores[0]),
        "password_file": str(tmp_path / "pw"),
        "data_dir": str(tmp_path / "keeper"),
        "listen_port": 0,
    }
    path = tmp_path / "keeper.yaml"
    path.write_text(yaml.safe_dump(good))
    proc = run_cli("keeper", "check-config", "--config", str(path))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["assets"] == [env.asset_id]
    for change, needle in (
        ({"rpc_urls": ["http://127.0.0.1:9"]}, "none of 1 RPC URLs answered"),
        ({"deployment": str(tmp_path / "none.json")}, "no deployment record"),
        ({"password_file": str(tmp_path / "none")}, "keystore password"),
        ({"batch": 0}, "batch"),
    ):
        path.write_text(yaml.safe_dump({**good, **change}))
        assert_one_line_error(run_cli("keeper", "check-config", "--config", str(path)), needle)
    assert_one_line_error(run_cli("keeper", "run", "--config", str(tmp_path / "missing.yaml")), "cannot read config")


def test_the_keeper_service_serves_health_and_metrics_and_stops_on_sigterm(env: AgentEnv, tmp_path: Path) -> None:
    import signal
    import socket
    import subprocess
    import sys
    import time

    import requests

    from wellhead.devkit.anvil import free_port

    (tmp_path / "pw").write_text(PASSWORD)
    port = free_port()
    config = {
        "deployment": str(env.deployment_path),
        "rpc_urls": [env.anvil.url],
        "keystore": str(env.keystores[0]),
        "password_file": str(tmp_path / "pw"),
        "data_dir": str(tmp_path / "keeper"),
        "listen_port": port,
        "poll_interval": 0.2,
    }
    path = tmp_path / "keeper.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.Popen([sys.executable, "-m", "wellhead.cli", "keeper", "run", "--config", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                if "wellhead_keeper_next_epoch_to_finalize" in text:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        assert health.json() == {"status": "ok"}
        while requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code != 200:  # its first pass ends
            assert time.monotonic() < deadline
            time.sleep(0.2)
        lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        assert lint.returncode == 0, lint.stdout + lint.stderr
        assert env.anvil.url not in text
        # a second keeper on the same port: one line, exit 1, not a process that looks up and serves nothing
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy = {**config, "listen_port": taken.getsockname()[1], "data_dir": str(tmp_path / "k2")}
            path.write_text(yaml.safe_dump(busy))
            assert_one_line_error(run_cli("keeper", "run", "--config", str(path)), "cannot listen")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_agents_report_the_keeper_settles_through_a_pause_and_every_party_hears_of_it(
    env: AgentEnv, tmp_path: Path
) -> None:
    """End to end: a lessee leases; the site agent reports and its keeper loop settles each epoch, once while
    the stablecoin is paused; the gateway shows the epochs settled, the refund of the undelivered hours is
    claimable and claimed, and the settlement webhooks reach a loopback receiver, verified by standardwebhooks."""
    from fastapi.testclient import TestClient
    from standardwebhooks.webhooks import Webhook

    from tests.gateway.test_webhooks import Receiver
    from tests.support.wallet import key, sign_in
    from wellhead.chain.client import send
    from wellhead.chain.enums import LeaseClass
    from wellhead.gateway.app import create_app
    from wellhead.gateway.db import engine_for, migrate, session_factory
    from wellhead.gateway.index.indexer import Indexer
    from wellhead.gateway.services import Services
    from wellhead.gateway.services.webhooks import Dispatcher

    w3, p, lessee = env.w3, env.protocol, env.admin
    send(w3, lessee, p.stablecoin.functions.mint(lessee.address, 10_000 * 10**6))
    send(w3, lessee, p.stablecoin.functions.approve(p.market.address, 2**256 - 1))
    receipt = send(w3, lessee, p.market.functions.openLease(env.asset_id, 4, 1, LeaseClass.FIRM, 10**9))
    lease_id = int(p.market.events.LeaseOpened().process_receipt(receipt)[0]["args"]["leaseId"])

    url = f"sqlite:///{tmp_path / 'gateway.sqlite'}"
    migrate(url)
    sessions = session_factory(engine_for(url))
    deployment = Deployment.load(env.deployment_path)
    services = Services.build(sessions, w3, deployment, domain="testserver", webhook_private_hosts=True)
    client = TestClient(create_app(services))
    receiver = Receiver(fail_first=0)
    auth = sign_in(client, lessee)
    events = ["epoch.settled", "sla.breached", "lease.started", "lease.ended"]
    hook = client.post("/api/v1/webhooks", json={"url": receiver.url, "events": events}, headers={**auth, **key()})
    assert hook.status_code == 201, hook.text

    broken = {"type": "simulated", "seed": 11, "fault_rate": 0.0, "dark_rate": 0.0, "failed_gpus": [0, 1]}
    agent = env.agent(0, keeper={"enabled": True, "every": 0}, collectors=[broken])  # two GPUs of 8 down: 75 % uptime
    for epoch in (0, 1):
        env.warp_to(env.epoch_end(epoch) + 10)
        env.run_until([agent], lambda: env.report_on_chain(epoch).exists)  # noqa: B023 (called at once)
        if epoch == 1:
            send(w3, env.admin, p.stablecoin.functions.pause())  # the issuer pauses: settlement moves no tokens
        env.warp_to(env.epoch_end(epoch) + 10 + 61)
        env.run_until([agent], lambda: settled(env) == list(range(epoch + 1)))  # noqa: B023
    send(w3, env.admin, p.stablecoin.functions.unpause())
    refund, _credit = p.market.functions.refundable(lease_id).call()
    assert refund > 0, "the undelivered hours of epoch 1 are the lessee's"
    send(w3, lessee, p.market.functions.claimRefund(lease_id, lessee.address))

    indexer = Indexer(w3, deployment, sessions, confirmations=0)
    indexer.sync()
    epochs = client.get(f"/api/v1/assets/{env.asset_id}/epochs").json()["items"]
    assert [e["settled"] for e in epochs[:2]] == [True, True]
    dispatcher = Dispatcher(sessions, services.sealer, retry_base=0.1, max_attempts=3, allow_private_hosts=True)
    dispatcher.enqueue()
    for _ in range(50):
        dispatcher.deliver_due()
        if len(receiver.requests) >= 4:
            break
        time.sleep(0.1)
    receiver.close()
    verifier = Webhook(hook.json()["secret"])
    heard = [verifier.verify(body, headers)["type"] for headers, body, _status in receiver.requests]
    assert heard.count("epoch.settled") == 2 and "sla.breached" in heard and "lease.started" in heard, heard


def test_a_keeper_killed_at_random_moments_settles_every_epoch_once(env: AgentEnv, tmp_path: Path) -> None:
    """30 unreported epochs past their deadline (settled as unproven), two per transaction, blocks mined every
    second so transactions sit in flight; the keeper is SIGKILLed at random moments and restarted."""
    import random
    import subprocess
    import sys

    (tmp_path / "pw").write_text(PASSWORD)
    config = {
        "deployment": str(env.deployment_path),
        "rpc_urls": [env.anvil.url],
        "assets": [env.asset_id],
        "keystore": str(env.keystores[1]),
        "password_file": str(tmp_path / "pw"),
        "data_dir": str(tmp_path / "keeper"),
        "listen_port": 0,
        "poll_interval": 0.2,
        "batch": 2,
        "stagger": 0,
        "nav": False,
    }
    path = tmp_path / "keeper.yaml"
    path.write_text(yaml.safe_dump(config))
    deadline = int(env.protocol.registry.functions.protocolParams().call().reportDeadline)
    env.warp_to(env.epoch_end(29) + deadline + 1)
    start_block = env.w3.eth.block_number
    rpc(env.w3, "evm_setAutomine", [False])
    rpc(env.w3, "evm_setIntervalMining", [1])
    rng = random.Random(7)
    kills = 0
    try:
        for _ in range(60):
            proc = subprocess.Popen([sys.executable, "-m", "wellhead.cli", "keeper", "run", "--config", str(path)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            time.sleep(rng.uniform(1.5, 4.0))
            proc.kill()
            proc.wait()
            kills += 1
            if int(env.protocol.market.functions.ledgerOf(env.asset_id).call().nextEpochToFinalize) >= 30:
                break
    finally:
        rpc(env.w3, "evm_setIntervalMining", [0])
        rpc(env.w3, "evm_setAutomine", [True])
    assert settled(env)[:30] == list(range(30)), "every epoch once, in order"
    keeper_address = Account.from_key(Account.decrypt(json.loads(env.keystores[1].read_text()), PASSWORD)).address
    blocks = [
        env.w3.eth.get_block(n, full_transactions=True) for n in range(start_block + 1, env.w3.eth.block_number + 1)
    ]
    every: list[Any] = [tx for block in blocks for tx in block["transactions"]]
    sent = [tx for tx in every if tx["from"] == keeper_address]
    statuses = [env.w3.eth.get_transaction_receipt(tx["hash"])["status"] for tx in sent]
    assert all(statuses), "no failed transaction"
    assert len(sent) <= 15 + kills, f"{len(sent)} transactions for 15 batches and {kills} kills"


def test_an_asset_that_reverts_stops_no_other(env: AgentEnv, tmp_path: Path) -> None:
    """An unknown or retired asset makes `finalizeEpochs` revert: it is counted and skipped, the rest settle."""
    report_epochs(env, 1)
    k = keeper(env, env.admin, tmp_path / "k.sqlite")
    k.assets = lambda w3: [999, env.asset_id]
    k.run(float(env.now()))
    assert settled(env) == [0]
    assert k.metrics.registry.get_sample_value("wellhead_keeper_asset_errors_total", {"asset": "999"}) == 1
