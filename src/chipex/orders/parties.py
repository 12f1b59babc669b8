"""The party side of an order check: screen end users and consignees against the list in force on each
line's date, and apply the 50% ownership rules (rules/affiliates.yaml) to them.

Each distinct (role, party, country, list snapshot, rule period) is screened once: a line's snapshot is
the latest accepted one dated on or before the line's date (the oldest, with a warning, if none is that
old), or today's with `list_as_of="today"`; its rule period is the stretch of dates between any two
changes of the ownership rules or the ownership data, so one evaluation serves every date in it. The
result is the table `line_parties` (one row per screened line) that orders.io joins to the lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from chipex.errors import ChipexError
from chipex.rules.model import PartyLists
from chipex.screening import Screener
from chipex.screening.affiliates import Coverage, Graph, rules_data
from chipex.screening.ownership import change_dates, edges_on
from chipex.screening.store import Store, StoredSnapshot

if TYPE_CHECKING:
    import duckdb


def _line_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("role", pa.string()), ("name", pa.string()), ("country", pa.string()), ("snap", pa.string()),
            ("period", pa.int64()), ("listed", pa.bool_()), ("entries", pa.string()), ("policy", pa.string()),
            ("flags", pa.string()), ("affiliate", pa.bool_()), ("depends", pa.string()),
        ]
    )  # fmt: skip


@dataclass(frozen=True)
class PartyScreening:
    """How to screen a book's parties: under which regime, against which list, warning at what age."""

    regime: str = "as-enforced"
    list_as_of: str = "order"  # "order": the list in force on each line's date; "today": the current list
    warn_age: int = 7
    home: Path | None = None


_SCREENERS: dict[tuple[str, str], Screener] = {}


def _screener(home: Path | None, snap: StoredSnapshot) -> Screener:
    key = (str(home or Store().dir), snap.id)
    if key not in _SCREENERS:
        _SCREENERS[key] = Screener(home=home, snapshot=snap)
    return _SCREENERS[key]


def _periods(home: Path | None) -> list[date]:
    """Dates on which the ownership rules or the ownership data can change an answer."""
    starts = {date.min}
    for r in rules_data().rules:
        starts.add(r.effective)
        for s in r.suspensions:
            starts |= {s.from_, s.until + timedelta(days=1)}
    return sorted(starts | change_dates(home=home))


def _describe(role: str, name: str, hits) -> str:
    return "; ".join(
        f"{role} '{name}' = {h.list} '{h.entry_name}' (score {h.score:.2f}; {h.license_requirement}; "
        f"{h.citation}; list snapshot {h.snapshot_id})"
        for h in hits
    )


def _assess(ps: PartyScreening, s: Screener, role: str, name: str, on: date, graph: Graph | None) -> dict:
    """Ownership rules for one party on a date: covered (under ps.regime), and what to say."""
    if graph is None:
        return {"affiliate": False, "entries": None, "policy": None, "depends": None}
    data = rules_data()
    covered: list[Coverage] = []
    notes: list[str] = []
    for rule in data.rules:
        if on < rule.effective:
            continue
        cov = graph.coverage(name, rule)
        if cov is None:
            continue
        if rule.in_force(on, ps.regime):
            covered.append(cov)
        elif (susp := rule.suspended(on)) is not None:  # as enforced, not in force: say what is printed
            notes.append(f"as printed, {role} {cov.describe()}; not enforced: suspended {susp.from_} to "
                         f"{susp.until} ({susp.citation})")  # fmt: skip
    depends = None
    in_force = [r for r in data.rules if r.in_force(on, ps.regime)]
    if not covered and in_force and not graph.has_owners(name):
        weak = [h for h in s.screen(name, threshold=data.weak_match) if s.threshold > h.score
                and any(r.owner_counts(s.entry(h.entry_id)) for r in in_force)]  # fmt: skip
        if weak:
            h = weak[0]
            depends = (f"ownership not known: {role} '{name}' resembles {h.list} '{h.entry_name}' (score "
                       f"{h.score:.2f}), and {' and '.join(r.id for r in in_force)} (in force on this date) need its owners "
                       "(chipex ownership load)")  # fmt: skip
    if not covered:
        return {"affiliate": False, "entries": "; ".join(notes) or None, "policy": None, "depends": depends}
    gov = covered[0].governing.entry
    text = "; ".join(f"{role} {c.describe()}" for c in covered)
    return {"affiliate": True, "entries": "; ".join([text, *notes]), "depends": None,
            "policy": gov.license_policy or "as stated in the listed owner's entry"}  # fmt: skip


def party_answer(
    ps: PartyScreening,
    lists: PartyLists,
    s: Screener,
    role: str,
    name: str,
    hits: list,
    gk: tuple[str, date],
    graphs: dict[tuple[str, date], Graph | None],
) -> dict:
    """A party's screening hits on snapshot `s`, with the ownership rules for the rule period
    `gk` = (snapshot id, period start): listed, entries, policy, flags, affiliate, depends (a book's
    lines and one order read the same answer)."""
    pstart = gk[1]
    required = [h for h in hits if h.list in lists.requirement]
    flagged = [h for h in hits if h.list in lists.red_flag]
    if gk not in graphs:
        edges = edges_on(pstart, home=ps.home) if pstart != date.min else []
        graphs[gk] = Graph(s, edges)
    own = _assess(ps, s, role, name, pstart, graphs[gk]) if not required else {
        "affiliate": False, "entries": None, "policy": None, "depends": None}  # fmt: skip
    entries = "; ".join(x for x in (_describe(role, name, required), own["entries"]) if x) or None
    return {"listed": bool(required), "entries": entries,
            "policy": required[0].license_policy if required else own["policy"],
            "flags": "; ".join(f"{role} '{name}' on the {h.list_name}" for h in flagged) or None,
            "affiliate": own["affiliate"], "depends": own["depends"]}  # fmt: skip


def screen_parties(
    con: duckdb.DuckDBPyConnection, ps: PartyScreening | None, lists: PartyLists | None, *, label: str = ""
) -> None:
    """Table `line_parties` (line, party_listed, party_entries, party_policy, party_flags,
    party_affiliate, party_depends, list_snapshot) for the valid lines of `orders_checked`."""
    import pyarrow as pa  # here: one order (orders/single_io.py) screens without Arrow

    rows: list[dict] = []
    if ps is not None and lists is not None:
        store = Store(ps.home)
        accepted = store.accepted()
        today = ps.list_as_of == "today"
        snaps = [store.current()] if today else accepted
        by_id = {s.id: s for s in snaps}
        con.register("chipex_snaps", pa.table({"id": [s.id for s in snaps],
                                               "source_date": [date.min if today else s.source_date for s in snaps]}))  # fmt: skip
        periods = _periods(ps.home)
        con.register("chipex_periods", pa.table({"start": periods, "idx": list(range(len(periods)))}))
        first = snaps[0]
        con.execute(f"""CREATE OR REPLACE TEMP TABLE line_epoch AS
            SELECT o.line, o.d, coalesce(s.id, {_sql(first.id)}) AS snap,
                   {_sql(first.source_date.isoformat()) + "::DATE" if today else
                    f"coalesce(s.source_date, {_sql(first.source_date.isoformat())}::DATE)"} AS list_date,
                   s.id IS NULL AS too_old, p.idx AS period, p.start AS pstart,
                   o.end_user, coalesce(o.end_user_hq_code, o.destination_code) AS eu_c,
                   o.consignee, o.destination_code AS cons_c
            FROM (SELECT *, TRY_CAST(date AS DATE) AS d FROM orders_checked
                  WHERE err_field IS NULL AND (end_user IS NOT NULL OR consignee IS NOT NULL)) o
            ASOF LEFT JOIN chipex_snaps s ON o.d >= s.source_date
            ASOF LEFT JOIN chipex_periods p ON o.d >= p.start""")  # fmt: skip
        parties = con.execute(
            """SELECT DISTINCT 'end_user', end_user, eu_c, snap, period, pstart FROM line_epoch WHERE end_user IS NOT NULL
               UNION SELECT DISTINCT 'consignee', consignee, cons_c, snap, period, pstart FROM line_epoch
               WHERE consignee IS NOT NULL"""
        ).fetchall()
        graphs: dict[tuple[str, date], Graph | None] = {}
        for role, name, country, snap, period, pstart in parties:
            s = _screener(ps.home, by_id[snap])
            try:
                hits = s.screen_many([(name, country)])[0]
            except ChipexError as exc:  # e.g. a name over chipex.limits.MAX_NAME_LENGTH: name the line
                (line,) = con.execute(f"SELECT min(line) FROM line_epoch WHERE {role} = ?", [name]).fetchone()
                raise ChipexError(exc.message, file=label or None, record=line, field=role) from None
            answer = party_answer(ps, lists, s, role, name, hits, (snap, pstart), graphs)
            rows.append({"role": role, "name": name, "country": country, "snap": snap, "period": period,
                         **answer})  # fmt: skip
        warn = ps.warn_age
        age_on = "current_date" if today else "le.d"
        con.register("party_rows", pa.Table.from_pylist(rows, _line_schema()))
        con.execute(f"""CREATE OR REPLACE TEMP TABLE line_parties AS
            SELECT le.line,
                   coalesce(pe.listed, false) OR coalesce(pc.listed, false) AS party_listed,
                   NULLIF(concat_ws('; ', pe.entries, pc.entries), '') AS party_entries,
                   coalesce(pe.policy, pc.policy) AS party_policy,
                   NULLIF(concat_ws('; ', pe.flags, pc.flags), '') AS party_flags,
                   coalesce(pe.affiliate, false) OR coalesce(pc.affiliate, false) AS party_affiliate,
                   NULLIF(concat_ws('; ', pe.depends, pc.depends), '') AS party_depends,
                   le.snap || ' (list of ' || CAST(le.list_date AS VARCHAR) || ')'
                   || CASE WHEN le.too_old THEN '; warning: no list snapshot dated on or before '
                           || CAST(le.d AS VARCHAR) || ', the oldest one was used' ELSE '' END
                   || CASE WHEN date_diff('day', le.list_date, {age_on}) > {int(warn)}
                           THEN '; warning: the list is ' || CAST(date_diff('day', le.list_date, {age_on}) AS VARCHAR)
                                || ' days old on ' || CAST({age_on} AS VARCHAR) || ' (more than {int(warn)})'
                           ELSE '' END AS list_snapshot
            FROM line_epoch le
            LEFT JOIN party_rows pe ON pe.role = 'end_user' AND pe.name = le.end_user
                 AND pe.country IS NOT DISTINCT FROM le.eu_c AND pe.snap = le.snap AND pe.period = le.period
            LEFT JOIN party_rows pc ON pc.role = 'consignee' AND pc.name = le.consignee
                 AND pc.country IS NOT DISTINCT FROM le.cons_c AND pc.snap = le.snap AND pc.period = le.period""")  # fmt: skip
        con.unregister("party_rows")
        return
    con.execute(
        """CREATE OR REPLACE TEMP TABLE line_parties AS SELECT NULL::BIGINT AS line,
           false AS party_listed, NULL::VARCHAR AS party_entries, NULL::VARCHAR AS party_policy,
           NULL::VARCHAR AS party_flags, false AS party_affiliate, NULL::VARCHAR AS party_depends,
           NULL::VARCHAR AS list_snapshot WHERE false"""
    )


def _sql(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
