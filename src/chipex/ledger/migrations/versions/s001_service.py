"""Service tables: API users (hashed keys, roles, expiry) and book-check jobs.

A separate Alembic branch ("service") in the ledger's database, so the HTTP service's state lives
beside the audit chain it writes to, and the ledger's own revisions stay on their line.

Revision ID: s001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "s001"
down_revision = None
branch_labels = ("service",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_users",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(200), nullable=False),  # argon2id, never the key itself
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=True),
        sa.Column("revoked_at", sa.String(40), nullable=True),
    )
    op.create_table(
        "service_jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),  # queued, running, done, failed
        sa.Column("user_name", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),  # JSON: regime, screen
        sa.Column("workdir", sa.String(1000), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("done", sa.BigInteger(), nullable=True),
        sa.Column("checked", sa.BigInteger(), nullable=True),
        sa.Column("rejected", sa.BigInteger(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),  # JSON
        sa.Column("errors", sa.Text(), nullable=True),  # JSON: line-numbered errors
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("owner", sa.String(100), nullable=True),  # host:pid of the process running it
    )
    op.create_index("ix_service_jobs_status", "service_jobs", ["status"])


def downgrade() -> None:
    op.drop_table("service_jobs")
    op.drop_table("service_users")
