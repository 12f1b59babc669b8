"""Book checks as jobs: submitted, queued, run one at a time by a worker thread, state in the ledger db.

A job's input is saved in its own folder under CHIPEX_HOME/jobs/<id>/ before it is queued, and its
results are written atomically, so a job interrupted by a crash or a restart is simply run again
when the service starts (`recover`): it is never left "running". A job whose input has gone is
marked failed with the reason.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import socket
import threading
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select, update

from chipex.errors import ChipexError
from chipex.service import store
from chipex.service.common import Regime
from chipex.service.orders import (
    FORMAT_SUFFIX,
    BookRequest,
    ResultFormat,
    check_book,
    write_results,
)

log = logging.getLogger("chipex.jobs")
INPUT_FORMATS = (".csv", ".parquet", ".jsonl", ".xlsx")
Status = Literal["queued", "running", "done", "failed"]
MAX_ERRORS = 200  # line errors kept in the job's status (all of them are in the rejects file)


class JobOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    regime: Regime = "as-enforced"
    screen: bool = True
    on_error: Literal["reject", "fail"] = Field(
        "reject",
        description="reject: check the good lines and set bad ones aside; fail: any bad line fails the job",
    )


class JobError(BaseModel):
    line: int | None = None
    field: str | None = None
    value: str | None = None
    message: str


class Progress(BaseModel):
    done: int = Field(description="lines checked so far")
    total: int | None = Field(description="lines in the book (known once it is read)")


class Job(BaseModel):
    job_id: str
    status: Status
    user: str
    filename: str
    options: JobOptions
    progress: Progress
    counts: dict[str, int] = Field(description="total, checked, rejected lines")
    summary: list[dict[str, Any]] = Field(description="lines and units by destination, decision and ECCN")
    errors: list[JobError]
    created_at: str
    updated_at: str


def jobs_dir() -> Path:
    from chipex.home import chipex_home

    return chipex_home() / "jobs"


def _job(row) -> Job:
    return Job(
        job_id=row["id"],
        status=row["status"],
        user=row["user_name"],
        filename=row["filename"],
        options=JobOptions.model_validate_json(row["options"]),
        progress=Progress(done=row["done"] or 0, total=row["total"]),
        counts={"total": row["total"] or 0, "checked": row["checked"] or 0, "rejected": row["rejected"] or 0},
        summary=json.loads(row["summary"] or "[]"),
        errors=[JobError.model_validate(e) for e in json.loads(row["errors"] or "[]")],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def get(job_id: str, *, db: str | None = None) -> Job:
    row = store.read(
        db, lambda c: c.execute(select(store.jobs).where(store.jobs.c.id == job_id)).mappings().first()
    )
    if row is None:
        raise KeyError(job_id)
    return _job(row)


def _set(db: str | None, job_id: str, **values: Any) -> None:
    values["updated_at"] = store.now()
    store.write(db, lambda c: c.execute(update(store.jobs).where(store.jobs.c.id == job_id).values(**values)))


def submit(source: Path, filename: str, *, user: str, options: JobOptions, db: str | None = None) -> Job:
    """Queue a book: `source` (a file the caller wrote) is moved into the job's own folder."""
    suffix = Path(filename).suffix.lower()
    if suffix not in INPUT_FORMATS:
        raise ChipexError(
            f"unsupported book type '{suffix or filename}' (use {', '.join(INPUT_FORMATS)})", field="file"
        )
    job_id = uuid.uuid4().hex
    work = jobs_dir() / job_id
    work.mkdir(parents=True)
    shutil.move(str(source), work / f"input{suffix}")
    now = store.now()
    row = {
        "id": job_id,
        "status": "queued",
        "user_name": user,
        "filename": Path(filename).name[:300],
        "options": options.model_dump_json(),
        "workdir": str(work),
        "created_at": now,
        "updated_at": now,
    }
    store.write(db, lambda c: c.execute(insert(store.jobs).values(**row)))
    return get(job_id, db=db)


def _count_lines(path: Path) -> int | None:
    if path.suffix == ".csv":
        with path.open("rb") as fh:
            return max(sum(1 for _ in fh) - 1, 0)
    if path.suffix == ".jsonl":
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    return None


def run(job_id: str, *, db: str | None = None) -> Job:
    """Run one job to its end: done (with any rejected lines listed) or failed, never a traceback."""
    job = get(job_id, db=db)
    row = store.read(
        db, lambda c: c.execute(select(store.jobs.c.workdir).where(store.jobs.c.id == job_id)).first()
    )
    work = Path(row[0])
    inputs = sorted(work.glob("input.*"))
    if not inputs:
        _set(db, job_id, status="failed", errors=json.dumps([{"message": "the job's input file is gone"}]))
        return get(job_id, db=db)
    src = inputs[0]
    _set(
        db,
        job_id,
        status="running",
        owner=f"{socket.gethostname()}:{os.getpid()}",
        total=_count_lines(src),
        done=0,
    )
    opts = job.options
    try:
        result = check_book(
            BookRequest(
                path=src,
                out=work / "results.parquet",
                regime=opts.regime,
                screen=opts.screen,
                reject_file=work / "rejects.csv" if opts.on_error == "reject" else None,
            )
        )
    except ChipexError as exc:
        _set(db, job_id, status="failed", errors=json.dumps(_errors(exc)))
        return get(job_id, db=db)
    except Exception:  # a job never dies with a traceback; the log keeps it for the operator
        log.exception("job %s failed", job_id)
        _set(
            db,
            job_id,
            status="failed",
            errors=json.dumps([{"message": "internal error while checking the book"}]),
        )
        return get(job_id, db=db)
    errors = [e.model_dump() for e in result.errors[:MAX_ERRORS]]
    _set(
        db,
        job_id,
        status="done",
        total=result.total,
        done=result.total,
        checked=result.checked,
        rejected=result.rejected,
        summary=json.dumps([s.model_dump() for s in result.summary]),
        errors=json.dumps(errors),
    )
    return get(job_id, db=db)


def _errors(exc: ChipexError) -> list[dict[str, Any]]:
    """A failed book's errors, one per line: the line-numbered list chipex.orders gives, else one."""
    lines = []
    for text in exc.message.splitlines()[1:]:
        text = text.strip()
        if ": line " in text:
            text = text.split(": ", 1)[1]
        if text.startswith("line "):
            head, _, msg = text.partition(": ")
            parts = head.split(", field ")
            try:
                num = int(parts[0].removeprefix("line "))
            except ValueError:
                continue
            field = parts[1].split("'")[1] if len(parts) > 1 and "'" in parts[1] else None
            lines.append({"line": num, "field": field, "message": msg})
    if lines:
        return lines
    line = exc.record if isinstance(exc.record, int) else None
    return [{"line": line, "field": exc.field, "message": exc.message.splitlines()[0]}]


def results_file(job_id: str, fmt: ResultFormat, *, db: str | None = None) -> Path:
    """The job's results in `fmt` (Parquet as written; other formats converted once and kept)."""
    job = get(job_id, db=db)
    if job.status != "done":
        raise ChipexError(f"job {job_id} is {job.status}: results exist once it is done", field="job_id")
    row = store.read(
        db, lambda c: c.execute(select(store.jobs.c.workdir).where(store.jobs.c.id == job_id)).first()
    )
    work = Path(row[0])
    path = work / f"results{FORMAT_SUFFIX[fmt]}"
    if not path.exists():
        write_results(work / "results.parquet", path, job.options.regime)
    return path


def rejects_file(job_id: str, *, db: str | None = None) -> Path | None:
    get(job_id, db=db)
    row = store.read(
        db, lambda c: c.execute(select(store.jobs.c.workdir).where(store.jobs.c.id == job_id)).first()
    )
    path = Path(row[0]) / "rejects.csv"
    return path if path.exists() else None


class Worker:
    """One thread that runs queued jobs in order. `recover()` re-queues jobs a previous process left
    queued or running (their input is on disk; their output is written atomically)."""

    def __init__(self, db: str | None = None) -> None:
        self.db = db
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._loop, name="chipex-jobs", daemon=True)

    def start(self) -> None:
        self.recover()
        self.thread.start()

    def recover(self) -> list[str]:
        rows = store.read(
            self.db,
            lambda c: c.execute(
                select(store.jobs.c.id, store.jobs.c.status)
                .where(store.jobs.c.status.in_(("queued", "running")))
                .order_by(store.jobs.c.created_at)
            ).all(),
        )
        for job_id, status in rows:
            if status == "running":
                log.warning("job %s was left running by a stopped process: running it again", job_id)
                _set(self.db, job_id, status="queued", owner=None)
            self.queue.put(job_id)
        return [r[0] for r in rows]

    def add(self, job_id: str) -> None:
        self.queue.put(job_id)

    def stop(self) -> None:
        self.queue.put(None)
        if self.thread.is_alive():
            self.thread.join(timeout=30)

    def _loop(self) -> None:
        while (job_id := self.queue.get()) is not None:
            try:
                run(job_id, db=self.db)
            except Exception:  # the worker outlives any one job
                log.exception("job %s: worker error", job_id)
                _set(self.db, job_id, status="failed", errors=json.dumps([{"message": "internal error"}]))
