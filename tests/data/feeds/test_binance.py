"""Binance raw captures: mapping to canonical events, the bridging rule, gaps, units, time."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from execsim.core.errors import (
    CrossedBookError,
    DataError,
    DataNotFoundError,
    InstrumentError,
    ParseError,
    SequenceGapError,
    TimeOrderError,
)
from execsim.data.feeds.base import FeedHandler
from execsim.data.feeds.binance import (
    BinanceFeed,
    BinanceMarket,
)
from execsim.data.schema import F_LAST, F_SNAPSHOT, K_CLEAR, K_SET_LEVEL, K_TRADE
from execsim.data.validation import EventValidator

T0 = 1_723_161_253_000_000_000  # local clock, ns
E0 = 1_723_161_255_000  # exchange clock, ms


class Capture:
    """Writes a small capture in the collector's format: '<local_ts_ns> <JSON>' per line."""

    def __init__(self, symbol: str = "BTCUSDT", market: str = "spot") -> None:
        self.symbol = symbol
        self.market = market
        self.lines: list[str] = []
        self.local = T0
        self.E = E0

    def _add(self, obj: dict[str, Any]) -> None:
        self.local += 1_000_000
        self.lines.append(f"{self.local} {json.dumps(obj, separators=(',', ':'))}")

    def _stream(self, kind: str, data: dict[str, Any]) -> None:
        speed = "@100ms" if kind == "depth" and self.market == "spot" else ("@0ms" if kind == "depth" else "")
        self._add({"stream": f"{self.symbol.lower()}@{kind}{speed}", "data": data})

    def snapshot(self, last_id: int, bids: list[list[str]], asks: list[list[str]], **extra: Any) -> None:
        self._add({"lastUpdateId": last_id, **extra, "bids": bids, "asks": asks})

    def diff(
        self, first: int, last: int, bids: list[list[str]], asks: list[list[str]], *, pu: int | None = None
    ) -> None:
        self.E += 100
        data: dict[str, Any] = {"e": "depthUpdate", "E": self.E, "s": self.symbol, "U": first, "u": last}
        if self.market != "spot":
            data["T"] = self.E - 1
            data["pu"] = pu
            if self.market == "coinm":
                data["ps"] = self.symbol.split("_")[0]
        data["b"] = bids
        data["a"] = asks
        self._stream("depth", data)

    def trade(self, tid: int, price: str, qty: str, *, buyer_maker: bool, x: str | None = None) -> None:
        self.E += 1
        data: dict[str, Any] = {"e": "trade", "E": self.E, "T": self.E, "s": self.symbol, "t": tid}
        data.update({"p": price, "q": qty, "m": buyer_maker})
        if x is not None:
            data["X"] = x
        self._stream("trade", data)

    def ticker(self, u: int, bid: str, bid_qty: str, ask: str, ask_qty: str) -> None:
        data: dict[str, Any] = {"u": u, "s": self.symbol, "b": bid, "B": bid_qty, "a": ask, "A": ask_qty}
        if self.market != "spot":
            data = {"e": "bookTicker", **data, "T": self.E, "E": self.E}
        self._stream("bookTicker", data)

    def write(self, path: Path, *, gz: bool = True) -> Path:
        text = "\n".join(self.lines) + "\n"
        if gz:
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
        self.lines = []
        return path


def _spot_capture() -> Capture:
    """A spot capture with the bridging diff before the snapshot, as in the real files."""
    c = Capture()
    c.diff(90, 99, [["100.00", "1.0"]], [])  # older than the snapshot: skipped
    c.ticker(101, "100.50", "2.00000000", "101.00", "3.00000000")
    c.diff(100, 103, [["100.50", "2.00000000"]], [["101.50", "0.00000000"]])  # the bridge
    c.trade(7, "101.00", "0.25000000", buyer_maker=False)
    c.snapshot(
        101,
        [["100.50", "1.50000000"], ["100.01", "4.00000000"]],
        [["101.00", "3.00000000"], ["101.50", "1.00000000"]],
    )
    c.diff(104, 106, [["100.50", "0.00000000"]], [["101.00", "2.50000000"], ["102.00", "0.10000000"]])
    c.trade(8, "100.00", "0.50000000", buyer_maker=True)
    return c


def _events(feed: BinanceFeed) -> np.ndarray:
    return np.concatenate(list(feed.batches()))


# -- mapping ------------------------------------------------------------------------------


def test_spot_capture_maps_to_snapshot_diffs_and_trades_in_file_order(tmp_path: Path) -> None:
    path = _spot_capture().write(tmp_path / "btcusdt_20240808.gz")
    feed = BinanceFeed([path])
    assert isinstance(feed, FeedHandler)
    assert feed.market is BinanceMarket.SPOT
    assert feed.instrument.symbol == "BTCUSDT"
    assert feed.instrument.venue == "BINANCE_SPOT"
    assert feed.instrument.tick_size == Decimal("0.01")  # the finest decimal the prices use
    assert feed.instrument.lot_size == Decimal("0.00000001")  # the printed precision
    ev = _events(feed)
    rows = [
        (int(e["kind"]), int(e["side"]), int(e["price"]), int(e["qty"]), int(e["order_id"]), int(e["flags"]))
        for e in ev
    ]
    lot = 10**8
    assert rows == [
        # trade 7 arrives before the snapshot: m false → the buyer was the taker
        (K_TRADE, 1, 10_100, lot // 4, 7, F_LAST),
        # the snapshot: CLEAR + levels, F_SNAPSHOT on all, F_LAST on the last, order_id = lastUpdateId
        (K_CLEAR, 0, 0, 0, 101, F_SNAPSHOT),
        (K_SET_LEVEL, 1, 10_050, 3 * lot // 2, 101, F_SNAPSHOT),
        (K_SET_LEVEL, 1, 10_001, 4 * lot, 101, F_SNAPSHOT),
        (K_SET_LEVEL, -1, 10_100, 3 * lot, 101, F_SNAPSHOT),
        (K_SET_LEVEL, -1, 10_150, lot, 101, F_SNAPSHOT | F_LAST),
        # the buffered bridging diff (U=100 <= 102 <= u=103), order_id = its u
        (K_SET_LEVEL, 1, 10_050, 2 * lot, 103, 0),
        (K_SET_LEVEL, -1, 10_150, 0, 103, F_LAST),
        # the next diff (U == 103 + 1)
        (K_SET_LEVEL, 1, 10_050, 0, 106, 0),
        (K_SET_LEVEL, -1, 10_100, 5 * lot // 2, 106, 0),
        (K_SET_LEVEL, -1, 10_200, lot // 10, 106, F_LAST),
        # m true → the buyer was the maker, the aggressor sold
        (K_TRADE, -1, 10_000, lot // 2, 8, F_LAST),
    ]
    assert ev["seq"].tolist() == list(range(len(rows)))
    rep = feed.report
    assert rep.rows_read == 7
    assert rep.skipped == {"diff older than snapshot": 1}
    assert rep.book_tickers == 1  # its own category, not a skip
    assert (rep.snapshots, rep.diffs_applied, rep.diffs_buffered) == (1, 2, 2)
    assert rep.events_emitted == {"trade": 2, "clear": 1, "set_level": 9}


def test_times_are_exchange_time_and_collector_time(tmp_path: Path) -> None:
    path = _spot_capture().write(tmp_path / "c.gz")
    ev = _events(BinanceFeed(path))
    ms = 1_000_000
    # line 4 (trade 7): T = E0 + 201; local = T0 + 4 ms
    assert (ev[0]["ts_event"], ev[0]["ts_recv"]) == ((E0 + 201) * ms, T0 + 4 * ms)
    # the spot snapshot has no time: it takes the latest exchange time seen (the trade's)
    assert ev[1]["ts_event"] == (E0 + 201) * ms
    assert ev[1]["ts_recv"] == T0 + 5 * ms
    # the bridging diff (E = E0 + 200) can only be applied once the snapshot arrived: its
    # ts_recv is the snapshot's, and its ts_event is raised to keep ts_event non-decreasing
    assert ev[6]["ts_recv"] == T0 + 5 * ms
    assert ev[6]["ts_event"] == (E0 + 201) * ms
    assert ev[8]["ts_event"] == (E0 + 301) * ms  # the next diff: its own E


def test_output_passes_the_shared_event_validator(tmp_path: Path) -> None:
    path = _spot_capture().write(tmp_path / "c.gz")
    check = EventValidator(str(path))
    for batch in BinanceFeed(path).batches(batch_size=3):
        assert batch.shape[0] <= 3
        check(batch)
    assert check.rows == 12


def test_raw_ts_order_keeps_exchange_times_and_counts_nothing(tmp_path: Path) -> None:
    path = _spot_capture().write(tmp_path / "c.gz")
    clamp = BinanceFeed(path)
    _events(clamp)
    assert clamp.report.ts_event_raised == 2  # the two SET_LEVELs of the bridging diff
    assert clamp.report.ts_event_raised_max_ns == 1_000_000
    raw = BinanceFeed(path, ts_order="raw")
    ev = _events(raw)
    assert ev[6]["ts_event"] == (E0 + 200) * 1_000_000
    assert raw.report.ts_event_raised == 0


def test_plain_text_and_several_files_read_as_one_stream(tmp_path: Path) -> None:
    c = _spot_capture()
    lines = list(c.lines)
    first = tmp_path / "a.txt"
    first.write_text("\n".join(lines[:5]) + "\n")
    second = tmp_path / "b.gz"
    second.write_bytes(gzip.compress(("\n".join(lines[5:]) + "\n").encode()))
    whole = _spot_capture().write(tmp_path / "whole.gz")
    split = _events(BinanceFeed([first, second]))
    assert split.tolist() == _events(BinanceFeed(whole)).tolist()


def test_non_market_futures_trades_are_skipped_and_counted(tmp_path: Path) -> None:
    c = Capture(market="usdm")
    c.snapshot(100, [["100.0", "1.000"]], [["100.1", "1.000"]], E=E0, T=E0)
    c.diff(99, 105, [["100.0", "2.000"]], [], pu=98)
    c.trade(1, "100.1", "0.001", buyer_maker=False, x="MARKET")
    c.trade(2, "100.1", "0.002", buyer_maker=False, x="INSURANCE_FUND")
    feed = BinanceFeed(c.write(tmp_path / "u.gz"))
    ev = _events(feed)
    assert (ev["kind"] == K_TRADE).sum() == 1
    assert feed.report.skipped == {"trade X=INSURANCE_FUND": 1}


# -- markets and units --------------------------------------------------------------------


def test_usdm_is_detected_from_pu_and_uses_the_futures_bridge(tmp_path: Path) -> None:
    c = Capture(market="usdm")
    c.diff(90, 99, [["100.0", "9.000"]], [], pu=80)  # u < lastUpdateId: skipped
    c.diff(100, 104, [["100.0", "2.000"]], [], pu=99)  # u == lastUpdateId is NOT older on futures
    c.snapshot(104, [["100.0", "1.000"], ["99.5", "1.000"]], [["100.1", "1.000"]], E=E0, T=E0)
    c.diff(110, 120, [], [["100.1", "0.500"]], pu=104)  # futures ids jump: U > u + 1 is fine
    feed = BinanceFeed(c.write(tmp_path / "u.gz"))
    assert feed.market is BinanceMarket.USDM
    assert feed.instrument.venue == "BINANCE_USDM"
    assert (feed.instrument.tick_size, feed.instrument.lot_size) == (Decimal("0.1"), Decimal("0.001"))
    ev = _events(feed)
    assert feed.report.skipped == {"diff older than snapshot": 1}
    assert feed.report.diffs_applied == 2
    assert ev["order_id"][ev["flags"] & F_LAST != 0].tolist() == [104, 104, 120]
    assert ev[0]["ts_event"] == E0 * 1_000_000  # the futures snapshot carries E


def test_coinm_capture_reads_contracts_and_another_symbol(tmp_path: Path) -> None:
    c = Capture(symbol="ETHUSD_PERP", market="coinm")
    c.snapshot(
        500,
        [["2500.01", "12"], ["2499.50", "3"]],
        [["2500.02", "7"]],
        E=E0,
        T=E0,
        symbol="ETHUSD_PERP",
        pair="ETHUSD",
    )
    c.diff(499, 510, [["2500.01", "10"]], [["2500.05", "1"]], pu=480)
    c.trade(1, "2500.02", "2", buyer_maker=False)
    c.ticker(510, "2500.01", "10", "2500.02", "7")
    feed = BinanceFeed(c.write(tmp_path / "ethusd_perp.gz"))
    assert feed.market is BinanceMarket.COINM
    inst = feed.instrument
    assert (inst.symbol, inst.venue, inst.currency) == ("ETHUSD_PERP", "BINANCE_COINM", "USD")
    assert (inst.tick_size, inst.lot_size) == (Decimal("0.01"), Decimal("1"))
    ev = _events(feed)
    assert ev[ev["kind"] == K_TRADE]["qty"].tolist() == [2]  # contracts
    assert ev[-3][["side", "price", "qty"]].tolist() == (1, 250_001, 10)
    tickers = np.concatenate(list(feed.book_tickers()))
    assert tickers[["update_id", "bid_px", "bid_qty", "ask_px", "ask_qty"]].tolist() == [
        (510, 250_001, 10, 250_002, 7)
    ]


def test_market_and_units_can_be_given(tmp_path: Path) -> None:
    path = _spot_capture().write(tmp_path / "c.gz")
    feed = BinanceFeed(path, tick_size="0.5", lot_size="0.0001", market="spot")
    assert feed.instrument.tick_size == Decimal("0.5")
    with pytest.raises(InstrumentError, match=r"row 5: price '100.01' is not a multiple.*--tick-size"):
        _events(feed)


def test_a_price_off_the_inferred_grid_names_file_line_and_value(tmp_path: Path) -> None:
    c = _spot_capture()
    c.diff(107, 108, [["100.125", "1.00000000"]], [])
    path = c.write(tmp_path / "c.gz")
    with pytest.raises(InstrumentError, match=r"c\.gz, row 8: price '100.125'.*tick size 0\.01.*--tick-size"):
        _events(BinanceFeed(path))
    c = _spot_capture()
    c.trade(9, "100.00", "0.000000001", buyer_maker=True)
    path = c.write(tmp_path / "d.gz")
    with pytest.raises(InstrumentError, match=r"row 8: quantity '0.000000001'.*--lot-size"):
        _events(BinanceFeed(path))


def test_several_symbols_need_a_choice_and_others_are_counted(tmp_path: Path) -> None:
    c = _spot_capture()
    eth = Capture(symbol="ETHUSDT")
    eth.local = c.local
    eth.trade(1, "2500.00", "1.00000000", buyer_maker=True)
    c.lines += eth.lines
    path = c.write(tmp_path / "c.gz")
    with pytest.raises(DataError, match=r"more than one symbol \(BTCUSDT, ETHUSDT\).*symbol="):
        _events(BinanceFeed(path))
    feed = BinanceFeed(path, symbol="btcusdt")
    assert len(_events(feed)) == 12
    assert feed.report.skipped["other symbol ETHUSDT"] == 1


# -- gaps and the bridging rule -----------------------------------------------------------


def test_a_spot_gap_raises_with_file_line_expected_and_got(tmp_path: Path) -> None:
    c = _spot_capture()
    c.diff(108, 110, [["100.00", "1.00000000"]], [])  # 107 is missing
    path = c.write(tmp_path / "gap.gz")
    with pytest.raises(
        SequenceGapError, match=r"gap\.gz, row 8: .*expected U == previous u \+ 1 == 107.*U=108"
    ):
        _events(BinanceFeed(path))


def test_a_futures_gap_is_a_broken_pu_chain(tmp_path: Path) -> None:
    c = Capture(market="usdm")
    c.snapshot(100, [["100.0", "1.000"]], [["100.1", "1.000"]], E=E0, T=E0)
    c.diff(99, 105, [], [], pu=98)
    c.diff(200, 210, [], [], pu=150)
    with pytest.raises(SequenceGapError, match=r"row 3: .*expected pu == previous u == 105.*pu=150"):
        _events(BinanceFeed(c.write(tmp_path / "u.gz")))


def test_a_first_diff_that_does_not_bridge_the_snapshot_is_a_gap(tmp_path: Path) -> None:
    c = Capture()
    c.snapshot(101, [["100.00", "1.0"]], [["101.00", "1.0"]])
    c.diff(105, 110, [], [["101.00", "2.0"]])  # 102..104 are missing
    with pytest.raises(SequenceGapError, match=r"U <= lastUpdateId\+1 <= u.*U=105, u=110"):
        _events(BinanceFeed(c.write(tmp_path / "c.gz")))


def test_dropping_the_diffs_before_the_snapshot_would_be_a_gap(tmp_path: Path) -> None:
    # the trap: the same stream without the bridging diff (as a reader that ignores lines
    # before the snapshot would see it) does not satisfy the bridge rule
    c = _spot_capture()
    c.lines = [ln for i, ln in enumerate(c.lines) if i != 2]
    with pytest.raises(SequenceGapError, match="U=104"):
        _events(BinanceFeed(c.write(tmp_path / "c.gz")))


def test_resync_clears_the_book_and_waits_for_the_next_snapshot(tmp_path: Path) -> None:
    c = _spot_capture()
    c.diff(108, 110, [["100.00", "1.00000000"]], [])  # gap: 107 missing
    c.diff(111, 112, [["99.00", "1.00000000"]], [])  # older than the next snapshot
    c.snapshot(112, [["99.00", "1.00000000"]], [["101.00", "1.00000000"]])
    c.diff(113, 113, [], [["101.00", "2.00000000"]])
    feed = BinanceFeed(c.write(tmp_path / "c.gz"), on_gap="resync")
    ev = _events(feed)
    assert feed.report.gaps == 1
    assert feed.report.snapshots == 2
    assert feed.report.skipped["diff older than snapshot"] == 3
    clears = np.flatnonzero(ev["kind"] == K_CLEAR)
    assert len(clears) == 3  # snapshot, gap, snapshot
    assert ev[clears[1]]["flags"] == F_LAST
    assert ev[-1]["order_id"] == 113


def test_a_snapshot_while_in_sync_is_counted_not_applied(tmp_path: Path) -> None:
    c = _spot_capture()
    c.snapshot(106, [["1.00", "1.0"]], [["2.00", "1.0"]])
    feed = BinanceFeed(c.write(tmp_path / "c.gz"))
    ev = _events(feed)
    assert feed.report.skipped["snapshot while the book is in sync"] == 1
    assert (ev["kind"] == K_CLEAR).sum() == 1


def test_no_snapshot_at_all_is_a_clear_error(tmp_path: Path) -> None:
    c = _spot_capture()
    c.lines = [ln for ln in c.lines if "lastUpdateId" not in ln]
    with pytest.raises(DataError, match="no REST depth snapshot"):
        BinanceFeed(c.write(tmp_path / "c.gz"))


def test_too_many_diffs_before_the_snapshot_overflow_the_buffer(tmp_path: Path) -> None:
    c = Capture()
    for i in range(20):
        c.diff(10 * i, 10 * i + 9, [["100.00", "1.0"]], [])
    c.snapshot(150, [["100.00", "1.0"]], [["101.00", "1.0"]])
    with pytest.raises(DataError, match="within the first 5 depth diffs"):
        BinanceFeed(c.write(tmp_path / "c.gz"), max_buffered_diffs=5)


def test_a_crossed_snapshot_is_refused(tmp_path: Path) -> None:
    c = Capture()
    c.snapshot(1, [["101.00", "1.0"]], [["100.00", "1.0"]])
    c.diff(1, 2, [], [])
    with pytest.raises(CrossedBookError, match=r"row 1: REST snapshot is crossed"):
        _events(BinanceFeed(c.write(tmp_path / "c.gz")))


# -- corrupt input ------------------------------------------------------------------------


def test_a_stream_going_back_in_time_is_refused(tmp_path: Path) -> None:
    c = _spot_capture()
    c.E -= 500
    c.diff(107, 108, [], [])
    with pytest.raises(TimeOrderError, match=r"row 8: depth exchange time E goes backwards"):
        _events(BinanceFeed(c.write(tmp_path / "c.gz")))


def test_files_in_the_wrong_order_are_refused(tmp_path: Path) -> None:
    c = _spot_capture()
    lines = list(c.lines)
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("\n".join(lines[:5]) + "\n")
    b.write_text("\n".join(lines[5:]) + "\n")
    with pytest.raises(TimeOrderError, match=r"a\.txt, row 1: local time goes backwards"):
        _events(BinanceFeed([b, a]))


def test_bad_lines_name_the_file_and_row(tmp_path: Path) -> None:
    c = _spot_capture()
    c.lines.insert(5, f"{c.local} {{not json")
    with pytest.raises(ParseError, match=r"row 6: bad JSON"):
        _events(BinanceFeed(c.write(tmp_path / "c.gz")))
    c = _spot_capture()
    c.lines.insert(5, "")
    c.lines.append("")
    feed = BinanceFeed(c.write(tmp_path / "blank.txt", gz=False))
    _events(feed)
    assert feed.report.skipped["blank line"] == 2
    missing = tmp_path / "missing.gz"
    with pytest.raises(DataNotFoundError, match=r"missing\.gz"):
        BinanceFeed(missing)


def test_a_truncated_gzip_file_is_a_data_error(tmp_path: Path) -> None:
    path = _spot_capture().write(tmp_path / "c.gz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])
    with pytest.raises(DataError, match="cannot read the file"):
        _events(BinanceFeed(path))


# -- memory ---------------------------------------------------------------------------------


def _long_capture(path: Path, n_diffs: int) -> Path:
    c = Capture()
    c.snapshot(1, [["100.00", "1.0"], ["99.99", "1.0"]], [["101.00", "1.0"]])
    u = 1
    for i in range(n_diffs):
        c.diff(u + 1, u + 3, [[f"{99 + (i % 50) / 100:.2f}", f"{i % 7}.0"]], [["101.00", f"{1 + i % 3}.0"]])
        c.trade(i, "101.00", "0.1", buyer_maker=bool(i % 2))
        c.ticker(u + 3, "100.00", "1.0", "101.00", "1.0")
        u += 3
    return c.write(path)


def _peak_bytes(path: Path) -> int:
    feed = BinanceFeed(path)
    tracemalloc.start()
    try:
        for chunk in feed.chunks(batch_size=1_000):
            assert chunk.events.shape[0] < 10_000
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_bounded_whatever_the_file_length(tmp_path: Path) -> None:
    short = _peak_bytes(_long_capture(tmp_path / "short.gz", 1_500))
    long = _peak_bytes(_long_capture(tmp_path / "long.gz", 12_000))  # 8x the lines
    assert long < 1.5 * short
    assert long < 20 * 2**20


# -- the real captures ----------------------------------------------------------------------


@pytest.mark.shared_data
def test_real_spot_capture_matches_the_provenance_counts(shared_data: Path) -> None:
    d = shared_data / "binance_hftbacktest" / "spot"
    feed = BinanceFeed([d / "btcusdt_20240808.gz", d / "btcusdt_20240809.gz"])
    assert (feed.market, feed.instrument.tick_size) == (BinanceMarket.SPOT, Decimal("0.01"))
    check = EventValidator(feed.source)
    trades = []
    for batch in feed.batches():
        check(batch)
        trades.append(batch[batch["kind"] == K_TRADE])
    rep = feed.report
    # PROVENANCE.md, sanity-check table
    assert rep.rows_read == 99_574
    assert rep.book_tickers == 73_174
    assert (rep.diffs_applied, rep.skipped["diff older than snapshot"]) == (6_493, 2)
    assert rep.snapshots == 1
    tr = np.concatenate(trades)
    assert len(tr) == 19_904
    assert ((tr["side"] == -1).sum(), (tr["side"] == 1).sum()) == (10_811, 9_093)
    assert feed.instrument.lots_to_qty(int(tr["qty"].sum())) == Decimal("437.91552")
    assert (tr["price"].min(), tr["price"].max()) == (6_155_604, 6_186_080)


@pytest.mark.shared_data
def test_real_usdm_capture_matches_the_provenance_counts(shared_data: Path) -> None:
    feed = BinanceFeed(shared_data / "binance_hftbacktest" / "usdm" / "btcusdt_20240808.gz")
    assert feed.market is BinanceMarket.USDM
    assert (feed.instrument.tick_size, feed.instrument.lot_size) == (Decimal("0.1"), Decimal("0.001"))
    ev = _events(feed)
    rep = feed.report
    assert (rep.diffs_applied, rep.skipped["diff older than snapshot"]) == (6_547, 4)
    tr = ev[ev["kind"] == K_TRADE]
    assert len(tr) == 21_313
    assert feed.instrument.lots_to_qty(int(tr["qty"].sum())) == Decimal("2429.366")
    assert ((tr["side"] == -1).sum(), (tr["side"] == 1).sum()) == (11_697, 9_616)


@pytest.mark.shared_data
def test_the_continuation_file_alone_has_no_snapshot(shared_data: Path) -> None:
    with pytest.raises(DataError, match="no REST depth snapshot"):
        BinanceFeed(shared_data / "binance_hftbacktest" / "spot" / "btcusdt_20240809.gz")
