"""Run the `chipex` command as a user would: a subprocess, its exit code, stdout and stderr."""

from __future__ import annotations

import os
import subprocess
import sys


def run_chipex(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chipex", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
