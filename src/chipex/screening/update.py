"""`chipex lists update`: download the Consolidated Screening List and load it through the swap checks.

The official downloads (ITA, https://www.trade.gov/consolidated-screening-list, "downloadable CSL
files"; refreshed daily) are keyless. The download is refused as a whole when it times out, ends early
(fewer bytes than Content-Length, or a broken connection), is not a 200, or is an HTML page (a portal
error or login page served with 200); a download that parses but lost rows is caught by the swap checks.
"""

from __future__ import annotations

import email.utils
import os
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from chipex.errors import ChipexError
from chipex.screening.lists import Progress
from chipex.screening.loading import LoadReport, load_list
from chipex.screening.store import Store, private_dir

OFFICIAL_URL = "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv"
OFFICIAL_JSON_URL = "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.json"
TIMEOUT = 60.0  # seconds without progress
MAX_BYTES = 500_000_000  # the CSV is ~16 MB; anything near this is not the list


def _suffix(url: str, content_type: str) -> str:
    path = httpx.URL(url).path.lower()
    for s in (".csv.gz", ".json.gz", ".csv", ".json", ".txt"):
        if path.endswith(s):
            return s
    return ".json" if "json" in content_type else ".csv"


def _source_date(last_modified: str | None) -> date:
    """The list's date: the server's Last-Modified day (UTC), else today (UTC)."""
    if last_modified:
        try:
            return email.utils.parsedate_to_datetime(last_modified).astimezone(UTC).date()
        except (TypeError, ValueError):
            pass
    return datetime.now(UTC).date()


def download(url: str, folder: Path, *, timeout: float = TIMEOUT) -> tuple[Path, date]:
    """Fetch `url` into a new file under `folder`: (path, the list's date). All or nothing."""
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as r:
            if r.status_code != 200:
                raise ChipexError(f"download failed: HTTP {r.status_code} {r.reason_phrase}", file=url)
            ctype = r.headers.get("content-type", "").lower()
            expected = r.headers.get("content-length")
            fd, name = tempfile.mkstemp(prefix=".download-", suffix=_suffix(url, ctype), dir=folder)
            path = Path(name)
            size = 0
            try:
                with os.fdopen(fd, "wb") as fh:
                    for chunk in r.iter_bytes():
                        size += len(chunk)
                        if size > MAX_BYTES:
                            raise ChipexError(
                                f"download larger than {MAX_BYTES:,} bytes: not the list", file=url
                            )
                        fh.write(chunk)
                got = r.num_bytes_downloaded  # as sent (before any Content-Encoding is undone)
                if expected is not None and expected.isdigit() and got != int(expected):
                    raise ChipexError(f"truncated download: {got:,} of {int(expected):,} bytes", file=url)
                head = path.read_bytes()[:512].lstrip().lower()
                if "html" in ctype or head.startswith((b"<!doctype html", b"<html")):
                    raise ChipexError("the server sent an HTML page, not a list file", file=url)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            return path, _source_date(r.headers.get("last-modified"))
    except httpx.TimeoutException:
        raise ChipexError(f"download timed out (no data for {timeout:g} s)", file=url) from None
    except httpx.RemoteProtocolError as exc:
        raise ChipexError(f"truncated download: {exc}", file=url) from None
    except httpx.HTTPError as exc:
        raise ChipexError(f"download failed: {exc}", file=url) from None


def update(
    url: str = OFFICIAL_URL,
    *,
    home: Path | None = None,
    source_date: date | None = None,
    timeout: float = TIMEOUT,
    force: bool = False,
    user: str = "",
    progress: Progress | None = None,
) -> LoadReport:
    """Download the list and load it like `lists --load` (the same swap checks); the download is kept
    only as the stored snapshot copy."""
    store = Store(home)
    folder = private_dir(store.dir / "downloads")
    path, served = download(url, folder, timeout=timeout)
    try:
        return load_list(
            path, source_date or served, home=home, force=force, user=user, origin=url, progress=progress
        )
    except ChipexError as exc:  # name the URL, not the temporary file
        raise ChipexError(exc.message, file=url, record=exc.record, field=exc.field) from None
    finally:
        path.unlink(missing_ok=True)
