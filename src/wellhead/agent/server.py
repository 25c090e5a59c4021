"""The agent's HTTP endpoint: /metrics, /healthz, its signed reports for peers, and evidence files."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.store import AgentStore

SIGNED = re.compile(r"^/v1/signed-reports/(\d+)/(\d+)$")
EVIDENCE = re.compile(r"^/v1/evidence/([0-9a-f]{64})$")


class AgentServer:
    def __init__(
        self, host: str, port: int, metrics: AgentMetrics, store: AgentStore, signer: str, evidence_dir: Path
    ) -> None:
        agent = self

        class Handler(BaseHTTPRequestHandler):
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
        self.store = store
        self.signer = signer
        self.evidence_dir = evidence_dir
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True, name="agent-http")

    def handle(self, h: Any) -> None:
        path = h.path.split("?")[0]
        if path == "/metrics":
            h._send(200, generate_latest(self.metrics.registry), CONTENT_TYPE_LATEST)
            return
        if path == "/healthz":
            h._send(200, b'{"status":"ok"}')
            return
        m = SIGNED.match(path)
        if m:
            asset_id, epoch = int(m.group(1)), int(m.group(2))
            reader = AgentStore(self.store.path, readonly=True)
            try:
                own = [s for s in reader.signatures(asset_id, epoch) if s[0] == self.signer]
            finally:
                reader.close()
            if not own:
                h._send(
                    404,
                    json.dumps({"code": "not_signed", "detail": "no signed report for that epoch"}).encode(),
                )
                return
            signer, report, signature = own[0]
            h._send(200, json.dumps({"signer": signer, "report": report, "signature": signature}).encode())
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
