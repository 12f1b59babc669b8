"""What every service module shares: the regime type, the ledger per acting user, a generic result."""

from __future__ import annotations

import threading
from typing import Any, Literal

from pydantic import BaseModel, Field

Regime = Literal["as-enforced", "as-printed"]

_LEDGERS: dict[tuple[str | None, str | None], Any] = {}
_LOCK = threading.Lock()


def ledger_for(db: str | None, actor: str | None):
    """The ledger on `db` (default CHIPEX_DB / CHIPEX_HOME), recording `actor` in its audit chain;
    one per (db, actor) per process, so a server does not reopen the database on every request."""
    from chipex.ledger import open_ledger
    from chipex.ledger.db import resolve_url

    key = (resolve_url(db).render_as_string(hide_password=False), actor)
    with _LOCK:
        if key not in _LEDGERS:
            _LEDGERS[key] = open_ledger(db, actor=actor)
        return _LEDGERS[key]


def close_ledgers() -> None:
    with _LOCK:
        for ledger in _LEDGERS.values():
            ledger.close()
        _LEDGERS.clear()


class Explained(BaseModel):
    """A result whose body is the domain module's own `to_dict()` (its figures, sources and reasons)."""

    kind: str = Field(description="which operation produced it")
    explanation: str = Field(description="one line saying what was computed and on what basis")
    data: dict[str, Any] = Field(description="the result, as the CLI's --json prints it")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
