"""Service users may have a password (for the web UI's sign-in), stored only as an Argon2 hash.

Revision ID: s002
Revises: s001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s002"
down_revision = "s001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("service_users", sa.Column("password_hash", sa.String(200), nullable=True))  # argon2id
    op.add_column("service_users", sa.Column("password_set_at", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_users") as batch:
        batch.drop_column("password_set_at")
        batch.drop_column("password_hash")
