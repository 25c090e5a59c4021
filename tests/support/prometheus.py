"""A real Prometheus server (Debian's `prometheus` package) on loopback, scraping the given targets."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import bcrypt
import requests
import yaml

from tests.support.peers import self_signed_cert
from wellhead.devkit.anvil import free_port


class PrometheusServer:
    """Scrapes `targets` (host:port) every `scrape_interval`; with `password`, serves TLS (its own CA, at
    `self.cert`) and requires basic auth as user `wellhead`."""

    def __init__(self, root: Path, targets: list[str], scrape_interval: str = "1s", password: str | None = None):
        root.mkdir(parents=True, exist_ok=True)
        config = {
            "global": {"scrape_interval": scrape_interval, "scrape_timeout": scrape_interval},
            "scrape_configs": [{"job_name": "dcgm", "static_configs": [{"targets": targets}]}],
        }
        (root / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.port = free_port()
        args = [
            "prometheus",
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        self.cert: Path | None = None
        self.auth: tuple[str, str] | None = None
        scheme = "http"
        if password is not None:
            self.cert, key = root / "prom.pem", root / "prom-key.pem"
            self_signed_cert(self.cert, key)
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
            web = {
                "tls_server_config": {"cert_file": str(self.cert), "key_file": str(key)},
                "basic_auth_users": {"wellhead": hashed},
            }
            (root / "web.yml").write_text(yaml.safe_dump(web))
            args.append(f"--web.config.file={root / 'web.yml'}")
            self.auth = ("wellhead", password)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _get(self, path: str, **params: str) -> requests.Response:
        verify: bool | str = str(self.cert) if self.cert else True
        return requests.get(self.url + path, params=params, auth=self.auth, verify=verify, timeout=5)

    def wait_for_targets(self, up: int, timeout: float = 30.0) -> None:
        """Until `up` targets have been scraped successfully."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.process.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
            try:
                result = self._get("/api/v1/query", query="sum(up)").json()["data"]["result"]
                if result and int(float(result[0]["value"][1])) >= up:
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus did not scrape {up} targets within {timeout} s")

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
