"""`wellhead gateway`: migrate the database, follow the chain in a background thread, serve the API."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.exc import SQLAlchemyError

from wellhead.errors import ConfigError

log = logging.getLogger("wellhead.gateway")


class GatewaySettings(BaseSettings):
    """Flags win over `WELLHEAD_*` environment variables, which win over these defaults."""

    model_config = SettingsConfigDict(env_prefix="WELLHEAD_")

    rpc_url: str = "http://127.0.0.1:8545"
    deployment: Path = Path("deployments/devnet.json")
    database_url: str = "sqlite:///wellhead-gateway.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65_535)
    confirmations: int = Field(default=2, ge=0, le=1_000)
    poll_seconds: float = Field(default=2.0, gt=0)


def serve(settings: GatewaySettings) -> None:
    import uvicorn

    from wellhead.chain.connection import connect
    from wellhead.chain.deployment import Deployment
    from wellhead.gateway.api import create_app
    from wellhead.gateway.db import engine_for, migrate, session_factory
    from wellhead.gateway.indexer import Indexer

    deployment = Deployment.load(settings.deployment)
    w3 = connect(settings.rpc_url)
    deployment.check_chain(w3)
    try:
        migrate(settings.database_url)
    except SQLAlchemyError as exc:
        raise ConfigError(f"cannot use the database {settings.database_url!r}: {type(exc).__name__}") from None
    sessions = session_factory(engine_for(settings.database_url))
    indexer = Indexer(w3, deployment, sessions, confirmations=settings.confirmations)
    stop = threading.Event()

    def follow() -> None:
        while not stop.is_set():
            try:
                indexer.sync()
            except Exception:  # the API keeps serving what is indexed; the next poll retries
                log.exception("indexer: sync failed; retrying")
            stop.wait(settings.poll_seconds)

    thread = threading.Thread(target=follow, name="indexer", daemon=True)
    thread.start()
    print(f"gateway: http://{settings.host}:{settings.port}/api/v1/assets (docs at /docs)", flush=True)
    try:
        uvicorn.run(create_app(sessions), host=settings.host, port=settings.port, log_level="warning")
    finally:
        stop.set()
