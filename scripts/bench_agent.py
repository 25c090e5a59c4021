"""Agent benchmark: 10,000 GPUs sampled every 10 s for one simulated hour (360 ticks, 3.6 M GPU samples).

Each mode runs in its own process, so its CPU time and peak memory are its own:
- baseline: decodes the same samples and nothing else;
- agent: what the agent does per tick (counter hygiene input checks, durable spool write) plus closing the
  epoch (aggregation over all ticks, content-addressed evidence file).
Prints CPU seconds per simulated hour, peak RSS, and the ratio to the baseline; medians of 3 runs.
Targets: < 36 CPU-s per simulated hour (1 % of a core) and < 200 MB.
"""

from __future__ import annotations

import io
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GPUS = 10_000
INTERVAL = 10
HOUR = 3600
TICKS = HOUR // INTERVAL
START = 1_700_000_000


def make_samples(directory: Path) -> None:
    """Realistic inputs: load-following power, cumulative energy counters with a few resets, ~1 % faults,
    a node dark for 20 minutes."""
    rng = np.random.default_rng(42)
    energy = rng.integers(10**9, 10**12, GPUS).astype(np.int64)
    for k in range(TICKS + 1):
        power = 350 + 300 * rng.random(GPUS)
        energy = energy + (power * INTERVAL * 1000).astype(np.int64)
        if k == 100:
            energy[:50] = (power[:50] * INTERVAL * 1000).astype(np.int64)  # driver reload: counters reset
        health = np.where(rng.random(GPUS) < 0.01, 0, 1).astype(np.int8)
        e = energy.copy()
        p = power.copy()
        if 120 <= k < 240:
            health[800:808] = -1
            e[800:808] = -1
            p[800:808] = np.nan
        np.savez(directory / f"{k:04d}.npz", power=p, energy=e, util=np.full(GPUS, 80, np.int64), health=health)


def run_mode(mode: str, directory: Path) -> dict[str, float]:
    from wellhead.agent.aggregate import EpochWindow, aggregate
    from wellhead.agent.evidence import write_evidence
    from wellhead.agent.samples import GpuTick, MeterTick, Tick
    from wellhead.agent.store import AgentStore

    cpu0 = time.process_time()
    files = sorted(directory.glob("*.npz"))
    if mode == "baseline":
        for f in files:
            with np.load(f) as d:
                GpuTick(power_w=d["power"], energy_mj=d["energy"], util_pct=d["util"], health=d["health"])
    else:
        work = Path(tempfile.mkdtemp(prefix="bench-agent-"))
        store = AgentStore(work / "agent.sqlite")
        meter = 5 * 10**9
        for k, f in enumerate(files):
            with np.load(f) as d:
                gpus = GpuTick(power_w=d["power"], energy_mj=d["energy"], util_pct=d["util"], health=d["health"])
            meter += 70_000
            store.add_tick(Tick(ts=START - INTERVAL + k * INTERVAL, gpus=gpus, meter=MeterTick(5e6, meter % 2**32)))
        window = EpochWindow(1, 0, START, START + HOUR, INTERVAL, GPUS, 1_000)
        agg = aggregate(window, store.ticks(START - INTERVAL, START + HOUR))
        digest = write_evidence(agg, window, work / "evidence", {}, [f"GPU-{i}" for i in range(GPUS)])
        store.close()
    cpu = time.process_time() - cpu0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if mode == "baseline":
        return {"cpu_s": cpu, "peak_mb": peak_mb}
    # after the measurement: the evidence file's size, beside format 1's (float power, raw counters, slot-major)
    v1 = io.BytesIO()
    np.savez_compressed(v1, ts=agg.ts, power_w=agg.power_w, energy_mj=agg.energy_mj, health=agg.health,
                        meter_wh=agg.meter_wh, mining_wh=agg.mining_wh, generator_wh=agg.generator_wh)  # fmt: skip
    size = (work / "evidence" / f"{digest.hex()}.npz").stat().st_size
    shutil.rmtree(work)  # each run wrote about 60 MB of outbox and evidence
    return {"cpu_s": cpu, "peak_mb": peak_mb, "evidence_mb": size / 1e6, "evidence_v1_mb": len(v1.getvalue()) / 1e6}


def main() -> None:
    if len(sys.argv) == 3:
        print(json.dumps(run_mode(sys.argv[1], Path(sys.argv[2]))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-samples-") as tmp:
        directory = Path(tmp)
        make_samples(directory)
        results: dict[str, list[dict[str, float]]] = {"baseline": [], "agent": []}
        for _ in range(3):
            for mode in ("baseline", "agent"):
                out = subprocess.run(
                    [sys.executable, __file__, mode, str(directory)], capture_output=True, text=True, check=True
                )
                results[mode].append(json.loads(out.stdout))
    med = {m: {k: statistics.median(r[k] for r in rs) for k in ("cpu_s", "peak_mb")} for m, rs in results.items()}
    print(f"{GPUS:,} GPUs x {TICKS} ticks ({INTERVAL} s) = one simulated hour; medians of 3 runs")
    print(f"{'mode':<10} {'CPU s/hour':>11} {'peak MB':>9}")
    for mode, v in med.items():
        print(f"{mode:<10} {v['cpu_s']:>11.2f} {v['peak_mb']:>9.0f}")
    sizes = results["agent"][0]
    print(f"evidence per epoch: {sizes['evidence_mb']:.1f} MB (format 1: {sizes['evidence_v1_mb']:.1f} MB)")
    agent, base = med["agent"], med["baseline"]
    print(
        f"agent / baseline: CPU x{agent['cpu_s'] / base['cpu_s']:.1f}, memory x{agent['peak_mb'] / base['peak_mb']:.1f}"
    )
    print(
        f"target < 36 CPU-s/hour: {'met' if agent['cpu_s'] < 36 else 'NOT met'}; "
        f"target < 200 MB: {'met' if agent['peak_mb'] < 200 else 'NOT met'}"
    )
    out = Path("bench/results/agent.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(med, indent=2) + "\n")


if __name__ == "__main__":
    main()
