"""How `chipex flows` shows its findings: one fitted table each (chipex.interfaces.cli.render)."""

from __future__ import annotations

from chipex.interfaces.cli.render import Col, print_table


def _n(spec: str, unit: str = "", none: str = "-"):
    return lambda v: none if v is None else f"{v:{spec}}{unit}"


MIRROR = [
    Col("period", "period"),
    Col("exporter", "exporter"),
    Col("importer", "importer"),
    Col("hs", "HS"),
    Col("exporter_reported_fob", "exporter FOB (USD)", right=True, show=_n(",.0f")),
    Col("importer_reported_fob", "importer FOB (USD)", right=True, show=_n(",.0f")),
    Col("gap", "gap (USD)", right=True, show=_n(",.0f"), drop=1),
    Col("gap_pct", "gap %", right=True, show=_n(".1f")),
    Col("basis", "basis", wrap=True, drop=2),
]
REEXPORT = [
    Col("period", "period"),
    Col("hub", "hub"),
    Col("hs", "HS"),
    Col("imports", "imports (USD)", right=True, show=_n(",.0f")),
    Col("exports_and_reexports", "exports+re-exports (USD)", right=True, show=_n(",.0f")),
    Col("reexport_ratio", "ratio", right=True, show=_n(".2f")),
    Col("to_china_share_of_imports", "to CN/HK/MO share", right=True, show=_n(".2f"), drop=1),
]
JUMPS = [
    Col("series", "series", wrap=True),
    Col("date", "date"),
    Col("rule", "rule", wrap=True),
    Col("run_up", "run-up (3 mo before / 3 before that)", right=True, show=_n(".2f", "x")),
    Col("after", "after / before", right=True, show=_n(".2f", "x")),
]
PUBLISHED = [
    Col("period", "period"),
    Col("flow", "flow"),
    Col("what", "what", wrap=True),
    Col("value_usd", "USD", right=True, show=_n(",.0f")),
    Col("yoy_pct", "y/y %", right=True, show=_n(",.0f"), drop=2),
    Col("source", "source", wrap=True, drop=1),
    Col("confidence", "conf.", drop=3),
]
LEGEND = (
    "FOB: free on board (importer CIF values divided by --cif-fob); gap: exporter minus importer FOB; "
    "ratio: a hub's exports and re-exports over its imports; 1.50x: the later period is 1.5 times the earlier"
)


def print_flows(d: dict, wide: bool) -> None:
    if d["mirror_gaps"]:
        print_table(d["mirror_gaps"], MIRROR, title="mirror gaps", wide=wide)
    if d["reexport_ratios"]:
        print_table(d["reexport_ratios"], REEXPORT, title="hub re-export ratios", wide=wide)
    jumps = [
        {**e, "series": f"{e['reporter']}>{e['partner']} {e['flow']} {e['hs']}"}
        for e in d["jumps"] + d["published_jumps"]
    ]
    print_table(jumps, JUMPS, title="jumps around rule dates", wide=wide)
    published = [{**p, "flow": f"{p['reporter']}>{p['partner']}"} for p in d["published"]]
    print_table(published, PUBLISHED, title="published figures (shipped)", legend=[LEGEND], wide=wide)
