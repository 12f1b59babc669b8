"""Shared fixtures. Tests read the project's own files, or ../shared/data when present."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Keep user state (ledger, reviewer decisions, caches) out of the developer's home."""
    monkeypatch.setenv("CHIPEX_HOME", str(tmp_path_factory.mktemp("chipex-home")))
    monkeypatch.delenv("CHIPEX_CATALOG", raising=False)


@pytest.fixture(scope="session")
def catalog():
    from chipex.catalog import load_catalog

    return load_catalog(with_env=False)


@pytest.fixture(scope="session")
def rulebook():
    from chipex.rules import load_rulebook

    return load_rulebook()
