"""OpenSanctions FollowTheMoney exports (`entities.ftm.json`: one JSON entity per line) as a list source.

An entity is `{"id", "schema", "properties": {prop: [values]}, "datasets": [...]}`. Party schemas become
entries (name and aliases, countries, addresses, program, source URL); `Ownership` entities (owner ->
asset, with `percentage`, `startDate`, `endDate`) are ownership edges (chipex.screening.ownership).
Schema reference: alephdata/followthemoney `followthemoney/schema/*.yaml`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import yaml

from chipex.errors import ChipexError

PARTY_SCHEMAS = frozenset(
    {"LegalEntity", "Company", "Organization", "Person", "PublicBody", "Vessel", "Airplane", "Asset"}
)
ALIAS_PROPS = ("alias", "weakAlias", "previousName", "abbreviation")
COUNTRY_PROPS = ("country", "jurisdiction", "nationality", "mainCountry", "registrationCountry")


@cache
def _datasets() -> dict[str, str]:
    doc = yaml.safe_load((resources.files("chipex.screening") / "data" / "lists.yml").read_text("utf-8"))
    return doc["ftm_datasets"]


def entities(text: str, file: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, entity) for each line; a bad line is a ChipexError naming it."""
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            ent = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ChipexError(f"not a JSON entity: {exc.msg}", file=file, record=i) from None
        if not isinstance(ent, dict) or not isinstance(ent.get("properties"), dict):
            raise ChipexError(
                "an FtM entity needs 'id', 'schema' and a 'properties' object", file=file, record=i
            )
        for key in ("id", "schema"):
            if not isinstance(ent.get(key), str) or not ent[key].strip():
                raise ChipexError(f"missing '{key}'", file=file, record=i, field=key)
        for prop, values in ent["properties"].items():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ChipexError("a property is a list of strings", file=file, record=i, field=prop)
        yield i, ent


def _values(ent: dict[str, Any], *props: str) -> list[str]:
    out: list[str] = []
    for p in props:
        out += [v.strip() for v in ent["properties"].get(p, []) if v.strip() and v.strip() not in out]
    return out


def _list_code(ent: dict[str, Any]) -> tuple[str, str]:
    for program in _values(ent, "program", "programId"):
        if m := re.search(r"\(([A-Z][A-Za-z-]*)(?: List)?\)", program):
            return m.group(1), program
    datasets = [d for d in ent.get("datasets", []) if isinstance(d, str)]
    for d in datasets:
        if d in _datasets():
            return _datasets()[d], f"OpenSanctions {d}"
    return "OS", "OpenSanctions " + (", ".join(datasets) or "entity")


def rows(text: str, file: str) -> list[tuple[int, dict[str, str]]]:
    """Party entities as consolidated.csv-style rows (for lists._entry), with their line numbers."""
    out = []
    for i, ent in entities(text, file):
        if ent["schema"] not in PARTY_SCHEMAS:
            continue
        names = _values(ent, "name")
        if not names:
            raise ChipexError("a party entity needs a name", file=file, record=i, field="name")
        code, source = _list_code(ent)
        countries = [c.upper() for c in _values(ent, *COUNTRY_PROPS) if len(c) == 2]
        addresses = _values(ent, "address") or []
        out.append((i, {
            "_id": ent["id"], "source": source, "name": names[0],
            "alt_names": "; ".join(names[1:] + _values(ent, *ALIAS_PROPS)), "type": ent["schema"],
            "programs": "; ".join(_values(ent, "program")),
            # lists._countries reads the last part of each address: the countries follow as their own
            "addresses": "; ".join(addresses + countries),
            "start_date": (_values(ent, "listingDate", "startDate", "createdAt") or [""])[0],
            "source_list_url": (_values(ent, "sourceUrl") or [""])[0], "list_code": code,
        }))  # fmt: skip
    return out
