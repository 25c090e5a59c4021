"""Gateway benchmark: API throughput and latency beside a bare FastAPI endpoint, and the indexer's catch-up.

API: an index of 100 assets x 1,000 epochs (plus 5 leases and 1,000 NAV rounds per asset) in SQLite; the
gateway app and a bare FastAPI app returning a constant JSON are each served the same way (one uvicorn
process, one worker) and loaded from a second process by wrk (Debian's), 64 connections, 2 threads:
- listAssets: GET /api/v1/assets?limit=100 (all 100 assets with utilization and NAV);
- listAssetEpochs: GET /api/v1/assets/{random 1..100}/epochs?limit=100&cursor=... (a page of 100 epochs,
  from a random offset in the history);
- bare: GET /bare.
Each is measured 3 times for 10 s after a 2 s warm-up; medians of requests/s, p50 and p99 are printed.
Targets: each gateway endpoint >= 0.5 x the bare endpoint's requests/s, p99 < 50 ms.

Indexer: a real anvil with the protocol deployed, 10 assets each with 2,000 idle epochs settled in batches
(one EpochSettled log each), plus share transfers; the indexer catches up from the deployment block with
confirmations 0, against a baseline of only fetching the same logs (eth_getLogs) in the same batches.
Target: >= 2,000 events/s.
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
    from web3 import HTTPProvider, Web3

    if app_name == "bare":
        app = FastAPI()

        @app.get("/bare")
        def bare() -> dict[str, Any]:
            return {"status": "ok", "service": "bare", "items": [1, 2, 3]}

    else:
        from wellhead.chain.deployment import Deployment
        from wellhead.gateway.app import create_app
        from wellhead.gateway.db import engine_for, session_factory
        from wellhead.gateway.services import Services

        # the two endpoints measured read only the index; the node is never called
        w3 = Web3(HTTPProvider("http://127.0.0.1:9"))
        services = Services.build(
            session_factory(engine_for(url)), w3, Deployment.load(deployment), domain="bench", anonymous_rate=10**9
        )  # the limiter runs on every request (its cost is measured) but never refuses the load generator
        app = create_app(services)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def fake_deployment(path: Path) -> Path:
    contracts = {
        name: {"address": "0x" + f"{i + 1:040x}", "tx_hash": "", "block": 0}
        for i, name in enumerate(("CapacityRegistry", "LeaseMarket", "MetricsOracle", "Stablecoin", "CreditMarket"))
    }
    record = {"network": "bench", "chain_id": 31337, "deployer": "0x" + "00" * 20, "git_commit": "bench", "block": 0}
    path.write_text(json.dumps({**record, "contracts": contracts}))
    return path


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
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{name} server did not start")


def bench_api(tmp: Path) -> dict[str, Any]:
    from wellhead.devkit.anvil import free_port

    db_url = f"sqlite:///{tmp / 'bench.db'}"
    t0 = time.perf_counter()
    seed(db_url)
    print(f"seeded {ASSETS} assets x {EPOCHS} epochs in {time.perf_counter() - t0:.1f} s", flush=True)
    deployment = fake_deployment(tmp / "deployment.json")
    script = tmp / "epochs.lua"
    script.write_text(LUA_EPOCHS % (ASSETS, EPOCHS - 100))
    targets = {
        "bare": ("bare", "/bare", None),
        "listAssets": ("gateway", "/api/v1/assets?limit=100", None),
        "listAssetEpochs": ("gateway", "/", script),
    }
    results: dict[str, Any] = {}
    servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for app_name in ("bare", "gateway"):
            port = free_port()
            servers[app_name] = (start_server(app_name, port, db_url, deployment), port)
        runs: dict[str, list[dict[str, float]]] = {k: [] for k in targets}
        for _ in range(RUNS):
            for label, (app_name, path, lua) in targets.items():  # interleaved: noise hits all alike
                url = f"http://127.0.0.1:{servers[app_name][1]}{path}"
                wrk(url, WARMUP, lua)
                runs[label].append(wrk(url, DURATION, lua))
        for label, rs in runs.items():
            results[label] = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p99_ms")}
            results[label]["runs"] = rs
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(10)
    bare = results["bare"]["rps"]
    for label in ("listAssets", "listAssetEpochs"):
        r = results[label]
        r["ratio_to_bare"] = r["rps"] / bare
        r["target_met"] = r["ratio_to_bare"] >= 0.5 and r["p99_ms"] < 50
    return results


# ------------------------------------------------------------------ indexer catch-up
def bench_indexer(tmp: Path) -> dict[str, Any]:
    from web3 import Web3
    from web3.types import RPCEndpoint

    from wellhead.chain.client import Protocol, send
    from wellhead.chain.connection import rpc
    from wellhead.chain.deploy import deploy_protocol
    from wellhead.chain.params import ProtocolParams
    from wellhead.devkit.anvil import Anvil, dev_accounts
    from wellhead.devkit.scenario import Actors, Scenario
    from wellhead.gateway.db import engine_for, migrate, session_factory
    from wellhead.gateway.index.indexer import Indexer

    assets, idle_epochs, batch = 10, 2_000, 250
    with Anvil(extra_args=("--gas-limit", "100000000")) as anvil:
        w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 120}))
        accounts = dev_accounts(12)
        actors = Actors.from_dev_accounts(accounts)
        deployment = deploy_protocol(w3, actors.admin, "bench", ProtocolParams(treasury=actors.admin.address))
        protocol = Protocol(w3, deployment)
        demo = Scenario(w3, protocol, actors)
        demo.fund()
        t0 = time.perf_counter()
        ids = [demo.register() for _ in range(assets)]
        shares = protocol.shares(ids[0]).functions
        for k in range(500):  # investor transfers: Transfer logs of a dynamic (asset) contract
            send(w3, actors.investor_a, shares.transfer(actors.investor_b.address, 10**18 + k))
        _, genesis, length, *_ = protocol.registry.functions.terms(ids[-1]).call()
        rpc(w3, "evm_setNextBlockTimestamp", [genesis + (idle_epochs + 2) * length])
        rpc(w3, "evm_mine", [])
        for asset in ids:
            for _ in range(idle_epochs // batch):
                send(w3, actors.admin, protocol.market.functions.finalizeEpochs(asset, batch), gas=90_000_000)
        print(f"generated the chain in {time.perf_counter() - t0:.0f} s", flush=True)

        head = w3.eth.block_number
        # baseline: fetching the same raw logs (JSON-RPC, no decoding) in the indexer's batches, nothing else
        addresses = [Web3.to_checksum_address(c.address) for c in deployment.contracts.values()]
        addresses += [protocol.shares(a).address for a in ids]
        fetch_times, index_times, events = [], [], 0
        for run in range(RUNS):
            t = time.perf_counter()
            fetched = 0
            for start in range(deployment.block, head + 1, 2_000):
                query = {"address": addresses, "fromBlock": hex(start), "toBlock": hex(min(head, start + 1_999))}
                fetched += len(w3.provider.make_request(RPCEndpoint("eth_getLogs"), [query])["result"])
            fetch_times.append(time.perf_counter() - t)
            url = f"sqlite:///{tmp / f'indexer-{run}.db'}"
            migrate(url)
            indexer = Indexer(w3, deployment, session_factory(engine_for(url)), confirmations=0)
            t = time.perf_counter()
            result = indexer.sync()
            index_times.append(time.perf_counter() - t)
            events = result.events
        fetch, index = statistics.median(fetch_times), statistics.median(index_times)
        return {
            "events": events,
            "logs_fetched": fetched,
            "blocks": head - deployment.block + 1,
            "fetch_only_s": fetch,
            "index_s": index,
            "events_per_s": events / index,
            "fetch_only_events_per_s": fetched / fetch,
            "ratio_to_fetch_only": fetch / index,
            "target_met": events / index >= 2_000,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["api", "indexer"])
    args = parser.parse_args()
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
                f"target >= 2,000 events/s: {'met' if r['target_met'] else 'NOT met'}",
                flush=True,
            )
        if args.only in (None, "api"):
            out["api"] = bench_api(tmp)
            print(f"{'endpoint':18} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x bare':>7}  target")
            for label, r in out["api"].items():
                ratio = f"{r['ratio_to_bare']:.2f}" if "ratio_to_bare" in r else "1.00"
                target = "" if label == "bare" else ("met" if r["target_met"] else "NOT met")
                print(f"{label:18} {r['rps']:9,.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {ratio:>7}  {target}")
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "gateway.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], Path(sys.argv[5]))
    else:
        main()
