"""A grid operator's OpenADR 2.0b VTN on loopback (openleadr), for the devnet and the tests.

It signs its messages with its own certificate, serves TLS, and sends curtailment events to one VEN: the
site agent's. `make demo` runs one so that a grid event reaches the agents the way it would at a site.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from openleadr import OpenADRServer  # type: ignore[import-untyped]
from openleadr.utils import certificate_fingerprint  # type: ignore[import-untyped]

from wellhead.agent.config import OpenAdrConfig
from wellhead.devkit.anvil import free_port

VTN_ID = "ercot-vtn"
VEN_ID = "ven-abilene-1"


def self_signed_cert(directory: Path, name: str) -> tuple[Path, Path]:
    """A throwaway RSA certificate for 127.0.0.1 and its key, as PEM files."""
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


class LoopbackVtn:
    """A real openleadr VTN (OpenADR 2.0b server) on loopback, on its own event loop thread, serving TLS to
    one VEN (`VEN_ID`) with certificates it makes in `certs`; `signed=False` sends its messages unsigned."""

    def __init__(self, certs: Path, signed: bool = True) -> None:
        self.port = free_port()
        self.vtn_crt, self.vtn_key = self_signed_cert(certs, f"vtn{self.port}")
        self.ven_crt, self.ven_key = self_signed_cert(certs, f"ven{self.port}")
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
                vtn_id=VTN_ID,
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

    def ven_config(self, curtail_command: list[str] | None = None) -> OpenAdrConfig:
        """What the site agent needs to be this VTN's VEN."""
        return OpenAdrConfig(
            vtn_url=self.url,
            vtn_id=VTN_ID,
            vtn_fingerprint=self.fingerprint,
            ca_file=self.vtn_crt,
            ven_name="abilene",
            ven_id=VEN_ID,
            cert=self.ven_crt,
            key=self.ven_key,
            curtail_command=curtail_command or [],
        )

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
