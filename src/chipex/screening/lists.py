"""Screening-list snapshots: the official trade.gov CSL formats and the BIS Denied Persons text format.

A snapshot is the parsed list plus its identity: source date and a SHA-256 of the file content. Every
screening result names the snapshot it used. Parsing is all-or-nothing: the first bad row raises a
`ChipexError` naming the file, row and field, and nothing is returned.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import Any

import pycountry
import yaml

from chipex.errors import ChipexError

_DATA = resources.files("chipex.screening") / "data"
Progress = Callable[[int, int], None]  # (done, total) entries of a list load
PROGRESS_EVERY = 2000  # rows between two progress calls
DEFAULT_FILE = "consolidated-2026-07-31.csv.gz"
DEFAULT_DATE = date(2026, 7, 31)
DEFAULT_PROVENANCE = (
    "trade.gov Consolidated Screening List generated 2026-07-31, rebuilt into the official 29-column "
    "consolidated.csv layout from the compact snapshot in GitHub seelpeed-debug/export-controls-agent-mcp "
    "(src/data/screening-list.json, commit 5847b09, MIT); street addresses, dates, remarks and ids were not "
    "in that snapshot (addresses hold ISO-2 countries only); _id is a hash of the entry"
)
# the 2019 official CSV has 28 columns (no _id); the current one 29
_REQUIRED = ("source", "name")
_DPL_COLUMNS = ("Name", "Street_Address", "City", "State", "Country", "Postal_Code", "FR_Citation")


@dataclass(frozen=True, slots=True)
class Entry:
    """One listed party, as the list gives it."""

    id: str
    list: str  # short code: EL, MEU, UVL, DPL, SDN, ...
    source: str  # the list's full name as in the data
    name: str
    alt_names: tuple[str, ...]
    type: str
    programs: str
    countries: tuple[str, ...]
    addresses: tuple[str, ...]
    federal_register_notice: str
    start_date: str
    license_requirement: str
    license_policy: str
    source_list_url: str
    han_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """A parsed list file with its identity. `id` is `<source date>-<first 12 hex of content hash>`."""

    source_date: date
    content_hash: str
    source: str
    entries: tuple[Entry, ...] = field(repr=False)

    @property
    def id(self) -> str:
        return f"{self.source_date.isoformat()}-{self.content_hash[:12]}"

    @property
    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(e.list for e in self.entries).items(), key=lambda kv: -kv[1]))


def list_code(source: str) -> str:
    """'Entity List (EL) - Bureau of Industry and Security' -> 'EL'; '... (MEU) List' -> 'MEU'."""
    m = re.search(r"\(([A-Z][A-Za-z-]*)(?: List)?\)", source)
    if m:
        return m.group(1)
    words = re.sub(r"\s*-\s*.*$", "", source).strip()
    return "DPL" if words.lower().startswith("denied persons") else words or "?"


def _countries(addresses: str) -> tuple[str, ...]:
    """ISO-2 country codes: the last comma-separated element of each '; '-separated address (a code, or
    a country name as some BIS rows have it: "..., Hebei, China")."""
    out: list[str] = []
    for addr in addresses.split(";"):
        last = addr.strip().rsplit(",", 1)[-1].strip()
        code = last.upper() if re.fullmatch(r"[A-Za-z]{2}", last) else _country_name(last)
        if code and code not in out:
            out.append(code)
    return tuple(out)


@cache
def _country_name(name: str) -> str | None:
    try:
        return pycountry.countries.lookup(name).alpha_2 if len(name) > 3 else None
    except LookupError:
        return None


def _split(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(";") if p.strip())


def _entry(row: dict[str, Any], *, file: str, record: int) -> Entry:
    for f in _REQUIRED:
        if not str(row.get(f) or "").strip():
            raise ChipexError(
                "empty; every entry needs a source list and a name", file=file, record=record, field=f
            )
    addresses = str(row.get("addresses") or "")
    ident = str(row.get("_id") or row.get("id") or "").strip()
    if not ident:  # the 2019 layout has no id: hash the row, stable across loads of the same file
        ident = hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()[:40]
    return Entry(
        id=ident,
        list=str(row.get("list_code") or list_code(str(row["source"]))),
        source=str(row["source"]).strip(),
        name=str(row["name"]).strip(),
        alt_names=_split(str(row.get("alt_names") or "")),
        type=str(row.get("type") or ""),
        programs=str(row.get("programs") or ""),
        countries=_countries(addresses),
        addresses=_split(addresses),
        federal_register_notice=str(row.get("federal_register_notice") or "").strip(),
        start_date=str(row.get("start_date") or ""),
        license_requirement=str(row.get("license_requirement") or "").strip(),
        license_policy=str(row.get("license_policy") or "").strip(),
        source_list_url=str(row.get("source_list_url") or ""),
    )


def _read_text(path: Path) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ChipexError(f"cannot read: {exc.strerror}", file=str(path)) from None
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise ChipexError(f"not a valid gzip file: {exc}", file=str(path)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChipexError(f"not UTF-8 text (byte {exc.start})", file=str(path)) from None
    return text, hashlib.sha256(data).hexdigest()


def file_hash(path: Path) -> str:
    """SHA-256 of the list content (after gunzip): the snapshot's identity."""
    return _read_text(path)[1]


def _parse_csv(text: str, file: str, progress: Progress | None = None) -> list[Entry]:
    total = max(text.count("\n"), 1)  # lines after the header, plus one: above the row count
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ChipexError(
            f"not a consolidated.csv layout: no column {', '.join(missing)}",
            file=file,
            record=1,
            field=missing[0],
        )
    rows = []
    for i, row in enumerate(reader, start=2):  # record = line number (header is line 1)
        if None in row:
            raise ChipexError(f"{len(row[None])} cell(s) more than the header has", file=file, record=i)
        rows.append(_entry(row, file=file, record=i))
        if progress is not None and len(rows) % PROGRESS_EVERY == 0:
            progress(min(len(rows), total - 1), total)
    return rows


def _parse_json(text: str, file: str) -> list[Entry]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ChipexError(f"not valid JSON: {exc.msg}", file=file, record=f"line {exc.lineno}") from None
    results = doc.get("results") if isinstance(doc, dict) else doc
    if not isinstance(results, list):
        raise ChipexError("not a consolidated.json layout: no 'results' list", file=file, field="results")
    out = []
    for i, r in enumerate(results, start=1):
        if not isinstance(r, dict):
            raise ChipexError("each result must be an object", file=file, record=i)
        row = dict(r)
        addrs = r.get("addresses") or []
        if isinstance(addrs, list):  # [{address, city, state, postal_code, country}]
            row["addresses"] = "; ".join(
                ", ".join(
                    str(a.get(k) or "")
                    for k in ("address", "city", "state", "postal_code", "country")
                    if a.get(k)
                )
                for a in addrs
                if isinstance(a, dict)
            )
        for key in ("alt_names", "programs"):
            if isinstance(r.get(key), list):
                row[key] = "; ".join(str(x) for x in r[key])
        out.append(_entry(row, file=file, record=i))
    return out


def _parse_dpl(text: str, file: str) -> list[Entry]:
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    missing = [c for c in _DPL_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ChipexError(
            f"not a BIS Denied Persons layout: no column {missing[0]}", file=file, record=1, field=missing[0]
        )
    out = []
    for i, r in enumerate(reader, start=2):
        address = ", ".join(
            (r.get(k) or "").strip()
            for k in ("Street_Address", "City", "State", "Postal_Code", "Country")
            if (r.get(k) or "").strip()
        )
        row = {
            "source": "Denied Persons List (DPL) - Bureau of Industry and Security",
            "name": (r.get("Name") or "").strip(),
            "addresses": address,
            "federal_register_notice": (r.get("FR_Citation") or "").strip(),
            "start_date": r.get("Effective_Date") or "",
        }
        out.append(
            _entry(
                {**row, "_id": hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest()[:40]},
                file=file,
                record=i,
            )
        )
    return out


_PARSED: dict[tuple[str, date, str], Snapshot] = {}  # snapshots are read-only: each parsed once per process


def _parse_ftm(text: str, file: str) -> list[Entry]:
    from chipex.screening import ftm

    return [_entry(row, file=file, record=i) for i, row in ftm.rows(text, file)]


FTM_SUFFIXES = (".ftm.json", ".jsonl", ".ndjson")


def read_snapshot(
    path: Path, source_date: date, *, source: str | None = None, progress: Progress | None = None
) -> Snapshot:
    """Parse a list file (consolidated.csv / .json, the DPL .txt, or an OpenSanctions FollowTheMoney
    export `*.ftm.json` / `.jsonl`; optionally .gz) into a snapshot. `progress(done, total)` is called
    every PROGRESS_EVERY rows of a CSV (the format trade.gov serves) with `total` the file's line count
    (an upper bound: a quoted cell may hold a newline), done never reaching it."""
    text, digest = _read_text(path)
    file = str(path)
    key = (digest, source_date, source or file)
    if key in _PARSED:
        return _PARSED[key]
    stem = path.name.removesuffix(".gz").lower()
    parse = (
        _parse_ftm
        if stem.endswith(FTM_SUFFIXES)
        else {".json": _parse_json, ".txt": _parse_dpl, ".csv": partial(_parse_csv, progress=progress)}.get(
            Path(stem).suffix
        )
    )
    if parse is None:
        raise ChipexError(
            "unknown list format: expected .csv, .json, .txt or .ftm.json/.jsonl (optionally .gz)", file=file
        )
    try:
        entries = parse(text, file)
    except csv.Error as exc:  # a stray quote, NUL or newline the csv module cannot read
        raise ChipexError(f"not a readable CSV/TSV file: {exc}", file=file) from None
    if not entries:
        raise ChipexError("the file holds no entries", file=file)
    snap = Snapshot(source_date, digest, source or file, tuple(_with_han(entries)))
    if len(_PARSED) > 8:
        _PARSED.clear()
    return _PARSED.setdefault(key, snap)


@cache
def _han_table() -> dict[str, tuple[str, ...]]:
    doc = yaml.safe_load((_DATA / "han_names.yml").read_text(encoding="utf-8"))
    return {item["listed_name"]: tuple(item["han"]) for item in doc["names"]}


def _with_han(entries: list[Entry]) -> list[Entry]:
    """Attach the Han names of `han_names.yml` to the entries with that exact listed name."""
    table = _han_table()
    out = []
    for e in entries:
        han = table.get(e.name)
        out.append(replace(e, han_names=han) if han else e)
    return out


@cache
def list_info() -> dict[str, dict[str, str]]:
    """Per-list metadata and list-level consequences (`data/lists.yml`)."""
    return yaml.safe_load((_DATA / "lists.yml").read_text(encoding="utf-8"))["lists"]


def default_snapshot_path() -> Path:
    return Path(str(_DATA / DEFAULT_FILE))


@cache
def default_snapshot() -> Snapshot:
    """The list shipped with chipex (2026-07-31)."""
    return read_snapshot(default_snapshot_path(), DEFAULT_DATE, source=DEFAULT_PROVENANCE)
