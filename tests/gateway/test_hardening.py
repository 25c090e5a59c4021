"""The gateway's edges: bodies too large or too slow answer 413 / 408 problems (a worker is never held), the
dashboard and docs carry CSP, nosniff and no-framing headers, and the SQLite database is its owner's alone."""

from __future__ import annotations

import socket
import stat
import threading
import time
from pathlib import Path

import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from tests.gateway.test_api import problem
from wellhead.chain.deployment import Deployment
from wellhead.devkit.anvil import free_port
from wellhead.gateway.app import create_app
from wellhead.gateway.db import engine_for
from wellhead.gateway.services import Services


def services(w3: Web3, deployment: Deployment, sessions: sessionmaker[Session]) -> Services:
    svc = Services.build(sessions, w3, deployment, domain="testserver")
    svc.max_body_bytes, svc.body_timeout = 64 * 1024, 1.0
    return svc


def test_a_body_too_large_is_a_413_before_it_is_read(
    w3: Web3, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    client = TestClient(create_app(services(w3, deployment, sessions)))
    big = {"message": "x" * (64 * 1024 + 1), "signature": "0x" + "00" * 65}
    problem(client.post("/api/v1/auth/sessions", json=big), 413, "body_too_large")
    small = {"message": "x", "signature": "0x" + "00" * 65}
    problem(client.post("/api/v1/auth/sessions", json=small), 400, "siwe_malformed", "message")


def test_a_body_trickled_in_is_cut_off_with_a_408(
    w3: Web3, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(services(w3, deployment, sessions)), port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            head = "POST /api/v1/auth/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            conn.sendall((head + "Content-Length: 100\r\n\r\n{").encode())  # one byte of a hundred, then nothing
            started = time.monotonic()
            answer = conn.recv(4096).decode()
            waited = time.monotonic() - started
            while '"code"' not in answer and (chunk := conn.recv(4096)):
                answer += chunk.decode()
        assert answer.startswith("HTTP/1.1 408"), answer
        assert '"code":"request_timeout"' in answer and waited < 5, waited
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_pages_forbid_framing_sniffing_and_foreign_scripts(
    w3: Web3, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    client = TestClient(create_app(services(w3, deployment, sessions)))
    for path in ("/", "/docs", "/api/v1/assets"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "default-src 'self'" in headers["content-security-policy"], path


def test_the_sqlite_database_is_created_for_its_owner_only(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'fresh' / 'gateway.db'}")
    with engine.connect():
        pass
    assert stat.S_IMODE((tmp_path / "fresh" / "gateway.db").stat().st_mode) == 0o600


def test_crafted_numbers_answer_4xx_never_5xx(
    w3: Web3, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    """Superscript digits and 30-digit values (beyond the database's integers) are the client's error."""
    client = TestClient(create_app(services(w3, deployment, sessions)))
    huge = "1" + "0" * 29
    for path in (f"/api/v1/leases/{huge}", f"/api/v1/assets/{huge}", f"/api/v1/assets/{huge}/epochs",
                 f"/api/v1/assets/1/epochs?from={huge}", f"/api/v1/webhooks/{huge}/deliveries"):  # fmt: skip
        assert 400 <= client.get(path).status_code < 500, path
    sender = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    for token in ("shares:²", f"shares:{huge}", "shares:٣"):
        body = {"from": sender, "token": token, "spender": "LeaseMarket", "amount": {"base_units": "1"}}
        answer = client.post(
            "/api/v1/transactions/prepare/approve",
            json=body,
            headers={"Idempotency-Key": f"crafted-{len(token)}-{token.isascii()}"},
        )
        assert 400 <= answer.status_code < 500, (token, answer.text)
    for amount in ({"decimal": "1²"}, {"decimal": "٣"}, {"base_units": "1" * 79}):
        buy = {"from": sender, "asset_id": 1, "shares": amount}
        answer = client.post(
            "/api/v1/transactions/prepare/buy-shares",
            json=buy,
            headers={"Idempotency-Key": f"amount-{sorted(amount)[0]}-{len(str(amount))}"},
        )
        assert 400 <= answer.status_code < 500, (amount, answer.text)


def test_anonymous_callers_do_not_share_idempotency_keys(
    w3: Web3, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    """One anonymous client cannot poison another's Idempotency-Key (or read its stored answer)."""
    app = create_app(services(w3, deployment, sessions))
    first, second = TestClient(app, client=("203.0.113.1", 5000)), TestClient(app, client=("203.0.113.2", 5000))
    sender = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    shared = {"Idempotency-Key": "order-1"}
    body = {"from": sender, "token": "stablecoin", "spender": "LeaseMarket", "amount": {"base_units": "1"}}
    assert first.post("/api/v1/transactions/prepare/approve", json=body, headers=shared).status_code == 200
    other = {**body, "amount": {"base_units": "2"}}
    answer = second.post("/api/v1/transactions/prepare/approve", json=other, headers=shared)
    assert answer.status_code == 200 and "Idempotent-Replayed" not in answer.headers, answer.text
    problem(
        first.post("/api/v1/transactions/prepare/approve", json=other, headers=shared), 422, "idempotency_key_reused"
    )


def test_a_made_up_credential_does_not_skip_the_anonymous_limit(
    w3: Web3, deployment: Deployment, sessions: sessionmaker[Session]
) -> None:
    """A public read with a junk API key or bearer token: refused as the bad credential it is (a 401), never
    served past the anonymous allowance (it skipped the allowance and was never checked)."""
    svc = Services.build(sessions, w3, deployment, domain="testserver", anonymous_rate=3)
    client = TestClient(create_app(svc))
    assert [client.get("/api/v1/assets").status_code for _ in range(4)] == [200, 200, 200, 429]
    problem(client.get("/api/v1/assets", headers={"X-API-Key": "wh_made_up"}), 401, "invalid_api_key", "X-API-Key")
    problem(client.get("/api/v1/assets", headers={"Authorization": "Bearer x"}), 401, "session_expired")
