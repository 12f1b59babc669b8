"""Order checks and the ledger: how much of each licence or cap a line would use, and recording
each determination in the ledger's audit chain (`chipex check --ledger/--record`).

Recording a book is resumable (issue 11): each line's determination is stored under a key derived
from the book's content hash, the question asked (regime, screening) and the line number
(`chipex.core.provenance.determination_key`), in batches of RECORD_BATCH lines, each batch one
transaction. A run killed midway leaves whole batches; a re-run records only the lines not yet
recorded, and says how many were already there. A line recorded before whose answer or provenance
(rules, catalog, lists, reviewer decisions, chipex version) differs from this run's is not recorded
again: the summary names it and what differs. `missing_lines` lists what is still to record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chipex.core import provenance as prov
from chipex.errors import ChipexError
from chipex.ledger import Request, open_ledger
from chipex.ledger.audit import canonical
from chipex.orders.schema import OPTIONAL, REQUIRED

INPUT_FIELDS = (*REQUIRED, *OPTIONAL)
RECORD_BATCH = 500  # lines per transaction: a kill loses at most one batch's work, never half of one
# what a re-run may change without the determination being another one
_VOLATILE = ("user", "order")


@dataclass
class BookRecording:
    """What `record_book` did: new records, lines already recorded, and those that differ."""

    book_sha256: str
    key_prefix: str
    recorded: int = 0
    already: int = 0
    differing: list[tuple[int, list[str]]] = field(default_factory=list)  # (line, what differs)
    keys: dict[int, str] = field(default_factory=dict)  # line -> its key in the ledger


class LedgerLink:
    def __init__(
        self,
        db: str | None,
        regime: str,
        user: str | None,
        catalog_files: Iterable[Path | str] = (),
    ) -> None:
        from chipex.catalog import override_paths

        self.ledger = open_ledger(db)
        self.regime = regime
        self.user = user
        self.catalog_files = override_paths(catalog_files)
        self._matches: dict[tuple[str, str, str | None, str], list[dict[str, Any]]] = {}

    def headroom(self, row: dict[str, Any], required: bool, exceptions: list[str]) -> list[dict[str, Any]]:
        """What this line would draw on, with what is left (nothing recorded): under the first
        licence exception the ledger counts, else under a licence still to be applied for, or with no
        licence (NLR) when none is required."""
        usable = [e for e in exceptions if e in self.ledger.caps.data.authorizations]  # rules/caps.yaml
        chip = self.ledger.catalog.find(row["item_id"])
        # a chip by catalog id and units; a system (DGX, "8x H100") by its line TPP and ECCN
        item = (
            {"item": chip.id, "units": int(row["quantity"])}
            if chip and chip.kind != "system"
            else {"tpp": str(row["tpp_total"]), "eccn": row["eccn"] or "EAR99"}
        )
        req = Request(
            destination=row["destination"],
            consignee=row.get("consignee") or row.get("end_user") or "unknown consignee",
            **item,
            on=str(row["date"]),
            end_user=row.get("end_user"),
            authorization=(usable[0] if usable else "licence") if required else "NLR",
        )
        return [
            {
                "bucket": h.title,
                "unit": h.unit,
                "limit": float(h.limit),
                "used": float(h.used),
                "remaining": float(h.remaining),
                "exceeds": h.exceeds,
                "binding": h.binding,
                "citation": h.citation,
                "confidence": h.confidence,
                "message": h.refusal() if h.exceeds else h.why,
            }
            for h in self.ledger.remaining(req, regime=self.regime)
        ]

    # --- provenance ---

    def _payload(
        self, row: dict[str, Any], decision: dict[str, Any], env: dict[str, Any], rule_version: str | None,
        snapshot: str | None, order: str, book: dict[str, Any] | None,
    ) -> dict[str, Any]:  # fmt: skip
        provenance = {
            **env,
            "rule_version": rule_version,
            "list_snapshot": snapshot,
            "matches": party_matches(row, snapshot, self._matches) if env["screened"] else [],
            "book": book,
        }
        return {
            "order": order,
            "inputs": {k: (None if row.get(k) is None else str(row[k])) for k in INPUT_FIELDS},
            "decision": _plain(decision),
            "rule_version": rule_version,
            "list_snapshot": snapshot,
            "user": self.user or self.ledger.actor,
            "provenance": provenance,
        }

    # --- recording ---

    def record_book(
        self,
        rows: list[dict[str, Any]],
        book: Path,
        *,
        screened: bool,
        list_as_of: str,
        rule_version: Any,
    ) -> BookRecording:
        """Record each row's determination under its (book hash, question, line) key, RECORD_BATCH
        lines a transaction; lines recorded before are not recorded again. `rule_version(date)`
        gives the rule version in force on a line's date."""
        env = environment(self.regime, screened, self.catalog_files)
        sha = prov.file_sha256(book)
        question = prov.question_id(self.regime, screened, list_as_of)
        report = BookRecording(sha, prov.determination_key(sha, question, 0)[:-1])
        for batch in _batches(rows, RECORD_BATCH):
            items, lines = [], {}
            for row in batch:
                line = int(row["line"])
                snapshot = (row.get("list_snapshot") or "").split(" ")[0] or None if screened else None
                where = {"file": str(book), "sha256": sha, "line": line}
                decision = _row_decision(row)
                payload = self._payload(row, {**decision, "regime": self.regime}, env,
                                        rule_version(row["date"]), snapshot, str(book), where)  # fmt: skip
                key = prov.determination_key(sha, question, line)
                items.append((key, payload))
                lines[key] = line
                report.keys[line] = key
            for rec, (_, payload) in zip(
                self.ledger.record_determinations(items, user=self.user), items, strict=True
            ):
                if not rec.replayed:
                    report.recorded += 1
                    continue
                report.already += 1
                differs = _differences(json.loads(rec.existing), payload)
                if differs:
                    report.differing.append((lines[rec.key], differs))
        return report

    def missing_lines(
        self, rows: list[dict[str, Any]], book: Path, *, screened: bool, list_as_of: str
    ) -> list[int]:
        """The lines of `book` (of those in `rows`) whose determination is not recorded yet."""
        sha = prov.file_sha256(book)
        question = prov.question_id(self.regime, screened, list_as_of)
        prefix = prov.determination_key(sha, question, 0)[:-1]
        done = self.ledger.recorded_keys(prefix)
        return sorted(int(r["line"]) for r in rows if f"{prefix}{int(r['line'])}" not in done)


def environment(regime: str, screened: bool, catalog_files: Iterable[Path | str]) -> dict[str, Any]:
    """The provenance every determination of a run shares (chipex.core.provenance.Provenance)."""
    from chipex.rules import active_reforms

    if active_reforms():
        raise ChipexError(
            "a reform is a what-if: the ledger records real determinations only (drop --reform)"
        )
    return {
        "chipex_version": prov.chipex_version(),
        "rule_data_sha256": prov.rule_data_sha256(),
        "regime": regime,
        "catalog_sha256": prov.shipped_catalog_sha256(),
        "catalog_overrides": [f.model_dump() for f in prov.catalog_overrides(catalog_files)],
        "screened": screened,
    }


def party_matches(
    row: dict[str, Any], snapshot: str | None, memo: dict | None = None
) -> list[dict[str, Any]]:
    """The entries each party of the line matched in `snapshot`, with their scores and the
    reviewer decisions in effect (false positives included), as the check screened them."""
    if snapshot is None:
        return []
    memo = {} if memo is None else memo
    out = []
    for role, country in (
        ("end_user", row.get("end_user_hq") or row["destination"]),
        ("consignee", row["destination"]),
    ):  # fmt: skip  (as orders.parties screens)
        name = row.get(role)
        if not name:
            continue
        k = (role, name, country, snapshot)
        if k not in memo:
            memo[k] = [_match(role, name, h) for h in _screener(snapshot).screen(
                name, country, include_suppressed=True)]  # fmt: skip
        out += memo[k]
    return out


def order_provenance(
    d: dict[str, Any], *, regime: str, screened: bool, catalog_files: Iterable[Path | str] = ()
) -> dict[str, Any]:
    """The provenance of one order's determination `d` (chipex.orders.check_order's dict)."""
    snapshot = (d.get("list_snapshot") or "").split(" ")[0] or None if screened else None
    return {
        **environment(regime, screened, catalog_files),
        "rule_version": d.get("rule_version"),
        "list_snapshot": snapshot,
        "matches": party_matches(d, snapshot) if screened else [],
        "book": None,
    }


def _screener(snapshot_id: str):
    from chipex.orders.parties import _screener as cached
    from chipex.screening.store import Store

    store = Store()
    snaps = {s.id: s for s in store.accepted()}
    if snapshot_id not in snaps:
        raise ChipexError(
            f"list snapshot '{snapshot_id}' is not among the accepted ones", field="list_snapshot"
        )
    return cached(None, snaps[snapshot_id])


def _match(role: str, party: str, hit) -> dict[str, Any]:
    decided = [f for f in hit.features if f.name == "decision"]
    decision = hit.decision or ("reopened" if any(f.effect == "reopened" for f in decided) else None)
    return prov.PartyMatch(
        role=role,
        party=party,
        list=hit.list,
        entry_id=hit.entry_id,
        entry_name=hit.entry_name,
        score=round(hit.score, 4),
        decision=decision,
        decision_detail="; ".join(f.detail for f in decided) or None,
    ).model_dump()


def _row_decision(row: dict[str, Any]) -> dict[str, Any]:
    """A result row's answer, the same whether the rows came from memory or from an --out file:
    id lists as lists, the line's TPP as exact decimal text."""
    from decimal import Decimal

    from chipex.orders.explain import split_ids
    from chipex.orders.output import LIST_COLUMNS

    out = {}
    for k, v in row.items():
        if k in INPUT_FIELDS or k == "line":
            continue
        if k in LIST_COLUMNS and not isinstance(v, list):
            v = split_ids(v)
        elif k == "tpp_total" and v is not None:
            v = format(Decimal(str(v)).normalize(), "f")
        out[k] = v
    return out


def _plain(value: Any) -> Any:
    """`value` as JSON can hold it (dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _comparable(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload without what a re-run may change: the user, and the path the book was given by."""
    out = {k: v for k, v in payload.items() if k not in _VOLATILE}
    p = dict(out.get("provenance") or {})
    if p.get("book"):
        p["book"] = {k: v for k, v in p["book"].items() if k != "file"}
    return {**out, "provenance": p}


def _differences(before: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between a recorded payload and this run's ('decision', 'rule_data_sha256', ...)."""
    old, new = _comparable(before), _comparable(now)
    if canonical(old) == canonical(new):
        return []
    out = [k for k in ("inputs", "decision") if old.get(k) != new.get(k)]
    out += [k for k in new["provenance"] if old["provenance"].get(k) != new["provenance"][k]]
    return out or ["provenance"]


def _batches(rows: list[dict[str, Any]], n: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), n):
        yield rows[i : i + n]


def line_ranges(lines: list[int]) -> str:
    """'2-5, 9, 12-13' for [2, 3, 4, 5, 9, 12, 13]."""
    parts: list[str] = []
    start = prev = None
    for n in lines:
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
        start = prev = n
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(parts)
