"""Reading YAML data files and validating them, with errors that name file, record and field."""

from __future__ import annotations

import datetime as dt
import hashlib
import marshal
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chipex.errors import ChipexError, utf8_problem

M = TypeVar("M", bound=BaseModel)

# libyaml's parser, ten times faster than the pure-Python one (0.04 s vs 0.41 s for every shipped
# file) and the same documents; the pure-Python loader only where libyaml is not built in.
# (imported on a cache miss only: see _cached)


def read_yaml(path: Path) -> Any:
    """The document in the YAML file at `path`: from the private cache (see _cached) when a file
    with the same bytes was parsed before, else parsed with libyaml and cached."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ChipexError(f"cannot read: {exc.strerror}", file=str(path)) from None
    digest = hashlib.sha256(raw).hexdigest()
    cached = _cached(digest)
    if cached is not _MISS:
        return cached
    data = _parse_yaml(path, raw)
    _store(digest, data)
    return data


def _parse_yaml(path: Path, raw: bytes) -> Any:
    bad = utf8_problem(raw, option=None)
    if bad:
        raise ChipexError(bad[2], file=str(path), record=f"line {bad[0]}")
    text = raw.decode("utf-8")
    import yaml

    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark else None
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())  # one line, always
        raise ChipexError(f"not valid YAML: {problem}", file=str(path), record=line) from None
    except (ValueError, OverflowError) as exc:  # a value YAML reads but Python cannot hold: 2025-02-30
        raise ChipexError(f"not valid YAML: {' '.join(str(exc).split())}", file=str(path)) from None


def validate(model: type[M], data: Any, *, file: Path | str, record: str | int | None = None) -> M:
    """Build `model` from `data`, turning the first validation problem into a one-line ChipexError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        raise ChipexError(err["msg"], file=str(file), record=record, field=field) from None


def content_hash(paths: Iterable[Path], root: Path | None = None) -> str:
    """SHA-256 over the files' names (relative to `root`) and bytes, in sorted order: the identity
    of a set of data files, for caches and version output."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path.relative_to(root) if root else path).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


# The parsed document of every YAML file read, cached by the SHA-256 of its bytes: libyaml's parser
# is fast but PyYAML builds the Python objects in pure Python (~0.1 s for the files one command
# reads). A cache file is marshal (dates stored as ISO text plus the list of where they are) behind
# an HMAC (chipex.cachefiles): only bytes this user wrote are ever read back; a stale, foreign,
# broken or tampered file is a miss. CHIPEX_YAML_CACHE=0 turns it off.
_MISS = object()
_YAML_CACHE_VERSION = 1
_secrets: dict[Path, bytes | None] = {}  # per cache folder; None: not usable (read-only, shared)


def _cache() -> tuple[Path, bytes] | None:
    """The cache folder and its secret, or None when caching is off or impossible."""
    if os.environ.get("CHIPEX_YAML_CACHE") == "0":
        return None
    from chipex.cachefiles import cache_secret
    from chipex.home import chipex_home

    folder = chipex_home() / "cache" / "yaml"
    if folder not in _secrets:
        try:
            _secrets[folder] = cache_secret(folder)
        except OSError:
            _secrets[folder] = None  # a read-only or shared home only costs speed
    secret = _secrets[folder]
    return (folder, secret) if secret else None


def _cached(digest: str) -> Any:
    cache = _cache()
    if cache is None:
        return _MISS
    from chipex.cachefiles import read_authentic

    body = read_authentic(cache[0] / f"v{_YAML_CACHE_VERSION}-{digest}.marshal", cache[1])
    if body is None:
        return _MISS
    try:
        data, dates = marshal.loads(body)
        for where, kind in dates:
            *parents, last = where
            node = data
            for k in parents:
                node = node[k]
            node[last] = (dt.datetime if kind else dt.date).fromisoformat(node[last])
    except (EOFError, ValueError, TypeError, KeyError, IndexError):
        return _MISS
    return data


class _Uncacheable(Exception):
    pass


def _plain(node: Any, where: tuple, dates: list) -> Any:
    """`node` with dates as ISO text (their places noted in `dates`); _Uncacheable when it holds
    anything marshal or the place list cannot carry (a date as a key, a set, a custom object)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if not isinstance(k, str | int | float | bool | type(None)):
                raise _Uncacheable
            out[k] = _plain(v, (*where, k), dates)
        return out
    if isinstance(node, list):
        return [_plain(v, (*where, i), dates) for i, v in enumerate(node)]
    if isinstance(node, dt.date):  # a datetime is a date too
        dates.append((where, isinstance(node, dt.datetime)))
        return node.isoformat()
    if node is None or isinstance(node, str | int | float | bool | bytes):
        return node
    raise _Uncacheable


def _store(digest: str, data: Any) -> None:
    cache = _cache()
    if cache is None:
        return
    from chipex.cachefiles import write_authentic

    dates: list = []
    try:
        body = marshal.dumps((_plain(data, (), dates), dates))
    except (_Uncacheable, ValueError):
        return
    write_authentic(cache[0] / f"v{_YAML_CACHE_VERSION}-{digest}.marshal", cache[1], body)
