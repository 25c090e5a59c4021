"""alembic environment: the gateway's models are the target; the URL comes from the caller's config."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from wellhead.gateway.db.engine import engine_for
from wellhead.gateway.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url is not None, "migrate() sets sqlalchemy.url"


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


given = config.attributes.get("connection")  # migrate() passes the connection that holds the migration lock
if given is not None:
    run(given)
else:
    with engine_for(url).connect() as own:
        run(own)
