"""Sign-In with Ethereum, API keys and rate limits: no state change without a session or a key, and
private data only for its owner (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from tests.gateway.test_api import problem
from tests.support.wallet import DOMAIN, key, sign_in, sign_text, siwe_message
from wellhead.chain.deployment import Deployment
from wellhead.devkit.scenario import Actors
from wellhead.gateway import db
from wellhead.gateway.app import create_app
from wellhead.gateway.services import Services
from wellhead.gateway.services import auth as auth_service


@pytest.fixture
def client(w3: Web3, deployment: Deployment, sessions: sessionmaker[Session]) -> TestClient:
    services = Services.build(
        sessions,
        w3,
        deployment,
        domain=DOMAIN,
        session_rate=1_000,
        key_rate=1_000,
        webhook_private_hosts=True,  # loopback hooks
    )
    return TestClient(create_app(services))


def attempt(client: TestClient, message: str, signature: str) -> object:
    return client.post("/api/v1/auth/sessions", json={"message": message, "signature": signature})


def test_siwe_rejects_wrong_domain_reused_nonce_expired_and_forged(client: TestClient, actors: Actors) -> None:
    alice, mallory = actors.investor_a, actors.investor_b
    nonce = client.get("/api/v1/auth/nonce").json()
    chain = nonce["chain_id"]
    assert nonce["domain"] == DOMAIN

    phishing = siwe_message(alice, nonce["nonce"], chain, domain="evil.example")
    problem(attempt(client, phishing, sign_text(alice, phishing)), 401, "siwe_wrong_domain", "message")

    expired = siwe_message(
        alice, client.get("/api/v1/auth/nonce").json()["nonce"], chain, expires_in=timedelta(seconds=-5)
    )
    problem(attempt(client, expired, sign_text(alice, expired)), 401, "siwe_expired", "message")

    other_chain = siwe_message(alice, client.get("/api/v1/auth/nonce").json()["nonce"], chain + 1)
    problem(attempt(client, other_chain, sign_text(alice, other_chain)), 401, "siwe_wrong_chain", "message")

    made_up = siwe_message(alice, "abcdefgh12345678", chain)
    problem(attempt(client, made_up, sign_text(alice, made_up)), 401, "siwe_unknown_nonce", "message")

    good = siwe_message(alice, client.get("/api/v1/auth/nonce").json()["nonce"], chain)
    problem(attempt(client, good, sign_text(mallory, good)), 401, "siwe_bad_signature", "signature")
    first = attempt(client, good, sign_text(alice, good))
    assert first.status_code == 201 and first.json()["address"] == alice.address  # type: ignore[attr-defined]
    problem(attempt(client, good, sign_text(alice, good)), 401, "siwe_nonce_used", "message")
    problem(attempt(client, "hello", sign_text(alice, "hello")), 400, "siwe_malformed", "message")


def test_siwe_per_eip_4361_in_full_and_sign_out(client: TestClient, actors: Actors) -> None:
    alice = actors.investor_a

    def fresh(**fields: object) -> str:
        got = client.get("/api/v1/auth/nonce").json()
        return siwe_message(alice, got["nonce"], got["chain_id"], **fields)  # type: ignore[arg-type]

    ahead = fresh(issued_in=timedelta(seconds=120))
    problem(attempt(client, ahead, sign_text(alice, ahead)), 401, "siwe_issued_in_future", "message")
    skewed = fresh(issued_in=timedelta(seconds=50))  # within the minute of clock skew allowed
    assert attempt(client, skewed, sign_text(alice, skewed)).status_code == 201  # type: ignore[attr-defined]
    elsewhere = fresh(uri="https://evil.example/login")
    problem(attempt(client, elsewhere, sign_text(alice, elsewhere)), 401, "siwe_wrong_uri", "message")

    carried = fresh(request_id="req-42", resources=["https://testserver/api/v1/positions"])
    session = attempt(client, carried, sign_text(alice, carried))
    assert session.status_code == 201  # type: ignore[attr-defined]
    body = session.json()  # type: ignore[attr-defined]
    assert body["request_id"] == "req-42" and body["resources"] == ["https://testserver/api/v1/positions"]

    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/api-keys", headers=bearer).status_code == 200
    assert client.delete("/api/v1/auth/session", headers=bearer).status_code == 204
    problem(client.get("/api/v1/api-keys", headers=bearer), 401, "session_expired", "Authorization")
    problem(client.delete("/api/v1/auth/session", headers=bearer), 401, "session_expired", "Authorization")


def test_sessions_are_listed_ended_by_id_and_capped(
    client: TestClient, actors: Actors, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost device's session is ended from another by its id; another address's sessions are not there; past
    the cap a sign-in ends the oldest; an API key manages no session."""
    monkeypatch.setattr(auth_service, "MAX_SESSIONS", 3)
    alice, bob = actors.investor_a, actors.investor_b
    laptop, phone = sign_in(client, alice), sign_in(client, alice)
    listed = client.get("/api/v1/auth/sessions", headers=phone).json()["items"]
    assert len(listed) == 2 and [s["current"] for s in listed].count(True) == 1
    (other,) = [s["id"] for s in listed if not s["current"]]
    problem(client.delete(f"/api/v1/auth/sessions/{other}", headers=sign_in(client, bob)), 404, "session_not_found")
    assert client.get("/api/v1/api-keys", headers=laptop).status_code == 200, "bob's delete ended nothing"
    assert client.delete(f"/api/v1/auth/sessions/{other}", headers=phone).status_code == 204
    problem(client.get("/api/v1/api-keys", headers=laptop), 401, "session_expired", "Authorization")
    problem(client.delete(f"/api/v1/auth/sessions/{other}", headers=phone), 404, "session_not_found")
    assert client.delete("/api/v1/auth/sessions/zz", headers=phone).status_code == 422

    with sessions.begin() as s:  # the phone signed in a minute ago (the newer ones then begin later, not at once)
        s.execute(update(db.AuthSession).values(created_at=db.AuthSession.created_at - 60))
    newer = [sign_in(client, alice) for _ in range(3)]  # phone + 3 = 4 > 3: the phone's session ends
    problem(client.get("/api/v1/api-keys", headers=phone), 401, "session_expired", "Authorization")
    assert all(client.get("/api/v1/api-keys", headers=h).status_code == 200 for h in newer)
    assert len(client.get("/api/v1/auth/sessions", headers=newer[0]).json()["items"]) == 3

    made = client.post("/api/v1/api-keys", json={"name": "ci"}, headers={**newer[0], **key()}).json()["key"]
    refused = client.get("/api/v1/auth/sessions", headers={"X-API-Key": made})
    problem(refused, 401, "session_required")
    assert refused.headers["www-authenticate"] == 'Bearer realm="wellhead"', "a 401 names the scheme (RFC 9110)"
    problem(client.delete("/api/v1/auth/session", headers={"X-API-Key": made}), 401, "session_required")


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("hello", "the first line must end with 'wants you to sign in with your Ethereum account:'"),
        ("x wants you to sign in with your Ethereum account:\nbob", "the second line must be the signing address"),
        (
            "x wants you to sign in with your Ethereum account:\n0x" + "ab" * 20 + "\n\nURI: http://x/\nVersion: 1",
            "the 'Chain ID:' line is missing",
        ),
    ],
)
def test_a_malformed_message_gets_one_clear_reason(client: TestClient, message: str, reason: str) -> None:
    answer = attempt(client, message, "0x" + "00" * 65)
    problem(answer, 400, "siwe_malformed", "message")
    detail = answer.json()["detail"]  # type: ignore[attr-defined]
    assert reason in detail and "\n" not in detail and len(detail) < 200, detail


def test_no_state_change_without_a_session_or_key(client: TestClient) -> None:
    for path, body in (
        ("/api/v1/api-keys", {"name": "ci"}),
        ("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["epoch.settled"]}),
        ("/api/v1/transactions", {"raw_transaction": "0x02"}),
    ):
        problem(client.post(path, json=body, headers=key()), 401, "authentication_required", "Authorization")
    problem(
        client.get("/api/v1/webhooks", headers={"Authorization": "Bearer nope"}),
        401,
        "session_expired",
        "Authorization",
    )
    problem(client.get("/api/v1/webhooks", headers={"X-API-Key": "wh_nope"}), 401, "invalid_api_key", "X-API-Key")
    problem(client.get("/api/v1/webhooks", headers={"Authorization": "Basic abc"}), 401, "invalid_authorization")
    assert client.delete("/api/v1/webhooks/1").status_code == 401


def test_api_keys_are_private_hashed_and_rate_limited(
    client: TestClient, actors: Actors, sessions: sessionmaker[Session]
) -> None:
    from sqlalchemy import select

    from wellhead.gateway import db

    alice = sign_in(client, actors.investor_a)
    bob = sign_in(client, actors.investor_b)
    above = client.post(
        "/api/v1/api-keys", json={"name": "greedy", "rate_per_minute": 1_001}, headers={**alice, **key()}
    )
    problem(above, 422, "rate_above_cap", "rate_per_minute")  # the operator's cap (1,000 in this client)
    once = {**alice, **key()}
    made = client.post("/api/v1/api-keys", json={"name": "alice's bot", "rate_per_minute": 3}, headers=once)
    assert made.status_code == 201, made.text
    secret, key_id = made.json()["key"], made.json()["id"]
    replayed = client.post("/api/v1/api-keys", json={"name": "alice's bot", "rate_per_minute": 3}, headers=once)
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json()["id"] == key_id
    assert replayed.json()["key"] is None, "the key is not kept in clear, even for replays"
    with sessions() as s:
        stored = s.scalars(select(db.ApiKey)).one()
        assert secret not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
        assert all(secret not in str(r.body) for r in s.scalars(select(db.IdempotencyRecord)))

    listed = client.get("/api/v1/api-keys", headers=alice).json()["items"]
    assert [k["id"] for k in listed] == [key_id] and listed[0]["key"] is None, "the key is shown once"
    with sessions() as s:
        assert len(list(s.scalars(select(db.ApiKey)))) == 1
    assert client.get("/api/v1/api-keys", headers=bob).json()["items"] == [], "bob sees none of alice's keys"
    problem(client.delete(f"/api/v1/api-keys/{key_id}", headers=bob), 404, "api_key_not_found", "key_id")

    hook = {"url": "http://127.0.0.1:9/hook", "events": ["epoch.settled"]}
    leaked = {
        "X-API-Key": client.post("/api/v1/api-keys", json={"name": "leaked"}, headers={**alice, **key()}).json()["key"]
    }
    problem(client.post("/api/v1/webhooks", json=hook, headers={**leaked, **key()}), 401, "session_required")
    minted = client.post("/api/v1/api-keys", json={"name": "minted"}, headers={**leaked, **key()})
    problem(minted, 401, "session_required")  # a leaked key cannot plant a webhook, mint keys or revoke others
    problem(client.delete(f"/api/v1/api-keys/{key_id}", headers=leaked), 401, "session_required")
    created_once = {**alice, **key()}
    created = client.post("/api/v1/webhooks", json=hook, headers=created_once)
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    replay = client.post("/api/v1/webhooks", json=hook, headers=created_once)
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json()["secret"] is None, "shown once"
    with sessions() as s:
        assert all(created.json()["secret"] not in str(r.body) for r in s.scalars(select(db.IdempotencyRecord)))
    assert client.get("/api/v1/webhooks", headers=bob).json()["items"] == []
    problem(client.delete(f"/api/v1/webhooks/{created.json()['id']}", headers=bob), 404, "webhook_not_found")

    # three requests a minute: three pass, the next is refused with Retry-After
    for _ in range(3):
        assert client.get("/api/v1/webhooks", headers={"X-API-Key": secret}).status_code == 200
    limited = client.get("/api/v1/webhooks", headers={"X-API-Key": secret})
    problem(limited, 429, "rate_limited")
    # 3 a minute is one token per 20 s; the bucket is empty but for the refill of the test's few seconds
    assert 15 <= int(limited.headers["Retry-After"]) <= 20
    assert client.get("/api/v1/webhooks", headers=alice).status_code == 200, "the limit is the key's, not alice's"

    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=alice).status_code == 204
    problem(client.get("/api/v1/webhooks", headers={"X-API-Key": secret}), 401, "invalid_api_key")


def test_parallel_sign_ins_with_one_message_give_one_session(client: TestClient, actors: Actors) -> None:
    """The single-use nonce is consumed by one atomic update: six sign-ins racing with one signed message get one
    session (a read-then-write nonce gave up to four)."""
    alice = actors.investor_a
    got = client.get("/api/v1/auth/nonce").json()
    text = siwe_message(alice, got["nonce"], got["chain_id"])
    body = {"message": text, "signature": sign_text(alice, text)}
    barrier = threading.Barrier(6)
    codes: list[int] = []

    def race() -> None:
        barrier.wait()
        codes.append(client.post("/api/v1/auth/sessions", json=body).status_code)

    threads = [threading.Thread(target=race) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == [201, 401, 401, 401, 401, 401], codes


def test_parallel_sign_ins_at_the_cap_leave_the_cap(
    client: TestClient, actors: Actors, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six sign-ins of one address racing at the cap: each makes room under the address's lock in turn, so the
    address ends with the cap (each making room for itself alone, PostgreSQL ended with up to cap + 5)."""
    monkeypatch.setattr(auth_service, "MAX_SESSIONS", 3)
    alice = actors.investor_a
    for _ in range(3):
        sign_in(client, alice)
    bodies = []
    for _ in range(6):
        got = client.get("/api/v1/auth/nonce").json()
        text = siwe_message(alice, got["nonce"], got["chain_id"])
        bodies.append({"message": text, "signature": sign_text(alice, text)})
    barrier = threading.Barrier(6)
    codes: list[int] = []

    def race(body: dict[str, str]) -> None:
        barrier.wait()
        codes.append(client.post("/api/v1/auth/sessions", json=body).status_code)

    threads = [threading.Thread(target=race, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert codes == [201] * 6
    with sessions() as s:
        live = s.query(db.AuthSession).filter(db.AuthSession.address == alice.address).count()
    assert live == 3, f"{live} live sessions, the cap is 3"
