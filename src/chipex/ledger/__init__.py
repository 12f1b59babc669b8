"""The ledger: licences, caps and reservations on SQLite or PostgreSQL, with a tamper-evident log.

    from chipex.ledger import open_ledger, Request
    with open_ledger() as ledger:                       # CHIPEX_DB, or ledger.db under CHIPEX_HOME
        ledger.add_licence({...})
        outcome = ledger.reserve(Request(destination="IN", consignee="Acme", item="H100", units=8,
                                         licence="L-1", on="2025-03-01"), key="order-17/line-1")
        ledger.remaining(Request(...))                  # what a line would draw on, and what is left
        ledger.record_determination(inputs=..., decision=..., rule_version=..., list_snapshot=...)
        ledger.verify()                                 # the hash chain, and amounts against it

Where things live: `ledger.py` (the operations), `caps.py` (caps as rule data from
`chipex/rules/caps.yaml`), `audit.py` (hashing, verification, export), `schema.py` (tables),
`records.py` (requests, outcomes, licences as values), `db.py` (opening and migrating), `migrations/` (Alembic revisions).
"""

from chipex.ledger.audit import Problem, Verification
from chipex.ledger.caps import Caps, build_caps, default_caps
from chipex.ledger.ledger import Ledger, open_ledger
from chipex.ledger.records import CapRow, Headroom, Licence, LicenceSpec, Line, Outcome, Recorded, Request

__all__ = [
    "CapRow",
    "Caps",
    "Headroom",
    "Ledger",
    "Licence",
    "LicenceSpec",
    "Line",
    "Outcome",
    "Problem",
    "Recorded",
    "Request",
    "Verification",
    "build_caps",
    "default_caps",
    "open_ledger",
]
