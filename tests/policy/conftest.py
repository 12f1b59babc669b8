import pytest

from chipex.catalog import default_catalog
from chipex.rules import load_raw, load_rulebook


@pytest.fixture(scope="session")
def catalog():
    return default_catalog()


@pytest.fixture(scope="session")
def rulebook():
    return load_rulebook()


@pytest.fixture()
def raw():
    return load_raw()
