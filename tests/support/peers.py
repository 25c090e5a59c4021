"""Real protocol peers on loopback for the agent's tests: an HTTP text server (DCGM exporter), sushy-static
(Redfish, over HTTPS), and a pymodbus server holding a SunSpec meter image laid out from the standard's
model definitions (the OpenADR VTN is `wellhead.devkit.gridsim`, which the devnet runs too)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ServerStop, StartAsyncTcpServer

from wellhead.agent.collectors.sunspec import point_offsets
from wellhead.devkit.anvil import free_port


class TextServer:
    """Serves `self.body` with `self.status` at any path (a DCGM exporter, or a broken BMC)."""

    def __init__(self, body: str | bytes = "", status: int = 200, content_type: str = "text/plain") -> None:
        self.body, self.status, self.content_type = body, status, content_type
        self.headers: dict[str, str] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                data = outer.body.encode() if isinstance(outer.body, str) else outer.body
                self.send_response(outer.status)
                self.send_header("Content-Type", outer.content_type)
                for name, value in outer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def dcgm_text(
    energy_mj: list[int],
    xid: list[int] | None = None,
    power: list[float] | None = None,
    hostname_label: str = "Hostname",
) -> str:
    lines = [
        "# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).",
        "# TYPE DCGM_FI_DEV_POWER_USAGE gauge",
        "# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).",
        "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter",
        "# HELP DCGM_FI_DEV_XID_ERRORS Value of the last XID error encountered.",
        "# TYPE DCGM_FI_DEV_XID_ERRORS gauge",
    ]
    for g, e in enumerate(energy_mj):
        labels = (
            f'gpu="{g}",UUID="GPU-{g:04d}",device="nvidia{g}",modelName="NVIDIA H100 80GB HBM3",'
            f'{hostname_label}="node1"'
        )
        p = power[g] if power else 650.5
        lines.append(f"DCGM_FI_DEV_POWER_USAGE{{{labels}}} {p}")
        lines.append(f"DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{{{labels}}} {e}")
        lines.append(f"DCGM_FI_DEV_XID_ERRORS{{{labels}}} {(xid or [0] * len(energy_mj))[g]}")
    return "\n".join(lines) + "\n"


def self_signed_cert(cert: Path, key: Path) -> None:
    """A one-day certificate for 127.0.0.1 (its own CA) made by openssl."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )


class RedfishBmc:
    """sushy-static serving a Redfish tree from a folder over HTTPS; `set` rewrites readings live."""

    def __init__(self, root: Path) -> None:
        self.root = root / "mockup"
        self.cert, self.key = root / "bmc.pem", root / "bmc-key.pem"
        self_signed_cert(self.cert, self.key)
        self.write("", {"@odata.id": "/redfish/v1", "Chassis": {"@odata.id": "/redfish/v1/Chassis"}})
        self.set(power_w=4_200.0, energy_kwh=1_000.0)
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "sushy-static"),
                "-i",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-m",
                str(self.root),
                "-c",
                str(self.cert),
                "-k",
                str(self.key),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"https://127.0.0.1:{self.port}"
        _wait_port(self.port)

    def write(self, path: str, body: object | str) -> None:
        d = self.root / path
        d.mkdir(parents=True, exist_ok=True)
        (d / "index.json").write_text(body if isinstance(body, str) else json.dumps(body))

    def set(self, power_w: float, energy_kwh: float) -> None:
        self.write(
            "Chassis/1/Power",
            {
                "@odata.id": "/redfish/v1/Chassis/1/Power",
                "PowerControl": [{"MemberId": "0", "PowerConsumedWatts": power_w}],
            },
        )
        self.write(
            "Chassis/1/EnvironmentMetrics",
            {"@odata.id": "/redfish/v1/Chassis/1/EnvironmentMetrics", "EnergykWh": {"Reading": energy_kwh}},
        )

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=5)


class SunSpecMeter:
    """A pymodbus TCP server holding a SunSpec device: common model 1, meter model 203, end marker."""

    BASE = 40000

    def __init__(self) -> None:
        self.port = free_port()
        self.regs = [0] * 200
        self.regs[0:2] = [0x5375, 0x6E53]  # "SunS"
        self.regs[2:4] = [1, 66]
        self.m203 = 4 + 66  # index of model 203's ID register in the image
        self.regs[self.m203 : self.m203 + 2] = [203, 105]
        end = self.m203 + 2 + 105
        self.regs[end : end + 2] = [0xFFFF, 0]
        self.set(power_w=5_000, energy_wh=1_000_000)
        self.block = ModbusSequentialDataBlock(self.BASE + 1, self.regs)
        self.context = ModbusServerContext(devices=ModbusDeviceContext(hr=self.block), single=True)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        _wait_port(self.port)

    def _serve(self) -> None:
        asyncio.run(StartAsyncTcpServer(self.context, address=("127.0.0.1", self.port)))

    def set(self, power_w: int, energy_wh: int, w_sf: int = 0) -> None:
        p = point_offsets(203)
        values = {
            p["W"][0]: power_w & 0xFFFF,
            p["W_SF"][0]: w_sf & 0xFFFF,
            p["TotWhImp"][0]: (energy_wh >> 16) & 0xFFFF,
            p["TotWhImp"][0] + 1: energy_wh & 0xFFFF,
            p["TotWh_SF"][0]: 0,
        }
        for offset, value in values.items():
            self.regs[self.m203 + offset] = value
        if hasattr(self, "context"):  # running: write through Modbus itself (function 16)
            from pymodbus.client import ModbusTcpClient

            client = ModbusTcpClient("127.0.0.1", port=self.port)
            client.connect()
            for offset in sorted(values):
                client.write_register(self.BASE + self.m203 + offset, values[offset], device_id=1)
            client.close()

    def close(self) -> None:
        ServerStop()
        self.thread.join(timeout=5)


def _wait_port(port: int, timeout: float = 10.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


class S3Server:
    """moto's S3-compatible server on a loopback port, with one bucket; boto3 talks to it over HTTP."""

    def __init__(self, bucket: str = "wellhead-evidence") -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.url = f"http://127.0.0.1:{self.port}"
        self.bucket = bucket
        self.client().create_bucket(Bucket=bucket)

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )

    def keys(self) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=self.bucket)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def close(self) -> None:
        self.server.stop()
