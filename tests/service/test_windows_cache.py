"""The exposure windows (chipex.service.policy.windows) are computed once per request, rulebook,
catalog and shipments file, and handed out as copies; the real computation's answer is the same
from the cache as computed afresh."""

from __future__ import annotations

import datetime as dt

import pytest

from chipex.service import policy


@pytest.fixture
def counted(monkeypatch):
    from chipex.analysis.policy import windows as win

    calls: list[dt.date] = []

    def fake(**kw):
        calls.append(kw["until"])
        return []

    monkeypatch.setattr(win, "exposure_windows", fake)
    monkeypatch.setattr(policy, "_WINDOWS", {})
    return calls


def test_the_same_request_is_computed_once_and_each_caller_gets_its_own_copy(counted):
    req = policy.WindowsRequest(until=dt.date(2025, 1, 1))
    first = policy.windows(req)
    first.data["exposures"].append("changed by a caller")
    second = policy.windows(policy.WindowsRequest(until=dt.date(2025, 1, 1)))
    assert counted == [dt.date(2025, 1, 1)]
    assert second.data["exposures"] == []
    policy.windows(policy.WindowsRequest(until=dt.date(2025, 1, 2)))
    policy.windows(policy.WindowsRequest(until=dt.date(2025, 1, 1), destination=["RU"]))
    assert len(counted) == 3


def test_a_new_rulebook_or_an_edited_shipments_file_is_computed_again(counted, monkeypatch, tmp_path):
    import os
    import shutil

    from chipex.analysis.policy import windows as win
    from chipex.rules import default_rulebook

    req = policy.WindowsRequest(until=dt.date(2025, 1, 1))
    policy.windows(req)
    default_rulebook.cache_clear()  # as use_reforms() does: a new rulebook object
    policy.windows(req)
    assert len(counted) == 2
    policy.windows(req)
    assert len(counted) == 2

    copy = tmp_path / "shipments.yaml"
    shutil.copy(win.SHIPMENTS_FILE, copy)
    monkeypatch.setattr(win, "SHIPMENTS_FILE", copy)
    policy.windows(req)
    assert len(counted) == 3
    policy.windows(req)
    assert len(counted) == 3
    os.utime(copy, ns=(1, 1))  # edited
    policy.windows(req)
    assert len(counted) == 4


def test_warm_windows_fills_the_cache_for_the_lab_s_request(counted):
    policy.warm_windows()  # no stop event: once
    policy.windows(policy.WindowsRequest(until=dt.date.today()))
    assert counted == [dt.date.today()]


def test_the_cached_answer_is_the_computed_one(monkeypatch):
    # the real computation, once through the cache and once directly (H800's window to China
    # closed by the 2023-10-23 letter: 88 FR 73458's rule closed it on 2023-11-17)
    from chipex.catalog import default_catalog
    from chipex.rules import default_rulebook

    monkeypatch.setattr(policy, "_WINDOWS", {})
    req = policy.WindowsRequest(until=dt.date(2024, 6, 1), chip=["H800"])
    cached = policy.windows(req).data
    direct = policy._windows(req, dt.date(2024, 6, 1), default_rulebook(), default_catalog()).data
    assert cached == direct == policy.windows(req).data
    (h800,) = cached["exposures"]
    assert [(w["end"], w["rule_close"]) for w in h800["windows"]][-1] == ("2023-10-23", "2023-11-17")
