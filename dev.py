#!/usr/bin/env python3
"""Set-up and run from a clean clone with nothing but Python 3.11.

python3 dev.py run     create .venv, install chipex, run the main job on bundled data
python3 dev.py test    create .venv, install chipex with test tools, run lint and tests
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _sh(*args: str) -> None:
    print("+", " ".join(args), flush=True)
    subprocess.run(args, cwd=ROOT, check=True)


def _say(text: str) -> None:
    print(f"dev.py: {text}", flush=True)


def _setup(extras: str) -> None:
    if not (BIN / "python").exists():
        _say(f"creating the virtual environment {VENV.name}/")
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extras or 'base'}"
    pyproject = ROOT / "pyproject.toml"
    if not stamp.exists() or stamp.stat().st_mtime < pyproject.stat().st_mtime:
        target = f".[{extras}]" if extras else "."
        what = "chipex with its test tools (PySpark among them)" if extras else "chipex"
        _say(
            f"installing {what} and the dependencies named in pyproject.toml; "
            f"the first time this takes about {'2-4 minutes' if extras else '1 minute'}, later runs skip it"
        )
        start = time.monotonic()
        _sh(str(BIN / "python"), "-m", "pip", "install", "-q", "--progress-bar", "off", "-e", target)
        stamp.touch()
        _say(f"installed in {time.monotonic() - start:.0f} s")


def main() -> int:
    cmd = sys.argv[1] if len(sys.argv) > 1 else "run"
    if cmd == "run":
        _setup("")
        _sh(str(BIN / "chipex"), "demo", "--format", "table")  # tables even when piped (| tee log)
    elif cmd == "test":
        _setup(os.environ.get("CHIPEX_EXTRAS", "dev"))
        _sh(str(BIN / "ruff"), "check", "src", "tests", "benchmarks")
        _sh(str(BIN / "python"), "-m", "pytest", *sys.argv[2:])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
