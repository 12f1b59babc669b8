"""Order checks and the ledger: how much of each licence or cap a line would use, and recording
each determination in the ledger's audit chain (`chipex check --ledger/--record`)."""

from __future__ import annotations

from typing import Any

from chipex.ledger import Request, open_ledger
from chipex.orders.schema import OPTIONAL, REQUIRED

INPUT_FIELDS = (*REQUIRED, *OPTIONAL)


class LedgerLink:
    def __init__(self, db: str | None, regime: str, user: str | None) -> None:
        self.ledger = open_ledger(db)
        self.regime = regime
        self.user = user

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

    def record(
        self,
        row: dict[str, Any],
        decision: dict[str, Any],
        rule_version: str | None,
        list_snapshot: str | None,
        order: str,
    ) -> str:
        inputs = {k: (None if row.get(k) is None else str(row[k])) for k in INPUT_FIELDS}
        rec = self.ledger.record_determination(
            inputs=inputs,
            decision=decision,
            rule_version=rule_version,
            list_snapshot=list_snapshot,
            order=order,
            user=self.user,
        )
        return rec.key
