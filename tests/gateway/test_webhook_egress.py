"""Webhooks cannot be pointed inside the gateway's network: the address checked is the address connected to (a
DNS answer that changes between check and connection, rebinding, changes nothing), IPv6 forms that carry an
IPv4 address are judged by it, and the delivery log says only what came of an attempt. No traffic leaves
loopback: the resolver is stubbed and the HTTP transport records instead of sending."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from wellhead.gateway import db
from wellhead.gateway.schemas.webhooks import DeliveryOut
from wellhead.gateway.services import webhooks
from wellhead.gateway.services.sealing import SecretSealer
from wellhead.gateway.services.webhooks import Dispatcher, public_host_problem


def resolver(answers: dict[str, list[list[str]]]) -> Any:
    """getaddrinfo that answers each host's next list of addresses on each call (the last one for good)."""
    calls: dict[str, int] = {}

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        n = calls.get(host, 0)
        calls[host] = n + 1
        addresses = answers[host][min(n, len(answers[host]) - 1)]
        family = {4: socket.AF_INET, 6: socket.AF_INET6}
        return [(family[6 if ":" in a else 4], socket.SOCK_STREAM, 6, "", (a, 0)) for a in addresses]

    return getaddrinfo


def hook(sessions: sessionmaker[Session], url: str) -> None:
    with sessions.begin() as s:
        sub = db.WebhookSubscription(owner="0x" + "1" * 40, url=url, events={"types": ["epoch.settled"]},
                                     secret=webhooks.new_secret(), created_at=0, active=True)  # fmt: skip
        s.add(sub)
        s.flush()
        s.add(db.WebhookDelivery(subscription_id=sub.id, message_id="msg_1", event_type="epoch.settled",
                                 payload={"type": "epoch.settled", "data": {}}, status="pending", attempts=0,
                                 next_attempt_at=time.time() - 1, created_at=0))  # fmt: skip


def test_the_address_checked_is_the_address_connected_to(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # checked: a public address; asked again (as an HTTP client resolving on its own would): loopback
    monkeypatch.setattr(socket, "getaddrinfo", resolver({"hooks.example": [["93.184.216.34"], ["127.0.0.1"]]}))
    sent: list[httpx.Request] = []
    dispatcher = Dispatcher(sessions, SecretSealer.ephemeral())  # the rows hold secrets in clear

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    dispatcher.client = httpx.Client(transport=httpx.MockTransport(record))
    hook(sessions, "https://hooks.example:8443/in?x=1")
    assert dispatcher.deliver_due() == 1
    (request,) = sent
    assert request.url.host == "93.184.216.34" and request.url.port == 8443 and request.url.query == b"x=1"
    assert request.headers["host"] == "hooks.example:8443", "the receiver still sees its own name"
    assert request.extensions["sni_hostname"] == "hooks.example", "and TLS verifies its own certificate"


@pytest.mark.parametrize(
    "inside",
    ["::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2002:a00:1::1", "::ffff:10.0.0.1"],
)
def test_ipv6_forms_that_carry_a_private_ipv4_are_refused(inside: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolver({"hooks.example": [[inside]]}))
    why = public_host_problem("https://hooks.example/")
    assert why is not None and why.endswith("which is not a public address"), why


def test_a_public_ipv6_address_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", resolver({"hooks.example": [["2606:4700:4700::1111"]]}))
    assert public_host_problem("https://hooks.example/") is None


def test_the_delivery_log_says_what_came_of_it_not_what_the_receiver_said(sessions: sessionmaker[Session]) -> None:
    row = db.WebhookDelivery(id=1, message_id="m", event_type="epoch.settled", payload={}, status="pending",
                             attempts=2, last_status_code=401, last_error=None, created_at=0, delivered_at=None,
                             subscription_id=1, next_attempt_at=0.0)  # fmt: skip
    out = DeliveryOut.model_validate(row).model_dump()
    assert out["last_outcome"] == "failed" and "last_status_code" not in out and "401" not in str(out)
    row.last_error = "ReadTimeout: timed out"
    assert DeliveryOut.model_validate(row).last_outcome == "timed_out"
    row.status = "delivered"
    assert DeliveryOut.model_validate(row).last_outcome == "delivered"


class Endpoint:
    """A loopback receiver that answers after `delay` seconds and notes when each message arrived."""

    def __init__(self, delay: float) -> None:
        self.arrivals: list[float] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                outer.arrivals.append(time.monotonic())
                time.sleep(delay)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        outer = self
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_one_owners_stalling_endpoints_do_not_delay_another_owners_delivery(sessions: sessionmaker[Session]) -> None:
    stalling, prompt = Endpoint(delay=4.0), Endpoint(delay=0.0)
    with sessions.begin() as s:
        for i, (owner, url) in enumerate([("0x" + "a" * 40, stalling.url)] * 8 + [("0x" + "b" * 40, prompt.url)]):
            sub = db.WebhookSubscription(owner=owner, url=url, events={"types": ["epoch.settled"]},
                                         secret=webhooks.new_secret(), created_at=0, active=True)  # fmt: skip
            s.add(sub)
            s.flush()
            s.add(db.WebhookDelivery(subscription_id=sub.id, message_id=f"msg_{i}", event_type="epoch.settled",
                                     payload={"type": "epoch.settled", "data": {}}, status="pending", attempts=0,
                                     next_attempt_at=time.time() - 1, created_at=0))  # fmt: skip
    dispatcher = Dispatcher(sessions, SecretSealer.ephemeral(), allow_private_hosts=True, timeout=10.0)
    try:
        started = time.monotonic()
        dispatcher.deliver_due()  # the first owner's oldest two and the second owner's one, at once
        assert prompt.arrivals and prompt.arrivals[0] - started < 2.0, "delivered while the others stall"
        assert len(stalling.arrivals) == 2, "at most two of one owner's deliveries per claim"
    finally:
        dispatcher.close()
        stalling.server.shutdown()
        prompt.server.shutdown()
