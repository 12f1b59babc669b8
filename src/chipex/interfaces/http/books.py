"""Book checks as jobs: upload (multipart `file`) -> job id; status; results; rejects."""

from __future__ import annotations

import tempfile
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse

from chipex.interfaces.http.auth import require
from chipex.service import jobs
from chipex.service.orders import ResultFormat
from chipex.service.users import User

router = APIRouter(tags=["books"])
Reader = Annotated[User, Depends(require("read"))]
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="the job_id a POST /books returned")]
MEDIA = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "jsonl": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 1 << 20


def _get(job_id: str, request: Request) -> jobs.Job:
    try:
        return jobs.get(job_id, db=request.app.state.db)
    except KeyError:
        raise HTTPException(404, f"no job '{job_id}'") from None


@router.post("/books", status_code=202)
async def submit(
    request: Request,
    user: Reader,
    file: Annotated[UploadFile, File(description="order book: .csv, .parquet, .jsonl or .xlsx")],
    regime: Annotated[jobs.Regime, Form()] = "as-enforced",
    screen: Annotated[bool, Form()] = True,
    on_error: Annotated[str, Form(pattern="^(reject|fail)$")] = "reject",
) -> jobs.Job:
    """Queue a book check. Poll `GET /books/{job_id}`; then fetch `/results` and `/rejects`."""
    limit = request.app.state.max_upload
    opts = jobs.JobOptions(regime=regime, screen=screen, on_error=on_error)  # type: ignore[arg-type]
    name = FsPath(file.filename or "book").name
    with tempfile.NamedTemporaryFile(
        delete=False, prefix="chipex-upload-", suffix=FsPath(name).suffix
    ) as tmp:
        size = 0
        while chunk := await file.read(CHUNK):
            size += len(chunk)
            if size > limit:
                FsPath(tmp.name).unlink(missing_ok=True)
                raise HTTPException(413, f"the book is over the upload limit of {limit // 2**20} MB")
            tmp.write(chunk)
    try:
        job = jobs.submit(FsPath(tmp.name), name, user=user.name, options=opts, db=request.app.state.db)
    finally:
        FsPath(tmp.name).unlink(missing_ok=True)
    if request.app.state.worker is not None:
        request.app.state.worker.add(job.job_id)
    return job


@router.get("/books/{job_id}")
def status(job_id: JobId, request: Request, _user: Reader) -> jobs.Job:
    """Status (queued, running, done, failed), progress, counts, the summary and line errors."""
    return _get(job_id, request)


@router.get("/books/{job_id}/results", response_class=FileResponse)
def results(
    job_id: JobId, request: Request, _user: Reader, format: Annotated[ResultFormat, Query()] = "jsonl"
) -> FileResponse:
    """The determinations: jsonl (one Determination per line) or csv / parquet / xlsx (DeterminationRow)."""
    job = _get(job_id, request)
    if job.status != "done":
        raise HTTPException(409, f"job {job_id} is {job.status}: results exist once it is done")
    path = jobs.results_file(job_id, format, db=request.app.state.db)
    stem = FsPath(job.filename).stem or "book"
    return FileResponse(path, media_type=MEDIA[format], filename=f"{stem}-results.{format}")


@router.get("/books/{job_id}/rejects", response_class=FileResponse)
def rejects(job_id: JobId, request: Request, _user: Reader) -> FileResponse:
    """The lines set aside (CSV: line, field, error, then the line's fields)."""
    job = _get(job_id, request)
    path = jobs.rejects_file(job_id, db=request.app.state.db)
    if path is None:
        raise HTTPException(404, f"job {job_id} ({job.status}) has no rejected lines file")
    return FileResponse(path, media_type="text/csv", filename=f"{FsPath(job.filename).stem}-rejects.csv")
