"""The gateway's database: SQLite by default, PostgreSQL when `WELLHEAD_DATABASE_URL` names one; the schema is
created and upgraded by alembic (`migrate`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_URL = "sqlite:///wellhead-gateway.db"


def engine_for(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # as many connections as the API's worker threads (Starlette runs sync endpoints on 40), so a burst of
    # requests waits for a thread, never for a connection
    return create_engine(url, pool_size=10, max_overflow=30, pool_timeout=10)


def migrate(url: str) -> None:
    """Creates or upgrades the schema to the newest alembic revision."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)
