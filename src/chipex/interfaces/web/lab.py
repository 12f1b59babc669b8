"""The policy lab in the browser (chipex.service.policy and catalog): the rule timeline, the TPP x
performance-density plane with every chip and each rule's lines, exposure windows and near-misses on
an "as of" date; the data behind each chart as CSV. Needs the 'lab' permission, as the API does."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from chipex.errors import ChipexError
from chipex.interfaces.web import charts
from chipex.interfaces.web.render import page
from chipex.interfaces.web.session import Auth, posted_form, require_page
from chipex.service import catalog, policy

router = APIRouter(include_in_schema=False)
FIGURES = ("dense_tops", "die_area_mm2", "interconnect_gbps", "memory_bandwidth_gbps", "tpp_published")


@functools.lru_cache(maxsize=1)
def _sources() -> dict[str, dict[str, str]]:
    """Per chip, the references its figures cite (source key -> reference)."""
    out = {}
    for row in catalog.chips():
        rec = catalog.chip_record(row.id)
        refs = rec.get("sources", {})
        keys = []
        for name in FIGURES:
            fig = rec.get(name)
            figs = fig.values() if name == "dense_tops" and fig else [fig]
            keys += [f["source"] for f in figs if isinstance(f, dict) and f.get("source")]
        out[row.id] = {k: refs.get(k, k) for k in dict.fromkeys(keys)}
    return out


def _lab(as_of: str) -> dict[str, Any]:
    key = as_of or "today"
    try:
        plane = policy.plane(policy.PlaneRequest(as_of=key)).data
        near = policy.near_misses(policy.NearMissRequest(as_of=key)).data
    except ChipexError as exc:
        raise HTTPException(422, f"as of: {exc.message}") from None
    return {
        "plane": plane,
        "near": near,
        "windows": policy.windows(policy.WindowsRequest(until=dt.date.today())).data,
    }


def _version_dates() -> list[str]:
    return sorted({v.effective.isoformat() for v in catalog.rules()})


@router.get("/lab")
def lab(request: Request, auth: Auth, as_of: str = "") -> Response:
    require_page(auth[0], "lab")
    as_of = as_of.strip()[:20]
    data = _lab(as_of)
    on = dt.date.fromisoformat(data["plane"]["as_of"])
    near = data["near"]["near_misses"]
    flagged = {n["chip_id"] for n in near if n["flagged"]}
    versions = catalog.rules()
    dates = _version_dates()
    return page(request, "lab.html", auth=auth, as_of=as_of, on=on, data=data, near=near,
                versions=versions, dates=dates, step=sum(1 for d in dates if d <= on.isoformat()) - 1,
                plane=charts.plane(data["plane"], _sources(), flagged),
                timeline=charts.timeline(versions, data["plane"]["chips"], _sources(), on),
                windows=charts.windows(data["windows"]["exposures"], dt.date.today()),
                reforms=list(policy.shipped_reforms()))  # fmt: skip


MAX_REFORM = 200_000  # bytes of YAML


@router.post("/lab/reform")
async def reform(request: Request, auth: Auth) -> Response:
    form = await posted_form(request, auth, "lab")
    as_of, shipped, upload = (
        str(form.get("as_of", "")).strip()[:20],
        str(form.get("shipped", "")),
        form.get("file"),
    )
    if upload is not None and not isinstance(upload, str) and upload.filename:
        raw = await upload.read(MAX_REFORM + 1)
        if len(raw) > MAX_REFORM:
            raise HTTPException(413, f"a reform file is at most {MAX_REFORM:,} bytes")
        name, text = upload.filename, raw.decode("utf-8", errors="replace")
    elif shipped in (known := policy.shipped_reforms()):
        name, text = shipped, known[shipped]
    else:
        raise HTTPException(422, "choose a reform file to upload, or one shipped with chipex")
    try:
        out = policy.reform(policy.ReformRequest(as_of=as_of or "today", reform=text, name=name)).data
    except ChipexError as exc:
        return page(request, "error.html", status=422, auth=auth, title="The reform was not applied",
                    message=str(exc), status_code=422)  # fmt: skip
    on = out["baseline"]["as_of"]
    flagged: set[str] = set()
    return page(request, "lab_reform.html", auth=auth, out=out, file_name=name, on=on,
                baseline=charts.plane(out["baseline"], _sources(), flagged),
                reformed=charts.plane(out["reformed"], _sources(), flagged))  # fmt: skip


def _rows(name: str, as_of: str) -> list[dict[str, Any]]:
    if name == "rules":
        return [v.model_dump(mode="json") for v in catalog.rules()]
    data = _lab(as_of)
    if name == "plane":
        src = _sources()
        return [{**c, "as_of": data["plane"]["as_of"], "text": data["plane"]["text"],
                 "sources": "; ".join(src.get(c["id"], {}))} for c in data["plane"]["chips"]]  # fmt: skip
    if name == "lines":
        return [
            {**ln, "as_of": data["plane"]["as_of"], "text": data["plane"]["text"]}
            for ln in data["plane"]["lines"]
        ]
    if name == "windows":
        return [{k: v for k, v in e.items() if k != "windows"} | {f"window_{k}": v for k, v in w.items()}
                for e in data["windows"]["exposures"] for w in e["windows"]]  # fmt: skip
    return [{k: v for k, v in n.items() if k not in ("lines", "kept")} | {f"line_{k}": v for k, v in ln.items()}
            for n in data["near"]["near_misses"] for ln in n["lines"]]  # fmt: skip


@router.get("/lab/{name}.csv")
def lab_csv(
    name: Literal["plane", "lines", "windows", "near-misses", "rules"],
    request: Request,
    auth: Auth,
    as_of: str = "",
) -> Response:
    require_page(auth[0], "lab")
    rows = _rows(name, as_of.strip()[:20])
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        w.writeheader()
        for r in rows:
            w.writerow({k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in r.items()})
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="chipex-lab-{name}.csv"'})  # fmt: skip
