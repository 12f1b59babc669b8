"""Order-book benchmark: bulk DuckDB path vs the one-order loop vs hand-written SQL, same run.

    .venv/bin/python benchmarks/orders_bench.py [--lines 10000000] [--loop 200]

Prints lines/s and ratios; each path runs in its own process so peak RSS is its own. Medians of
--repeat runs. Targets (issue 3): >= 2M lines/s with reasons, within 1.5x of hand SQL, >= 100x
the loop, peak RSS < 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ITEMS = [
    "H100",
    "H800",
    "A100",
    "A800",
    "H20",
    "RTX 4090",
    "RTX 4090D",
    "L4",
    "L40S",
    "H200",
    "B200",
    "MI300X",
    "8x H100",
]
COUNTRIES = [
    "CN",
    "HK",
    "MO",
    "RU",
    "IN",
    "MY",
    "SG",
    "AE",
    "SA",
    "VN",
    "US",
    "FR",
    "DE",
    "JP",
    "BR",
    "NI",
    "KH",
]


def generate(path: Path, lines: int, customers: int = 20_000) -> None:
    """A book like a distributor's: a pool of customers, each with its own country, headquarters,
    ship-from, end use and exporter, buying catalog items on dates from mid-2022 to late 2026."""
    import duckdb

    items = ", ".join(f"'{i}'" for i in ITEMS)
    countries = ", ".join(f"'{c}'" for c in COUNTRIES)
    pick = "[{}][1 + CAST(floor(random() * {}) AS INTEGER)]"
    duckdb.connect().execute(
        f"""COPY (
          WITH c AS (
            SELECT range AS cid,
                   {pick.format(countries, len(COUNTRIES))} AS destination,
                   {pick.format(countries + ", NULL, NULL", len(COUNTRIES) + 2)} AS end_user_hq,
                   {pick.format("'US', 'SG', NULL", 3)} AS ship_from,
                   {pick.format("'datacenter', 'model training', 'supercomputer', NULL", 4)} AS end_use,
                   {pick.format("'NVIDIA', 'Acme Distribution', NULL", 3)} AS exporter
            FROM range({customers}))
          SELECT strftime(DATE '2022-06-01' + CAST(floor(random() * 1600) AS INTEGER), '%Y-%m-%d') AS date,
                 {pick.format(items, len(ITEMS))} AS item,
                 CAST(CAST(1 + floor(random() * 1000) AS BIGINT) AS VARCHAR) AS quantity,
                 c.destination, c.end_user_hq, c.ship_from, c.end_use, c.exporter
          FROM range({lines}) r JOIN c ON c.cid = r.range % {customers}) TO '{path}' (FORMAT PARQUET)"""
    )


def run_bulk(book: str, out: str) -> dict:
    from chipex.orders import check_book

    t = time.perf_counter()
    report = check_book(Path(book), out=Path(out))
    return {"seconds": time.perf_counter() - t, "lines": report.checked}


def run_loop(book: str, n: int) -> dict:
    import duckdb

    from chipex.orders import check_order

    rows = duckdb.connect().execute(f"SELECT * FROM '{book}' LIMIT {n}").fetchall()
    cols = ["date", "item", "quantity", "destination", "end_user_hq", "ship_from", "end_use", "exporter"]
    check_order(**dict(zip(cols, rows[0], strict=True)))  # warm: engine and compiled query
    t = time.perf_counter()
    for r in rows:
        check_order(**dict(zip(cols, r, strict=True)))
    return {"seconds": time.perf_counter() - t, "lines": len(rows)}


def run_hand_sql(book: str, out: str) -> dict:
    """The main destination rules written by hand in SQL over the same lookup tables."""
    import duckdb

    from chipex.orders import _pairs, make_engine
    from chipex.orders.io import load_orders, read_file

    eng = make_engine()
    con = duckdb.connect()
    t = time.perf_counter()
    src = read_file(Path(book), con)  # a Source: label, format, first line's offset
    loaded = load_orders(con, eng.catalog, eng.rulebook.countries, label=src.label, offset=src.offset)
    con.register("items_arrow", _pairs(eng, con, loaded.items))
    con.register("countries_arrow", eng.countries_table)
    starts = eng.periods.starts[1:]
    period = (
        "CASE "
        + " ".join(f"WHEN date < DATE '{s}' THEN {k}" for k, s in enumerate(starts))
        + f" ELSE {len(starts)} END"
    )
    con.execute(
        f"""COPY (
        WITH o AS (SELECT *, {period} AS period FROM orders_valid),
        e AS (
          SELECT o.line, o.date, o.item, o.quantity, o.destination, i.eccn, i.lt_nvidia_2025_04_09 AS h20_letter, o.exporter, o.end_use,
                 d.D1 AS d1, d.D4 AS d4, d.D5 AS d5, d.A5 AS a5, d.A6 AS a6, d.as_code AS dest,
                 coalesce(h.D5, false) OR h.as_code = 'MO' AS hq_d5, o.period
          FROM o LEFT JOIN items_arrow i ON o.item_id = i.item_id AND o.period = i.period
                 LEFT JOIN countries_arrow d ON o.destination = d.code AND o.period = d.period
                 LEFT JOIN countries_arrow h ON o.end_user_hq = h.code AND o.period = h.period),
        r AS (
          SELECT *,
            period = 2 AND eccn LIKE '3A090%' AND dest = 'CN' AS cn2022,
            period BETWEEN 3 AND 4 AND (eccn LIKE '3A090%' OR eccn LIKE '4A090%') AND dest IN ('CN', 'MO') AS cnmo,
            period >= 5 AND (eccn LIKE '3A090.a%' OR eccn LIKE '3A090.b%' OR eccn LIKE '4A090%')
              AND (d1 OR d4 OR d5 OR dest = 'MO') AND NOT (a5 OR a6) AS d145,
            period >= 5 AND eccn LIKE '%A090%' AND NOT ((d1 OR d4 OR d5 OR dest = 'MO') AND NOT (a5 OR a6)) AND hq_d5 AS hq,
            period >= 5 AND end_use = 'supercomputer' AND (d5 OR dest = 'MO') AS sc,
            period >= 13 AND h20_letter AND (dest IN ('CN', 'MO') OR d5)
              AND exporter = 'NVIDIA' AS h20
          FROM e)
        SELECT line, date, item, quantity, destination, eccn,
               cn2022 OR cnmo OR d145 OR hq OR sc OR h20 AS license_required,
               concat(CASE WHEN cn2022 THEN 'cn-2022;' ELSE '' END, CASE WHEN cnmo THEN 'cn-mo-2023;' ELSE '' END,
                      CASE WHEN d145 THEN 'd145-2023;' ELSE '' END, CASE WHEN hq THEN 'hq-744.23a3;' ELSE '' END,
                      CASE WHEN sc THEN 'supercomputer-2023-11;' ELSE '' END, CASE WHEN h20 THEN 'nvidia-2025-04-09;' ELSE '' END) AS reasons
        FROM r ORDER BY line) TO '{out}' (FORMAT PARQUET)"""
    )
    n = con.execute(f"SELECT count(*) FROM '{out}'").fetchall()[0][0]
    return {"seconds": time.perf_counter() - t, "lines": n}


def child(kind: str, *args: str) -> dict:
    """Run one measurement in a fresh process; report its own peak RSS."""
    p = subprocess.run(
        [sys.executable, __file__, "--child", kind, *args], capture_output=True, text=True, check=True
    )
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000_000)
    ap.add_argument("--loop", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs="+")
    a = ap.parse_args()
    if a.child:
        kind, *args = a.child
        res = {"bulk": run_bulk, "hand": run_hand_sql}.get(kind)
        out = res(*args) if res else run_loop(args[0], int(args[1]))
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return
    with tempfile.TemporaryDirectory() as d:
        book = Path(d) / "book.parquet"
        t = time.perf_counter()
        generate(book, a.lines)
        print(f"generated {a.lines:,} order lines in {time.perf_counter() - t:.1f} s")
        results = {}
        for kind in ("bulk", "hand"):
            runs = [child(kind, str(book), str(Path(d) / f"{kind}.parquet")) for _ in range(a.repeat)]
            results[kind] = {
                "rate": statistics.median(r["lines"] / r["seconds"] for r in runs),
                "rss": max(r["peak_rss_mb"] for r in runs),
            }
        loop = child("loop", str(book), str(a.loop))
        results["loop"] = {"rate": loop["lines"] / loop["seconds"], "rss": loop["peak_rss_mb"]}
    print(f"{'path':<28}{'lines/s (median)':>18}{'peak RSS MB':>14}")
    names = {
        "bulk": "chipex bulk (DuckDB)",
        "hand": "hand-written DuckDB SQL",
        "loop": "one-order path in a loop",
    }
    for k, v in results.items():
        print(f"{names[k]:<28}{v['rate']:>18,.0f}{v['rss']:>14,.0f}")
    b = results["bulk"]["rate"]
    print(
        f"bulk / hand SQL: {b / results['hand']['rate']:.2f}x (hand SQL / bulk: {results['hand']['rate'] / b:.2f}x)"
    )
    print(f"bulk / loop: {b / results['loop']['rate']:,.0f}x")


if __name__ == "__main__":
    main()
