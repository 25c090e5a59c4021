"""The shipped nginx example (packaging/nginx/wellhead-gateway.conf) in front of a real gateway, clients on
their own loopback addresses: behind the trusted proxy each client has its own anonymous allowance, a client
reaching the gateway directly cannot pick its bucket with a forged X-Forwarded-For, and nginx refuses a body
over the app's limit itself."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.waiting import wait_for
from wellhead.chain.deployment import Deployment
from wellhead.devkit.anvil import Anvil, free_port
from wellhead.gateway.proxies import bucket_of, client_of
from wellhead.gateway.server import Gateway, GatewaySettings

EXAMPLE = Path(__file__).parents[2] / "packaging" / "nginx" / "wellhead-gateway.conf"
NGINX_FROM = "127.0.0.5"  # the address nginx connects to the gateway from: the one trusted proxy
ALLOWANCE = 3  # anonymous requests a minute per client


def _nginx_conf(tmp: Path, listen: int, upstream: int) -> Path:
    """The example as shipped, with this test's ports, a self-signed certificate and nginx's source address."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(tmp / "key.pem"), "-out", str(tmp / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    site = EXAMPLE.read_text()
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{listen} ssl")
    site = site.replace("/etc/ssl/wellhead/fullchain.pem", str(tmp / "cert.pem"))
    site = site.replace("/etc/ssl/wellhead/privkey.pem", str(tmp / "key.pem"))
    site = re.sub(r"server 127\.0\.0\.1:800[01]", f"server 127.0.0.1:{upstream}", site)
    site = site.replace(
        "proxy_pass http://wellhead_api;", f"proxy_pass http://wellhead_api;\n proxy_bind {NGINX_FROM};"
    )
    (tmp / "site.conf").write_text(site)
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"daemon off; master_process off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;\n"
        f"  include {tmp}/site.conf; }}\n"
    )
    return conf


@pytest.fixture
def gateway(anvil: Anvil, deployment: Deployment, tmp_path: Path) -> Iterator[Gateway]:
    settings = GatewaySettings(
        rpc_url=anvil.url,
        deployment=deployment.save(tmp_path),
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        port=free_port(),
        confirmations=0,
        anonymous_rate_per_minute=ALLOWANCE,
        trusted_proxies=NGINX_FROM,  # type: ignore[arg-type]  # as the flag or the environment gives it
    )
    gw = Gateway(settings)
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()


def _get(port: int, source: str, tls: bool, forwarded_for: str | None = None, body: bytes | None = None) -> int:
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=10, source_address=(source, 0), context=context
        )
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    conn.request("POST" if body else "GET", "/api/v1/assets", body=body, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def test_behind_the_example_proxy_each_client_has_its_own_allowance(gateway: Gateway, tmp_path: Path) -> None:
    listen = free_port()
    proxy = subprocess.Popen(
        ["nginx", "-p", str(tmp_path), "-c", str(_nginx_conf(tmp_path, listen, gateway.settings.port))],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: _reachable(listen) or proxy.poll() is not None, "nginx to listen")
        assert proxy.poll() is None, proxy.stderr.read() if proxy.stderr else ""
        spoofed = [_get(listen, "127.0.0.2", True, forwarded_for=f"10.9.8.{i}") for i in range(ALLOWANCE + 1)]
        assert spoofed == [200] * ALLOWANCE + [429], "nginx replaces the client's header: its forgery counts not"
        assert _get(listen, "127.0.0.3", True) == 200, "another client behind the same proxy: its own allowance"
        assert _get(listen, "127.0.0.4", True, body=b"x" * (2 << 20)) == 413, "nginx stops a body over 1 MiB"

        direct = [_get(gateway.settings.port, "127.0.0.1", False, f"10.0.0.{i}") for i in range(ALLOWANCE + 1)]
        assert direct == [200] * ALLOWANCE + [429], "not a trusted proxy: X-Forwarded-For is not believed"
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        time.sleep(0.05)
        return False


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # no proxy: the header is anyone's to write
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),  # the proxy's hop
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # a forged hop left of the real one is ignored
        ("10.0.0.2", ["6.6.6.6", "198.51.100.1, 10.0.0.3"], "198.51.100.1"),  # two proxies, two header lines
        ("10.0.0.2", ["198.51.100.1, junk"], "10.0.0.2"),  # not an address: the last proxy known is the client
        ("10.0.0.2", ["10.0.0.3"], "10.0.0.3"),  # only proxies: the leftmost of them
        ("10.0.0.2", [], "10.0.0.2"),
        ("::ffff:10.0.0.2", ["198.51.100.1"], "198.51.100.1"),  # an IPv4 proxy on a dual-stack socket
    ],
)
def test_the_client_behind_trusted_proxies(peer: str, header: list[str], client: str) -> None:
    from ipaddress import ip_network

    assert client_of(peer, header, [ip_network("10.0.0.0/24")]) == client


def test_an_ipv6_client_has_one_bucket_for_its_whole_64() -> None:
    """A host is routed a /64: per address it would mint 2^64 anonymous allowances."""
    assert bucket_of("2001:db8:1:2::1") == bucket_of("2001:db8:1:2:dead:beef:0:7") == "2001:db8:1:2::/64"
    assert bucket_of("2001:db8:1:3::1") != bucket_of("2001:db8:1:2::1")
    assert bucket_of("198.51.100.7") == "198.51.100.7" != bucket_of("198.51.100.8")
    assert bucket_of("::ffff:198.51.100.7") == "198.51.100.7", "an IPv4 client on a dual-stack socket"
    assert bucket_of("testclient") == "testclient"


def test_only_address_length_texts_are_remembered() -> None:
    """Parsed addresses are remembered per client, but an IPv6 scope id may be any length: a client writing 16 KB
    ones in X-Forwarded-For would otherwise have each kept (a gigabyte at the cache's 65,536 entries)."""
    from ipaddress import ip_network

    from wellhead.gateway.proxies import MAX_ADDRESS, _bucket, _trusted_in

    _bucket.cache_clear()
    _trusted_in.cache_clear()
    proxies = (ip_network("10.0.0.0/8"),)
    for i in range(50):
        hop = "2001:db8::1%" + "z" * 16_000 + str(i)
        client = client_of("10.1.2.3", [hop], proxies)
        assert client == hop and bucket_of(client) == "2001:db8::/64", "answered as before"
    assert _bucket.cache_info().currsize == 0, "no scoped hop kept"
    assert _trusted_in.cache_info().currsize == 1, "only the proxy's own address"
    longest = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
    assert len(longest) == MAX_ADDRESS
    assert bucket_of(longest) == "ffff:ffff:ffff:ffff::/64" and _bucket.cache_info().currsize == 1, (
        "the bound itself is"
    )
