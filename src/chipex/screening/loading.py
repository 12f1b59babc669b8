"""Loading a list snapshot: parse, check it against the accepted baselines, keep it, report the delta.

The baselines (see checks.py for the checks): the accepted snapshot in force just before the new one's
date, and the oldest accepted snapshot of the BASELINE_DAYS before it, so repeated small drops cannot
erode a list load by load. A refused snapshot changes nothing; a forced one records who forced it past
which problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from chipex.errors import ChipexError
from chipex.screening.checks import BASELINE_DAYS, ListDelta, delta, repeated_ids, swap_problems
from chipex.screening.lists import Progress, Snapshot, read_snapshot
from chipex.screening.store import Store, StoredSnapshot, os_user


@dataclass
class LoadReport:
    snapshot_id: str
    source_date: date
    counts: dict[str, int]
    previous_id: str
    previous_counts: dict[str, int]
    baselines: list[str]
    forced: list[str]  # swap-check problems a --force let through (empty: none)
    forced_by: str
    delta: dict[str, ListDelta] = field(repr=False)
    already_loaded: bool = False
    current: bool = True  # the newest accepted snapshot now (a back-dated load is kept, not current)

    def delta_counts(self) -> dict[str, dict[str, int]]:
        return {code: d.counts() for code, d in self.delta.items() if any(d.counts().values())}

    def to_dict(self) -> dict:
        return {
            "loaded": self.snapshot_id, "source_date": self.source_date, "counts": self.counts,
            "previous": self.previous_id, "previous_counts": self.previous_counts,
            "baselines": self.baselines, "forced": self.forced, "forced_by": self.forced_by,
            "already_loaded": self.already_loaded, "current": self.current, "delta": self.delta_counts(),
        }  # fmt: skip


def read_stored(s: StoredSnapshot) -> Snapshot:
    return read_snapshot(s.path, s.source_date, source=s.source)


def baselines(store: Store, on: date, exclude: str = "") -> list[StoredSnapshot]:
    """The accepted snapshots a new one dated `on` is checked against (first: the one it follows)."""
    accepted = [s for s in store.accepted() if s.id != exclude]
    before = [s for s in accepted if s.source_date <= on]
    if not before:  # older than everything accepted: compare with the oldest
        return accepted[:1]
    window = [s for s in before if s.source_date >= on - timedelta(days=BASELINE_DAYS)]
    out = [before[-1]]
    if window and window[0].id != before[-1].id:
        out.append(window[0])
    return out


def load_list(
    path: Path,
    source_date: date,
    *,
    home: Path | None = None,
    force: bool = False,
    user: str = "",
    origin: str = "",
    progress: Progress | None = None,
) -> LoadReport:
    """Parse a list file and keep it as an accepted snapshot (current if it is the newest). Refused
    (ChipexError, nothing changed) if it does not parse, or fails the swap checks unless `force`.
    `progress(done, total)`: entries parsed as the parse goes (the slow step, about 60% of a load;
    `total` a bound from the file's line count), then (N, N) with the real count once all is done."""
    store = Store(home)
    new = read_snapshot(path, source_date, source=origin or None, progress=progress)
    n = len(new.entries)
    if any(s.id == new.id for s in store.accepted()):
        if progress is not None:
            progress(n, n)
        return LoadReport(new.id, new.source_date, new.counts, new.id, new.counts, [], [], "", {},
                          already_loaded=True, current=store.current().id == new.id)  # fmt: skip
    bases = baselines(store, source_date, exclude=new.id)
    base_snaps = [read_stored(b) for b in bases]
    problems: list[str] = []
    if rep := repeated_ids(new):
        problems.append(f"{len(rep):,} entry id(s) repeat (first: {rep[0][:16]})")
    for b, snap in zip(bases, base_snaps, strict=True):
        problems += [f"{p} against {b.id}" for p in swap_problems(snap, new)]
    if problems and not force:
        raise ChipexError(
            "refused: " + "; ".join(problems) + " (use --force --user NAME if the change is real)",
            file=str(path),
        )
    forced_by = (user or os_user()) if problems else ""
    store.add_snapshot(new, path, forced_by=forced_by, problems=tuple(problems), origin=origin)
    prev, prev_snap = bases[0], base_snaps[0]
    rep = LoadReport(
        new.id, new.source_date, new.counts, prev.id, prev_snap.counts, [b.id for b in bases],
        problems, forced_by, delta(prev_snap, new), current=store.current().id == new.id,
    )  # fmt: skip
    if progress is not None:
        progress(n, n)
    return rep
