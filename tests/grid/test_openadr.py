"""Grid events end to end on loopback: a real openleadr VTN (TLS, signed messages) sends an event, the
agent's VEN receives it, attests it on chain, runs the curtailment command, and the epoch report carries it;
settlement charges the interruptible lessee nothing for the window and the firm lessee as usual."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from openleadr import OpenADRServer  # type: ignore[import-untyped]
from openleadr.utils import certificate_fingerprint  # type: ignore[import-untyped]
from web3 import Web3

from tests.helpers import now
from wellhead.agent.openadr import CurtailmentDesk, GridEventRejected, Ven, curtailment_in, parse_event
from wellhead.chain.client import Protocol, send
from wellhead.chain.connection import rpc
from wellhead.chain.eip712 import Report, sign_report
from wellhead.chain.grid import GridEvent, sign_grid_event
from wellhead.demo import Actors, Demo, EpochPlan
from wellhead.errors import ContractRevertError

VEN_ID = "ven-abilene-1"


def _cert(directory: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    crt, pem = directory / f"{name}.crt", directory / f"{name}.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return crt, pem


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Vtn:
    """A real openleadr VTN on its own loop thread, serving TLS; `signed=False` sends unsigned messages."""

    def __init__(self, certs: Path, signed: bool) -> None:
        self.port = _free_port()
        self.vtn_crt, self.vtn_key = _cert(certs, f"vtn{self.port}")
        self.ven_crt, self.ven_key = _cert(certs, f"ven{self.port}")
        ven_fp = certificate_fingerprint(self.ven_crt.read_text())
        self.fingerprint = certificate_fingerprint(self.vtn_crt.read_text())
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.responses: list[str] = []

        def lookup(ven_id: str) -> dict[str, str]:
            return {"ven_id": VEN_ID, "ven_name": "abilene", "fingerprint": ven_fp, "registration_id": "reg-1"}

        async def register(info: dict[str, Any]) -> tuple[str, str]:
            return VEN_ID, "reg-1"

        async def make() -> Any:
            server = OpenADRServer(
                vtn_id="ercot-vtn",
                http_host="127.0.0.1",
                http_port=self.port,
                http_cert=str(self.vtn_crt),
                http_key=str(self.vtn_key),
                http_ca_file=str(self.ven_crt),
                cert=str(self.vtn_crt) if signed else None,
                key=str(self.vtn_key) if signed else None,
                ven_lookup=lookup,
                requested_poll_freq=dt.timedelta(seconds=1),
            )
            server.add_handler("on_create_party_registration", register)
            await server.run()
            return server

        self.server = asyncio.run_coroutine_threadsafe(make(), self.loop).result(timeout=30)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/OpenADR2/Simple/2.0b"

    def add_event(self, event_id: str, starts_at: int, seconds: int) -> None:
        async def on_response(ven_id: str, event_id: str, opt_type: str) -> None:
            self.responses.append(opt_type)

        def add() -> None:
            self.server.add_event(
                ven_id=VEN_ID,
                signal_name="SIMPLE",
                signal_type="level",
                intervals=[
                    {
                        "dtstart": dt.datetime.fromtimestamp(starts_at, dt.UTC),
                        "duration": dt.timedelta(seconds=seconds),
                        "signal_payload": 1.0,
                    }
                ],
                callback=on_response,
                event_id=event_id,
            )

        self.loop.call_soon_threadsafe(add)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def certs(tmp_path: Path) -> Path:
    d = tmp_path / "certs"
    d.mkdir()
    return d


def _desk(
    w3: Web3, protocol: Protocol, actors: Actors, asset_id: int, tmp: Path, command: list[str]
) -> CurtailmentDesk:
    agent = actors.attestors[0]

    def declare(event: GridEvent, signature: bytes) -> None:
        send(w3, agent, protocol.grid.functions.declareEvent(event.as_tuple(), signature))

    return CurtailmentDesk(
        path=tmp / "grid-events.json",
        asset_id=asset_id,
        vtn_id="ercot-vtn",
        ven_id=VEN_ID,
        resource_id="TX-ABILENE-1",
        sign=lambda e: sign_grid_event(e, protocol.chain_id, protocol.grid.address, agent),
        declare=declare,
        command=command,
        clock=lambda: float(now(w3)),
    )


def _ven(vtn: Vtn, desk: CurtailmentDesk) -> Ven:
    ven = Ven(
        vtn.url,
        "abilene",
        VEN_ID,
        str(vtn.ven_crt),
        str(vtn.ven_key),
        str(vtn.vtn_crt),
        vtn.fingerprint,
        desk.on_event,
    )
    ven.start()
    return ven


def _wait(condition: Any, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def site(w3: Web3, protocol: Protocol, actors: Actors) -> Iterator[Demo]:
    demo = Demo(w3, protocol, actors)
    demo.fund()
    demo.register()
    yield demo


def test_vtn_event_curtails_interruptible_and_settles(
    w3: Web3, protocol: Protocol, actors: Actors, site: Demo, certs: Path, tmp_path: Path
) -> None:
    asset = site.asset_id
    leases = site.open_leases()  # firm 32 GPUs, interruptible 16 GPUs, from epoch 1
    epoch_start = site._epoch_end(0)
    # the grid operator calls a 15-minute event inside epoch 1; the VTN signs it, the VEN checks the signature
    rpc(w3, "evm_setNextBlockTimestamp", [epoch_start + 60])
    rpc(w3, "evm_mine", [])
    marker = tmp_path / "curtailed.txt"
    desk = _desk(w3, protocol, actors, asset, tmp_path, ["sh", "-c", f'echo "$WELLHEAD_EVENT_ID" > {marker}'])
    vtn = Vtn(certs, signed=True)
    ven = _ven(vtn, desk)
    try:
        vtn.add_event("EEA-2026-08-14-01", epoch_start + 1800, 900)
        assert _wait(lambda: desk.events()), f"no event accepted: {desk.rejected}"
        assert _wait(lambda: "optIn" in vtn.responses), "the VEN opted in"
    finally:
        ven.stop()
        vtn.close()
    (event,) = desk.events()
    assert marker.read_text().strip() == "ercot-vtn/EEA-2026-08-14-01", "the curtailment command ran"
    stored = protocol.grid.functions.eventOf(event.event_id).call()
    assert tuple(stored) == (asset, epoch_start + 1800, epoch_start + 2700, 0), "declared on chain as an OpenADR event"

    # the epoch report carries the event: 25 % of the epoch curtailed
    end = site._epoch_end(1)
    curtailed, grid_id = curtailment_in(desk.events(), end - 3600, end)
    assert (curtailed, grid_id) == (2_500, event.event_id)
    site._warp_to(site._epoch_end(0) + 1)
    site.report(EpochPlan(0, 10_000))  # epoch 0: before the leases start
    site._warp_to(end)
    reports, sigs = [], []
    for attestor in actors.attestors[:2]:
        r = Report(
            assetId=asset,
            epoch=1,
            uptimeBps=10_000,
            curtailedBps=curtailed,
            gridEventId=grid_id,
            gpuEnergyWh=30_000,
            facilityEnergyWh=36_000,
            evidenceHash=b"\x01" * 32,
        )
        reports.append(r.as_tuple())
        sigs.append(sign_report(r, protocol.chain_id, protocol.oracle.address, attestor))
    send(w3, actors.attestors[0], protocol.oracle.functions.submitReport(reports, sigs))
    window = protocol.registry.functions.protocolParams().call()[4]
    site._warp_to(end + window + 1)
    market = protocol.market.functions
    send(w3, actors.admin, market.finalizeEpochs(asset, 2))
    firm_refund, _ = market.refundable(leases["firm 32 GPUs"]).call()
    int_refund, _ = market.refundable(leases["interruptible 16 GPUs"]).call()
    int_rate = market.leaseOf(leases["interruptible 16 GPUs"]).call()[5]
    assert firm_refund == 0, "the firm lease is charged as usual"
    assert int_refund == int_rate // 4, "the interruptible lease is not charged for the 15 curtailed minutes"


def test_unsigned_vtn_messages_are_refused(
    w3: Web3, protocol: Protocol, actors: Actors, site: Demo, certs: Path, tmp_path: Path
) -> None:
    desk = _desk(w3, protocol, actors, site.asset_id, tmp_path, [])
    vtn = Vtn(certs, signed=False)
    ven = Ven(
        vtn.url, "abilene", VEN_ID, str(vtn.ven_crt), str(vtn.ven_key), str(vtn.vtn_crt), vtn.fingerprint, desk.on_event
    )
    try:
        ven.start()
        vtn.add_event("UNSIGNED-1", now(w3) + 60, 600)
        assert not _wait(lambda: desk.events(), seconds=4), "an unsigned event was acted on"
        assert not ven.registered, "no registration with a VTN whose messages are unsigned"
    finally:
        ven.stop()
        vtn.close()
    assert desk.events() == []


def _oadr(event_id: str, start: int, seconds: int, targets: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {
        "event_descriptor": {"event_id": event_id},
        "active_period": {
            "dtstart": dt.datetime.fromtimestamp(start, dt.UTC),
            "duration": dt.timedelta(seconds=seconds),
        },
        "targets": targets if targets is not None else [{"ven_id": VEN_ID}],
    }


def test_bad_grid_events_are_refused_with_a_reason() -> None:
    t = 1_800_000_000
    ok = parse_event(_oadr("E1", t, 600), "vtn", VEN_ID, "TX-1", now=t - 10)
    assert (ok.starts_at, ok.ends_at, ok.program_id) == (t, t + 600, "vtn/E1")
    cases = [
        (_oadr("E2", t, 600, [{"ven_id": "ven-elsewhere"}]), "for another site"),
        (_oadr("E3", t - 900, 600), "expired"),
        (_oadr("E4", t, 2 * 86_400), "lasts"),
        (_oadr("E5", t + 300, 600), "overlaps vtn/E1"),
        ({"event_descriptor": {}}, "without an event id"),
    ]
    for event, reason in cases:
        with pytest.raises(GridEventRejected, match=reason):
            parse_event(event, "vtn", VEN_ID, "TX-1", now=t - 10, accepted=[ok])
    # a resource target naming this site is ours; the VTN's repeat of an accepted event is the same event
    assert parse_event(_oadr("E6", t + 600, 60, [{"resource_id": "TX-1"}]), "vtn", VEN_ID, "TX-1", t).ends_at == t + 660
    assert parse_event(_oadr("E1", t, 600), "vtn", VEN_ID, "TX-1", t - 10, accepted=[ok]) is ok


def test_grid_event_for_another_site_is_not_declared(w3: Web3, protocol: Protocol, actors: Actors, site: Demo) -> None:
    """The agent of asset 1 signs an event; relayed in the name of another asset, the ledger refuses it."""
    other = Demo(w3, protocol, actors)
    other_id = other.register(attestors=[actors.lender.address], threshold=1)
    start = now(w3) + 60
    event = parse_event(_oadr("E9", start, 600), "vtn", VEN_ID, None, start - 60).grid_event(site.asset_id)
    signature = sign_grid_event(event, protocol.chain_id, protocol.grid.address, actors.attestors[0])
    relayed = event.model_copy(update={"asset_id": other_id})
    with pytest.raises(ContractRevertError) as err:
        send(w3, actors.admin, protocol.grid.functions.declareEvent(relayed.as_tuple(), signature))
    assert err.value.error == "GridUnauthorizedSigner"
    send(w3, actors.admin, protocol.grid.functions.declareEvent(event.as_tuple(), signature))
    with pytest.raises(ContractRevertError) as err:
        send(w3, actors.admin, protocol.grid.functions.declareEvent(event.as_tuple(), signature))
    assert err.value.error == "GridEventExists"


def test_python_grid_event_digest_matches_the_contract(protocol: Protocol) -> None:
    event = parse_event(_oadr("E10", 1_800_000_000, 600), "vtn", VEN_ID, None, 0).grid_event(1)
    from wellhead.chain.grid import digest

    assert protocol.grid.functions.hashEvent(event.as_tuple()).call() == digest(
        event, protocol.chain_id, protocol.grid.address
    )
