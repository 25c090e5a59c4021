"""`wellhead gateway` as an operator runs it: a subprocess that indexes anvil and serves HTTP."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import requests
from web3 import Web3

from tests.support.chain import Site, assert_one_line_error, run_cli
from wellhead.chain.client import Protocol
from wellhead.chain.deployment import Deployment
from wellhead.devkit.anvil import Anvil, free_port
from wellhead.devkit.scenario import Actors


def test_serves_what_it_indexes(
    anvil: Anvil, w3: Web3, protocol: Protocol, actors: Actors, deployment: Deployment, tmp_path: Path
) -> None:
    site = Site(w3, protocol, actors)
    record = deployment.save(tmp_path)
    port = free_port()
    args = ["--rpc-url", anvil.url, "--deployment", str(record), "--port", str(port), "--confirmations", "0"]
    db = f"sqlite:///{tmp_path / 'g.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "wellhead.cli", "gateway", *args, "--database-url", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        assets: list[dict[str, object]] = []
        while time.monotonic() < deadline and not any(a["id"] == site.asset_id for a in assets):
            with contextlib.suppress(requests.ConnectionError):
                assets = requests.get(f"http://127.0.0.1:{port}/api/v1/assets", timeout=2).json()["items"]
            time.sleep(0.3)
        assert any(a["id"] == site.asset_id for a in assets), proc.stderr
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        # a second gateway on the same port: one line and exit 1, not a process that stays up serving nothing
        taken = run_cli("gateway", *args, "--database-url", f"sqlite:///{tmp_path / 'g2.db'}")
        assert_one_line_error(taken, f"cannot listen on 127.0.0.1:{port}")
        proc.terminate()  # SIGTERM: what systemd sends
        assert proc.wait(timeout=20) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()


def test_bad_configuration_is_one_line(tmp_path: Path) -> None:
    missing = run_cli("gateway", "--deployment", str(tmp_path / "nope.json"), "--rpc-url", "http://127.0.0.1:9")
    assert_one_line_error(missing, "nope.json")
    bad_port = run_cli("gateway", "--port", "70000")
    assert_one_line_error(bad_port, "port")
