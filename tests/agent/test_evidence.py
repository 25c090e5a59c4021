"""Evidence: a compact file that decodes to every raw reading, kept within retention, uploaded to a real
S3-compatible server (moto on loopback), and served by the gateway from there after checking its hash."""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.support.agent_env import AgentEnv
from tests.support.peers import S3Server
from wellhead.agent.aggregate import EpochWindow, aggregate
from wellhead.agent.evidence import encode_evidence, read_evidence, write_evidence
from wellhead.agent.metrics import AgentMetrics
from wellhead.agent.phases.evidence import EvidenceKeeper, Uploader
from wellhead.agent.store import AgentStore
from wellhead.agent.terms import SiteTerms
from wellhead.devkit.collectors.simulated import SimulatedSite


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    server = S3Server()
    yield server
    server.close()


def simulated_epoch(gpus: int = 16) -> tuple[EpochWindow, object]:
    site = SimulatedSite(seed=4, gpus=gpus, fault_rate=0.3, dark_rate=1.0)
    window = EpochWindow(1, 0, 1_700_000_400, 1_700_004_000, 10, gpus, 700)
    ticks = [site.collect(ts) for ts in range(window.start - 10, window.end, 10)]
    from wellhead.agent.samples import Tick

    agg = aggregate(
        window, [Tick(ts=window.start - 10 + 10 * i, gpus=r.gpus, meter=r.meter) for i, r in enumerate(ticks)]
    )
    return window, agg


def test_the_compact_file_decodes_to_every_reading() -> None:
    window, agg = simulated_epoch()
    uuids = [f"GPU-{i}" for i in range(16)]
    data = encode_evidence(agg, window, uuids, {"agent": "0xabc"})  # type: ignore[arg-type]
    ev = read_evidence(data)
    assert ev.manifest["format"] == "wellhead-evidence/2" and ev.manifest["gpus"] == uuids
    assert np.array_equal(ev.energy_mj, agg.energy_mj), "counters exact, missing (-1) included"  # type: ignore[attr-defined]
    assert np.array_equal(ev.health, agg.health) and np.array_equal(ev.meter_wh, agg.meter_wh)  # type: ignore[attr-defined]
    assert np.array_equal(np.isnan(ev.power_w), np.isnan(agg.power_w))  # type: ignore[attr-defined]
    assert np.nanmax(np.abs(ev.power_w - agg.power_w)) <= 0.05 + 1e-4, "power to 0.1 W"  # type: ignore[attr-defined]
    assert (agg.health == -1).any() and (agg.energy_mj == -1).any(), "the epoch had a dark node"  # type: ignore[attr-defined]
    # format 1 files (float power, raw counters, slot-major) still decode
    buffer = io.BytesIO()
    manifest = json.dumps({"format": "wellhead-evidence/1"}).encode()
    np.savez_compressed(buffer, manifest=np.frombuffer(manifest, dtype=np.uint8), ts=agg.ts, power_w=agg.power_w,  # type: ignore[attr-defined]
                        energy_mj=agg.energy_mj, health=agg.health, meter_wh=agg.meter_wh, mining_wh=agg.mining_wh,  # type: ignore[attr-defined]
                        generator_wh=agg.generator_wh)  # type: ignore[attr-defined]  # fmt: skip
    old = read_evidence(buffer.getvalue())
    assert np.array_equal(old.energy_mj, agg.energy_mj)  # type: ignore[attr-defined]
    assert len(data) < len(buffer.getvalue()), "format 2 is smaller"


def test_retention_keeps_the_newest_and_anything_still_challengeable(tmp_path: Path) -> None:
    store = AgentStore(tmp_path / "agent.sqlite")
    for epoch in range(5):
        store.record_evidence(f"{epoch:064x}", epoch, epoch_end=100 * (epoch + 1))
    # epochs 0..4 ended at 100..500; those that ended before 300 may go, keeping the newest 2 in any case
    assert store.evidence_past_retention(2, closed_before=300, need_upload=False) == [f"{0:064x}", f"{1:064x}"]
    assert store.evidence_past_retention(2, closed_before=301, need_upload=False) == [f"{e:064x}" for e in (0, 1, 2)]
    assert store.evidence_past_retention(4, closed_before=10_000, need_upload=False) == [f"{0:064x}"]
    assert store.evidence_past_retention(1, closed_before=10_000, need_upload=True) == [], "not uploaded: kept"
    store.mark_evidence(f"{1:064x}", uploaded=True)
    assert store.evidence_past_retention(1, closed_before=10_000, need_upload=True) == [f"{1:064x}"]
    assert store.evidence_not_uploaded(10) == [f"{e:064x}" for e in (4, 3, 2, 0)], "newest first"
    assert store.evidence_not_uploaded(2, exclude={f"{4:064x}"}) == [f"{e:064x}" for e in (3, 2)]
    store.mark_evidence(f"{0:064x}", removed=True)
    assert store.evidence_not_uploaded(10) == [f"{e:064x}" for e in (4, 3, 2)], "a removed file is not uploaded"
    store.close()


def test_evidence_is_uploaded_bounded_locally_and_served_from_the_bucket(
    env: AgentEnv, s3: S3Server, tmp_path: Path
) -> None:
    from wellhead.chain.deployment import Deployment
    from wellhead.core.objectstore import S3Location
    from wellhead.gateway.app import create_app
    from wellhead.gateway.db import engine_for, migrate, session_factory
    from wellhead.gateway.index.indexer import Indexer
    from wellhead.gateway.services import Services

    location = {"bucket": s3.bucket, "endpoint_url": s3.url, "region": "us-east-1", "prefix": "site-a/"}
    agent = env.agent(0, evidence={"keep_epochs": 1, "upload": location})
    for epoch in range(3):
        env.warp_to(env.epoch_end(epoch) + 10)
        env.run_until([agent], lambda: env.report_on_chain(epoch).exists)  # noqa: B023 (called at once)
    env.run_until([agent], lambda: agent.metrics.evidence_uploads._value.get() == 3)
    local = sorted(p.name for p in agent.s.evidence_dir.glob("*.npz"))
    assert len(local) == 3, "nothing removed while its report may still be challenged"
    assert s3.keys() == sorted(f"site-a/{name}" for name in local)
    # past the report deadline, the challenge window and the dispute deadline, the three files (uploaded, and no
    # longer the newest) leave the site; the epochs measured since stay until their reports are beyond dispute
    params = env.protocol.registry.functions.protocolParams().call()
    env.warp_to(env.epoch_end(2) + params.reportDeadline + params.challengeWindow + params.disputeDeadline + 1)
    agent.step()
    kept = sorted(p.name for p in agent.s.evidence_dir.glob("*.npz"))
    assert not set(local) & set(kept) and kept, "the old files removed, the new ones kept"
    assert agent.metrics.evidence_removed._value.get() == 3

    # the gateway serves a removed file from the bucket, after checking it against its hash
    url = f"sqlite:///{tmp_path / 'gateway.sqlite'}"
    migrate(url)
    sessions = session_factory(engine_for(url))
    deployment = Deployment.load(env.deployment_path)
    Indexer(env.w3, deployment, sessions, confirmations=0).sync()
    services = Services.build(
        sessions, env.w3, deployment, domain="testserver", evidence_s3=S3Location.model_validate(location)
    )
    client = TestClient(create_app(services))
    gone = next(name for name in local if name not in kept).removesuffix(".npz")
    served = client.get(f"/api/v1/evidence/{gone}")
    assert served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == gone
    assert read_evidence(served.content).manifest["measurement"]["epoch"] in (0, 1, 2)
    s3.client().put_object(Bucket=s3.bucket, Key=f"site-a/{gone}.npz", Body=b"swapped in the bucket")
    tampered = client.get(f"/api/v1/evidence/{gone}")
    assert tampered.status_code == 502 and tampered.json()["code"] == "evidence_corrupt"
    s3.close()
    down = client.get(f"/api/v1/evidence/{gone}")
    assert down.status_code == 503 and down.json()["code"] == "evidence_store_unavailable"


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    import resource
    import signal

    window, agg = simulated_epoch(64)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, hard))  # the disk is full after 20 kB
    try:
        for _ in range(3):  # the epoch closer tries again every pass
            with pytest.raises(OSError):
                write_evidence(agg, window, tmp_path, {})  # type: ignore[arg-type]
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)
    assert list(tmp_path.iterdir()) == []


def test_power_above_any_small_integer_is_kept() -> None:
    window, agg = simulated_epoch(4)
    agg.power_w[0, 0] = 4_000.0  # type: ignore[attr-defined]  # a GB300-class board at full load and more
    assert read_evidence(encode_evidence(agg, window, [], {})).power_w[0, 0] == 4_000.0  # type: ignore[arg-type]


class RecordingBucket:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def put(self, digest: str, data: bytes) -> None:
        self.keys.append(digest)


def keeper(tmp_path: Path, store: AgentStore, uploader: Uploader | None, keep: int = 1) -> EvidenceKeeper:
    terms = SiteTerms(0, 3600, 8, 700, 0, (), report_deadline=100, challenge_window=600, challenge_bond=0,
                      decimals=6, dispute_deadline=3_000)  # fmt: skip
    ctx: Any = SimpleNamespace(
        store=store,
        metrics=AgentMetrics(),
        warn=lambda *a, **k: None,
        terms=terms,
        settings=SimpleNamespace(evidence=SimpleNamespace(keep_epochs=keep), evidence_dir=tmp_path),
    )
    return EvidenceKeeper(ctx, uploader)


def test_evidence_stays_while_its_report_may_be_under_arbitration(tmp_path: Path) -> None:
    store = AgentStore(tmp_path / "a.sqlite")
    for epoch, end in ((0, 1_000), (1, 2_000)):
        (tmp_path / f"{epoch:064x}.npz").write_bytes(b"x")
        store.record_evidence(f"{epoch:064x}", epoch, end)
    k = keeper(tmp_path, store, None)
    # a report may come 100 s after the end, be challenged 600 s after that, and be arbitrated for 3,000 s
    k.run(now=1_000 + 100 + 600 + 3_000)
    assert (tmp_path / f"{0:064x}.npz").exists(), "removed while a challenge could still be under arbitration"
    k.run(now=1_000 + 100 + 600 + 3_000 + 1)
    assert not (tmp_path / f"{0:064x}.npz").exists() and (tmp_path / f"{1:064x}.npz").exists()
    store.close()


def test_files_that_can_never_upload_hold_up_no_others(tmp_path: Path) -> None:
    store = AgentStore(tmp_path / "a.sqlite")
    for epoch in range(100):  # lost locally (a replaced disk): they can never be uploaded
        store.record_evidence(f"{epoch:064x}", epoch, 10 * epoch)
    data = b"real evidence"
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / f"{digest}.npz").write_bytes(data)
    store.record_evidence(digest, 100, 1_010)
    bucket = RecordingBucket()
    uploader = Uploader(bucket, tmp_path)  # type: ignore[arg-type]
    k = keeper(tmp_path, store, uploader)
    try:
        for _ in range(20):
            k.run(now=0)
            if digest in bucket.keys:
                break
            time.sleep(0.1)
    finally:
        uploader.close()
    assert digest in bucket.keys
    store.close()


def test_a_bad_local_copy_does_not_hide_the_good_one_in_the_bucket(tmp_path: Path) -> None:
    from wellhead.gateway.api.routes.reports import get_evidence
    from wellhead.gateway.problems import Problem

    data = b"the real evidence file"
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / f"{digest}.npz").write_bytes(b"bit-rotted")
    known: Any = SimpleNamespace(scalar=lambda query: 1)
    good: Any = SimpleNamespace(evidence_dirs=(tmp_path,), evidence_bucket=SimpleNamespace(get=lambda d: data))
    assert get_evidence(known, good, "0x" + digest).body == data
    bad: Any = SimpleNamespace(evidence_dirs=(tmp_path,), evidence_bucket=SimpleNamespace(get=lambda d: b"also bad"))
    with pytest.raises(Problem) as err:
        get_evidence(known, bad, digest)
    assert err.value.status == 502
