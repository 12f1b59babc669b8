"""Transshipment hubs as of a date: the cited events of rules/hubs.yaml, with the country-group moves
of rules/countries.yaml for the same countries (read from the rulebook, not repeated)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from chipex.rules import Rulebook


def hubs_as_of(rulebook: Rulebook, on: dt.date) -> dict[str, Any]:
    """Every country with a hub event, whether it counts as a known hub on `on`, and its events to
    that date (later events are not shown: the table time-travels like the rulebook)."""
    hubs = rulebook.hubs
    periods = hubs.hub_periods()
    countries = sorted({e.country for e in hubs.events})
    rows = []
    for code in countries:
        events = [
            {
                "date": e.date.isoformat(),
                "kind": e.kind,
                "event": e.event,
                "figure": e.figure,
                "source": e.source,
                "confidence": e.confidence,
                "marks_hub": e.marks_hub,
            }
            for e in sorted(hubs.events, key=lambda e: e.date)
            if e.country == code and e.date <= on
        ]
        for name, group in rulebook.countries.data.groups.items():
            for ch in group.changes:
                if ch.country == code and ch.effective <= on:
                    events.append(
                        {
                            "date": ch.effective.isoformat(),
                            "kind": "group-move",
                            "event": f"{'added to' if ch.change == 'add' else 'removed from'} Country Group {name} ({group.label})",
                            "figure": None,
                            "source": ch.citation,
                            "confidence": ch.confidence,
                            "marks_hub": False,
                        }
                    )
        events.sort(key=lambda e: e["date"])
        since = [s for s, end in periods.get(code, []) if s <= on and (end is None or on < end)]
        rows.append(
            {
                "country": code,
                "hub": bool(since),
                "hub_since": min(since).isoformat() if since else None,
                "groups": rulebook.countries.groups_of(code, on),
                "events": events,
            }
        )
    return {
        "as_of": on.isoformat(),
        "hubs": [r["country"] for r in rows if r["hub"]],
        "countries": rows,
        "note": hubs.note,
    }
