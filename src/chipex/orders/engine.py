"""Licence determination: one Ibis expression for one order and for a whole order book.

`OrderEngine.determine(table)` enriches normalised order lines with the item's classification
and the countries' groups for the line's period, then evaluates every requirement, exception and
policy of `rules/licensing.yaml` and every is-informed letter as columns. The single-order path
(`check_order`) runs exactly this on a one-row table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import ibis
import pyarrow as pa
from ibis.expr.types import BooleanValue, StringValue, Table

from chipex.catalog import Catalog
from chipex.core.classify import Classification
from chipex.core.jurisdiction import is_subject, jurisdiction_expr
from chipex.errors import ChipexError
from chipex.orders.compile import HQ, group_test, item_prefixes, periods_in, when_expr
from chipex.orders.red_flags import red_flags_column
from chipex.orders.scope import scope_columns
from chipex.orders.tables import CountryTables, ItemStatus, Periods, item_status_table, letter_flag
from chipex.rules import Rulebook
from chipex.rules.countries import REGIMES
from chipex.rules.model import GroupTest, Letter

RESULT_COLUMNS = [
    "line",
    "date",
    "item",
    "item_id",
    "quantity",
    "destination",
    "end_user",
    "end_user_hq",
    "parent_hq",
    "consignee",
    "end_use",
    "ship_from",
    "exporter",
    "eccn",
    "eccn_confidence",
    "license_required",
    "license_required_otherwise",
    "reasons",
    "exceptions",
    "policy",
    "policy_rule",
    "depends_on",
    "checked",
    "not_checked",
    "party_entries",
    "list_snapshot",
    "tpp_total",
    "red_flags",
    "warnings",
    "jurisdiction",
    "advisories",
]


def _concat(parts: list[StringValue]) -> StringValue:
    return parts[0].concat(*parts[1:])  # one CONCAT call, not a chain


@dataclass
class OrderEngine:
    rulebook: Rulebook
    catalog: Catalog
    regime: str = "as-enforced"
    periods: Periods = field(init=False)

    def __post_init__(self) -> None:
        if self.regime not in REGIMES:
            raise ChipexError(f"unknown regime '{self.regime}' (use {' or '.join(REGIMES)})")
        self.periods = Periods.of(self.rulebook)
        self._countries = CountryTables(self.rulebook, self.periods, self.regime)
        self.countries_table = self._countries.table()
        self.classifications: dict[tuple[str, int], Classification] = {}
        self._rows: dict[tuple[str, int], pa.Table] = {}  # (item, period) -> its lookup row

    def period_of(self, on: dt.date) -> int:
        return self.periods.index(on)

    def _period_expr(self, t: Table):
        starts = self.periods.starts[1:]
        branches = [(t.date < ibis.literal(s), k) for k, s in enumerate(starts)]
        return ibis.cases(*branches, else_=len(starts)).cast("int32")

    def prefixes(self) -> list[str]:
        lic = self.rulebook.licensing
        found: set[str] = set()
        for rule in [*lic.requirements, *lic.exceptions, *lic.policies, *self.rulebook.jurisdiction.fdp]:
            found |= item_prefixes(rule.when)
        return sorted(found)

    def items_table(self, items: list[ItemStatus], periods: list[int]) -> pa.Table:
        """Classification rows for every requested (item, period) pair; each pair is classified
        once per engine and its row kept, so a second caller (a book, then one order) still gets it."""
        by_item: dict[str, tuple[ItemStatus, list[int]]] = {}
        for it in items:
            for k in periods:
                if (it.item_id, k) not in self._rows:
                    by_item.setdefault(it.item_id, (it, []))[1].append(k)
        for it, ks in by_item.values():
            table, classes = item_status_table(
                [it], ks, self.periods, self.rulebook, self.catalog, self.prefixes()
            )
            self.classifications.update(classes)
            for i, k in enumerate(ks):
                self._rows[(it.item_id, k)] = table.slice(i, 1)
        wanted = [self._rows[(it.item_id, k)] for it in items for k in periods]
        if wanted:
            return pa.concat_tables(wanted)
        return item_status_table([], [], self.periods, self.rulebook, self.catalog, self.prefixes())[0]

    def register(self, backend) -> None:
        """Create the lookup tables the expression reads, in the given backend."""
        put_table(backend, "chipex_countries", self.countries_table)

    def enrich(self, t: Table, backend) -> Table:
        """Join each key to its item's classification and its countries' groups for its period."""

        it = backend.table("chipex_items").rename(i_item_id="item_id", i_period="period")
        t = t.left_join(it, [t.item_id == it.i_item_id, t.period == it.i_period]).drop(
            "i_item_id", "i_period"
        )
        countries = backend.table("chipex_countries")
        groups = [g.replace(":", "") for g in self._countries.groups]
        for prefix, column in (
            ("dest", "destination"),
            ("eu", "end_user_hq"),
            ("pa", "parent_hq"),
            ("from", "ship_from"),
        ):
            ct = countries.rename(
                **{
                    f"{prefix}_code": "code",
                    "c_period": "period",
                    f"{prefix}_tier": "tier",
                    f"{prefix}_as": "as_code",
                },
                **{f"{prefix}_{g}": g for g in groups},
            )
            t = t.left_join(ct, [t[column] == ct[f"{prefix}_code"], t.period == ct.c_period]).drop(
                f"{prefix}_code", "c_period"
            )
        flags = [
            c
            for c in t.columns
            if c.split("_", 1)[0] in ("dest", "from", "eu", "pa") and t[c].type().is_boolean()
        ]
        return t.mutate(**{c: t[c].fill_null(False) for c in flags})

    def expression(self, lines: Table, backend) -> Table:
        """The decision for every line: classification and country lookups joined per line, then
        every rule as a column (item tests are precomputed per item and period, so a line costs a
        few boolean operations per rule)."""
        t = lines.mutate(period=self._period_expr(lines), exporter_norm=lines.exporter.strip().lower())
        t = self.determine(self.enrich(t, backend))
        scope = scope_columns(t, self.rulebook, self.periods)  # rules/scope.yaml: what was checked
        t = t.mutate(
            checked=scope["checked"],
            not_checked=scope["not_checked"],
            depends_on=t.depends_on.concat(scope["scope_depends"]),
        )
        return (
            t.mutate(
                tpp_total=(t.tpp_item * t.quantity).cast("decimal(38,6)"),
                red_flags=red_flags_column(t, self.rulebook, self.catalog),  # inquiries, never a decision
            )
            .select(RESULT_COLUMNS)
            .order_by("line")
        )

    # -- the rules ----------------------------------------------------------------------------

    def _letter_expr(self, t: Table, letter: Letter) -> tuple[BooleanValue, BooleanValue]:
        """(certainly required, required if the exporter is the informed company)."""
        where = group_test(
            t, ("dest",), GroupTest(any_of=letter.destinations, none_of=letter.destinations_except)
        )
        if letter.headquartered_in:  # a delivery inside the US is not an export (15 CFR 734.13)
            abroad = ~group_test(t, ("dest",), GroupTest(any_of=["US"]))
            where = where | (group_test(t, HQ, GroupTest(any_of=letter.headquartered_in)) & abroad)
        in_force = periods_in(t, self.periods.where(lambda s: letter.in_force(s)))
        base = in_force & t[letter_flag(letter.id)] & where
        informed = t.exporter_norm == letter.informed.lower()
        return base & informed.fill_null(False), base & t.exporter_norm.isnull()

    def determine(self, t: Table) -> Table:
        """Add the decision columns to an enriched table.

        Stage 1 computes one boolean column per rule; stage 2 combines them, so each rule's test
        appears once in the compiled query.
        """
        lic = self.rulebook.licensing
        in_force = lambda rule: periods_in(t, self.periods.where(lambda s: rule.in_force(s, self.regime)))  # noqa: E731
        names: dict[str, str] = {}  # rule id -> column
        stage1: dict[str, BooleanValue] = {}
        for i, r in enumerate(lic.requirements):
            names[r.id] = f"r{i}"
            stage1[f"r{i}"] = in_force(r) & when_expr(t, r.when)
        unsure: dict[str, str] = {}
        for i, letter in enumerate(self.rulebook.letters):
            names[letter.id], unsure[letter.id] = f"l{i}", f"lu{i}"
            stage1[f"l{i}"], stage1[f"lu{i}"] = self._letter_expr(t, letter)
        for i, e in enumerate(lic.exceptions):
            stage1[f"e{i}"] = in_force(e) & when_expr(t, e.when)
        for i, pol in enumerate(lic.policies):
            stage1[f"p{i}"] = in_force(pol) & when_expr(t, pol.when)
        stage1["jurisdiction"] = jurisdiction_expr(t, self.rulebook, self.periods)  # 15 CFR 734.3
        t = t.mutate(**stage1)
        subject = is_subject(t.jurisdiction)  # not subject to the EAR: no EAR licence requirement

        fired = {rid: t[col] for rid, col in names.items()}
        certain = ibis.literal(False)
        for cond in fired.values():
            certain = certain | cond
        possible = ibis.literal(False)
        for col in unsure.values():
            possible = possible | t[col]
        reasons = _concat(
            [ibis.ifelse(c, f"{rid};", "") for rid, c in fired.items()]
            + [ibis.ifelse(t[col], f"{rid}?;", "") for rid, col in unsure.items()]
        )
        exc_parts = []
        for i, e in enumerate(lic.exceptions):
            covered, blocked = ibis.literal(False), possible
            for rid, cond in fired.items():
                if any(r.id == rid and e.id in r.exceptions for r in lic.requirements):
                    covered = covered | cond
                else:
                    blocked = blocked | cond
            exc_parts.append(ibis.ifelse(covered & ~blocked & t[f"e{i}"], f"{e.id};", ""))
        branches = []
        for i, pol in enumerate(lic.policies):
            cond = t[f"p{i}"]
            if pol.requirement_in:
                any_req = ibis.literal(False)
                for rid in pol.requirement_in:
                    any_req = any_req | fired[rid]
                cond = cond & any_req
            branches.append((cond, pol.id))
        policy_rule = ibis.cases(*branches, else_=None)
        policy = ibis.ifelse(
            policy_rule.isin(["listed-party", "affiliate-of-listed-party"]),
            t.party_policy,
            policy_rule.substitute({p.id: p.policy for p in lic.policies}),
        )
        required = (certain | possible) & subject
        stated = [
            ibis.ifelse(fired[r.id], "".join(f"{d};" for d in r.depends_on), "")
            for r in lic.requirements
            if r.depends_on
        ]
        stated += [
            ibis.ifelse(policy_rule == p.id, "".join(f"{d};" for d in p.depends_on), "")
            for p in lic.policies
            if p.depends_on
        ]
        depends = ibis.ifelse(possible, "is-informed: exporter not given;", "").concat(
            *[ibis.ifelse(required, s, "").fill_null("") for s in stated],
            ibis.ifelse(t.depends != "", t.depends.concat(";"), "").fill_null(""),
            ibis.ifelse(t.party_flags.notnull(), ibis.literal("red flag: ").concat(t.party_flags, ";"), ""),
            ibis.ifelse(t.party_depends.notnull(), t.party_depends.concat(";"), ""),
        )
        return t.mutate(
            eccn=ibis.ifelse(t.eccn == "", None, t.eccn),
            eccn_confidence=ibis.ifelse(t.eccn_confidence == "", None, t.eccn_confidence),
            license_required=required,
            license_required_otherwise=certain & subject,
            reasons=ibis.ifelse(required, reasons, ""),
            exceptions=ibis.ifelse(required, _concat(exc_parts), ""),
            policy=ibis.ifelse(required, policy, None),
            policy_rule=ibis.ifelse(required, policy_rule, None),
            depends_on=depends,
            warnings=t.warnings.fill_null(""),
            advisories=ibis.ifelse(t.exporter_role.isin(["foundry", "osat"]), t.foundry, "").fill_null(""),
        )


def put_table(backend, name: str, table: pa.Table) -> Table:
    """Create or replace a table in any Ibis backend (DuckDB through its own connection)."""
    if backend.name == "duckdb":
        backend.con.register(f"{name}__arrow", table)
        backend.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM "{name}__arrow"')
        backend.con.unregister(f"{name}__arrow")
        return backend.table(name)
    if backend.name == "pyspark":
        # From Arrow directly (Ibis's pandas route turns null strings into "NaN"); a session-scoped
        # view, so nothing lands in a warehouse.
        backend._session.createDataFrame(table).createOrReplaceTempView(name)
        return backend.table(name)
    return backend.create_table(name, table, overwrite=True)
