"""`chipex lists update` against a loopback HTTP server serving a copy of the shipped list; a timeout,
a truncated download, an HTML error page. OpenSanctions FtM exports as a list source. Staleness."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from tests.chipex_cli import run_chipex
from tests.screening.conftest import SAMPLES
from tests.screening.test_screening_snapshots import shipped_rows, without_el, write_list

from chipex.errors import ChipexError
from chipex.screening import Screener
from chipex.screening.lists import default_snapshot_path, read_snapshot
from chipex.screening.store import Store
from chipex.screening.update import update

SHIPPED = "2026-07-31-e32db4d060b6"


class Server:
    """127.0.0.1 only; `routes` maps a path to (status, headers, body, delay seconds, bytes to send)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes, float, int | None]] = {}
        routes = self.routes

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, headers, body, delay, send = routes.get(self.path, (404, {}, b"not found", 0, None))
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body[:send] if send is not None else body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout case)
                self.close_connection = send is not None

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


CSV = {"Content-Type": "text/csv", "Last-Modified": "Sat, 08 Aug 2026 09:00:00 GMT"}


def test_update_downloads_checks_and_reports_the_delta(home: Path, tmp_path: Path, server: Server) -> None:
    rows = without_el(3)(shipped_rows())  # three Entity List entries delisted, one added
    rows.append({**rows[0], "_id": "new-entry-1", "name": "Newly Listed Compute Trading Co", "source":
                 "Entity List (EL) - Bureau of Industry and Security"})  # fmt: skip
    body = write_list(tmp_path / "c.csv", rows).read_bytes()
    server.routes["/consolidated.csv"] = (200, CSV, body, 0, None)
    rep = update(f"{server.url}/consolidated.csv", home=home)
    assert rep.source_date == date(2026, 8, 8)  # the server's Last-Modified
    assert rep.previous_id == SHIPPED and rep.current
    assert rep.delta_counts() == {"EL": {"added": 1, "removed": 3, "changed": 0}}
    stored = Store(home).current()
    assert stored.origin == f"{server.url}/consolidated.csv" and stored.id == rep.snapshot_id
    s = Screener(home=home)
    assert s.screen("Newly Listed Compute Trading")[0].snapshot_id == rep.snapshot_id
    assert s.source_date == date(2026, 8, 8)


def test_update_of_the_unchanged_list_changes_nothing(home: Path, server: Server) -> None:
    body = gzip.decompress(default_snapshot_path().read_bytes())
    server.routes["/same.csv"] = (200, {"Content-Type": "text/csv"}, body, 0, None)
    rep = update(f"{server.url}/same.csv", home=home, source_date=date(2026, 7, 31))
    assert rep.already_loaded and rep.snapshot_id == SHIPPED


@pytest.mark.parametrize(
    ("route", "expect"),
    [
        ((200, CSV, b"x" * 100, 3.0, None), r"download timed out \(no data for 0.5 s\)"),
        ((200, CSV, b"source,name\n" + b"EL,A\n" * 5000, 0, 20_000), r"truncated download"),
        ((200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html>Maintenance</html>", 0, None),
         "the server sent an HTML page, not a list file"),
        ((200, {"Content-Type": "text/csv"}, b"\n <html><body>Error</body></html>", 0, None), "HTML page"),
        ((503, {}, b"busy", 0, None), "download failed: HTTP 503"),
    ],
)  # fmt: skip
def test_bad_downloads_are_refused_and_nothing_changes(
    home: Path, server: Server, route: tuple, expect: str
) -> None:
    server.routes["/bad.csv"] = route
    with pytest.raises(ChipexError, match=expect) as err:
        update(f"{server.url}/bad.csv", home=home, timeout=0.5)
    assert f"{server.url}/bad.csv" in str(err.value)
    assert Store(home).current().id == SHIPPED
    assert not list((home / "screening" / "downloads").glob("*"))  # no partial file left


def test_a_download_that_parses_but_lost_rows_is_refused_by_the_swap_checks(
    home: Path, tmp_path: Path, server: Server
) -> None:
    rows = shipped_rows()[:13_000]  # cut at a row boundary: a well-formed file
    sdn = sum(r["source"].startswith("Specially Designated Nationals") for r in rows)
    body = write_list(tmp_path / "half.csv", rows).read_bytes()
    server.routes["/half.csv"] = (200, CSV, body, 0, None)
    with pytest.raises(
        ChipexError, match=rf"refused: SDN: 19,181 -> {sdn:,} entries .*UVL: 222 -> 0 entries"
    ):
        update(f"{server.url}/half.csv", home=home)


def test_lists_update_command(home: Path, tmp_path: Path, server: Server) -> None:
    body = write_list(tmp_path / "c.csv", without_el(2)(shipped_rows())).read_bytes()
    server.routes["/cmd.csv"] = (200, CSV, body, 0, None)
    r = run_chipex(
        "lists", "update", "--url", f"{server.url}/cmd.csv", "--json", env={"CHIPEX_HOME": str(home)}
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["delta"] == {"EL": {"added": 0, "removed": 2, "changed": 0}}
    assert doc["previous"] == SHIPPED and doc["source_date"] == "2026-08-08"
    r = run_chipex("lists", "update", "--url", f"{server.url}/nothing", env={"CHIPEX_HOME": str(home)})
    assert r.returncode == 2 and "HTTP 404" in r.stderr and "Traceback" not in r.stderr


def test_opensanctions_ftm_export_is_a_list_source() -> None:
    s = read_snapshot(SAMPLES / "opensanctions-sample.ftm.json", date(2026, 8, 1))
    by_id = {e.id: e for e in s.entries}
    assert set(by_id) == {"os-alpha", "os-gamma", "os-person", "os-sub"}  # the Ownership is no entry
    alpha = by_id["os-alpha"]
    assert (alpha.list, alpha.countries, alpha.alt_names) == ("EL", ("CN",), ("Alpha Holdings",))
    assert alpha.source_list_url == "https://www.federalregister.gov/d/2099-00001"
    assert by_id["os-gamma"].list == "SDN"  # from the dataset us_ofac_sdn
    assert by_id["os-person"].list == "OS" and by_id["os-person"].type == "Person"


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ("{not json", "record 1: not a JSON entity"),
        ('{"id": "x", "schema": "Company"}', "needs 'id', 'schema' and a 'properties' object"),
        (
            '{"id": "x", "schema": "Company", "properties": {"name": "A"}}',
            "field 'name': a property is a list",
        ),
        ('{"id": "x", "schema": "Company", "properties": {"country": ["cn"]}}', "needs a name"),
        ('{"id": "", "schema": "Company", "properties": {}}', "field 'id': missing 'id'"),
    ],
)
def test_bad_ftm_lines_name_the_line(tmp_path: Path, line: str, expect: str) -> None:
    p = tmp_path / "bad.ftm.json"
    p.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ChipexError, match=expect):
        read_snapshot(p, date(2026, 8, 1))


def test_staleness_warns_and_max_list_age_is_an_error(home: Path) -> None:
    r = run_chipex("screen", "Sugon", "--json", env={"CHIPEX_HOME": str(home)})
    doc = json.loads(r.stdout)
    age = (date.today() - date(2026, 7, 31)).days
    assert doc["snapshot_date"] == "2026-07-31"
    assert doc["warnings"] == [f"list snapshot of 2026-07-31 is {age} days old on {date.today()} (more than 7); "
                               "update it with 'chipex lists update'"]  # fmt: skip
    r = run_chipex("screen", "Sugon", "--json", "--warn-list-age", "100000", env={"CHIPEX_HOME": str(home)})
    assert json.loads(r.stdout)["warnings"] == []
    r = run_chipex("screen", "Sugon", "--max-list-age", "30", env={"CHIPEX_HOME": str(home)})
    assert r.returncode == 2 and f"is {age} days old" in r.stderr and "--max-list-age 30" in r.stderr
