""" "Upload a book": a book check as a job (chipex.service.jobs), its progress, summary, rejected
lines, a filterable table of results and the downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from chipex.errors import ChipexError
from chipex.interfaces.web.render import page
from chipex.interfaces.web.session import Auth, posted_form
from chipex.service import jobs
from chipex.service.orders import read_joined

router = APIRouter(include_in_schema=False)
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
SHOWN = 1000  # result rows shown on the page (the downloads hold them all)
COLUMNS = ("line", "date", "item", "quantity", "destination", "eccn", "license_required", "reasons",
           "exceptions", "policy", "party_entries", "red_flags")  # fmt: skip
MEDIA = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "jsonl": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _job(job_id: str, request: Request) -> jobs.Job:
    try:
        return jobs.get(job_id, db=request.app.state.db)
    except KeyError:
        raise HTTPException(404, f"no job '{job_id}'") from None


@router.get("/books")
def books_form(request: Request, auth: Auth) -> Response:
    return page(request, "books.html", auth=auth, error=None)


@router.post("/books")
async def upload(request: Request, auth: Auth) -> Response:
    user = auth[0]
    form = await posted_form(request, auth)
    file = form.get("file")
    if file is None or isinstance(file, str) or not file.filename:
        return page(request, "books.html", status=422, auth=auth, error="choose a book file to upload")
    opts = jobs.JobOptions(
        regime=str(form.get("regime", "as-enforced")),  # type: ignore[arg-type]
        screen=form.get("screen") == "on",
        on_error="reject",
    )
    name = FsPath(file.filename).name
    limit = request.app.state.max_upload
    with tempfile.NamedTemporaryFile(
        delete=False, prefix="chipex-upload-", suffix=FsPath(name).suffix
    ) as tmp:
        size = 0
        while chunk := await file.read(1 << 20):
            size += len(chunk)
            if size > limit:
                FsPath(tmp.name).unlink(missing_ok=True)
                return page(request, "books.html", status=413, auth=auth,
                            error=f"the book is over the upload limit of {limit // 2**20} MB")  # fmt: skip
            tmp.write(chunk)
    try:
        job = jobs.submit(FsPath(tmp.name), name, user=user.name, options=opts, db=request.app.state.db)
    except ChipexError as exc:
        return page(request, "books.html", status=422, auth=auth, error=exc.message)
    finally:
        FsPath(tmp.name).unlink(missing_ok=True)
    if request.app.state.worker is not None:
        request.app.state.worker.add(job.job_id)
    return RedirectResponse(f"/books/{job.job_id}", status_code=303)


@router.get("/books/{job_id}")
def book(job_id: JobId, request: Request, auth: Auth) -> Response:
    job = _job(job_id, request)
    rows, shown_of = [], 0
    if job.status == "done":
        table = read_joined(jobs.results_file(job_id, "parquet", db=request.app.state.db))
        shown_of = table.num_rows
        cols = [c for c in COLUMNS if c in table.column_names]
        rows = table.select(cols).slice(0, SHOWN).to_pylist()
    has_rejects = jobs.rejects_file(job_id, db=request.app.state.db) is not None
    return page(request, "book.html", auth=auth, job=job, rows=rows, total_rows=shown_of, shown=SHOWN,
                has_rejects=has_rejects)  # fmt: skip


@router.get("/books/{job_id}/status")
def book_status(job_id: JobId, request: Request, _auth: Auth) -> jobs.Job:
    """The job as JSON, for the page's progress bar."""
    return _job(job_id, request)


@router.get("/books/{job_id}/results.{fmt}")
def download(job_id: JobId, fmt: str, request: Request, _auth: Auth) -> Response:
    if fmt not in MEDIA:
        raise HTTPException(404, f"no results format '{fmt}' (csv, xlsx, parquet, jsonl)")
    job = _job(job_id, request)
    if job.status != "done":
        raise HTTPException(409, f"job {job_id} is {job.status}: results exist once it is done")
    path = jobs.results_file(job_id, fmt, db=request.app.state.db)  # type: ignore[arg-type]
    stem = FsPath(job.filename).stem or "book"
    return FileResponse(path, media_type=MEDIA[fmt], filename=f"{stem}-results.{fmt}")


@router.get("/books/{job_id}/rejects.csv")
def rejects(job_id: JobId, request: Request, _auth: Auth) -> Response:
    job = _job(job_id, request)
    path = jobs.rejects_file(job_id, db=request.app.state.db)
    if path is None:
        raise HTTPException(404, f"job {job_id} has no rejected lines")
    return FileResponse(path, media_type="text/csv", filename=f"{FsPath(job.filename).stem}-rejects.csv")
