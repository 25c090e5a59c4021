"""The gateway's services: sign-in and keys, prepared and relayed writes, webhooks; and the container the
API's routes reach them through."""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from wellhead.chain.deployment import Deployment
from wellhead.core.objectstore import EvidenceBucket, S3Location
from wellhead.core.units import use_stablecoin_decimals
from wellhead.gateway.metrics import GatewayMetrics
from wellhead.gateway.queries.cache import ResponseCache
from wellhead.gateway.queries.epochs import TermsCache
from wellhead.gateway.queries.fragments import FragmentCache
from wellhead.gateway.queries.history import SpanCache
from wellhead.gateway.services.auth import Auth
from wellhead.gateway.services.limits import limiter_for
from wellhead.gateway.services.relay import Relay
from wellhead.gateway.services.sealing import SecretSealer
from wellhead.gateway.services.writes import Writes


@dataclass
class Services:
    sessions: sessionmaker[Session]
    w3: Web3
    deployment: Deployment
    auth: Auth
    writes: Writes
    relay: Relay
    evidence_dirs: tuple[Path, ...] = field(default_factory=tuple)
    evidence_bucket: EvidenceBucket | None = None
    responses: ResponseCache = field(default_factory=ResponseCache)
    metrics: GatewayMetrics = field(default_factory=GatewayMetrics)
    fragments: FragmentCache = field(default_factory=FragmentCache)
    terms: TermsCache = field(default_factory=TermsCache)
    spans: SpanCache = field(default_factory=SpanCache)
    worker_threads: int = 4
    webhook_private_hosts: bool = False  # only for tests and private deployments: allows SSRF otherwise
    max_body_bytes: int = 1 << 20  # a request body over this is a 413
    body_timeout: float = 10.0  # seconds a request body may take to arrive (a 408 after)
    sealer: SecretSealer = field(default_factory=SecretSealer.ephemeral)  # webhook secrets at rest
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()  # whose X-Forwarded-For names the client

    @classmethod
    def build(
        cls,
        sessions: sessionmaker[Session],
        w3: Web3,
        deployment: Deployment,
        *,
        domain: str,
        confirmations: int = 2,
        session_ttl: int = 86_400,
        session_rate: int = 600,
        key_rate: int = 600,
        evidence_dirs: tuple[Path, ...] = (),
        evidence_s3: S3Location | None = None,
        worker_threads: int = 4,
        webhook_private_hosts: bool = False,
        anonymous_rate: int = 600,
        nonce_rate: int = 30,
        sealer: SecretSealer | None = None,
        trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = (),
    ) -> Services:
        auth = Auth(domain, deployment.chain_id, session_ttl, session_rate, key_rate)
        auth.limiter = limiter_for(sessions)
        auth.anonymous_rate, auth.nonce_rate = anonymous_rate, nonce_rate
        writes = Writes(w3, deployment, confirmations)
        relay = Relay(w3, deployment, confirmations)
        # every stablecoin amount the gateway shows or parses is in the deployment's token's decimals
        use_stablecoin_decimals(int(writes.coin.functions.decimals().call()))
        built = cls(
            sessions,
            w3,
            deployment,
            auth,
            writes,
            relay,
            evidence_dirs,
            EvidenceBucket(evidence_s3) if evidence_s3 is not None else None,
            worker_threads=worker_threads,
            webhook_private_hosts=webhook_private_hosts,
            sealer=sealer or SecretSealer.ephemeral(),
            trusted_proxies=trusted_proxies,
        )
        bind = sessions.kw.get("bind")
        if bind is not None:
            built.responses.versions.listen(bind)  # PostgreSQL: the indexer's NOTIFY, not a query per request
        return built
