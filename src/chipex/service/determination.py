"""The one schema of a determination: one order or one line of a book, in every output.

`Determination` is what every JSON path writes (one order, a book's `--json` lines, a `.jsonl`
results file, the HTTP API, the Python API). Tabular files (CSV, Parquet, XLSX) hold its flat
projection, `DeterminationRow`: the same top-level names, with the lists (`reasons`, `exceptions`,
`depends_on`, `checked`, `not_checked`) as lists of ids in Parquet and joined by ';' in CSV and XLSX (a trailing '?' marks a
reason that depends on a fact the order does not give), `red_flags` joined by ';', and `policy` as
the policy's name. Both JSON Schemas are generated from these
models into docs/schema/ (`python -m chipex.service.schema`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Reason(BaseModel):
    """One rule that decides the licence requirement (or `none` when no rule applies)."""

    rule: str = Field(description="rule id from licensing.yaml, 'is-informed <letter id>', or 'none'")
    paragraph: str | None = Field(None, description="the CFR paragraph the rule implements")
    citation: str | None = Field(None, description="Federal Register or CFR citation")
    confidence: str | None = Field(None, description="verified, secondary or from-memory")
    met: bool | None = Field(
        description="true: applies; null: applies unless a fact not given says otherwise"
    )
    detail: str = Field("", description="the rule's text and the order's facts it was applied to")


class LicenceException(BaseModel):
    id: str
    paragraph: str | None = None
    citation: str | None = None
    confidence: str | None = None
    conditions: list[str] = Field(default_factory=list, description="what the exception requires")
    missing: list[str] = Field(default_factory=list, description="what is still needed to use it")


class Policy(BaseModel):
    policy: str = Field(description="licence review policy, e.g. 'presumption of denial'")
    rule: str
    paragraph: str | None = None
    citation: str | None = None
    confidence: str | None = None
    note: str | None = None
    conditions: list[str] = Field(
        default_factory=list, description="what a licence application must meet under this policy"
    )


class ItemWarning(BaseModel):
    """A warning the user must not miss (rules/warnings.yaml, e.g. GP10 for Huawei Ascend chips)."""

    id: str
    text: str
    citation: str
    confidence: str


class Draw(BaseModel):
    """What the line would draw on a licence or cap in the ledger, and what is left."""

    bucket: str
    unit: str
    limit: float
    used: float
    remaining: float
    exceeds: bool
    binding: bool
    citation: str | None = None
    confidence: str | None = None
    message: str | None = None


class Determination(BaseModel):
    """May this order (or book line) ship: the decision, every rule that made it, cited, as of its date."""

    model_config = ConfigDict(extra="forbid", title="chipex determination")

    line: int = Field(description="line number in the book (the header is line 1); 1 for one order")
    date: str = Field(description="order date, YYYY-MM-DD: the rules in force on this date apply")
    item: str = Field(description="the item as written in the order")
    item_id: str | None = Field(description="catalog id the item resolved to")
    quantity: int
    destination: str = Field(description="ISO 3166 code")
    end_user: str | None = None
    end_user_hq: str | None = None
    parent_hq: str | None = None
    consignee: str | None = None
    end_use: str | None = None
    ship_from: str | None = None
    exporter: str | None = None
    jurisdiction: str = Field(
        description="is the item subject to the EAR, and on what basis (15 CFR 734.3): 'US-origin ...', "
        "'... 734.9(h) FDP ...', '... de minimis exceeded ...', 'assumed ...' or 'not subject: ...'"
    )
    license_required: bool
    license_required_otherwise: bool = Field(
        description="the answer if the uncertain conditions in depends_on do not hold"
    )
    eccn: str | None = Field(
        description="3A090/4A090 paragraph when one applies, else the item's CCL entry (3A991.p, 4A994.l, "
        "a vendor's 5A992.c) or EAR99"
    )
    eccn_confidence: str | None = Field(
        None,
        description="how sure the ECCN is: derived (CCL text on catalog figures), estimate, or the catalog's mark",
    )
    reasons: list[Reason]
    exceptions: list[LicenceException] = Field(description="licence exceptions that could apply")
    policy: Policy | None = Field(description="licence review policy when a licence is required")
    depends_on: list[str] = Field(description="facts not in the order the answer turns on")
    checked: list[str] = Field(
        description="the parts of the EAR this answer evaluated, with the rule-data version (rules/scope.yaml)"
    )
    not_checked: list[str] = Field(
        description="what this answer cannot know or does not model: a 'no licence required' holds only within this scope"
    )
    outcomes: dict[str, bool] | None = Field(
        None, description="both answers when the decision depends on a fact not given"
    )
    regime: str = Field(description="as-enforced or as-printed")
    rule_version: str | None = Field(description="the rule version in force on the date")
    tpp_total: float | None = Field(description="total processing performance of the line")
    parties: str | None = Field(description="restricted-party list entries the parties matched")
    list_snapshot: str | None = Field(
        None, description="the screening list snapshot the parties were checked against, and its date"
    )
    classification: dict[str, Any] | None = Field(
        None, description="the item's classification with every threshold compared (one order only)"
    )
    red_flags: list[str] = Field(
        default_factory=list,
        description="diversion red flags raised (rules/red_flags.yaml): inquiries, never a decision",
    )
    red_flag_inquiries: list[dict[str, Any]] = Field(
        default_factory=list, description="each raised flag's text, the inquiry to make, citation and inputs"
    )
    warnings: list[ItemWarning] = Field(
        default_factory=list, description="warnings on the item (rules/warnings.yaml): never a decision"
    )
    advisories: list[str] = Field(
        default_factory=list,
        description="advice for the exporter's role, e.g. the foundry/OSAT presumption of Note 1 to 3A090.a",
    )
    ledger: list[Draw] | None = Field(None, description="ledger headroom, when asked for")
    determination_id: str | None = Field(None, description="the audit-chain key, when recorded")
    disclaimer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class DeterminationRow(BaseModel):
    """The flat projection of a Determination: one row of a CSV, Parquet or XLSX results file."""

    model_config = ConfigDict(extra="forbid", title="chipex determination (tabular row)")

    line: int
    date: str
    item: str
    item_id: str | None
    quantity: int
    destination: str
    end_user: str | None
    end_user_hq: str | None
    parent_hq: str | None
    consignee: str | None
    end_use: str | None
    ship_from: str | None
    exporter: str | None
    eccn: str | None
    eccn_confidence: str | None
    license_required: bool
    license_required_otherwise: bool
    reasons: list[str] | str = Field(
        description="rule ids ('?' marks an uncertain one); joined by ';' in CSV/XLSX"
    )
    exceptions: list[str] | str = Field(description="licence exception ids; joined by ';' in CSV/XLSX")
    policy: str | None = Field(description="the review policy's name (Determination.policy.policy)")
    policy_rule: str | None = Field(description="the policy's rule id (Determination.policy.rule)")
    depends_on: list[str] | str = Field(description="Determination.depends_on; joined by ';' in CSV/XLSX")
    checked: list[str] | str = Field(description="Determination.checked; joined by ';' in CSV/XLSX")
    not_checked: list[str] | str = Field(description="Determination.not_checked; joined by ';' in CSV/XLSX")
    party_entries: str | None = Field(description="Determination.parties")
    list_snapshot: str | None = Field(description="Determination.list_snapshot")
    tpp_total: float | None
    red_flags: str = Field(description="Determination.red_flags joined by ';'")
    warnings: str = Field(description="ids of Determination.warnings joined by ';'")
    jurisdiction: str = Field(description="Determination.jurisdiction")
    advisories: str = Field(description="Determination.advisories (at most one text)")
