"""`chipex charts`: where the files go, labels that do not overlap, each chart's data as CSV (issue 17).

Known facts: under the 2023 text (3A090.a.2 / .b: performance density 5.92 and 3.2 for datacenter
ICs, 88 FR 73458) the L20 (PD about 3.14) and the A10 (about 3.18) sit just under the 3.2 line, a few
per cent apart in TPP, so their labels collide when both are put at the same offset.
"""

from __future__ import annotations

import csv
import datetime as dt

import matplotlib.pyplot as plt
from tests.chipex_cli import run_chipex

from chipex.analysis.policy import charts, nearmiss
from chipex.core.classify import measure

NAMES = ("policy-tpp-pd", "policy-timeline", "policy-windows")


def _point(catalog, name: str) -> tuple[str, float, float]:
    m = measure(catalog.get(name))
    return name, float(m.tpp), float(m.performance_density)


def test_l20_and_a10_labels_do_not_overlap(catalog):
    fig, ax = plt.subplots(figsize=(10, 6.5))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(300, 80000)
    ax.set_ylim(0.5, 60)
    points = [_point(catalog, "L20"), _point(catalog, "A10"), _point(catalog, "H20")]
    assert abs(points[0][2] - points[1][2]) < 0.1  # the two are close: the test is not trivially met
    texts = charts.place_labels(ax, points)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert len(boxes) == 3
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (texts, a, b)
    plt.close(fig)


def test_each_chart_has_its_data_as_csv(tmp_path, catalog, rulebook):
    on = dt.date(2024, 6, 1)
    near = nearmiss.near_misses(on, catalog=catalog, rulebook=rulebook)
    png = charts.plane_chart(catalog, rulebook, on, near, tmp_path / "p.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    rows = list(csv.DictReader((tmp_path / "p.csv").open(encoding="utf-8")))
    assert tuple(rows[0]) == charts.PLANE_COLUMNS
    l20 = next(r for r in rows if r["chip"] == "L20")
    assert l20["near_miss"] == "True" and 3.1 < float(l20["performance_density"]) < 3.2
    charts.timeline_chart(catalog, rulebook, tmp_path / "t.png")
    timeline = list(csv.DictReader((tmp_path / "t.csv").open(encoding="utf-8")))
    assert tuple(timeline[0]) == charts.TIMELINE_COLUMNS
    assert {"rule version", "chip"} == {r["kind"] for r in timeline}
    assert any(r["id"] == "2023-11-17" and r["date"] == "2023-11-17" for r in timeline)  # 88 FR 73458


def test_charts_command_writes_to_the_folder_it_names(tmp_path):
    home = tmp_path / "home"
    r = run_chipex("charts", "--until", "2026-07-01", env={"CHIPEX_HOME": str(home)})
    assert r.returncode == 0, r.stderr
    folder = home / "charts"
    assert str(folder) in " ".join(r.stdout.split())
    for name in NAMES:
        assert (folder / f"{name}.png").stat().st_size > 10_000
        header = (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",")[0] in ("chip_id", "kind")
    out = tmp_path / "mine"
    r = run_chipex("charts", "--out", str(out), "--until", "2026-07-01")
    assert r.returncode == 0 and sorted(p.name for p in out.iterdir()) == sorted(
        f"{n}.{ext}" for n in NAMES for ext in ("csv", "png")
    )
