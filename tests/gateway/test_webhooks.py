"""Webhooks from a real life cycle: Standard Webhooks signatures verified by the receiver, a failed delivery
retried with backoff, and the delivery log through the API."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook
from web3 import Web3

from tests.support.wallet import DOMAIN, key, sign_in
from wellhead.chain.client import Protocol
from wellhead.chain.deployment import Deployment
from wellhead.devkit.scenario import Actors, Demo
from wellhead.gateway import db
from wellhead.gateway.app import create_app
from wellhead.gateway.index.indexer import Indexer
from wellhead.gateway.services import Services
from wellhead.gateway.services.webhooks import Dispatcher


class Receiver:
    """An HTTP endpoint that answers 500 to the first `fail_first` requests, then 204; keeps every request."""

    def __init__(self, fail_first: int) -> None:
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                status = 500 if len(outer.requests) < fail_first else 204
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/wellhead"

    def close(self) -> None:
        self.server.shutdown()


def test_signed_deliveries_retries_and_log(
    w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    services = Services.build(sessions, w3, deployment, domain=DOMAIN)
    client = TestClient(create_app(services))
    receiver = Receiver(fail_first=1)
    auth = sign_in(client, actors.investor_a)
    hook = {"url": receiver.url, "events": ["epoch.settled"]}
    refused = client.post("/api/v1/webhooks", json=hook, headers={**auth, **key()})
    assert refused.status_code == 422 and refused.json()["code"] == "webhook_url_not_public", refused.text
    services.webhook_private_hosts = True  # now allowed: the receiver is on loopback
    try:
        events = ["lease.started", "lease.ended", "epoch.settled", "sla.breached"]
        hook = client.post("/api/v1/webhooks", json={"url": receiver.url, "events": events}, headers={**auth, **key()})
        assert hook.status_code == 201, hook.text
        secret, hook_id = hook.json()["secret"], hook.json()["id"]
        with sessions() as s:
            stored = s.scalars(select(db.WebhookSubscription.secret).where(db.WebhookSubscription.id == hook_id)).one()
        assert secret.removeprefix("whsec_") not in stored and services.sealer.open(stored) == secret, "sealed"

        result = Demo(w3, protocol, actors).run()
        Indexer(w3, deployment, sessions, confirmations=0).sync()
        dispatcher = Dispatcher(sessions, services.sealer, retry_base=0.1, max_attempts=3, allow_private_hosts=True)
        created = dispatcher.enqueue()
        assert dispatcher.enqueue() == 0, "each event is enqueued once"
        deadline = time.time() + 30
        while time.time() < deadline:
            dispatcher.deliver_due()
            log = client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=auth, params={"limit": 500}).json()
            if all(d["status"] != "pending" for d in log["items"]):
                break
            time.sleep(0.05)
    finally:
        receiver.close()

    items = log["items"]
    assert len(items) == created and all(d["status"] == "delivered" for d in items)
    (retried,) = [d for d in items if d["attempts"] == 2]  # sent at once: whichever arrived first failed once
    assert retried["last_outcome"] == "delivered", "the first to arrive failed once, then landed"
    assert all("last_status_code" not in d and "last_error" not in d for d in items), "no receiver answer shown"
    assert sum(d["attempts"] for d in items) == len(receiver.requests) == created + 1

    verifier = Webhook(secret)
    seen: dict[str, list[dict[str, Any]]] = {}
    for headers, body, status in receiver.requests:
        payload = verifier.verify(body, headers)  # raises on a bad signature or a stale timestamp
        if status == 204:  # the failed attempt was retried with the same webhook-id
            seen.setdefault(payload["type"], []).append(payload["data"])
    ids = [h["webhook-id"] for h, _, _ in receiver.requests]
    assert ids.count(ids[0]) == 2 and len(set(ids)) == created, (
        "a retry keeps its webhook-id; every message is distinct"
    )
    settled = len(result.epochs)
    assert len(seen["epoch.settled"]) == settled
    shortfalls = [e.epoch for e in result.epochs if e.credit > 0 or not e.proven]
    assert sorted(d["epoch"] for d in seen["sla.breached"]) == shortfalls and shortfalls
    assert len(seen["lease.started"]) == len(result.lessees)
    assert {d["lease_id"] for d in seen["lease.ended"]} <= {d["lease_id"] for d in seen["lease.started"]}

    forged = dict(receiver.requests[-1][0])
    forged["webhook-signature"] = "v1," + "A" * 44
    try:
        verifier.verify(receiver.requests[-1][1], forged)
        raise AssertionError("a forged signature verified")
    except Exception as exc:  # the library's WebhookVerificationError
        assert "signature" in str(exc).lower()
    assert json.loads(receiver.requests[0][1])["type"] in events


def test_a_challenge_becomes_report_challenged(sessions: sessionmaker[Session]) -> None:
    """ReportChallenged maps to report.challenged (the demo never challenges, so this is fed the event)."""
    from wellhead.gateway.services.webhooks import _events_of

    challenger = "0x" + "ab" * 20
    event = db.ChainEvent(
        block_number=7,
        block_hash="0x" + "00" * 32,
        timestamp=1_800_000_000,
        tx_hash="0x" + "11" * 32,
        log_index=3,
        address="0x" + "22" * 20,
        contract="MetricsOracle",
        name="ReportChallenged",
        args={"assetId": 1, "epoch": 4, "challenger": challenger, "bond": 100_000_000},
    )
    with sessions() as s:
        ((kind, data),) = _events_of(s, event)
    assert kind == "report.challenged"
    assert data == {
        "asset_id": 1,
        "epoch": 4,
        "challenger": challenger,
        "bond": "100000000",
        "block_number": 7,
        "tx_hash": "0x" + "11" * 32,
        "log_index": 3,
    }


def test_webhook_urls_must_be_public() -> None:
    from wellhead.gateway.services.webhooks import public_host_problem

    for private in ("http://127.0.0.1:8080/x", "http://10.1.2.3/", "http://169.254.169.254/latest", "http://[::1]/"):
        assert "not a public address" in (public_host_problem(private) or ""), private
    assert public_host_problem("https://8.8.8.8/hooks") is None
    assert public_host_problem("http:///nohost") == "the URL has no host"
