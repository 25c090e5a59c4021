"""The gateway past one process, on one PostgreSQL and one anvil: three `migrate` jobs at once, two indexers
(one leads, the other takes over when the leader is SIGKILLed), two webhook workers and two API replicas,
through activity and a reorg. Checked: the index equals a single indexer's, nothing twice, never stuck; every
webhook delivered once to a slow receiver; an anonymous allowance held across the replicas."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text
from standardwebhooks.webhooks import Webhook
from web3 import Web3

from tests.support.chain import Site
from tests.support.waiting import wait_for
from wellhead.chain.client import Protocol
from wellhead.chain.connection import rpc
from wellhead.chain.deployment import Deployment
from wellhead.devkit.anvil import Anvil, free_port
from wellhead.devkit.scenario import Actors
from wellhead.devkit.scenario.actors import FIRM
from wellhead.gateway import db
from wellhead.gateway.db import engine_for, migrate, session_factory
from wellhead.gateway.index.indexer import NEXT_BLOCK, Indexer
from wellhead.gateway.services.webhooks import EVENT_TYPES, new_secret

SECRET = new_secret()


class SlowReceiver:
    """Answers every webhook after 1.5 s (longer than a worker's poll), verifying its signature; counts ids."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                Webhook(SECRET).verify(body, {k.lower(): v for k, v in self.headers.items()})
                time.sleep(1.5)
                with outer.lock:
                    outer.ids[self.headers["webhook-id"]] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


class Fleet:
    def __init__(self, anvil: Anvil, record: Path, url: str, keys: Path) -> None:
        self.base = [sys.executable, "-m", "wellhead.cli", "gateway"]
        self.args = ["--rpc-url", anvil.url, "--deployment", str(record), "--database-url", url]
        self.args += ["--secrets-key-file", str(keys)]  # one key file shared by every replica
        self.procs: dict[str, tuple[subprocess.Popen[str], int]] = {}

    def start(self, name: str, role: str, **env: str) -> None:
        port = free_port()
        environ = {**os.environ, "WELLHEAD_POLL_SECONDS": "0.2", **env}
        cmd = [*self.base, role, *self.args, "--port", str(port), "--confirmations", "0"]
        proc = subprocess.Popen(cmd, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.procs[name] = (proc, port)
        # one at a time: a port `free_port` chose is only taken once its process listens
        wait_for(lambda: self.up(name) or proc.poll() is not None, f"{name} to serve")
        assert proc.poll() is None, f"{name} exited: {proc.stderr.read() if proc.stderr else ''}"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.procs[name][1]}"

    def leading(self, name: str) -> bool:
        with contextlib.suppress(requests.RequestException):
            body = requests.get(f"{self.url(name)}/metrics", timeout=2).text
            return "wellhead_gateway_indexer_leading 1.0" in body
        return False

    def up(self, name: str) -> bool:
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{self.url(name)}/healthz", timeout=2).status_code == 200
        return False

    def stop(self) -> None:
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def pg_url(postgres_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"scale_{abs(hash(request.node.name)) % 10**10}"  # one database per test
    admin = engine_for(postgres_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_url.replace("/postgres?", f"/{name}?", 1)


def test_replicas_indexers_and_webhook_workers_on_one_database(
    anvil: Anvil,
    w3: Web3,
    protocol: Protocol,
    actors: Actors,
    deployment: Deployment,
    pg_url: str,
    tmp_path: Path,
) -> None:
    record = deployment.save(tmp_path)
    keys = tmp_path / "secrets.key"
    keys.write_bytes(Fernet.generate_key())
    keys.chmod(0o600)
    fleet = Fleet(anvil, record, pg_url, keys)
    jobs = [
        subprocess.Popen([*fleet.base, "migrate", *fleet.args], stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    migrations = [(job.wait(timeout=120), job.stderr.read() if job.stderr else "") for job in jobs]
    assert [code for code, _ in migrations] == [0, 0, 0], migrations
    sessions = session_factory(engine_for(pg_url))
    with sessions() as s:
        assert s.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    receiver = SlowReceiver()
    with sessions.begin() as s:
        owner, types = actors.investor_a.address, {"types": list(EVENT_TYPES)}
        s.add(db.WebhookSubscription(owner=owner, url=receiver.url, events=types, secret=SECRET, created_at=0))

    site = Site(w3, protocol, actors)
    try:
        fleet.start("indexer-a", "indexer")
        fleet.start("indexer-b", "indexer")
        for name in ("webhooks-a", "webhooks-b"):
            fleet.start(name, "webhooks", WELLHEAD_WEBHOOK_ALLOW_PRIVATE_HOSTS="true")
        for name in ("api-a", "api-b"):
            fleet.start(name, "api", WELLHEAD_ANONYMOUS_RATE_PER_MINUTE="20")
        wait_for(lambda: fleet.leading("indexer-a") != fleet.leading("indexer-b"), "one indexer to lead")

        def indexed() -> bool:
            with sessions() as s:
                state = s.get(db.IndexerState, NEXT_BLOCK)
                return state is not None and state.value == w3.eth.block_number + 1

        # activity, then a reorg that replaces two settled epochs with others
        site.open_lease(actors.lessee_firm, 16, 6, FIRM)
        site.report_and_finalize(0, 10_000)
        snapshot = rpc(w3, "evm_snapshot", [])
        site.report_and_finalize(1, 10_000)
        site.report_and_finalize(2, 10_000)
        wait_for(indexed, "the index to reach the head")
        rpc(w3, "evm_revert", [snapshot])
        site.report_and_finalize(1, 4_000)
        site.report_and_finalize(2, 9_000)
        rpc(w3, "evm_mine", [])
        wait_for(indexed, "the index to follow the reorg")

        # the leader dies mid-flight: the standby takes over
        leader, standby = ("indexer-a", "indexer-b") if fleet.leading("indexer-a") else ("indexer-b", "indexer-a")
        fleet.procs[leader][0].send_signal(signal.SIGKILL)
        failover = wait_for(lambda: fleet.leading(standby), "the standby to lead", timeout=30)
        print(f"\nindexer failover: {failover:.2f} s after SIGKILL")
        site.report_and_finalize(3, 10_000)
        wait_for(indexed, "the new leader to index")

        # an anonymous allowance of 20 a minute, spent through both replicas
        answers = [
            requests.get(f"{fleet.url(n)}/api/v1/assets", timeout=5).status_code for n in ["api-a", "api-b"] * 15
        ]
        assert Counter(answers) == {200: 20, 429: 10}, answers

        def delivered() -> bool:
            with sessions() as s:
                pending = s.scalar(select(func.count()).where(db.WebhookDelivery.status == "pending"))
                total = s.scalar(select(func.count(db.WebhookDelivery.id)))
                return bool(pending == 0 and total == len(receiver.ids))

        wait_for(delivered, "every webhook delivered", timeout=120)
    finally:
        fleet.stop()
        receiver.server.shutdown()

    reference = session_factory(engine_for(f"sqlite:///{tmp_path / 'reference.db'}"))
    migrate(f"sqlite:///{tmp_path / 'reference.db'}")
    Indexer(w3, deployment, reference, confirmations=0).sync()
    key = select(db.ChainEvent.tx_hash, db.ChainEvent.log_index, db.ChainEvent.name)
    with sessions() as s, reference() as r:
        assert sorted(s.execute(key).all()) == sorted(r.execute(key).all()), "the index is a single indexer's"
        ours, theirs = s.get(db.IndexerState, NEXT_BLOCK), r.get(db.IndexerState, NEXT_BLOCK)
        assert ours is not None and theirs is not None and ours.value == theirs.value, "not stuck, not ahead"
        rows = list(s.scalars(select(db.WebhookDelivery)))
        stored = set(s.scalars(select(db.WebhookSubscription.secret)))
    assert stored and not any(SECRET in x for x in stored), "the secret written in clear was sealed at start"
    assert rows and all(d.status == "delivered" and d.attempts == 1 for d in rows)
    assert set(receiver.ids) == {d.message_id for d in rows} and set(receiver.ids.values()) == {1}, receiver.ids
    kinds = Counter(d.event_type for d in rows)
    assert kinds["lease.started"] == 1 and kinds["epoch.settled"] >= 4


def test_three_migrations_started_at_once_take_turns(postgres_url: str) -> None:
    """Three migrations released together on an empty database: each waits for the migration lock; the first
    builds the schema, the others find it current. Without the lock two of them create the same tables."""
    admin = engine_for(postgres_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text('DROP DATABASE IF EXISTS "three_migrations"'))
        c.execute(text('CREATE DATABASE "three_migrations"'))
    url = postgres_url.replace("/postgres?", "/three_migrations?", 1)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def job() -> None:
        barrier.wait()
        try:
            migrate(url)
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with session_factory(engine_for(url))() as s:
        assert s.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_replicas_learn_the_index_version_by_notify_not_a_query_per_request(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, pg_url: str
) -> None:
    """An API replica follows the indexer's NOTIFY: after the index moves, its answers change (a new ETag)
    without reading the index version on any request (rendering a new version's answer reads what it shows)."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from wellhead.gateway.app import create_app
    from wellhead.gateway.services import Services

    migrate(pg_url)
    api_engine = engine_for(pg_url)
    reads: list[str] = []
    event.listen(
        api_engine, "before_cursor_execute", lambda *a: reads.append(a[2]) if "indexer_state.key IN" in a[2] else None
    )
    services = Services.build(session_factory(api_engine), w3, deployment, domain="testserver")
    client = TestClient(create_app(services))
    indexer = Indexer(w3, deployment, session_factory(engine_for(pg_url)), confirmations=0)  # another process's
    indexer.sync()
    versions = services.responses.versions
    wait_for(lambda: versions.listening, "the replica to listen")

    def position() -> tuple[int, int]:
        return versions.get(None)  # type: ignore[arg-type]  # pushed: no session needed

    wait_for(lambda: position()[0] == w3.eth.block_number + 1, "the replica to hear the first version")
    first = client.get("/api/v1/assets").headers["etag"]
    reads.clear()
    Site(w3, protocol, actors)  # a new asset on chain
    indexer.sync()
    wait_for(lambda: position()[0] == w3.eth.block_number + 1, "the replica to hear the new version")
    second = client.get("/api/v1/assets")
    for _ in range(20):
        assert client.get("/api/v1/assets").headers["etag"] == second.headers["etag"]
    assert second.headers["etag"] != first, "the new version's answer"
    assert reads == [], f"no request read the index position: {reads[:2]}"
    versions.close()
