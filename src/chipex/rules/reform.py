"""Reforms: what-if overlays on the rule data, applied to a clone of the raw YAML.

A reform file names itself, says why, and lists changes. Each change addresses one rule file and a
path of stable ids inside it, then sets fields, adds an item or removes one:

    name: "2023 thresholds in force from October 2022"
    changes:
      - file: eccn/3A090.yaml
        path: [texts, 3A090-2023, paragraphs, 3A090.a.1, all, tpp]   # a prong is addressed by its metric
        set: {at_least: 4000}            # null removes a field
      - file: eccn/3A090.yaml
        path: [texts, 3A090-2022]
        remove: true
      - file: eccn/3A090.yaml
        path: [texts, [3A090-2023, 3A090-2024-12], paragraphs]      # a list of ids fans out
        add: {id: 3A090.b.3, text: "...", all: [...]}
        after: 3A090.b.2

In a list, a path element selects the item whose `id` equals it (prongs, which have no id, by their
`metric`; plain lists such as country-group members by value). Everything is checked before the
result is returned: an unknown file, key or id names itself, and the reformed rule data is then
validated in full by `build_rulebook`, so a bad reform changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chipex.datafiles import read_yaml, validate
from chipex.errors import ChipexError

Selector = str | int | float | dt.date | list[str | int | float | dt.date]


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="rule file, relative to the rules folder, e.g. eccn/3A090.yaml")
    path: list[Selector] = Field(default_factory=list)
    set: dict[str, Any] | None = None
    add: Any = None
    remove: bool = False
    before: str | None = None
    after: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_operation(self) -> Change:
        ops = [self.set is not None, self.add is not None, self.remove]
        if sum(ops) != 1:
            raise ValueError("a change has exactly one of 'set', 'add' or 'remove: true'")
        if (self.before or self.after) and self.add is None:
            raise ValueError("'before'/'after' position an 'add'")
        if self.remove and not self.path:
            raise ValueError("'remove' needs a path to the item")
        return self


class Reform(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str
    rationale: str | None = None
    citation: str | None = None
    changes: list[Change] = Field(min_length=1)


def _key(v: Any) -> str:
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def _clone(obj: Any) -> Any:
    """A deep copy that also un-shares YAML anchors: texts that alias one paragraph list stay separate
    dated texts, so a change to one text never leaks into another."""
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clone(v) for v in obj]
    return obj


def _label(item: Any) -> str:
    if isinstance(item, dict):
        return _key(item.get("id", item.get("metric", "?")))
    return _key(item)


def _matches(item: Any, sel: str) -> bool:
    if isinstance(item, dict):
        if "id" in item:
            return _key(item["id"]) == sel
        return "metric" in item and _key(item["metric"]) == sel
    return _key(item) == sel


def _step(node: Any, sel: Selector, where: str) -> list[tuple[Any, Any]]:
    """Children of `node` named by `sel`, as (container, key-or-index) handles."""
    sels = sel if isinstance(sel, list) else [sel]
    out = []
    for s in map(_key, sels):
        if isinstance(node, dict):
            if s not in node:
                raise ChipexError(f"no key '{s}' at {where} (keys: {', '.join(map(str, node))})")
            out.append((node, s))
        elif isinstance(node, list):
            hits = [i for i, item in enumerate(node) if _matches(item, s)]
            if not hits:
                known = ", ".join(_label(x) for x in node) or "empty list"
                raise ChipexError(f"no item '{s}' at {where} (items: {known})")
            if len(hits) > 1:
                raise ChipexError(f"'{s}' names {len(hits)} items at {where}: ambiguous")
            out.append((node, hits[0]))
        else:
            raise ChipexError(f"'{s}' at {where}: cannot step into a {type(node).__name__}")
    return out


def _resolve(root: Any, path: list[Selector], file: str) -> list[tuple[Any, Any]]:
    handles: list[tuple[Any, Any]] = [({"": root}, "")]
    where = file
    for sel in path:
        nxt = []
        for container, k in handles:
            nxt.extend(_step(container[k], sel, where))
        handles = nxt
        where += f" > {sel}"
    return handles


def _apply_change(raw: dict[str, Any], ch: Change) -> None:
    if ch.file not in raw:
        raise ChipexError(f"unknown rule file '{ch.file}' (files: {', '.join(sorted(raw))})")
    if ch.remove:
        for container, k in _resolve(raw[ch.file], ch.path, ch.file):
            del container[k]
        return
    for container, k in _resolve(raw[ch.file], ch.path, ch.file):
        target = container[k]
        if ch.set is not None:
            if not isinstance(target, dict):
                raise ChipexError(f"'set' needs a mapping at {ch.path}, found a {type(target).__name__}")
            for field, value in ch.set.items():
                if value is None:
                    target.pop(field, None)
                else:
                    target[field] = _clone(value)
            continue
        if not isinstance(target, list):
            raise ChipexError(f"'add' needs a list at {ch.path}, found a {type(target).__name__}")
        new = _clone(ch.add)
        if any(_matches(item, _label(new)) for item in target):
            raise ChipexError(f"'{_label(new)}' already exists at {ch.path}")
        at = len(target)
        if ch.before or ch.after:
            [(_, idx)] = _step(target, ch.before or ch.after, f"{ch.path}")
            at = idx if ch.before else idx + 1
        target.insert(at, new)


def load_reform(path: Path | str) -> Reform:
    path = Path(path)
    return validate(Reform, read_yaml(path), file=path)


def apply_reform(raw: dict[str, Any], reform: Reform, *, source: str) -> dict[str, Any]:
    """A reformed copy of the raw rule data (the input is never modified)."""
    out = _clone(raw)
    for i, ch in enumerate(reform.changes):
        try:
            _apply_change(out, ch)
        except ChipexError as exc:
            raise ChipexError(exc.message, file=source, record=f"change {i + 1}", field="path") from None
    return out


def apply_reforms(raw: dict[str, Any], paths: Iterable[Path | str]) -> dict[str, Any]:
    """Apply reform files in order to a clone of `raw`; the result is validated as a whole rulebook.

    Any problem (bad reform file, unknown path or id, or rule data that no longer validates) raises
    a ChipexError naming it, and nothing is applied.
    """
    from chipex.rules import build_rulebook

    out = raw
    for p in paths:
        out = apply_reform(out, load_reform(p), source=str(p))
    try:
        build_rulebook(out)
    except ChipexError as exc:
        names = ", ".join(str(p) for p in paths)
        raise ChipexError(f"after reform {names}: {exc}") from None
    return out
