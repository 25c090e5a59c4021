"""Who the client is behind reverse proxies. `X-Forwarded-For` is anyone's to write, so it is believed only from
a configured proxy: the peer of the connection must be one, and the header is read from its right end (the
hops the trusted proxies appended), past every trusted hop, to the first address no trusted proxy owns. With no
proxy configured the header is ignored and the peer is the client."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network


MAX_ADDRESS = 45  # characters of the longest address text (IPv4-mapped IPv6); only such are remembered
MEMORY = 65_536  # addresses remembered: parsed once, not on every request of the same client


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    # a longer one (an IPv6 scope id may be any length) is parsed each time: remembered, 65,536 client-chosen
    # keys of 16 KB would hold a gigabyte
    parse = _trusted_in if len(address) <= MAX_ADDRESS else _trusted_in.__wrapped__
    return parse(address, tuple(proxies))


@lru_cache(maxsize=MEMORY)
def _trusted_in(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # an IPv4 peer on a dual-stack socket: ::ffff:a.b.c.d
    return any(ip in net or (mapped is not None and mapped in net) for net in proxies)


def client_of(peer: str, forwarded_for: Iterable[str], proxies: Sequence[Network]) -> str:
    """The client's address: `peer` unless it is a trusted proxy, else the rightmost untrusted hop of the
    `X-Forwarded-For` headers (every header line, in order); a hop that is not an address stops the walk there
    (the proxy to its right is the last one known), as does a header that names only trusted proxies."""
    if not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for line in forwarded_for for hop in line.split(",")]
    client = peer
    for hop in reversed(hops):
        try:
            ip_address(hop)
        except ValueError:
            return client
        client = hop
        if not _trusted(hop, proxies):
            return hop
    return client


def bucket_of(client: str) -> str:
    """The rate-limit bucket of a client address: the address itself for IPv4, its /64 for IPv6 (one host is
    routed a whole /64 and may use any of its 2^64 addresses: per address, it would mint allowances)."""
    return (_bucket if len(client) <= MAX_ADDRESS else _bucket.__wrapped__)(client)


@lru_cache(maxsize=MEMORY)
def _bucket(client: str) -> str:
    try:
        ip = ip_address(client)
    except ValueError:
        return client
    if isinstance(ip, IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ip_network(f"{ip}/64", strict=False))
    return str(ip)
