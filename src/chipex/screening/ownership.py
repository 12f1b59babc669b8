"""Ownership edges: `chipex ownership load FILE` (CSV or FollowTheMoney `Ownership` entities), kept in the
screening store, read back as of a date.

CSV columns: owner, owned, percent, as_of, source (required); owner_country, owned_country (optional).
owner and owned are names or list entry ids. percent is a decimal in (0, 100], kept exact. An edge holds
from its as_of date; for one (owner, owned) pair the latest edge on or before a date is the one in force.
FtM: `Ownership` entities (owner, asset, percentage, startDate, endDate, sourceUrl); owner and asset are
entity ids, named through the file's other entities. Loading is all or nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from chipex.errors import ChipexError
from chipex.limits import MAX_NAME_LENGTH
from chipex.screening.lists import FTM_SUFFIXES
from chipex.screening.store import Store, os_user

REQUIRED = ("owner", "owned", "percent", "as_of", "source")
OPTIONAL = ("owner_country", "owned_country")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ownership (
  owner TEXT NOT NULL, owned TEXT NOT NULL, percent TEXT NOT NULL, as_of TEXT NOT NULL,
  until TEXT NOT NULL DEFAULT '', source TEXT NOT NULL, owner_country TEXT NOT NULL DEFAULT '',
  owned_country TEXT NOT NULL DEFAULT '', file TEXT NOT NULL, loaded_at TEXT NOT NULL,
  loaded_by TEXT NOT NULL, UNIQUE (owner, owned, percent, as_of, until, source)
);
"""


@dataclass(frozen=True)
class Edge:
    owner: str
    owned: str
    percent: Decimal
    as_of: date
    source: str
    until: date | None = None
    owner_country: str = ""
    owned_country: str = ""


def _date(value: str, file: str, record: int, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ChipexError(
            f"not a date: '{value}' (use YYYY-MM-DD)", file=file, record=record, field=field
        ) from None


def _percent(value: str, file: str, record: int, field: str) -> Decimal:
    try:
        p = Decimal(value.strip().removesuffix("%"))
    except InvalidOperation:
        raise ChipexError(f"not a number: '{value}'", file=file, record=record, field=field) from None
    if not p.is_finite() or not (0 < p <= 100):
        raise ChipexError(f"a percentage must be over 0 and at most 100, not {value}", file=file,
                          record=record, field=field)  # fmt: skip
    return p


def _name(value: str, file: str, record: int, field: str) -> str:
    v = value.strip()
    if not v:
        raise ChipexError("empty", file=file, record=record, field=field)
    if len(v) > MAX_NAME_LENGTH:
        raise ChipexError(
            f"longer than {MAX_NAME_LENGTH:,} characters", file=file, record=record, field=field
        )
    return v


def read_csv(text: str, file: str) -> list[Edge]:
    reader = csv.DictReader(io.StringIO(text))
    cols = [(c or "").strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise ChipexError(f"missing column(s) {', '.join(missing)} (needs {', '.join(REQUIRED)})", file=file,
                          record=1, field=missing[0])  # fmt: skip
    unknown = [c for c in cols if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise ChipexError(f"unknown column '{unknown[0]}' (known: {', '.join(REQUIRED + OPTIONAL)})", file=file,
                          record=1, field=unknown[0])  # fmt: skip
    out = []
    for i, raw in enumerate(reader, start=2):
        if None in raw:
            raise ChipexError("more cells than the header has", file=file, record=i)
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        owner, owned = _name(row["owner"], file, i, "owner"), _name(row["owned"], file, i, "owned")
        if owner == owned:
            raise ChipexError("an entity cannot own itself", file=file, record=i, field="owned")
        if not row["source"]:
            raise ChipexError("every edge needs a source (registry, filing, URL)", file=file, record=i,
                              field="source")  # fmt: skip
        out.append(Edge(owner, owned, _percent(row["percent"], file, i, "percent"),
                        _date(row["as_of"], file, i, "as_of"), row["source"],
                        owner_country=row.get("owner_country", ""), owned_country=row.get("owned_country", "")))  # fmt: skip
    return out


def read_ftm(text: str, file: str) -> list[Edge]:
    from chipex.screening import ftm

    ents = list(ftm.entities(text, file))
    names = {e["id"]: (e["properties"].get("name") or [e["id"]])[0] for _, e in ents}
    out = []
    for i, e in ents:
        if e["schema"] != "Ownership":
            continue
        p = e["properties"]
        owner, asset = (p.get("owner") or [""])[0], (p.get("asset") or [""])[0]
        for key, v in (("owner", owner), ("asset", asset), ("percentage", (p.get("percentage") or [""])[0])):
            if not v:
                raise ChipexError(f"an Ownership needs '{key}'", file=file, record=i, field=key)
        start = (p.get("startDate") or [""])[0]
        end = (p.get("endDate") or [""])[0]
        source = (p.get("sourceUrl") or [""])[0] or f"{file} (FtM {e['id']})"
        out.append(Edge(names.get(owner, owner), names.get(asset, asset),
                        _percent(p["percentage"][0], file, i, "percentage"),
                        _date(start[:10], file, i, "startDate") if start else date.min, source,
                        _date(end[:10], file, i, "endDate") if end else None))  # fmt: skip
    if not out:
        raise ChipexError("no Ownership entities in the file", file=file)
    return out


def read_edges(path: Path) -> list[Edge]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ChipexError(f"cannot read: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ChipexError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    try:
        edges = (
            read_ftm(text, str(path))
            if path.name.lower().endswith(FTM_SUFFIXES)
            else read_csv(text, str(path))
        )
    except csv.Error as exc:
        raise ChipexError(f"not a readable CSV file: {exc}", file=str(path)) from None
    if not edges:
        raise ChipexError("the file holds no ownership edges", file=str(path))
    return edges


def load(path: Path, *, home: Path | None = None, user: str = "") -> int:
    """Validate every edge, then store them all (an edge already stored is kept once). Returns the count
    of edges in the file."""
    edges = read_edges(path)
    store = Store(home)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with store._db() as con:
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT OR IGNORE INTO ownership VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(e.owner, e.owned, str(e.percent), e.as_of.isoformat(), e.until.isoformat() if e.until else "",
              e.source, e.owner_country, e.owned_country, str(path), now, user or os_user()) for e in edges],
        )  # fmt: skip
    return len(edges)


def edges_on(on: date, *, home: Path | None = None) -> list[Edge]:
    """The edges in force on `on`: per (owner, owned), the latest as_of on or before it, unless ended."""
    store = Store(home)
    if not store.db_path.exists():
        return []
    with store._db() as con:
        con.executescript(_SCHEMA)
        rows = con.execute(
            "SELECT owner, owned, percent, as_of, source, until, owner_country, owned_country FROM ownership "
            "WHERE as_of <= ? ORDER BY as_of", (on.isoformat(),)
        ).fetchall()  # fmt: skip
    latest: dict[tuple[str, str], Edge] = {}
    for r in rows:
        latest[(r[0], r[1])] = Edge(r[0], r[1], Decimal(r[2]), date.fromisoformat(r[3]), r[4],
                                    date.fromisoformat(r[5]) if r[5] else None, r[6], r[7])  # fmt: skip
    return [e for e in latest.values() if e.until is None or on <= e.until]


def change_dates(*, home: Path | None = None) -> set[date]:
    """Every date on which the stored ownership data changes (an edge starts, or ends the day before)."""
    store = Store(home)
    if not store.db_path.exists():
        return set()
    with store._db() as con:
        con.executescript(_SCHEMA)
        rows = con.execute("SELECT DISTINCT as_of, until FROM ownership").fetchall()
    out = {date.fromisoformat(a) for a, _ in rows}
    out |= {date.fromisoformat(u) + timedelta(days=1) for _, u in rows if u and u < date.max.isoformat()}
    return out
