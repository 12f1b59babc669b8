"""docs/notebooks/: each notebook executed top to bottom in a fresh kernel (nbclient), its printed facts
checked; the repository keeps them without outputs (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"


def _run(name: str, tmp_path: Path) -> tuple[str, list]:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs)
    return text, outputs


def test_notebooks_are_stored_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == ["compliance-check.ipynb", "policy-lab-deepseek.ipynb"]
    for name in names:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")


def test_compliance_check_notebook(tmp_path):
    text, _ = _run("compliance-check.ipynb", tmp_path)
    assert "23 lines checked" in text
    # line 3: 64 A100 to China on 2022-12-01, 3A090.a under the 2022 text, licence by 742.6(a)(6)(iii)
    assert "line 3: 64 x A100 to CN on 2022-12-01: 3A090.a;" in text
    assert (tmp_path / "results.csv").read_text(encoding="utf-8").startswith("line,")


def test_policy_lab_notebook(tmp_path):
    text, outputs = _run("policy-lab-deepseek.ipynb", tmp_path)
    # the 2022 text's 600 GB/s interconnect prong let the H800 (400 GB/s) through; the 2023 text did not
    assert "H800 on 2023-06-01: not 3A090" in text and "H800 on 2024-01-01: 3A090.a.1" in text
    # DeepSeek-V3 Technical Report: 2,048 H800s, 2.788M GPU-hours, $5.576M at $2/GPU-hour
    assert "2,048 x H800 SXM, 2,788,000 GPU-hours" in text and "$5,576,000" in text
    assert "H800 SXM to CN: licence-free 2023-03-21" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the chart is shown
    assert (tmp_path / "policy-tpp-pd.csv").exists()
