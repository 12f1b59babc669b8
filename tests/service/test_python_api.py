"""The Python API: what `import chipex` costs, what its functions accept, and the docs example run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import chipex
from chipex.errors import ChipexError

ROOT = Path(__file__).resolve().parents[2]
STORY = ROOT / "src" / "chipex" / "examples" / "orders-story.csv"


def test_import_chipex_loads_no_engine():
    code = "import sys, chipex; heavy = [m for m in ('duckdb', 'ibis', 'pydantic', 'sqlalchemy', 'pyarrow') if m in sys.modules]; print(heavy)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_check_book_accepts_paths_frames_and_tables():
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    expected = chipex.check_book(STORY, screen=False).to_pandas().license_required.tolist()
    for book in (
        str(STORY),
        pd.read_csv(STORY),
        pl.read_csv(STORY),
        pa.Table.from_pandas(pd.read_csv(STORY)),
    ):
        result = chipex.check_book(book, screen=False)
        assert result.checked == 23 and result.to_pandas().license_required.tolist() == expected
    with pytest.raises(ChipexError, match="a book is a path"):
        chipex.check_book(42)


def test_docs_notebook_runs(tmp_path):
    """docs/python-api.ipynb executed top to bottom in a fresh kernel (nbclient), its printed facts checked."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")

    nb = nbformat.read(ROOT / "docs" / "python-api.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    out = "".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.outputs
    )
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    # H800: outside 3A090 under the 2022 text (interconnect 400 < 600 GB/s), 3A090.a.1 under the 2023 text
    assert "H800 on 2023-06-01: not 3A090" in out and "H800 on 2024-01-01: 3A090.a.1" in out
    assert "licence required=True, ECCN 3A090.a.1, because d145-2023" in out
    assert "story book: 23 lines checked" in out
    assert "Huawei Technologies Co., Ltd. on the EL (score 1.00)" in out
