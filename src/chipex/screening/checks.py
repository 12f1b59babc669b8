"""Swap checks for a new list snapshot, and the entry-level delta between two snapshots.

A new snapshot is refused (unless forced) when, against an accepted baseline, a list loses more than
MAX_REMOVED entries or MAX_DROP of them, more than MAX_RENAMED entries keep their id but change their
name, or entry ids repeat. The ITA developer portal once served a list that had silently lost 15,000
rows (issue #146 there); a quiet week removes a handful of entries per list.

Entries are matched by id; an entry whose id is gone counts as removed unless an entry of the same list
and name appeared (an id scheme change, e.g. the shipped file's hashed ids against trade.gov's own).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field, fields

from chipex.screening.lists import Entry, Snapshot

MAX_DROP = 0.10  # share of a list's entries
MAX_REMOVED = 25  # entries per list, whatever the list's size
MAX_RENAMED = 25  # entries per list keeping their id under another name
BASELINE_DAYS = 30  # drift is measured against the oldest accepted snapshot this many days back too


def entry_hash(e: Entry) -> str:
    """SHA-256 of what the list says about an entry, its id and chipex's Han names aside: a reviewer's
    decision stands while this stays the same."""
    return hashlib.sha256(json.dumps(_content(e), ensure_ascii=False).encode()).hexdigest()


@dataclass
class ListDelta:
    added: list[Entry] = field(default_factory=list)
    removed: list[Entry] = field(default_factory=list)
    changed: list[tuple[Entry, Entry]] = field(default_factory=list)  # (old, new), same id or same name
    renamed: int = 0  # of `changed`: same id, another name

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed), "changed": len(self.changed)}


def delta(old: Snapshot, new: Snapshot) -> dict[str, ListDelta]:
    """Per list: entries added, removed and changed (by content hash) from `old` to `new`."""
    out: dict[str, ListDelta] = {}
    new_by_id = {e.id: e for e in new.entries}
    old_ids = {e.id for e in old.entries}
    # entries new under a new id, by (list, name): they may be an old entry under another id scheme
    fresh: dict[tuple[str, str], list[Entry]] = {}
    for e in new.entries:
        if e.id not in old_ids:
            fresh.setdefault((e.list, e.name), []).append(e)
    for o in old.entries:
        d = out.setdefault(o.list, ListDelta())
        n = new_by_id.get(o.id)
        if n is None and fresh.get((o.list, o.name)):
            n = fresh[(o.list, o.name)].pop()
        if n is None:
            d.removed.append(o)
        elif _content(n) != _content(o):
            d.changed.append((o, n))
            if n.id == o.id and n.name != o.name:
                d.renamed += 1
    for group in fresh.values():
        for e in group:
            out.setdefault(e.list, ListDelta()).added.append(e)
    return dict(sorted(out.items()))


_CONTENT = tuple(f.name for f in fields(Entry))[1:-1]  # all but the id and the Han names


def _content(e: Entry) -> tuple:
    # a shallow tuple: the fields are strings and tuples of strings, so astuple's deep copy (75% of
    # a list load) gives the same value
    return tuple(getattr(e, n) for n in _CONTENT)


def repeated_ids(snap: Snapshot) -> list[str]:
    return [i for i, n in Counter(e.id for e in snap.entries).items() if n > 1]


def swap_problems(baseline: Snapshot, new: Snapshot) -> list[str]:
    """Why `new` should not follow `baseline` (empty: safe). Each problem names the list and numbers.
    Repeated ids are checked on the new snapshot alone (`repeated_ids`)."""
    problems = []
    old_counts, new_counts = baseline.counts, new.counts
    for code, d in delta(baseline, new).items():
        n_old, n_new = old_counts.get(code, 0), new_counts.get(code, 0)
        if n_old and (n_old - n_new) / n_old > MAX_DROP:
            problems.append(f"{code}: {n_old:,} -> {n_new:,} entries ({(n_old - n_new) / n_old:.0%} fewer)")
        elif len(d.removed) > MAX_REMOVED:
            problems.append(f"{code}: {len(d.removed):,} entries removed (more than {MAX_REMOVED})")
        if d.renamed > MAX_RENAMED:
            problems.append(
                f"{code}: {d.renamed:,} entries keep their id under another name (more than {MAX_RENAMED})"
            )
    return problems
