"""The agent's HTTP endpoint: /metrics, /healthz, /readyz, its signed observation of each epoch and the reports it
proposed or co-signed (for its peers), and evidence files."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.store import AgentStore

OBSERVATION = re.compile(r"^/v1/observations/(\d+)/(\d+)$")
REPORTS = re.compile(r"^/v1/reports/(\d+)/(\d+)$")
EVIDENCE = re.compile(r"^/v1/evidence/([0-9a-f]{64})$")
MAX_CONNECTIONS = 32  # served at once; more are closed at once (a peer, Prometheus and an operator need few)
SOCKET_TIMEOUT = 10.0  # seconds a connection may idle mid-request (a slow client frees its thread)


class BoundedHTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS of them: a flood of slow connections cannot exhaust
    threads or memory; the connections over the bound are closed without an answer."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class AgentServer:
    def __init__(
        self, host: str, port: int, metrics: AgentMetrics, store: AgentStore, signer: str, evidence_dir: Path
    ) -> None:
        agent = self

        class Handler(BaseHTTPRequestHandler):
            timeout = SOCKET_TIMEOUT

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                agent.handle(self)

        self.metrics = metrics
        self.readiness: Callable[[], tuple[bool, str]] = lambda: (False, "starting")
        self.liveness: Callable[[], tuple[bool, str]] = lambda: (True, "ok")
        self.store = store
        self.signer = signer
        self.evidence_dir = evidence_dir
        self.httpd = BoundedHTTPServer((host, port), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="agent-http")

    def handle(self, h: Any) -> None:
        path = h.path.split("?")[0]
        if path == "/metrics":
            h._send(200, generate_latest(self.metrics.registry), CONTENT_TYPE_LATEST)
            return
        if path == "/healthz":
            alive, detail = self.liveness()
            health = {"status": "ok" if alive else "unhealthy", "detail": detail}
            h._send(200 if alive else 503, json.dumps(health).encode())
            return
        if path == "/readyz":
            ready, detail = self.readiness()
            h._send(
                200 if ready else 503,
                json.dumps({"status": "ready" if ready else "not_ready", "detail": detail}).encode(),
            )
            return
        m = OBSERVATION.match(path)
        if m:
            asset_id, epoch = int(m.group(1)), int(m.group(2))
            reader = AgentStore(self.store.path, readonly=True)
            try:
                own = reader.observation_of(asset_id, epoch, self.signer)
            finally:
                reader.close()
            if own is None:
                h._send(404, json.dumps({"code": "not_observed", "detail": "no observation of that epoch"}).encode())
                return
            body = {"signer": own.signer, "observer": own.observer, "claim": own.claim, "signature": own.signature}
            h._send(200, json.dumps(body).encode())
            return
        m = REPORTS.match(path)
        if m:
            asset_id, epoch = int(m.group(1)), int(m.group(2))
            reader = AgentStore(self.store.path, readonly=True)
            try:
                proposals = [
                    {
                        "digest": digest,
                        "report": report,
                        "cosignatures": [
                            {"signer": s, "signature": sig} for s, sig in reader.cosignatures(asset_id, epoch, digest)
                        ],
                    }
                    for digest, report in reader.proposals(asset_id, epoch)
                ]
            finally:
                reader.close()
            h._send(200, json.dumps({"proposals": proposals}).encode())
            return
        m = EVIDENCE.match(path)
        if m:
            file = self.evidence_dir / f"{m.group(1)}.npz"
            if file.exists():
                h._send(200, file.read_bytes(), "application/octet-stream")
                return
        h._send(404, json.dumps({"code": "not_found", "detail": path}).encode())

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
