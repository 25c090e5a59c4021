"""No party can stall the agent: a peer trickling its answer one byte at a time is cut off within seconds (and
left alone for a minute) instead of holding the loop that samples; a loop that is late anyway turns /healthz
unhealthy; the HTTP server bounds its connections and frees the thread of a client that stops talking."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from tests.support.agent_env import AgentEnv
from wellhead.agent import server as agent_server


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


def test_a_trickling_peer_is_cut_off_and_left_alone(env: AgentEnv) -> None:
    peer = Trickle()
    agent = env.agent(0)
    agent.step()
    exchange = agent.attestation
    assert exchange is not None
    try:
        started = time.monotonic()
        assert exchange._get(peer.url, "/v1/observations/1/0") is None
        assert time.monotonic() - started < 5, "cut off at its deadline (3 s), not after its 200 s body"
        started = time.monotonic()
        assert exchange._get(peer.url, "/v1/observations/1/1") is None
        assert time.monotonic() - started < 0.1, "and left alone for a while"
    finally:
        peer.server.shutdown()


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
