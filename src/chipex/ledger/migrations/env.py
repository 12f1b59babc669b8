"""Alembic environment: migrations run on the connection chipex opened (see chipex.ledger.db)."""

from __future__ import annotations

from alembic import context

from chipex.ledger.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "chipex ledger migrations run through chipex.ledger.db.migrate(), which passes a connection"
    )
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
