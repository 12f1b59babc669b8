"""Write the JSON Schemas of a determination into docs/schema/ (`python -m chipex.service.schema`).

A test checks that the files in the repository are what the models generate now.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from chipex.service.determination import Determination, DeterminationRow

SCHEMAS = {
    "determination.schema.json": Determination,
    "determination-row.schema.json": DeterminationRow,
}
ID_BASE = "https://chipex.invalid/schema/"  # a stable identifier, not a URL anything is fetched from


def schema_text(model) -> str:
    name = next(k for k, v in SCHEMAS.items() if v is model)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": ID_BASE + name}
    schema.update(model.model_json_schema(mode="serialization"))
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, model in SCHEMAS.items():
        path = folder / name
        path.write_text(schema_text(model), encoding="utf-8")
        out.append(path)
    return out


if __name__ == "__main__":
    for p in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schema")):
        print(p)
