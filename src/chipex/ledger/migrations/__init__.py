"""Alembic migrations of the ledger schema, shipped inside the package (run on open, see db.py)."""
