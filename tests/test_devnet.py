"""`wellhead devnet --keep-running` as a developer runs it: after the demo everything stays up, epochs keep
being reported and settled by the site agent's keeper loop, the gateway shows them, and SIGTERM stops it all,
anvil included, leaving no process and no port behind."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

from wellhead.devkit.anvil import free_port


def settled_epochs(gateway: str) -> list[int]:
    items = requests.get(f"{gateway}/api/v1/assets/1/epochs?limit=500", timeout=10).json()["items"]
    return sorted(int(e["epoch"]) for e in items if e["settled"])


def test_the_live_devnet_settles_on_its_own_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    args = ["devnet", "--keep-running", "--speed", "300", "--port", str(port), "--deployments", str(tmp_path)]
    proc = subprocess.Popen([sys.executable, "-m", "wellhead.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    output: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line)
            if line.startswith("  site agent"):
                break
        text = "".join(output)
        assert "devnet running" in text, text[-3000:]
        gateway = re.search(r"gateway +(http://127\.0\.0\.1:\d+)/ ", text)
        assert gateway is not None and "webhooks       loopback" in text and "chain clock    300" in text
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any("anvil" in c.name() for c in children)
        before = settled_epochs(gateway.group(1))
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and max(settled_epochs(gateway.group(1)), default=-1) <= max(before):
            time.sleep(2)
        after = settled_epochs(gateway.group(1))
        assert max(after) > max(before), f"no epoch settled after the demo's ({before} -> {after})"
        assert requests.get(f"{gateway.group(1)}/readyz", timeout=10).status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        rest = proc.stdout.read()
        assert "Traceback" not in rest, rest[-3000:]
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE], "a process left"
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, "anvil's port still answers"
    finally:
        if proc.poll() is None:  # a failed assertion: stop the whole tree, anvil included
            tree = psutil.Process(proc.pid).children(recursive=True)
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            for child in tree:
                if child.is_running():
                    child.kill()
