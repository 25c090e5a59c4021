"""Fleet benchmark: 10,000 GPUs as 1,250 fake DCGM exporters (one process, one loopback port each, the
default 25-field page of about 47 KB), sampled by the agent's sampler two ways:

- direct: one `dcgm` collector scraping all 1,250 exporters concurrently within one pass deadline;
- prometheus: a real Prometheus (Debian's package) scraping the exporters every 10 s, read by the
  `prometheus` collector's five instant queries;
beside the parse-only baseline in the same run: the same 1,250 pages parsed from memory by the collector's
parser, and by prometheus_client's full text parser (what the agent used before).

Each mode runs in its own process (its CPU time and peak memory are its own); the exporters and Prometheus
run in others. Prints per-pass wall time and CPU (medians), CPU seconds per simulated hour at 10 s
sampling, peak RSS, and GPUs attributed. Targets: a pass within 1 s of wall time and 0.5 s of CPU, memory
under 200 MB, 10,000 of 10,000 GPUs attributed.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

NODES = 1_250
PASSES = 7
INTERVAL = 10
ROOT = Path(__file__).resolve().parent.parent


def serve_fleet() -> None:
    """The exporters' process: prints their URLs, serves until killed."""
    from wellhead.devkit.dcgm_fleet import ExporterFleet

    fleet = ExporterFleet(NODES, cache_seconds=5.0)
    print(json.dumps({"urls": fleet.urls, "uuids": fleet.uuids}), flush=True)
    while True:
        time.sleep(3_600)


def sampler_for(uuids: list[str], collector: Any) -> Any:
    from wellhead.agent.inventory import GpuIdentity, Inventory
    from wellhead.agent.metrics import AgentMetrics
    from wellhead.agent.phases.sampling import Sampler

    inventory = Inventory([GpuIdentity(u) for u in reversed(uuids)])  # slot order unlike node order
    ctx = SimpleNamespace(
        metrics=AgentMetrics(),
        inventory=inventory,
        terms=SimpleNamespace(gpus=len(uuids)),
        settings=SimpleNamespace(sample_interval=INTERVAL),  # each read bounded by it, as in the agent
        warn=lambda *a, **k: None,
    )
    return Sampler(ctx, [collector])  # type: ignore[arg-type]


def run_mode(mode: str, urls: list[str], uuids: list[str], prometheus_url: str) -> dict[str, float]:
    import urllib.request

    from wellhead.agent.collectors.dcgm import DcgmCollector, parse_dcgm

    walls, cpus, attributed = [], [], 0
    if mode.startswith("parse-"):
        pages = [urllib.request.urlopen(u, timeout=30).read().decode() for u in urls]
        if mode == "parse-full":
            from prometheus_client.parser import text_string_to_metric_families

            def parse(page: str) -> object:
                return list(text_string_to_metric_families(page))
        else:
            parse = parse_dcgm
        for _ in range(3 if mode == "parse-full" else PASSES):
            w, c = time.perf_counter(), time.process_time()
            for page in pages:
                parse(page)
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        attributed = len(uuids)
    else:
        from wellhead.agent.collectors.prometheus import PrometheusCollector

        collector: Any = (
            DcgmCollector(targets=urls, deadline=8.0)
            if mode == "direct"
            else PrometheusCollector(url=prometheus_url, max_age=30.0, timeout=8.0)
        )
        sampler = sampler_for(uuids, collector)
        sampler.collect(0)  # connections opened, caches warm
        for k in range(PASSES):
            w, c = time.perf_counter(), time.process_time()
            tick = sampler.collect(k)
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
            attributed = tick.gpus.gpus - tick.gpus.missing_count()
            time.sleep(0.5)
        collector.close()
    return {
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "attributed": attributed,
    }


def start_prometheus(work: Path, urls: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    import yaml

    targets = [u.removeprefix("http://").removesuffix("/metrics") for u in urls]
    config = {
        "global": {"scrape_interval": "10s", "scrape_timeout": "8s"},
        "scrape_configs": [{"job_name": "dcgm", "static_configs": [{"targets": targets}]}],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    from wellhead.devkit.anvil import free_port

    port = free_port()
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}"


def wait_for_series(url: str, gpus: int, timeout: float = 120.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = requests.get(f"{url}/api/v1/query", params={"query": "count(DCGM_FI_DEV_POWER_USAGE)"}, timeout=5)
            result = body.json()["data"]["result"]
            if result and int(float(result[0]["value"][1])) >= gpus:
                time.sleep(12)  # one more scrape round, so every series has two samples
                return
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(1)
    raise RuntimeError(f"prometheus did not hold {gpus} GPUs' series within {timeout} s")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve_fleet()
        return
    if len(sys.argv) > 1 and sys.argv[1] == "mode":
        spec = json.loads(Path(sys.argv[3]).read_text())
        print(json.dumps(run_mode(sys.argv[2], spec["urls"], spec["uuids"], spec["prometheus"])))
        return
    fleet = subprocess.Popen([sys.executable, __file__, "serve"], stdout=subprocess.PIPE, text=True)
    prometheus: subprocess.Popen[bytes] | None = None
    try:
        assert fleet.stdout is not None
        spec = json.loads(fleet.stdout.readline())
        with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
            work = Path(tmp)
            prometheus, prom_url = start_prometheus(work, spec["urls"])
            spec["prometheus"] = prom_url
            (work / "spec.json").write_text(json.dumps(spec))
            results: dict[str, dict[str, float]] = {}
            for mode in ("parse-full", "parse-fast", "direct"):
                out = subprocess.run(
                    [sys.executable, __file__, "mode", mode, str(work / "spec.json")],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results[mode] = json.loads(out.stdout)
            wait_for_series(prom_url, len(spec["uuids"]))
            out = subprocess.run(
                [sys.executable, __file__, "mode", "prometheus", str(work / "spec.json")],
                capture_output=True,
                text=True,
                check=True,
            )
            results["prometheus"] = json.loads(out.stdout)
    finally:
        fleet.kill()
        if prometheus is not None:
            prometheus.terminate()
    report(results, len(spec["uuids"]))


def report(results: dict[str, dict[str, float]], gpus: int) -> None:
    print(f"\n{gpus:,} GPUs on {NODES:,} exporters; medians of {PASSES} passes (parse-full: 3)")
    print(f"{'mode':<12} {'wall s/pass':>12} {'CPU s/pass':>11} {'CPU s/hour':>11} {'peak MB':>8} {'GPUs':>7}")
    for mode, r in results.items():
        per_hour = r["cpu_s"] * 3600 / INTERVAL
        print(
            f"{mode:<12} {r['wall_s']:>12.3f} {r['cpu_s']:>11.3f} {per_hour:>11.0f} {r['peak_mb']:>8.0f} "
            f"{int(r['attributed']):>7,}"
        )
    base = results["parse-fast"]["cpu_s"]
    for mode in ("direct", "prometheus"):
        r = results[mode]
        ok = r["wall_s"] < 1.0 and r["cpu_s"] < 0.5 and r["peak_mb"] < 200 and r["attributed"] == gpus
        print(
            f"{mode}: CPU x{r['cpu_s'] / base:.1f} the parse-only baseline; targets (< 1 s wall, < 0.5 s CPU, "
            f"< 200 MB, all GPUs) {'met' if ok else 'NOT met'}"
        )
    out = ROOT / "bench/results/agent-fleet.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
