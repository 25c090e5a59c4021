"""A local anvil node for the devnet and the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from wellhead.core.errors import ConfigError, RpcUnavailableError

DEV_MNEMONIC = "test test test test test test test test test test test junk"


def find_anvil() -> str:
    """anvil from $WELLHEAD_ANVIL, the project's node_modules, or PATH."""
    candidates = [os.environ.get("WELLHEAD_ANVIL", "")]
    here = Path.cwd()
    for parent in (here, *here.parents):
        candidates.append(str(parent / "node_modules" / ".bin" / "anvil"))
    candidates.append(shutil.which("anvil") or "")
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ConfigError("anvil not found: run `make setup` (npm installs it) or set WELLHEAD_ANVIL")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def dev_accounts(n: int = 12) -> list[LocalAccount]:
    """The dev chain's funded accounts (anvil's default mnemonic)."""
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(n)]


@dataclass
class Anvil:
    """An anvil process on 127.0.0.1 at a free port; use as a context manager."""

    port: int = field(default_factory=free_port)
    block_time: float | None = None
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    cache: str | None = None  # where anvil persists old states: ours, removed on stop (its default, a temp dir
    # under ~/.foundry/anvil/tmp, is left behind by every stopped node and filled a disk with 78 GB of them)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> Anvil:
        self.cache = tempfile.mkdtemp(prefix="wellhead-anvil-")
        args = [find_anvil(), "--host", "127.0.0.1", "--port", str(self.port), "--accounts", "12"]
        args += ["--cache-path", self.cache]
        if self.block_time:
            args += ["--block-time", str(self.block_time)]
        args += list(self.extra_args)
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RpcUnavailableError(f"anvil exited with code {self.process.returncode} at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RpcUnavailableError(f"anvil did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.cache is not None:
            shutil.rmtree(self.cache, ignore_errors=True)
            self.cache = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
