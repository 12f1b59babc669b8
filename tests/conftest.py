"""Shared fixtures. Tests read the project's own files, or ../shared/data when present."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def _screening_cache(tmp_path_factory) -> Path:
    """One screening-index cache for the session: built by the first test that screens."""
    return tmp_path_factory.mktemp("screening-cache")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch, _screening_cache):
    """Keep user state (ledger, reviewer decisions) out of the developer's home; share the index cache."""
    home = tmp_path_factory.mktemp("chipex-home")
    (home / "screening").mkdir()
    (home / "screening" / "cache").symlink_to(_screening_cache, target_is_directory=True)
    monkeypatch.setenv("CHIPEX_HOME", str(home))
    monkeypatch.delenv("CHIPEX_CATALOG", raising=False)


@pytest.fixture(scope="session")
def catalog():
    from chipex.catalog import load_catalog

    return load_catalog(with_env=False)


@pytest.fixture(scope="session")
def rulebook():
    from chipex.rules import load_rulebook

    return load_rulebook()
