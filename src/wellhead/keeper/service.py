"""`wellhead keeper run`: the settler in a loop, for the assets its config names (or every registered one),
with its state in SQLite, `/metrics` and `/healthz` over HTTP, and one line for every way it cannot start."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from web3 import Web3
from web3.exceptions import Web3Exception

from wellhead.agent.config import read_yaml
from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.rpc import RpcPool
from wellhead.chain.deployment import Deployment
from wellhead.core.errors import ConfigError, RpcUnavailableError, WellheadError
from wellhead.keeper.flight import FlightPolicy
from wellhead.keeper.liquidator import LiquidationConfig, Liquidator
from wellhead.keeper.metrics import KeeperMetrics
from wellhead.keeper.settler import Settler, SettlerConfig
from wellhead.keeper.transactions import AccountSender

log = logging.getLogger("wellhead.keeper")


class LiquidationSettings(BaseModel):
    """Off by default. `eth_price` (stablecoin base units per ether) prices gas; the keeper repays from its own
    balance, approved to the CreditMarket beforehand."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    min_profit: int = Field(default=0, ge=0)
    eth_price: int = Field(default=0, ge=0)
    start_block: int = Field(default=0, ge=0)


class KeeperSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deployment: Path
    rpc_urls: list[str] = Field(min_length=1)
    assets: list[int] | Literal["all"] = "all"
    keystore: Path
    password_file: Path
    data_dir: Path = Path("/var/lib/wellhead-keeper")
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=9110, ge=0, lt=65_536)
    poll_interval: float = Field(default=5.0, gt=0, le=600)
    batch: int = Field(default=24, ge=1, le=500)
    gas_budget: int = Field(default=6_000_000, ge=100_000)
    stagger: float = Field(default=30.0, ge=0, description="seconds after first seeing work before acting")
    nav: bool = True
    replace_after: float = Field(default=120.0, gt=0, description="seconds pending before fees are raised")
    liquidations: LiquidationSettings = Field(default_factory=lambda: LiquidationSettings())


def load_keeper_settings(path: Path) -> KeeperSettings:
    data = read_yaml(path, "config")
    try:
        return KeeperSettings.model_validate(data or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"config {path}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


class KeeperState:
    """A key-value table in SQLite: the one transaction in flight per (kind, asset) survives a restart."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def put(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, value))

    def delete(self, key: str) -> None:
        self.db.execute("DELETE FROM kv WHERE key = ?", (key,))

    def close(self) -> None:
        self.db.close()


class Keeper:
    def __init__(self, settings: KeeperSettings, account: Any) -> None:
        self.settings = settings
        self.deployment = Deployment.load(settings.deployment)
        agent_metrics = AgentMetrics()  # the RPC pool counts its errors there
        self.metrics = KeeperMetrics(agent_metrics.registry)
        self.up = Gauge(
            "wellhead_keeper_last_pass_timestamp_seconds", "When the last pass ended", registry=self.metrics.registry
        )
        self.pool = RpcPool(settings.rpc_urls, self.deployment, agent_metrics)
        self.state = KeeperState(settings.data_dir / "keeper.sqlite")
        sender = AccountSender(account, self.deployment.chain_id)
        self.settler = Settler(
            self.pool,
            self._assets,
            sender,
            self.state,
            self.metrics,
            SettlerConfig(
                settings.batch,
                settings.gas_budget,
                settings.stagger,
                settings.nav,
                flight=FlightPolicy(replace_after=settings.replace_after),
            ),
        )
        liquidations = settings.liquidations
        if liquidations.enabled and liquidations.eth_price == 0:
            raise ConfigError("liquidations.eth_price must be set (stablecoin base units per ether) to price gas")
        self.liquidator = Liquidator(
            self.pool, self.settler.flight, self._assets, LiquidationConfig(**liquidations.model_dump())
        )
        self.stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._last_good_pass: float | None = None  # monotonic time of the last pass with no asset failing

    def _assets(self, w3: Web3) -> list[int]:
        if self.settings.assets != "all":
            return list(self.settings.assets)
        registry = self.pool.contract(w3, "CapacityRegistry")
        return list(range(1, int(registry.functions.assetCount().call()) + 1))

    def check(self) -> dict[str, object]:
        """The chain answers with the deployment's chain id; raises one line otherwise."""

        def read(w3: Web3) -> dict[str, object]:
            if w3.eth.chain_id != self.deployment.chain_id:
                served, expected = w3.eth.chain_id, self.deployment.chain_id
                raise ConfigError(f"the RPC node serves chain {served}, the deployment is on chain {expected}")
            return {"chain_id": self.deployment.chain_id, "assets": self._assets(w3)}

        result: dict[str, object] = self.pool.call(read)
        return result

    def step(self) -> None:
        self.settler.run(time.time())
        self.pool.call(self.liquidator.pass_)
        self.up.set(time.time())
        if self.settler.failures == 0 and self.liquidator.failures == 0:
            self._last_good_pass = time.monotonic()

    def readiness(self) -> tuple[bool, str]:
        """Ready: a pass over the assets, every one of them handled, within three poll intervals (or a minute)."""
        if self._last_good_pass is None:
            return False, "no pass has handled every asset yet"
        since = time.monotonic() - self._last_good_pass
        if since > max(60.0, 3 * self.settings.poll_interval):
            return False, f"no pass has handled every asset for {since:.0f} s"
        return True, "ok"

    def serve(self) -> int:
        keeper = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/metrics":
                    body, kind, status = generate_latest(keeper.metrics.registry), CONTENT_TYPE_LATEST, 200
                elif path == "/healthz":
                    body, kind, status = json.dumps({"status": "ok"}).encode(), "application/json", 200
                elif path == "/readyz":
                    ready, detail = keeper.readiness()
                    state = {"status": "ready" if ready else "not_ready", "detail": detail}
                    body, kind, status = json.dumps(state).encode(), "application/json", 200 if ready else 503
                else:
                    body, kind, status = b'{"error":"not found"}', "application/json", 404
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        try:
            self._server = ThreadingHTTPServer((self.settings.listen_host, self.settings.listen_port), Handler)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {self.settings.listen_host}:{self.settings.listen_port}: {exc.strerror}"
            ) from None
        threading.Thread(target=self._server.serve_forever, daemon=True, name="keeper-http").start()
        return int(self._server.server_address[1])

    def run(self) -> None:
        backoff = self.settings.poll_interval
        while not self.stopping.is_set():
            try:
                self.step()
                backoff = self.settings.poll_interval
            except RpcUnavailableError as exc:
                backoff = min(backoff * 2, 300.0)
                log.warning("RPC unavailable; backing off", extra={"seconds": backoff, "error": str(exc)})
            except (WellheadError, Web3Exception, ValueError) as exc:  # one line in the log; the next pass retries
                log.warning("keeper pass failed; will retry", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            self.stopping.wait(backoff)
        self.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self.state.close()
