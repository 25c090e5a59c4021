"""No party can stall the agent: a peer trickling its answer one byte at a time is cut off within seconds (and
left alone for a minute) instead of holding the loop that samples; a loop that is late anyway turns /healthz
unhealthy; the HTTP server bounds its connections and frees the thread of a client that stops talking."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from tests.support.agent_env import AgentEnv
from wellhead.agent import server as agent_server
from wellhead.agent.collectors import CollectorError, Reading
from wellhead.agent.collectors.bounded import BoundedReads
from wellhead.agent.peers import PASS_BUDGET, PEER_DEADLINE, PeerClient


class Trickle:
    """A peer that answers 200 and then one byte of its body every half second."""

    def __init__(self, size: int = 400) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                for _ in range(size):
                    try:
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.5)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


class Prompt:
    """A peer that answers at once."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b'{"ok": 1}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def test_a_trickling_peer_costs_a_fetch_its_budget_at_most_and_is_then_left_alone() -> None:
    slow, prompt = Trickle(), Prompt()
    warned: list[str] = []
    peers = PeerClient(lambda key, message, **_: warned.append(message))
    try:
        started = time.monotonic()
        got = peers.fetch([(slow.url, "/v1/observations/1/0"), (prompt.url, "/v1/observations/1/0")])
        waited = time.monotonic() - started
        assert got == {(prompt.url, "/v1/observations/1/0"): {"ok": 1}}, "the prompt peer's answer, not the slow's"
        assert PASS_BUDGET <= waited < PASS_BUDGET + 0.5, f"waited {waited:.2f} s: its budget, not the 200 s body"
        time.sleep(PEER_DEADLINE)  # the trickle's fetch, still running off the loop, is cut off at its deadline
        assert warned == ["peer too slow or too large; cut off"]
        started = time.monotonic()
        assert peers.fetch([(slow.url, "/v1/observations/1/1")]) == {}
        assert time.monotonic() - started < 0.1, "and left alone for a while: nothing sent, nothing waited for"
    finally:
        peers.close()
        slow.server.shutdown()
        prompt.server.shutdown()


class RawPeer:
    """A TCP peer that reads the request and then runs `script(conn, stop)`: what no HTTP server would send."""

    def __init__(self, script: Callable[[socket.socket, threading.Event], None]) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.script = script
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            conn.recv(65536)
            self.script(conn, self.stop)
        conn.close()

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def header_trickle(conn: socket.socket, stop: threading.Event) -> None:
    """200, then one header byte every half second for ever: each byte resets any per-read timeout."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not stop.is_set():
        conn.sendall(b"a")
        time.sleep(0.5)


def stalled_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
    stop.wait(6)


def truncated_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a": 1')


def prompt(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{"ok": 1}')


def quiet(*_: Any, **__: Any) -> None:
    pass


def test_a_peer_trickling_its_headers_is_cut_off_and_holds_one_worker_at_most() -> None:
    """Many wanted pages of one peer trickling its headers: one task, closed by the watchdog at the deadline;
    an honest peer's answer comes at once all the while (a per-read timeout never ended such a fetch)."""
    evil, honest = RawPeer(header_trickle), RawPeer(prompt)
    warned: list[str] = []
    peers = PeerClient(lambda key, message, **_: warned.append(message))
    try:
        pages = [f"/v1/{kind}/1/{e}" for e in range(8) for kind in ("observations", "reports")]
        assert peers.fetch([(evil.url, path) for path in pages]) == {}
        assert peers.fetch([(honest.url, "/v1/observations/1/0")]) == {(honest.url, "/v1/observations/1/0"): {"ok": 1}}
        time.sleep(PEER_DEADLINE)
        assert warned == ["peer too slow or too large; cut off"], "closed at its deadline, headers unfinished"
    finally:
        evil.close()
        honest.close()
        peers.close()


@pytest.mark.parametrize("script", [stalled_body, truncated_body], ids=["stalled-body", "truncated-body"])
def test_a_broken_answer_is_a_missing_one_never_an_exception_on_the_loop(
    script: Callable[[socket.socket, threading.Event], None],
) -> None:
    peer = RawPeer(script)
    peers = PeerClient(quiet)
    try:
        key = (peer.url, "/v1/observations/1/0")
        answers = [peers.fetch([key]) for _ in range(4)]  # it raised urllib3's own errors onto the loop before
        assert answers == [{}] * 4
    finally:
        peer.close()
        peers.close()


def test_an_agent_with_a_trickling_peer_keeps_its_loop_and_reports(env: AgentEnv) -> None:
    """End to end: every pass of an agent whose one peer trickles stays within the fetch budget (a pass that
    waited the peer's deadline, as the loop did before, takes 3 s), and the epoch is still reported."""
    slow = Trickle(size=100_000)
    agent = env.agent(0, peers=[slow.url])
    passes: list[float] = []

    def timed() -> None:
        started = time.monotonic()
        agent.step()
        passes.append(time.monotonic() - started)

    try:
        env.warp_to(env.epoch_end(0) + 10)
        for _ in range(300):
            timed()
            if env.report_on_chain(0).exists:
                break
            env.mine()
        assert env.report_on_chain(0).exists
        assert max(passes) < PASS_BUDGET + 1.0, f"slowest pass {max(passes):.2f} s"
    finally:
        slow.server.shutdown()


def test_a_late_loop_is_unhealthy(env: AgentEnv) -> None:
    agent = env.agent(0)
    agent.server.start()
    agent.step()
    url = f"http://127.0.0.1:{agent.server.port}/healthz"
    assert requests.get(url, timeout=5).status_code == 200
    agent._loop_at = time.monotonic() - 120  # a pass stuck for two minutes
    late = requests.get(url, timeout=5)
    assert late.status_code == 503 and "has not run for 120 s" in late.json()["detail"]


def test_the_http_server_bounds_its_connections_and_drops_idle_ones(env: AgentEnv, monkeypatch: Any) -> None:
    monkeypatch.setattr(agent_server, "SOCKET_TIMEOUT", 1.0)
    monkeypatch.setattr(agent_server, "MAX_CONNECTIONS", 4)
    agent = env.agent(0)
    agent.server.start()
    port = agent.server.port
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(4)]  # say nothing
    try:
        time.sleep(0.2)
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert extra.recv(100) == b"", "over the bound: closed, not queued behind the idle ones"
        extra.close()
        time.sleep(1.5)  # the idle connections' threads time out and free their slots
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        for conn in idle:
            conn.close()


class Hung:
    """A collector whose read never returns (a BMC or meter that accepted the connection and went quiet)."""

    name, replayable, timeout = "redfish", False, 0.5

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self.returned = 0  # the last call that returned

    def collect(self, ts: int) -> Reading:
        self.calls += 1
        self.release.wait(30)
        self.returned = self.calls
        return Reading()

    def close(self) -> None:
        self.release.set()


class PromptMeter:
    name, replayable = "sunspec", False

    def collect(self, ts: int) -> Reading:
        return Reading(failed_targets=[f"read at {ts}"])

    def close(self) -> None:
        pass


def test_a_hung_collector_costs_a_sample_its_deadline_and_is_not_read_again_while_hung() -> None:
    hung, prompt = Hung(), PromptMeter()
    reads = BoundedReads([hung, prompt], interval=10)
    try:
        started = time.monotonic()
        first = reads.read_all(100)
        waited = time.monotonic() - started
        # its deadline was given (0.5 s timeout + 1 s grace), and the answer came while the read still hung
        assert waited >= 1.5, f"gave up after {waited:.2f} s, before the deadline"
        assert hung.returned == 0, "read_all waited for the hung read itself"
        assert isinstance(first[0], CollectorError) and "no reading within 1.5 s" in str(first[0])
        assert isinstance(first[1], Reading) and first[1].failed_targets == ["read at 100"]
        started = time.monotonic()
        second = reads.read_all(110)
        assert time.monotonic() - started < 1.5, "not waited for again (its deadline alone is 1.5 s)"
        assert isinstance(second[0], CollectorError) and "still reading an earlier sample" in str(second[0])
        assert hung.calls == 1 and isinstance(second[1], Reading)
        hung.release.set()
        time.sleep(0.1)
        assert isinstance(reads.read_all(120)[0], Reading) and hung.calls == 2, "read again once it returned"
    finally:
        hung.close()


def half_a_header(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: a")  # then the connection ends, as the watchdog's shutdown ends it


def test_what_a_worker_reads_after_the_watchdog_fired_is_void() -> None:
    """The watchdog's flag decides, not the clock: an end of file after half a header parses as an empty 200, so
    a worker woken by the shutdown a hair before its own clock said the deadline had passed reported the peer as
    answering invalid JSON (a fresh clone's run), not as cut off."""
    import http.client
    from urllib.parse import urlsplit

    from wellhead.agent.peers import PeerCutOffError

    peer = RawPeer(half_a_header)
    warned: list[str] = []
    peers = PeerClient(lambda key, message, **_: warned.append(message))
    fired = threading.Event()
    fired.set()
    parts = urlsplit(peer.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=2)
    try:
        with pytest.raises(PeerCutOffError):
            peers._page(conn, peer.url, "/v1/observations/1/0", time.monotonic(), fired)
        assert warned == []
    finally:
        conn.close()
        peer.close()
        peers.close()
