"""Signed checkpoints: the audit chain's head, signed with a key that lives outside the database.

Someone who can write the database can drop the triggers, edit an event and recompute every hash
after it; the chain then verifies. A checkpoint makes that visible without trusting the database:
`chipex audit checkpoint` signs (Ed25519) the number and hash of the last event, with the hash of
every event since the previous checkpoint, and appends that line to a checkpoint file outside the
database. `chipex audit verify` checks every line's signature against the ledger's public key, that
the lines follow one another (each names the hash of the line before), and that every event a
checkpoint names still has the hash it had: the first that does not is named, and a log that ends
before a checkpoint's last event was cut short (truncate-and-rewind).

Where they live: the signing key at CHIPEX_AUDIT_KEY, else `audit-signing.key` in CHIPEX_HOME (a
PEM file created 0600 on first use, its public half beside it as `.pub`); the checkpoint file at
CHIPEX_CHECKPOINTS, else `checkpoints/<ledger id>.jsonl` in CHIPEX_HOME (one file per database,
named by a hash of its URL). Keep both where the database's administrators cannot write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import URL

from chipex.errors import ChipexError
from chipex.home import chipex_home
from chipex.ledger.audit import Problem, canonical
from chipex.ledger.db import private_file
from chipex.ledger.schema import GENESIS

KEY_ENV = "CHIPEX_AUDIT_KEY"
CHECKPOINTS_ENV = "CHIPEX_CHECKPOINTS"


def key_path(given: Path | str | None = None) -> Path:
    return Path(given or os.environ.get(KEY_ENV) or chipex_home() / "audit-signing.key").expanduser()


def checkpoints_path(url: URL, given: Path | str | None = None) -> Path:
    """The checkpoint file of one database: given, CHIPEX_CHECKPOINTS, or one per database URL."""
    if given or os.environ.get(CHECKPOINTS_ENV):
        return Path(given or os.environ[CHECKPOINTS_ENV]).expanduser()
    return chipex_home() / "checkpoints" / f"{ledger_id(url)}.jsonl"


def ledger_id(url: URL) -> str:
    """A name for one database: its URL without the password (a SQLite file by its absolute path)."""
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    shown = url.set(password=None, query={}).render_as_string(hide_password=True)
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


def signing_key(path: Path) -> Ed25519PrivateKey:
    """The ledger's signing key, created (0600, with its public half beside it) on first use."""
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        private_file(path)
        path.write_bytes(pem)
        public_file(path).write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return key
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as exc:
        raise ChipexError(f"not a chipex signing key ({exc})", file=str(path)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ChipexError("the signing key is not an Ed25519 key", file=str(path))
    return key


def public_file(key: Path) -> Path:
    return key.with_name(key.name + ".pub")


def public_key(key: Path, given: Path | None = None) -> Ed25519PublicKey | None:
    """The key checkpoints are checked against: a public key file given (an auditor's), else the
    signing key's public half; None when there is neither."""
    if given is None and key.exists():
        return signing_key(key).public_key()
    path = given or public_file(key)
    if not path.exists():
        if given is not None:
            raise ChipexError("no such public key file", file=str(path))
        return None
    try:
        pub = serialization.load_pem_public_key(path.read_bytes())
    except (ValueError, OSError) as exc:
        raise ChipexError(f"not a public key ({exc})", file=str(path)) from None
    if not isinstance(pub, Ed25519PublicKey):
        raise ChipexError("the public key is not an Ed25519 key", file=str(path))
    return pub


def _raw(pub: Ed25519PublicKey) -> str:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _line_hash(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    number: int  # its line in the checkpoint file, from 1
    seq: int
    hash: str
    signed_at: str
    record: dict[str, Any]


def read(path: Path) -> list[str]:
    """The checkpoint file's lines (none when it does not exist yet)."""
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ChipexError(f"cannot read the checkpoint file ({exc})", file=str(path)) from None


def sign(
    key: Ed25519PrivateKey,
    path: Path,
    *,
    seq: int,
    hashes: Mapping[int, str],
    ledger: str,
    actor: str,
    os_user: str,
) -> Checkpoint:
    """Append a signed checkpoint of the log up to event `seq` (hashes: seq -> event hash)."""
    lines = read(path)
    last = json.loads(lines[-1]) if lines else None
    start = last["seq"] + 1 if last else 1
    body = {
        "v": 1,
        "seq": seq,
        "hash": hashes[seq] if seq else GENESIS,
        "from_seq": start,
        "hashes": [hashes[s] for s in range(start, seq + 1)],
        "prev": _line_hash(lines[-1]) if lines else GENESIS,
        "signed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "ledger": ledger,
        "actor": actor,
        "os_user": os_user,
        "public_key": _raw(key.public_key()),
    }
    line = canonical({**body, "signature": key.sign(canonical(body).encode()).hex()})
    private_file(path)
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
    return Checkpoint(len(lines) + 1, seq, body["hash"], body["signed_at"], body)


def check(
    lines: list[str], pub: Ed25519PublicKey, hashes: Mapping[int, str], last_seq: int, file: str
) -> tuple[int, Problem | None]:
    """Every checkpoint against the key and the log: (checkpoints checked, the first problem)."""
    prev, expected_from = GENESIS, 1
    for n, line in enumerate(lines, start=1):
        where = f"checkpoint {n} in {file}"
        try:
            rec = json.loads(line)
            body = {k: v for k, v in rec.items() if k != "signature"}
            pub.verify(bytes.fromhex(rec["signature"]), canonical(body).encode())
            seq, from_seq, listed = int(rec["seq"]), int(rec["from_seq"]), list(rec["hashes"])
        except (ValueError, KeyError, TypeError, AttributeError, InvalidSignature):
            return n - 1, Problem(
                _seq_of(line), "checkpoint", f"{where} is not signed by the ledger's key: edited or forged"
            )
        if rec["prev"] != prev or from_seq != expected_from or len(listed) != seq - from_seq + 1:
            return n - 1, Problem(
                seq, "checkpoint", f"{where} does not follow the one before it: a checkpoint was removed"
            )
        for s, h in zip(range(from_seq, seq + 1), listed, strict=True):
            if s > last_seq:
                return n - 1, Problem(
                    last_seq + 1,
                    "truncated",
                    f"events #{last_seq + 1} to #{seq} were deleted: {where} (signed {rec['signed_at']}) "
                    f"records event #{seq}, the log ends at #{last_seq}",
                )
            if hashes.get(s) != h:
                return n - 1, Problem(
                    s,
                    "differs",
                    f"event #{s} differs from {where} (signed {rec['signed_at']}): it was edited, "
                    "removed or replaced after it was signed",
                )
        prev, expected_from = _line_hash(line), seq + 1
    return len(lines), None


def _seq_of(line: str) -> int:
    try:
        return int(json.loads(line)["seq"])
    except (ValueError, KeyError, TypeError):
        return 0
