"""The gateway's database: SQLite by default, PostgreSQL when `WELLHEAD_DATABASE_URL` names one; the schema is
created and upgraded by alembic (`migrate`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
DEFAULT_URL = "sqlite:///wellhead-gateway.db"


def _private_sqlite_file(url: str) -> None:
    """A SQLite database file is created readable by its owner only (sessions, key hashes, webhook secrets)."""
    database = make_url(url).database
    if database and database != ":memory:" and not Path(database).exists():
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))


def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # as many connections as the API's worker threads (Starlette runs sync endpoints on 40), so a burst of
    # requests waits for a thread, never for a connection
    return create_engine(url, pool_size=10, max_overflow=30, pool_timeout=10)


def migrate(url: str) -> None:
    """Creates or upgrades the schema to the newest alembic revision. Safe to run from several processes at
    once: on PostgreSQL they take turns under an advisory lock, and the later ones find the schema current."""
    from wellhead.gateway.db.coordination import MIGRATION_LOCK, exclusive

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    engine = engine_for(url)
    try:
        with exclusive(engine, MIGRATION_LOCK) as conn:
            cfg.attributes["connection"] = conn  # the upgrade runs on the connection holding the lock
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


def session_factory(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine, expire_on_commit=False)


def require_current_schema(url: str) -> None:
    """Raises ConfigError unless the database's schema is alembic's newest revision."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from wellhead.core.errors import ConfigError

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current != head:
        raise ConfigError(f"the database schema is at revision {current}, not {head}: run `wellhead gateway migrate`")
