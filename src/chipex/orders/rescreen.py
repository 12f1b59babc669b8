"""Re-screening when a list changes (issue 15 §2): every known party against the old and the new
snapshot, and every recorded determination re-decided.

Known parties: the customer master (`chipex parties load`), the end users and consignees of recorded
determinations and of ledger reservations. The report names each party that newly matches, no longer
matches, or matches an entry whose content changed; the recorded determinations whose licence answer
would now differ (re-decided with the new list, as "would we ship this now"); and the reviewer decisions
reopened because their entry changed or left the list (appended to the decision log). The re-screen is
recorded in the ledger's audit chain when a ledger is given.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chipex.orders.schema import OPTIONAL
from chipex.screening import Screener
from chipex.screening.checks import delta
from chipex.screening.loading import read_stored
from chipex.screening.store import REOPENED, Decision, Store, customers


def _ledger_parties(db: str | None) -> tuple[list[tuple[str, dict]], list[tuple[str, str | None, str]]]:
    """(recorded determinations, (name, country, where) of ledger parties), or empty without a ledger."""
    from chipex.ledger import open_ledger

    if db is None and not os.environ.get("CHIPEX_DB") and not (Store().dir.parent / "ledger.db").exists():
        return [], []
    with open_ledger(db) as ledger:
        events = ledger.events(("determination.recorded", "reservation.made"))
    dets, parties = [], []
    for subject, p in events:
        if "inputs" in p:
            dets.append((subject, p))
            ins = p["inputs"]
            for role, country in (("end_user", ins.get("end_user_hq") or ins.get("destination")),
                                  ("consignee", ins.get("destination"))):  # fmt: skip
                if ins.get(role):
                    parties.append((ins[role], country, f"determination {subject}"))
        else:
            line = p.get("line", {})
            for role in ("end_user", "consignee"):
                if line.get(role):
                    parties.append((line[role], line.get("destination"), f"reservation {subject}"))
    return dets, parties


def _redecide(p: dict) -> bool | None:
    from chipex.errors import ChipexError
    from chipex.orders import check_order

    ins = {k: v for k, v in p["inputs"].items() if v is not None}
    try:
        d = check_order(date=ins.pop("date"), item=ins.pop("item"), quantity=int(ins.pop("quantity")),
                        destination=ins.pop("destination"), regime=p["decision"].get("regime", "as-enforced"),
                        list_as_of="today", **{k: v for k, v in ins.items() if k in OPTIONAL})  # fmt: skip
    except (ChipexError, KeyError, ValueError):
        return None
    return d["license_required"]


def rescreen(
    old_id: str, new_id: str, *, home: Path | None = None, db: str | None = None, user: str = "",
    record: bool = True,
) -> dict[str, Any]:  # fmt: skip
    store = Store(home)
    acc = {s.id: s for s in store.accepted()}
    old, new = acc[old_id], acc[new_id]
    so, sn = Screener(home=home, snapshot=old), Screener(home=home, snapshot=new)
    d = delta(read_stored(old), read_stored(new))
    touched = {o.id for ld in d.values() for o, _ in ld.changed} | {
        e.id for ld in d.values() for e in ld.removed
    }
    dets, ledger_parties = _ledger_parties(db)
    parties = [(n, c or None, f"customer {i}") for i, n, c in customers(store)] + ledger_parties
    seen: dict[tuple[str, str | None], dict] = {}
    for name, country, where in parties:
        k = (name, country)
        if k in seen:
            seen[k]["where"].append(where)
            continue
        # reviewer suppressions aside: a cleared hit whose entry changed must show up as changed
        ho = {h.entry_id: h for h in so.screen(name, country, include_suppressed=True)}
        hn = {h.entry_id: h for h in sn.screen(name, country, include_suppressed=True)}
        seen[k] = {"name": name, "country": country, "where": [where],
                   "new_matches": [f"{h.list} '{h.entry_name}' ({h.score:.2f})" for i, h in hn.items() if i not in ho],
                   "no_longer": [f"{h.list} '{h.entry_name}'" for i, h in ho.items() if i not in hn],
                   "entry_changed": [f"{h.list} '{h.entry_name}'" for i, h in hn.items() if i in ho and i in touched]}  # fmt: skip
    changed_parties = [v for v in seen.values() if v["new_matches"] or v["no_longer"] or v["entry_changed"]]
    differ = []
    if new_id == store.current().id:
        for key, p in dets:
            now = _redecide(p)
            was = p["decision"].get("license_required")
            if now is not None and was is not None and now != was:
                differ.append({"determination": key, "order": p.get("order"), "date": p["inputs"].get("date"),
                               "end_user": p["inputs"].get("end_user"), "consignee": p["inputs"].get("consignee"),
                               "was_license_required": was, "now_license_required": now})  # fmt: skip
    reopened = []
    at = datetime.now(UTC).isoformat(timespec="seconds")
    for dec in store.decisions().values():
        if dec.entry_id in touched:
            store.decide(Decision(dec.query_key, dec.entry_id, REOPENED, dec.query, dec.entry_name, new_id,
                                  user or "chipex rescreen", f"entry changed or removed in snapshot {new_id}", at))  # fmt: skip
            reopened.append(
                {"party": dec.query, "entry": dec.entry_name, "was": dec.decision, "by": dec.reviewer}
            )
    report = {"from": old_id, "to": new_id, "delta": {c: ld.counts() for c, ld in d.items() if any(ld.counts().values())},
              "parties_screened": len(seen), "parties_changed": changed_parties,
              "determinations_rechecked": len(dets) if new_id == store.current().id else 0,
              "determinations_differ": differ, "decisions_reopened": reopened}  # fmt: skip
    if record and (dets or ledger_parties or db):
        from chipex.ledger import open_ledger

        with open_ledger(db) as ledger:
            report["recorded"] = ledger.record_rescreen(report, key=f"rescreen-{old_id}-{new_id}").key
    return report
