"""A site of many nodes: every GPU slotted by UUID from any number of collectors, against real exporters on
loopback sockets; duplicates, unknowns and unnamed series dropped and counted; hung peers inside one deadline."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import yaml

from tests.agent.test_collectors import FakeNvml
from tests.support.agent_env import PASSWORD, AgentEnv, make_env
from tests.support.chain import assert_one_line_error, run_cli
from tests.support.peers import TextServer
from tests.support.prometheus import PrometheusServer
from wellhead.agent.collectors import Collector, CollectorError
from wellhead.agent.collectors.dcgm import ECC_DBE, POWER, DcgmCollector, DcgmHealth, parse_dcgm, target_url
from wellhead.agent.collectors.nvml import NvmlCollector
from wellhead.agent.collectors.prometheus import PrometheusCollector
from wellhead.agent.config import AgentSettings
from wellhead.agent.inventory import GpuIdentity, Inventory, load_inventory_file, parse_inventory, site_inventory
from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.phases.sampling import Sampler
from wellhead.agent.samples import HEALTHY, MISSING, UNHEALTHY
from wellhead.core.errors import ConfigError
from wellhead.devkit.dcgm_fleet import ExporterFleet, gpu_uuid


@pytest.fixture
def fleet() -> Iterator[ExporterFleet]:
    f = ExporterFleet(6)  # 48 GPUs, node i at 300 + 10 i W plus the GPU's index
    yield f
    f.close()


def sampler(inventory: Inventory, collectors: list[Collector]) -> tuple[Sampler, AgentMetrics]:
    metrics = AgentMetrics()
    ctx = SimpleNamespace(
        metrics=metrics,
        inventory=inventory,
        terms=SimpleNamespace(gpus=len(inventory)),
        settings=SimpleNamespace(sample_interval=10),
        warn=lambda *a, **k: None,
    )
    return Sampler(ctx, collectors), metrics  # type: ignore[arg-type]


def shuffled(uuids: list[str], seed: int = 5) -> list[str]:
    out = list(uuids)
    random.Random(seed).shuffle(out)
    return out


def expected_power(inventory: Inventory) -> list[float]:
    """What each slot must read: the fake GPU its UUID names (node n, GPU g: 300 + 10 n + g W)."""
    out = []
    for gpu in inventory.gpus:
        node, g = int(gpu.uuid[4:12], 16), int(gpu.uuid[13:17], 16)
        out.append(300.0 + 10 * node + g)
    return out


def value(metrics: AgentMetrics, name: str, **labels: str) -> float:
    got = metrics.registry.get_sample_value(name, labels)
    return 0.0 if got is None else got


# ---------------------------------------------------------------- the inventory itself
def test_an_inventory_is_checked_at_start(tmp_path: Path) -> None:
    inv = parse_inventory(["GPU-a", {"uuid": "GPU-b", "serial": "1652", "node": "n1"}], "inventory")
    assert inv.gpus[1] == GpuIdentity("GPU-b", "1652", "n1")
    with pytest.raises(ConfigError, match="GPU-A is listed twice \\(slots 0 and 2\\)"):
        parse_inventory(["GPU-a", "GPU-b", "GPU-A"], "inventory")  # UUIDs compare without case
    with pytest.raises(ConfigError, match="lists 2 GPUs; the asset is registered with 3"):
        inv.check_count(3)
    with pytest.raises(ConfigError, match=r"inventory\[1\]: unknown field 'rack'"):
        parse_inventory(["GPU-a", {"uuid": "GPU-b", "rack": 4}], "inventory")
    with pytest.raises(ConfigError, match="cannot read inventory"):
        load_inventory_file(tmp_path / "none.yaml")
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump({"gpus": [f"GPU-{i}" for i in range(4)]}))
    settings: Any = SimpleNamespace(inventory_file=path, inventory=None)
    assert site_inventory(settings, 4).uuids == [f"GPU-{i}" for i in range(4)]
    with pytest.raises(ConfigError, match="registered with 5"):
        site_inventory(settings, 5)
    settings = SimpleNamespace(inventory_file=None, inventory=None)
    assert site_inventory(settings, 2).synthetic


def test_a_real_gpu_collector_needs_an_inventory(tmp_path: Path) -> None:
    from wellhead.agent.collectors import build_collectors

    settings = AgentSettings.model_validate(
        {
            "asset_id": 1,
            "deployment": str(tmp_path / "d.json"),
            "rpc_urls": ["http://127.0.0.1:8545"],
            "signer": {"keystore": {"keystore": "k", "password_env": "P"}},
            "collectors": [{"type": "dcgm", "targets": ["127.0.0.1:9400"]}],
        }
    )
    terms: Any = SimpleNamespace(gpus=8)
    with pytest.raises(ConfigError, match="list the asset's 8 GPUs"):
        build_collectors(settings, terms, Inventory.synthetic_for(8))
    (dcgm,) = build_collectors(settings, terms, parse_inventory([f"GPU-{i}" for i in range(8)], "inventory"))
    assert isinstance(dcgm, DcgmCollector)
    dcgm.close()


# ---------------------------------------------------------------- many nodes, many collectors
def test_every_gpu_of_every_node_lands_in_its_slot(fleet: ExporterFleet) -> None:
    inventory = Inventory([GpuIdentity(u) for u in shuffled(fleet.uuids)])  # slot order is not node order
    # one collector per node, as a site that lists its exporters one by one would configure it
    per_node = [DcgmCollector(targets=[url]) for url in fleet.urls]
    s, metrics = sampler(inventory, list(per_node))
    try:
        tick = s.collect(0).gpus
        assert tick is not None and tick.missing_count() == 0, "all 48 GPUs of 6 nodes attributed"
        assert tick.power_w.tolist() == expected_power(inventory), "each reading in the slot its UUID names"
        assert value(metrics, "wellhead_agent_gpus_unattributed") == 0
    finally:
        for c in per_node:
            c.close()
    # the same through one collector for the whole fleet
    one = DcgmCollector(targets=fleet.urls)
    s, _ = sampler(inventory, [one])
    try:
        tick = s.collect(10).gpus
        assert tick is not None and tick.power_w.tolist() == expected_power(inventory)
    finally:
        one.close()


def test_two_sources_of_one_gpu_the_first_configured_wins_whole(fleet: ExporterFleet) -> None:
    """Host NVML on node 0 (listed first) and the fleet's DCGM exporters read node 0's GPUs both: NVML
    supplies all of their values; a GPU NVML cannot read is filled, whole, from DCGM."""
    inventory = Inventory([GpuIdentity(u) for u in fleet.uuids])
    nv = FakeNvml(8)
    nv.nvmlDeviceGetUUID = lambda h: gpu_uuid(0, h)  # type: ignore[method-assign]
    nv.lost.add(3)  # NVML lost GPU 3 of node 0
    host = NvmlCollector(nvml=nv)  # type: ignore[arg-type]
    dcgm = DcgmCollector(targets=fleet.urls)
    s, _ = sampler(inventory, [host, dcgm])
    try:
        tick = s.collect(0).gpus
        assert tick is not None and tick.missing_count() == 0
        nvml_power = nv.nvmlDeviceGetPowerUsage(0) / 1000
        assert tick.power_w[:8].tolist() == [nvml_power] * 3 + [303.0] + [nvml_power] * 4
        assert tick.energy_mj[3] != nv.nvmlDeviceGetTotalEnergyConsumption(3), "GPU 3 came whole from DCGM"
        assert tick.power_w[8:].tolist() == expected_power(inventory)[8:]
    finally:
        dcgm.close()


def test_unknown_duplicate_and_unnamed_gpus_are_dropped_and_counted(fleet: ExporterFleet) -> None:
    fleet.nodes[1].mode = "no_uuid"  # an exporter configured without the UUID label
    fleet.nodes[2].uuids = list(fleet.nodes[3].uuids)  # two nodes claim the same GPUs: neither is believed
    fleet.set_page_dirty()
    listed = [u for n in fleet.nodes if n.index not in (1, 2, 5) for u in n.uuids]
    listed += [gpu_uuid(1, g) for g in range(8)] + [f"GPU-not-installed-{i}" for i in range(8)]
    inventory = Inventory([GpuIdentity(u) for u in listed])  # node 5's GPUs are not the asset's
    dcgm = DcgmCollector(targets=fleet.urls)
    s, metrics = sampler(inventory, [dcgm])
    try:
        tick = s.collect(0).gpus
        assert tick is not None
        read = {inventory.gpus[i].uuid for i in np.nonzero(tick.health == HEALTHY)[0]}
        assert read == {u for n in (0, 4) for u in fleet.nodes[n].uuids}
        assert tick.missing_count() == 24  # node 1 (no UUID), node 3 (duplicated), 8 never installed
        errors = {
            k: value(metrics, "wellhead_agent_inventory_errors_total", collector="dcgm", kind=k)
            for k in ("unknown", "duplicate", "no_uuid")
        }
        assert errors == {"unknown": 8, "duplicate": 8, "no_uuid": 8}
        assert value(metrics, "wellhead_agent_gpus_unattributed") == 24
    finally:
        dcgm.close()


def test_hung_slow_and_broken_exporters_cost_one_deadline(fleet: ExporterFleet) -> None:
    fleet.nodes[1].mode = "hang"
    fleet.nodes[2].mode = "slow"
    fleet.nodes[3].mode = "malformed"
    fleet.nodes[4].mode = "down"
    inventory = Inventory([GpuIdentity(u) for u in fleet.uuids])
    dcgm = DcgmCollector(targets=fleet.urls, deadline=1.0)
    s, metrics = sampler(inventory, [dcgm])
    try:
        started = time.monotonic()
        tick = s.collect(0).gpus
        took = time.monotonic() - started
        # a serial scrape with a 3 s timeout per peer took 6 s or more here; one deadline bounds the pass
        assert took < 2.5, f"the pass took {took:.1f} s for a 1 s deadline"
        assert tick is not None
        healthy = set(np.nonzero(tick.health == HEALTHY)[0].tolist())
        assert healthy == set(range(0, 8)) | set(range(40, 48)), "only nodes 0 and 5 answered well"
        assert np.all(tick.health[8:40] == MISSING) and np.all(np.isnan(tick.power_w[8:40]))
        assert value(metrics, "wellhead_agent_target_failures_total", collector="dcgm") == 4
    finally:
        dcgm.close()


# ---------------------------------------------------------------- through the site's Prometheus
def test_prometheus_reads_every_gpu_by_uuid_and_stale_series_are_missing(tmp_path: Path, fleet: ExporterFleet) -> None:
    """A real Prometheus (TLS, basic auth) scraping the fleet's exporters every second."""
    fleet.nodes[5].mode = "no_uuid"  # an exporter without the UUID label: its series cannot be slotted
    prom = PrometheusServer(
        tmp_path / "prom", [u[len("http://") : -len("/metrics")] for u in fleet.urls], password="s3"
    )
    password = tmp_path / "prom-password"
    password.write_text("s3\n")
    inventory = Inventory([GpuIdentity(u) for u in shuffled(fleet.uuids)])
    collector = PrometheusCollector(
        url=prom.url, max_age=3.0, username="wellhead", password_file=password, ca_file=prom.cert
    )
    s, metrics = sampler(inventory, [collector])
    try:
        prom.wait_for_targets(6)
        tick = s.collect(0).gpus
        assert tick is not None
        node5 = [i for i, g in enumerate(inventory.gpus) if g.uuid in fleet.nodes[5].uuids]
        served = np.ones(48, dtype=bool)
        served[node5] = False
        assert np.all(tick.health[served] == HEALTHY) and np.all(tick.health[~served] == MISSING)
        assert tick.power_w[served].tolist() == np.array(expected_power(inventory))[served].tolist()
        assert value(metrics, "wellhead_agent_inventory_errors_total", collector="prometheus", kind="no_uuid") == 1
        # node 4 goes down: once its last sample is older than max_age (3 s), its GPUs are missing, not repeated
        fleet.nodes[4].mode = "down"
        node4 = [i for i, g in enumerate(inventory.gpus) if g.uuid in fleet.nodes[4].uuids]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            tick = s.collect(10).gpus
            assert tick is not None
            if np.all(tick.health[node4] == MISSING):
                break
            time.sleep(0.5)
        assert tick is not None and np.all(tick.health[node4] == MISSING), "a stale series counted as read"
        assert tick.missing_count() == 16
        # a rotated password the agent does not have yet (an expired credential): refused, the sample is missing
        password.write_text("old")
        tick = s.collect(20).gpus
        assert tick is not None and tick.missing_count() == 48
        assert value(metrics, "wellhead_agent_collector_errors_total", collector="prometheus") == 1
        assert value(metrics, "wellhead_agent_samples_missing_total", collector="prometheus") >= 48
        # and a server whose certificate the agent does not trust is not read
        untrusted = PrometheusCollector(url=prom.url, username="wellhead", password_file=password)
        with pytest.raises(CollectorError, match="SSLError"):
            untrusted.collect(0)
    finally:
        collector.close()
        prom.close()


def test_prometheus_bad_answers_are_collector_errors() -> None:
    server = TextServer('{"status": "success", "data": {"resultType": "matrix", "result": []}}')
    try:
        with pytest.raises(CollectorError, match="malformed"):
            PrometheusCollector(url=server.url).collect(0)
        server.body = '{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}}]}}'
        with pytest.raises(CollectorError, match="malformed series"):
            PrometheusCollector(url=server.url).collect(0)
        server.body = "<html>not json</html>"
        with pytest.raises(CollectorError, match="malformed"):
            PrometheusCollector(url=server.url).collect(0)
        server.status = 401
        with pytest.raises(CollectorError, match="HTTP 401"):
            PrometheusCollector(url=server.url).collect(0)
    finally:
        server.close()
    assert PrometheusCollector(url="http://x", max_age=10, selector='cluster="a"').query("DCGM_FI_DEV_GPU_UTIL") == (
        'max by (UUID) (last_over_time(DCGM_FI_DEV_GPU_UTIL{cluster="a"}[10000ms]))'
    )


# ---------------------------------------------------------------- the agent, on a chain, at a two-node site
@pytest.fixture
def env16(tmp_path: Path) -> Iterator[AgentEnv]:
    e = make_env(tmp_path, gpus=16, attestors=1)
    yield e
    e.close()


def test_a_two_node_site_reports_every_gpu_and_check_config_checks_online(env16: AgentEnv, tmp_path: Path) -> None:
    fleet = ExporterFleet(2)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump([{"uuid": u, "node": f"node{i // 8}"} for i, u in enumerate(fleet.uuids)]))
    site = {"collectors": [{"type": "dcgm", "targets": fleet.urls, "deadline": 2}], "inventory_file": str(inventory)}
    password = {"AGENT_TEST_PASSWORD": PASSWORD}
    try:
        # check-config, online: the deployment, the chain, the asset and the inventory's count are checked
        proc = run_cli("agent", "check-config", "--config", str(env16.config(0, **site)), env=password)
        assert proc.returncode == 0, proc.stderr
        summary = json.loads(proc.stdout)
        assert summary["registered_gpus"] == 16 and summary["inventory"] == "16 GPUs by UUID"
        inventory.write_text(yaml.safe_dump(fleet.uuids[:15]))
        bad: list[tuple[dict[str, Any], str]] = [
            ({}, "inventory lists 15 GPUs; the asset is registered with 16"),
            ({"deployment": str(tmp_path / "none.json")}, "no deployment record"),
            ({"rpc_urls": ["http://127.0.0.1:9"]}, "none of 1 RPC URLs answered"),
            ({"asset_id": 99}, "asset 99 is not registered"),
            ({"pue_band": [2.5, 1.0]}, "pue_band"),
        ]
        for change, needle in bad:
            proc = run_cli(
                "agent", "check-config", "--config", str(env16.config(0, **{**site, **change})), env=password
            )
            assert_one_line_error(proc, needle)
        inventory.write_text(yaml.safe_dump(fleet.uuids))
        # the agent measures both nodes: all 16 GPUs in every sample of the epoch it reports
        agent = env16.agent(0, **site)
        for before_end in (35, 25):
            env16.warp_to(env16.epoch_end(0) - before_end)
            agent.step()
            tick = list(agent.store.ticks(0, 2**62))[-1]
            assert tick.gpus is not None and tick.gpus.missing_count() == 0
            assert tick.gpus.power_w.tolist() == [300.0 + g for g in range(8)] + [310.0 + g for g in range(8)]
        env16.warp_to(env16.epoch_end(0) + 10)
        env16.run_until([agent], lambda: agent.store.report(env16.asset_id, 0) is not None, steps=50)
        row = agent.store.report(env16.asset_id, 0)
        assert row is not None and row.measurement is not None
        assert row.measurement["expected_gpu_slots"] == 16 * 6
        # every slot sampled (chain time jumps; a live collector reads only "now") has all 16 GPUs healthy
        sampled = int(str(row.measurement["sampled_slots"]))
        assert sampled >= 2 and row.measurement["healthy_gpu_slots"] == 16 * sampled
    finally:
        fleet.close()


def test_an_inventory_that_does_not_match_the_asset_stops_the_agent_at_start(env16: AgentEnv, tmp_path: Path) -> None:
    agent = env16.agent(0, inventory=[f"GPU-{i}" for i in range(8)])
    with pytest.raises(ConfigError, match="inventory lists 8 GPUs; the asset is registered with 16"):
        agent.step()


# ---------------------------------------------------------------- NVML on every host, served as DCGM pages
def test_hosts_reading_nvml_serve_dcgm_pages_the_agent_scrapes_all_of() -> None:
    from wellhead.agent.exporter import serve

    hosts = []
    for node in range(3):
        nv = FakeNvml(8)
        nv.nvmlDeviceGetUUID = lambda h, n=node: gpu_uuid(n, h)  # type: ignore[method-assign, misc]
        nv.lost.add(node)  # each host has lost one GPU: NVML cannot read it
        hosts.append(serve(NvmlCollector(nvml=nv), "127.0.0.1", 0, hostname=f"host{node}"))  # type: ignore[arg-type]
    uuids = [gpu_uuid(n, g) for n in range(3) for g in range(8)]
    inventory = Inventory([GpuIdentity(u) for u in shuffled(uuids)])
    dcgm = DcgmCollector(targets=[target_url(f"127.0.0.1:{port}") for _server, port in hosts])
    s, _ = sampler(inventory, [dcgm])
    try:
        tick = s.collect(0).gpus
        assert tick is not None and tick.missing_count() == 3, "24 GPUs on 3 hosts, the 3 lost ones missing"
        lost = {gpu_uuid(n, n) for n in range(3)}
        for slot, gpu in enumerate(inventory.gpus):
            assert (tick.health[slot] == MISSING) == (gpu.uuid in lost), gpu.uuid
        assert np.nanmax(tick.power_w) == np.nanmin(tick.power_w) == 650.0  # FakeNvml's 650 W, in every slot read
    finally:
        dcgm.close()
        for server, _port in hosts:
            server.shutdown()  # type: ignore[attr-defined]


def test_the_exporter_without_a_driver_is_one_line() -> None:
    assert_one_line_error(run_cli("agent", "exporter", "--listen", "127.0.0.1:0"), "NVML unavailable")
    assert_one_line_error(run_cli("agent", "exporter", "--listen", "nowhere"), "give host:port")


# ---------------------------------------------------------------- what an exporter may throw at the agent
GPU_A = 'gpu="0",UUID="GPU-aaaa",Hostname="n1"'


def a_page(extra: str = "") -> str:
    return f"DCGM_FI_DEV_POWER_USAGE{{{GPU_A}}} 500\nDCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{{GPU_A}}} 1000\n" + extra


def test_one_gpu_twice_on_a_page_is_dropped_not_merged() -> None:
    """A MIG exporter repeats the parent's UUID: the last series winning would hide XID 43 behind a 0."""
    text = a_page(
        'DCGM_FI_DEV_XID_ERRORS{gpu="0",UUID="GPU-aaaa"} 43\nDCGM_FI_DEV_XID_ERRORS_total{gpu="7",UUID="GPU-aaaa"} 0\n'
    )
    tick = DcgmHealth().tick(parse_dcgm(text))
    placed = Inventory([GpuIdentity("GPU-aaaa")]).slot_map(tick.uuids)
    assert placed.duplicate == 1 and list(placed.slots) == [-1, -1]


@pytest.mark.parametrize("value", ["-Inf", "+Inf", "-1e30", "NaN"])
def test_a_value_no_instrument_reads_is_missing_and_never_stops_the_sampler(value: str) -> None:
    good = TextServer(a_page())
    bad = TextServer(f'DCGM_FI_DEV_POWER_USAGE{{UUID="GPU-bbbb"}} 1\nDCGM_FI_DEV_GPU_UTIL{{UUID="GPU-bbbb"}} {value}\n'
                     f'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{UUID="GPU-bbbb"}} {value}\n')  # fmt: skip
    dcgm = DcgmCollector(targets=[good.url + "/metrics", bad.url + "/metrics"], deadline=2)
    s, _ = sampler(Inventory([GpuIdentity("GPU-aaaa"), GpuIdentity("GPU-bbbb")]), [dcgm])
    try:
        tick = s.collect(0).gpus
        assert tick is not None and tick.health[0] == HEALTHY
        assert tick.energy_mj[1] == -1 and tick.util_pct[1] == -1, "never a number the GPU did not report"
    finally:
        dcgm.close()
        good.close()
        bad.close()


def test_ecc_growth_is_seen_whatever_case_the_uuid_comes_in() -> None:
    health = DcgmHealth()
    health.tick({"GPU-AAAA": {POWER: 500.0, ECC_DBE: 0.0}})
    assert health.tick({"gpu-aaaa": {POWER: 500.0, ECC_DBE: 5.0}}).health[0] == UNHEALTHY


def test_label_values_with_braces_or_commas_keep_the_uuid_and_inject_none() -> None:
    assert list(parse_dcgm('DCGM_FI_DEV_POWER_USAGE{gpu="0",pod="job-{7}",UUID="GPU-aaaa"} 500\n')) == ["GPU-aaaa"]
    injected = 'DCGM_FI_DEV_POWER_USAGE{pod="a,UUID=\\"GPU-zzzz\\"",gpu="2"} 3\n'
    assert list(parse_dcgm(injected)) == ["#2"]


def test_bad_targets_and_labels_are_config_errors(tmp_path: Path) -> None:
    from wellhead.agent.collectors.dcgm import from_config
    from wellhead.agent.config import DcgmConfig, PrometheusConfig

    terms: Any = SimpleNamespace(gpus=1)
    with pytest.raises(ConfigError, match="not a URL"):
        from_config(DcgmConfig(type="dcgm", targets=["node7:99999"]), terms, Inventory.synthetic_for(1))
    with pytest.raises(ValueError, match="uuid_label"):
        PrometheusConfig(type="prometheus", url="http://p:9090", uuid_label="UUID) (vector(1)) or max by (UUID")


def test_a_compressed_or_oversized_page_is_refused() -> None:
    import gzip

    server = TextServer(a_page())
    dcgm = DcgmCollector(targets=[server.url + "/metrics"], deadline=2)
    try:
        server.body = a_page("# " + "x" * (3 * 1024 * 1024) + "\n")  # over the 2 MiB page limit
        with pytest.raises(CollectorError, match="larger than"):
            dcgm.collect(0)
        server.body = gzip.compress(a_page().encode())
        server.headers["Content-Encoding"] = "gzip"  # though the agent asked for identity
        with pytest.raises(CollectorError, match="compressed"):
            dcgm.collect(0)
    finally:
        dcgm.close()
        server.close()


def test_a_prometheus_answering_a_byte_at_a_time_costs_one_deadline() -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Drip(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for b in body[:40]:
                try:
                    self.wfile.write(bytes([b]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.1)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    collector = PrometheusCollector(url=f"http://127.0.0.1:{httpd.server_address[1]}", timeout=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(CollectorError, match="deadline"):
            collector.collect(0)
        assert time.monotonic() - started < 1.5, "a 4 s drip held the pass"
    finally:
        collector.close()
        httpd.shutdown()


def test_fetchers_release_their_sockets() -> None:
    from wellhead.agent.collectors.scrape import ConcurrentFetcher

    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        fetcher = ConcurrentFetcher()
        fetcher.fetch_all([], lambda url, body: body, 1.0)
        fetcher.close()
    assert len(os.listdir("/proc/self/fd")) - before < 5


def test_the_exporter_serves_state_so_a_second_scraper_steals_nothing() -> None:
    import urllib.request

    from wellhead.agent.exporter import serve

    nv = FakeNvml(2)
    server, port = serve(NvmlCollector(nvml=nv), "127.0.0.1", 0, hostname="h")  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{port}/metrics"
    agent = DcgmCollector(targets=[url], deadline=3)
    try:
        agent.collect(0)
        nv.events.append(SimpleNamespace(eventType=8, device=1, eventData=79))  # XID 79 on GPU 1
        nv.ecc[0] = 4  # double-bit ECC errors on GPU 0
        urllib.request.urlopen(url, timeout=5).read()  # the site's Prometheus scrapes the same exporter first
        tick = agent.collect(10).gpus
        assert tick is not None
        assert dict(zip(tick.uuids, tick.health.tolist(), strict=True)) == {"GPU-0": UNHEALTHY, "GPU-1": UNHEALTHY}
    finally:
        agent.close()
        server.shutdown()  # type: ignore[attr-defined]
