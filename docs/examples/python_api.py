"""chipex from Python: the same service layer and result models as the CLI and the HTTP API.

Run: python docs/examples/python_api.py  (tests/service/test_python_api.py runs it and checks its output)
"""

from pathlib import Path

import pandas as pd

import chipex

STORY = Path(__file__).resolve().parents[2] / "src" / "chipex" / "examples" / "orders-story.csv"

# 1. Classify a chip on a date: the H800 was outside 3A090 under the 2022 text (400 GB/s < 600 GB/s)
#    and 3A090.a.1 from the 2023 text (88 FR 73458), which dropped the interconnect prong.
for on in ("2023-06-01", "2024-01-01"):
    c = chipex.classify("H800", on)
    print(f"H800 on {on}: {c.eccn or 'not 3A090'} (TPP {c.tpp:,.0f}, rule version {c.rule_version})")

# 2. One order: a Determination (docs/schema/determination.schema.json).
d = chipex.check(date="2024-01-01", item="H100", quantity=8, destination="CN", screen=False)
print(f"8 x H100 to CN on 2024-01-01: licence required={d.license_required}, ECCN {d.eccn}, "
      f"because {d.reasons[0].rule} ({d.reasons[0].citation}); policy: {d.policy.policy}")  # fmt: skip

# 3. A book from a DataFrame (a path, a Polars DataFrame or an Arrow table work the same way).
book = chipex.check_book(pd.read_csv(STORY), screen=False)
table = book.to_pandas()
print(f"story book: {book.checked} lines checked, {int(table.license_required.sum())} need a licence")
print(table.groupby("destination").license_required.sum().to_string())

# 4. Screening a party.
hit = chipex.screen("HUAWEI TECH CO LTD", country="CN").hits[0]
print(f"screen: {hit.entry_name} on the {hit.list} (score {hit.score:.2f}), {hit.license_policy}")
