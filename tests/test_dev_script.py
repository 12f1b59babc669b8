"""`python3 dev.py run` on a fresh clone says what it does before pip's silent minute (issue 17).

pip is not run: `_sh` is replaced by a recorder, and the virtual environment is a folder under
tmp_path with a `python` in it (as after `venv` created it), so the test sees what a newcomer reads.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _dev(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)  # type: ignore[union-attr]
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    monkeypatch.setattr(dev, "VENV", venv)
    monkeypatch.setattr(dev, "BIN", venv / "bin")
    ran: list[tuple[str, ...]] = []
    monkeypatch.setattr(dev, "_sh", lambda *args: ran.append(args))
    return dev, ran


def test_run_says_what_it_installs_and_how_long_then_shows_the_demo_tables(monkeypatch, tmp_path, capsys):
    dev, ran = _dev(monkeypatch, tmp_path)
    monkeypatch.setattr(sys, "argv", ["dev.py", "run"])
    assert dev.main() == 0
    said = capsys.readouterr().out
    assert "installing chipex and the dependencies named in pyproject.toml" in said
    assert "about 1 minute" in said and "later runs skip it" in said
    assert said.index("installing") < said.index("installed in")
    pip, demo = ran
    assert pip[1:4] == ("-m", "pip", "install") and pip[-1] == "."
    assert demo[1:] == ("demo", "--format", "table")  # tables even when the log is piped
    # a second run skips pip (the stamp is newer than pyproject.toml) and says nothing about it
    ran.clear()
    assert dev.main() == 0
    assert [r[1] for r in ran] == ["demo"] and "installing" not in capsys.readouterr().out
