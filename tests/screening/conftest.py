"""Fixtures: a CHIPEX_HOME per test (tmp dir), sharing one prebuilt index of the shipped list."""

from __future__ import annotations

from pathlib import Path

import pytest

from chipex.screening import Screener

# small list files in the official layouts, shipped with the tests (data/README.md names their source)
SAMPLES = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def index_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("chipex-home-session")
    Screener(home=home)  # builds the index once and caches it under home/screening/cache
    return home / "screening" / "cache"


@pytest.fixture
def home(tmp_path: Path, index_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CHIPEX_HOME whose index cache is the session's (so no test rebuilds the index)."""
    (tmp_path / "screening").mkdir()
    (tmp_path / "screening" / "cache").symlink_to(index_cache, target_is_directory=True)
    monkeypatch.setenv("CHIPEX_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def screener(index_cache: Path) -> Screener:
    """One screener for tests that only read (its home holds no decisions and no loaded lists)."""
    return Screener(home=index_cache.parent.parent)
