"""Rebuilding Binance books and checking them against bookTickers: the exact-state rule."""

from __future__ import annotations

import bisect
import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from execsim.book.binance_verify import (
    NC_AFTER,
    NC_BEFORE,
    NC_CONFLATED,
    NC_OUT_OF_SYNC,
    verify_binance,
)
from execsim.core.errors import DataError

T0 = 1_723_161_253_000_000_000
E0 = 1_723_161_255_000


def _line(i: int, obj: dict[str, Any]) -> str:
    return f"{T0 + i * 1_000_000} {json.dumps(obj, separators=(',', ':'))}"


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(gzip.compress(("\n".join(_line(i, r) for i, r in enumerate(records)) + "\n").encode()))
    return path


def _diff(
    first: int, last: int, b: list[list[str]], a: list[list[str]], *, pu: int | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "e": "depthUpdate",
        "E": E0 + last,
        "s": "BTCUSDT",
        "U": first,
        "u": last,
        "b": b,
        "a": a,
    }
    stream = "btcusdt@depth@100ms"
    if pu is not None:
        data.update(T=E0 + last, pu=pu)
        stream = "btcusdt@depth@0ms"
    return {"stream": stream, "data": data}


def _ticker(u: int, b: str, bq: str, a: str, aq: str) -> dict[str, Any]:
    return {
        "stream": "btcusdt@bookTicker",
        "data": {"u": u, "s": "BTCUSDT", "b": b, "B": bq, "a": a, "A": aq},
    }


def _spot_records(*, ask_qty_in_diff: str = "2.5") -> list[dict[str, Any]]:
    snapshot = {
        "lastUpdateId": 101,
        "bids": [["100.50", "1.5"], ["100.01", "4"]],
        "asks": [["101.00", "3"], ["101.50", "1"]],
    }
    return [
        _ticker(100, "100.50", "1.5", "101.00", "3.1"),  # before the snapshot: not checkable
        _ticker(101, "100.50", "1.5", "101.00", "3"),  # the snapshot's own state: checked
        _ticker(102, "100.50", "1.7", "101.00", "3"),  # inside the bridging diff [100, 103]
        _ticker(103, "100.50", "2", "101.00", "3"),  # the bridge's final state: checked
        _diff(100, 103, [["100.50", "2"]], [["101.50", "0"]]),  # arrives after its tickers
        snapshot,
        _ticker(106, "100.01", "4", "101.00", "2.5"),  # checked against the next diff
        _diff(104, 106, [["100.50", "0"]], [["101.00", ask_qty_in_diff], ["102.00", "0.1"]]),
        _ticker(200, "100.01", "4", "101.00", "2.4"),  # after the last diff: not checkable
    ]


def test_only_book_tickers_at_exactly_known_states_are_checked(tmp_path: Path) -> None:
    r = verify_binance(_write(tmp_path / "c.gz", _spot_records()))
    assert (r.checked, r.mismatches) == (3, 0)
    assert r.book_tickers == 6 == r.report.book_tickers
    assert r.not_checkable == {NC_BEFORE: 1, NC_CONFLATED: 1, NC_AFTER: 1}
    assert r.book_tickers == 6
    assert r.ok
    assert r.instrument.lot_size == Decimal("0.1")  # the snapshot's quantities print 1 decimal
    assert r.final_bbo == (10_001, 40, 10_100, 25)
    assert r.summary_line() == "checked=3 mismatches=0"


def test_a_corrupted_quantity_is_reported_as_a_mismatch(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.gz", _spot_records(ask_qty_in_diff="2.6"))
    r = verify_binance(path)
    assert (r.checked, r.mismatches) == (3, 1)
    assert not r.ok
    (m,) = r.first_mismatches
    assert (m.file, m.line, m.update_id) == (str(path), 7, 106)
    assert m.expected == (10_001, 40, 10_100, 25)
    assert m.got == (10_001, 40, 10_100, 26)
    assert m.describe() == f"{path}:7 u=106: bookTicker 40@10001 / 25@10100, book 40@10001 / 26@10100"
    text = m.describe(r.instrument)  # decimal prices and quantities
    assert "bookTicker 4" in text
    assert "2.5@101" in text
    assert "2.6@101" in text


def test_futures_ids_between_chained_diffs_are_exact_states(tmp_path: Path) -> None:
    snapshot = {
        "lastUpdateId": 104,
        "E": E0,
        "T": E0,
        "bids": [["100.0", "1.000"]],
        "asks": [["100.1", "1.000"]],
    }
    records = [
        _ticker(107, "100.0", "2.000", "100.1", "1.000"),  # in (105, 110): same state as after u=105
        _diff(100, 105, [["100.0", "2.000"]], [], pu=99),
        snapshot,
        _ticker(112, "100.0", "2.000", "100.1", "0.700"),  # inside [110, 120]: never held
        _ticker(120, "100.0", "2.000", "100.1", "0.500"),
        _diff(110, 120, [], [["100.1", "0.500"]], pu=105),
    ]
    for r in records:
        if "stream" in r and "bookTicker" in r["stream"]:
            r["data"] = {"e": "bookTicker", **r["data"], "E": E0, "T": E0}
    res = verify_binance(_write(tmp_path / "u.gz", records))
    assert res.market.value == "usdm"
    assert (res.checked, res.mismatches) == (2, 0)
    assert res.not_checkable == {NC_CONFLATED: 1}


def test_after_a_gap_book_tickers_are_out_of_sync_until_the_next_snapshot(tmp_path: Path) -> None:
    records = _spot_records()[:-1]
    records += [
        _diff(108, 110, [["100.00", "1"]], []),  # 107 missing: the book is cleared
        _ticker(111, "100.01", "4", "101.00", "2.5"),
        {"lastUpdateId": 112, "bids": [["99.00", "1"]], "asks": [["101.00", "1"]]},
        _ticker(112, "99.00", "1", "101.00", "1"),  # the new snapshot's state: checked
        _diff(113, 113, [], [["101.00", "2"]]),
        _ticker(113, "99.00", "1", "101.00", "2"),
    ]
    path = _write(tmp_path / "gap.gz", records)
    r = verify_binance(path, on_gap="resync")
    assert r.report.gaps == 1
    assert (r.checked, r.mismatches) == (5, 0)
    assert r.not_checkable == {NC_OUT_OF_SYNC: 1, NC_BEFORE: 1, NC_CONFLATED: 1}


def test_verify_passes_feed_options_and_errors_through(tmp_path: Path) -> None:
    records = [r for r in _spot_records() if "lastUpdateId" not in r]
    with pytest.raises(DataError, match="no REST depth snapshot"):
        verify_binance(_write(tmp_path / "c.gz", records))
    seen: list[int] = []
    r = verify_binance(_write(tmp_path / "d.gz", _spot_records()), progress=seen.append, tick_size="0.01")
    assert sum(seen) == (tmp_path / "d.gz").stat().st_size
    assert r.instrument.tick_size == Decimal("0.01")


# -- the real captures --------------------------------------------------------------------


def _independent_count(paths: list[Path]) -> int:
    """bookTickers whose u is an exactly known state, computed directly from the JSON."""
    snap = None
    diffs: list[tuple[int, int]] = []
    tickers: list[int] = []
    futures = False
    for p in paths:
        with gzip.open(p, "rb") as f:
            for line in f:
                d = json.loads(line.split(b" ", 1)[1])
                if "lastUpdateId" in d:
                    snap = d["lastUpdateId"]
                elif "depth" in d["stream"]:
                    futures = "pu" in d["data"]
                    diffs.append((d["data"]["U"], d["data"]["u"]))
                elif "bookTicker" in d["stream"]:
                    tickers.append(d["data"]["u"])
    assert snap is not None
    applied = [(a, b) for a, b in diffs if (b >= snap if futures else b > snap)]
    # state after diff i holds for ids in [u_i, U_{i+1}); the snapshot for lastUpdateId only
    ends = [u for _, u in applied]
    n = 0
    for u in tickers:
        if u == snap:
            n += 1
            continue
        i = bisect.bisect_right(ends, u) - 1
        if i >= 0 and (u == ends[i] or (i + 1 < len(applied) and u < applied[i + 1][0])):
            n += 1
    return n


@pytest.mark.shared_data
def test_real_spot_capture_rebuilds_every_checkable_book_ticker(shared_data: Path) -> None:
    d = shared_data / "binance_hftbacktest" / "spot"
    paths = [d / "btcusdt_20240808.gz", d / "btcusdt_20240809.gz"]
    r = verify_binance(paths)
    assert r.mismatches == 0
    assert r.checked == _independent_count(paths)
    assert r.checked > 1_000
    assert r.book_tickers == 73_174
    assert r.book_stats["crossed_at_last"] == 0
    inst = r.instrument
    # PROVENANCE.md: final best bid / ask 61602.01 / 61602.02
    assert (inst.ticks_to_price(r.final_bbo[0]), inst.ticks_to_price(r.final_bbo[2])) == (
        Decimal("61602.01"),
        Decimal("61602.02"),
    )


@pytest.mark.shared_data
def test_real_spot_first_file_alone_verifies(shared_data: Path) -> None:
    path = shared_data / "binance_hftbacktest" / "spot" / "btcusdt_20240808.gz"
    r = verify_binance(path)
    assert r.mismatches == 0
    assert r.checked == _independent_count([path])


@pytest.mark.shared_data
def test_real_usdm_capture_rebuilds_every_checkable_book_ticker(shared_data: Path) -> None:
    path = shared_data / "binance_hftbacktest" / "usdm" / "btcusdt_20240808.gz"
    r = verify_binance(path)
    assert r.mismatches == 0
    assert r.checked == _independent_count([path])
    assert r.checked > 500
    assert r.book_stats["crossed_at_last"] == 0
    inst = r.instrument
    assert (inst.ticks_to_price(r.final_bbo[0]), inst.ticks_to_price(r.final_bbo[2])) == (
        Decimal("61659.7"),
        Decimal("61659.8"),
    )
