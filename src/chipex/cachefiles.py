"""Private, authenticated cache files: what chipex computed once and may read back instead of redoing.

A cache file is only ever read back if it is this user's own (owner = this user, neither the file nor
its folder writable by anyone else) and its HMAC-SHA256, under a secret kept 0600 in the cache folder,
checks out. So bytes another account could have written are never deserialised (marshal) nor run
(SQL): a foreign, tampered, truncated or stale file is ignored and the work is redone. A read-only or
shared folder only costs speed, never an answer.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

MAC = 32  # bytes of HMAC-SHA256 in front of a cache file


def cache_secret(cache_dir: Path) -> bytes:
    """The secret that authenticates this folder's cache files (`.key`, 0600, made on first use);
    OSError when the folder cannot hold one or it is not private."""
    if not cache_dir.exists():
        cache_dir.mkdir(parents=True, mode=0o700)
    path = cache_dir / ".key"
    if not path.exists():
        tmp = path.with_name(f".key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
        os.replace(tmp, path)
    if not private(path):
        raise OSError("cache key readable or writable by others")
    return path.read_bytes()


def private(path: Path) -> bool:
    """Owned by this user and neither it nor its folder writable by anyone else."""
    if not hasattr(os, "getuid"):
        return True
    for p in (path, path.parent.resolve()):
        st = p.stat()
        if st.st_uid != os.getuid() or st.st_mode & 0o022:
            return False
    return True


def read_authentic(path: Path, secret: bytes) -> bytes | None:
    """The body of the cache file if it is private and its HMAC checks out, else None."""
    try:
        if not private(path):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    mac, body = data[:MAC], data[MAC:]
    if not hmac.compare_digest(mac, hmac.new(secret, body, hashlib.sha256).digest()):
        return None
    return body


def write_authentic(path: Path, secret: bytes, body: bytes) -> None:
    """Write `body` behind its HMAC, 0600, atomically; a failure only means no cache."""
    try:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(hmac.new(secret, body, hashlib.sha256).digest() + body)
        os.replace(tmp, path)
    except OSError:
        pass
