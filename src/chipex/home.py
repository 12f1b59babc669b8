"""Where chipex keeps a user's state (list snapshots, reviewer decisions, the ledger)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def chipex_home() -> Path:
    """CHIPEX_HOME, or the platform's user data directory."""
    if env := os.environ.get("CHIPEX_HOME"):
        return Path(env).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "chipex"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "chipex"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "chipex"
