"""What a recorded determination was decided with, so it can be reproduced (issue 11).

Every determination `chipex check --record` stores carries a `Provenance`: the chipex version, the
rule data (SHA-256 over `chipex/rules/*.yaml`, the shipped what-if reforms aside) and the rule version
in force on the order's date, the catalog (SHA-256 over the shipped `catalog/chips/*.yaml`, and each
override file from CHIPEX_CATALOG or `--catalog` by name and hash), the list snapshot screened
against, the matched list entries with their scores and the reviewer decisions in effect on them,
and for a line of a book, the book's SHA-256 and the line number. The book's hash and the line are
also the determination's idempotency key (`determination_key`), so a re-run of a killed
`check --record` records only what is missing.

This is the model the web report and the API read (`Provenance.model_validate(payload["provenance"])`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from chipex.datafiles import content_hash

_CHUNK = 1 << 20


class DataFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(description="the path as given (--catalog, CHIPEX_CATALOG)")
    sha256: str


class BookLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(description="the book's path as given on the command line")
    sha256: str = Field(description="SHA-256 of the book file's bytes")
    line: int = Field(description="the line (CSV, JSON Lines; header is line 1) or record (Parquet) number")


class PartyMatch(BaseModel):
    """A list entry a party of the order matched (or a reviewer decided on), as screened."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str = Field(description="end_user or consignee")
    party: str
    list: str = Field(description="EL, MEU, UVL, DPL, SDN, ...")
    entry_id: str
    entry_name: str
    score: float = Field(description="match score, 0..1 (rounded to 4 places)")
    decision: str | None = Field(
        None, description="reviewer decision in effect: confirmed, false_positive, or reopened (lapsed)"
    )
    decision_detail: str | None = Field(None, description="who decided, when, and the note")


class Provenance(BaseModel):
    """Everything a recorded determination depends on besides its inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chipex_version: str
    rule_data_sha256: str = Field(description="SHA-256 over the rule data files (chipex/rules/*.yaml)")
    rule_version: str | None = Field(description="the rule version in force on the order's date")
    regime: str
    catalog_sha256: str = Field(description="SHA-256 over the shipped catalog files")
    catalog_overrides: list[DataFile] = Field(default_factory=list)
    screened: bool = Field(description="whether the parties were screened (--screen)")
    list_snapshot: str | None = Field(description="the list snapshot the parties were screened against")
    matches: list[PartyMatch] = Field(default_factory=list)
    book: BookLine | None = Field(None, description="the book and line, for a determination of a book")


def file_sha256(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def chipex_version() -> str:
    try:
        return metadata.version("chipex")
    except metadata.PackageNotFoundError:
        return "unknown (not installed: running from a source tree)"


@cache
def rule_data_sha256() -> str:
    """The identity of the rule data: what `chipex --version -v` prints (first 12 characters)."""
    from chipex.rules import RULES_DIR

    files = [p for p in RULES_DIR.rglob("*.yaml") if p.relative_to(RULES_DIR).parts[0] != "reforms"]
    return content_hash(files, RULES_DIR)


@cache
def shipped_catalog_sha256() -> str:
    from chipex.catalog import CHIPS_DIR

    return content_hash(CHIPS_DIR.glob("*.yaml"), CHIPS_DIR)


def catalog_overrides(paths: Iterable[Path | str]) -> list[DataFile]:
    return [DataFile(file=str(p), sha256=file_sha256(p)) for p in paths]


def determination_key(book_sha256: str, question: str, line: int) -> str:
    """The idempotency key of line `line` of a book: its content hash, the question asked of it
    (`question`: the regime and how parties were screened, see `question_id`) and the line."""
    return f"book-{book_sha256[:32]}-{question}-{line}"


def question_id(regime: str, screened: bool, list_as_of: str) -> str:
    """A short id for what was asked of a book: the same book checked under another regime, or
    screened differently, is another determination (8 hex characters)."""
    text = f"{regime}|{'screen' if screened else 'no-screen'}|{list_as_of}"
    return hashlib.sha256(text.encode()).hexdigest()[:8]
