"""`wellhead gateway`: migrate the database, follow the chain in a background thread, serve the API."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.exc import SQLAlchemyError

from wellhead.core.errors import ConfigError
from wellhead.core.objectstore import S3Location
from wellhead.gateway.db import DEFAULT_URL

if TYPE_CHECKING:
    import uvicorn
    from web3 import Web3

    from wellhead.chain.deployment import Deployment
    from wellhead.gateway.services import Services
    from wellhead.gateway.services.sealing import SecretSealer

log = logging.getLogger("wellhead.gateway")


class GatewaySettings(BaseSettings):
    """Flags win over `WELLHEAD_*` environment variables, which win over these defaults."""

    model_config = SettingsConfigDict(env_prefix="WELLHEAD_")

    rpc_url: str = "http://127.0.0.1:8545"
    deployment: Path = Path("deployments/devnet.json")
    database_url: str = DEFAULT_URL
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65_535)
    confirmations: int = Field(default=2, ge=0, le=1_000)
    poll_seconds: float = Field(default=2.0, gt=0)
    siwe_domain: str | None = Field(default=None, description="the domain SIWE messages must name; default host:port")
    session_ttl: int = Field(default=86_400, ge=60)
    session_rate_per_minute: int = Field(default=600, ge=1)
    api_key_rate_per_minute: int = Field(default=600, ge=1)
    evidence_dirs: list[Path] = Field(default_factory=list, description="where agents' evidence files are")
    evidence_s3: S3Location | None = Field(default=None, description="the bucket agents upload evidence to")
    worker_threads: int = Field(default=4, ge=1, le=64, description="threads for the API's blocking work")
    webhook_retry_base: float = Field(default=5.0, gt=0, description="seconds before the first retry")
    webhook_max_attempts: int = Field(default=7, ge=1, le=20)
    webhook_allow_private_hosts: bool = Field(default=False, description="allow webhook URLs on private networks")
    anonymous_rate_per_minute: int = Field(default=600, ge=1, description="per client address, without credentials")
    nonce_rate_per_minute: int = Field(default=30, ge=1, description="sign-in nonces per client address")
    secrets_key_file: Path | None = Field(default=None, description="Fernet keys sealing webhook secrets at rest")
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="comma-separated proxy networks whose X-Forwarded-For names the client (none: the peer does)",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


def sealer_for(settings: GatewaySettings) -> SecretSealer:
    """The configured key file; beside a SQLite database file one is made if missing (one machine); a key for
    this process alone with an in-memory database. PostgreSQL needs the file: every replica must share it."""
    from sqlalchemy.engine import make_url

    from wellhead.gateway.services.sealing import SecretSealer

    if settings.secrets_key_file is not None:
        return SecretSealer.from_file(settings.secrets_key_file)
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        raise ConfigError("set --secrets-key-file (WELLHEAD_SECRETS_KEY_FILE): every replica seals webhook secrets")
    if not url.database or url.database == ":memory:":
        return SecretSealer.ephemeral()
    return SecretSealer.from_file(Path(url.database + ".key"), create=True)


ROLES = ("api", "indexer", "webhooks")
RETENTION_EVERY = 600.0  # seconds between retention passes of the active indexer


class Gateway:
    """The gateway's roles in this process: `start()` returns once its HTTP server listens.

    All three roles (the default, one machine, SQLite or PostgreSQL) migrate the schema first. A process with
    some roles (one of many, on PostgreSQL) expects the schema current (`wellhead gateway migrate` runs first)
    and refuses to start on an old one. `indexer`: follows the chain while it holds the indexer's advisory lock
    (a standby keeps trying and takes over within a second of the leader's death), then queues webhooks.
    `webhooks`: claims and sends due deliveries. `api`: serves the REST API and the dashboard; without it the
    process serves only `/healthz`, `/readyz` and `/metrics`."""

    def __init__(self, settings: GatewaySettings, roles: tuple[str, ...] = ROLES) -> None:
        from wellhead.chain.connection import connect
        from wellhead.chain.deployment import Deployment
        from wellhead.gateway.db import engine_for, migrate, session_factory
        from wellhead.gateway.db.coordination import Leadership
        from wellhead.gateway.db.engine import require_current_schema
        from wellhead.gateway.index.indexer import Indexer
        from wellhead.gateway.services.sealing import reseal_secrets
        from wellhead.gateway.services.webhooks import Dispatcher

        self.settings = settings
        self.roles = frozenset(roles)
        deployment = Deployment.load(settings.deployment)
        w3 = connect(settings.rpc_url)
        deployment.check_chain(w3)
        try:
            if self.roles == frozenset(ROLES):
                migrate(settings.database_url)
            else:
                require_current_schema(settings.database_url)
            engine = engine_for(settings.database_url)
        except SQLAlchemyError as exc:
            raise ConfigError(f"cannot use the database {settings.database_url!r}: {type(exc).__name__}") from None
        self.sessions = session_factory(engine)
        self.leadership = Leadership(engine)
        self.indexer = Indexer(w3, deployment, self.sessions, confirmations=settings.confirmations)
        self.services = self._services(w3, deployment)
        if "webhooks" in self.roles:  # rows in clear (before sealing) or under a retired key: sealed anew
            reseal_secrets(self.sessions, self.services.sealer)
        self.indexer.on_version = self.services.responses.versions.push  # this process's own replica, at once
        self.webhooks = Dispatcher(
            self.sessions,
            self.services.sealer,
            retry_base=settings.webhook_retry_base,
            max_attempts=settings.webhook_max_attempts,
            allow_private_hosts=settings.webhook_allow_private_hosts,
        )
        self._stop = threading.Event()
        self._server: uvicorn.Server | None = None
        self._leading = False
        self._pruned_at = float("-inf")
        self.indexed = threading.Event()  # set once this process's indexer has finished a pass

    def _services(self, w3: Web3, deployment: Deployment) -> Services:
        from wellhead.gateway.services import Services

        settings = self.settings
        return Services.build(
            self.sessions,
            w3,
            deployment,
            domain=settings.siwe_domain or f"{settings.host}:{settings.port}",
            confirmations=settings.confirmations,
            session_ttl=settings.session_ttl,
            session_rate=settings.session_rate_per_minute,
            key_rate=settings.api_key_rate_per_minute,
            evidence_dirs=tuple(settings.evidence_dirs),
            evidence_s3=settings.evidence_s3,
            worker_threads=settings.worker_threads,
            webhook_private_hosts=settings.webhook_allow_private_hosts,
            anonymous_rate=settings.anonymous_rate_per_minute,
            nonce_rate=settings.nonce_rate_per_minute,
            # webhook secrets are sealed by the API and opened by the webhooks worker; an indexer needs no key
            sealer=sealer_for(settings) if self.roles & {"api", "webhooks"} else None,
            trusted_proxies=tuple(settings.trusted_proxies),
        )

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    def _follow(self) -> None:
        from wellhead.core.errors import IndexMovedError

        while not self._stop.is_set():
            try:
                self._index_pass()
            except IndexMovedError as exc:  # another process wrote the index: this one is no leader any more
                log.warning("indexer: the index moved under this process; standing down", extra={"error": str(exc)})
                self.leadership.release()
                self._leading = False
            except Exception as exc:  # the API keeps serving what is indexed; the next poll retries
                if self._stop.is_set():
                    return  # stopping: what failed is going away too
                log.warning("indexer: pass failed; retrying", extra={"error": type(exc).__name__})
            self.services.metrics.indexer_leading.set(1 if self._leading else 0)
            self._stop.wait(self.settings.poll_seconds if self._leading else min(1.0, self.settings.poll_seconds))

    def _index_pass(self) -> None:
        leading = self.leadership.try_acquire()
        if leading and not self._leading:
            self.indexer.relearn()  # what the previous leader indexed since this process started
        self._leading = leading
        if not leading:
            return
        synced = self.indexer.sync()
        if synced.rolled_back_to is not None:
            how = "replayed all history" if synced.restored_rows is None else f"restored {synced.restored_rows} rows"
            log.warning("reorg: rolled back to block %d (%s)", synced.rolled_back_to, how)
        self.indexed.set()
        self.webhooks.enqueue()
        if time.monotonic() - self._pruned_at >= RETENTION_EVERY:
            from wellhead.gateway.services.retention import prune

            deleted = prune(self.sessions)
            self._pruned_at = time.monotonic()
            log.info("retention: pruned", extra={"deleted": deleted})

    def _deliver(self) -> None:
        while not self._stop.is_set():
            try:
                self.webhooks.deliver_due()
            except Exception:
                log.exception("webhooks: delivery pass failed; retrying")
            self._stop.wait(min(1.0, self.settings.webhook_retry_base))

    def start(self) -> None:

        import uvicorn

        from wellhead.gateway.app import create_app, settle_heap

        self._workers = []
        if "indexer" in self.roles:
            self._workers.append(threading.Thread(target=self._follow, name="indexer", daemon=True))
        if "webhooks" in self.roles:
            self._workers.append(threading.Thread(target=self._deliver, name="webhooks", daemon=True))
        for worker in self._workers:
            worker.start()
        host, port = self.settings.host, self.settings.port
        # bound here, not inside uvicorn's thread: a taken port is one line and a non-zero exit, never a process
        # that logs the error and stays up serving nothing
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        app = create_app(self.services, api="api" in self.roles)
        # uvicorn's own proxy headers off: by default it believes X-Forwarded-For from 127.0.0.1, so anyone on
        # this host would choose their rate-limit bucket; the app reads it from the configured proxies only
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False)
        server = uvicorn.Server(config)
        settle_heap()
        self._server = server
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="api", daemon=True)
        thread.start()
        while not server.started:
            if not thread.is_alive():
                raise ConfigError(f"the API server on {host}:{port} stopped while starting")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stops serving and waits for the indexer and the webhook worker to finish their pass, so that
        whatever stops next (the chain, the database) cannot fail under them."""
        self._stop.set()
        if self._server is not None:
            self._server.should_exit = True
        for worker in getattr(self, "_workers", []):
            worker.join(timeout=30)
        self.webhooks.close()
        self.services.responses.versions.close()
        self.leadership.release()


def serve(settings: GatewaySettings, roles: tuple[str, ...] = ROLES) -> None:
    """Runs the gateway's `roles` in the foreground until SIGTERM or SIGINT."""
    import signal

    gateway = Gateway(settings, roles)
    gateway.start()
    if "api" in roles:
        print(f"gateway: {gateway.url}/api/v1/assets (OpenAPI docs at {gateway.url}/docs)", flush=True)
    else:
        print(f"gateway {'+'.join(sorted(roles))}: {gateway.url}/readyz, {gateway.url}/metrics", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())  # systemd's stop: a clean exit 0
    try:
        stopped.wait()
    finally:
        gateway.stop()
