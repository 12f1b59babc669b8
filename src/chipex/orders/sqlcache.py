"""The one-order path's compiled SQL, cached on disk, keyed by everything it is compiled from.

Compiling the rule expression to SQL (Ibis, sqlglot) is most of a cold `chipex check` of one order
(issue 12). The SQL depends only on the rule data (after reforms), the catalog, the regime, chipex's
own code and the versions of the libraries that write it; its key is the SHA-256 of all of those,
so any change compiles afresh. The file is read back only if it is authentic (chipex.cachefiles:
this user's, private, HMAC checked), since SQL is code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import chipex
from chipex.cachefiles import cache_secret, read_authentic, write_authentic
from chipex.home import chipex_home

LIBRARIES = ("ibis-framework", "duckdb", "sqlglot", "pyarrow")


def sql_key(*data: object) -> str:
    """SHA-256 over the data's repr (frozen pydantic models and dataclasses: their full content),
    every chipex source file and the versions of the SQL-writing libraries."""
    h = hashlib.sha256(repr(data).encode())
    root = Path(chipex.__file__).parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for lib in LIBRARIES:
        h.update(f"{lib}={metadata.version(lib)}\0".encode())
    return h.hexdigest()


def cached_sql(key: str, compile_sql: Callable[[], str], cache_dir: Path | None = None) -> str:
    """The SQL under `key` from the cache, else `compile_sql()` (then cached)."""
    folder = cache_dir or chipex_home() / "cache"
    try:
        secret = cache_secret(folder)
    except OSError:
        return compile_sql()  # a read-only or shared home only costs speed
    path = folder / f"one-order-{key[:32]}.sql"
    head = f"-- chipex one-order SQL {key}\n"
    body = read_authentic(path, secret)
    if body is not None:
        text = body.decode("utf-8", "replace")
        if text.startswith(head):
            return text[len(head) :]
    sql = compile_sql()
    write_authentic(path, secret, (head + sql).encode())
    return sql
