"""The LOBSTER feed handler: mapping to canonical events, the reveal rule, validation, streaming."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from execsim.core.errors import (
    CrossedBookError,
    DataError,
    DataNotFoundError,
    ParseError,
    TimeOrderError,
)
from execsim.core.timeutil import format_ns
from execsim.data.feeds.base import FeedHandler
from execsim.data.feeds.lobster import LobsterFeed, parse_lobster_filename
from execsim.data.schema import (
    EVENT_DTYPE,
    F_CROSS,
    F_HIDDEN,
    F_LAST,
    F_REVEAL,
    F_SNAPSHOT,
    K_ADD,
    K_CANCEL,
    K_CLEAR,
    K_DELETE,
    K_EXECUTE,
    K_HALT,
    K_SET_LEVEL,
    K_TRADE,
)
from execsim.model.enums import TradingStatus

# 2012-06-21 is summer time in New York (UTC-4): local midnight is 04:00 UTC
MIDNIGHT_NS = int(dt.datetime(2012, 6, 21, 4, tzinfo=dt.UTC).timestamp()) * 10**9
ASK_PAD, BID_PAD = 9_999_999_999, -9_999_999_999


def write_pair(
    folder: Path,
    messages: list[str],
    rows: list[str],
    levels: int,
    *,
    gz: bool = False,
    stem: str = "TEST_2012-06-21_34200000_57600000",
    suffix: str = ".csv",
) -> tuple[Path, Path]:
    """Write a message and an orderbook file named the LOBSTER way."""
    paths = []
    for kind, lines in (("message", messages), ("orderbook", rows)):
        path = folder / f"{stem}_{kind}_{levels}{suffix}"
        data = ("\n".join(lines) + "\n").encode()
        path.write_bytes(gzip.compress(data) if gz else data)
        paths.append(path)
    return paths[0], paths[1]


def book_row(asks: list[tuple[int, int]], bids: list[tuple[int, int]], levels: int) -> str:
    """An orderbook row from (price, size) lists, padded the LOBSTER way."""
    asks = asks + [(ASK_PAD, 0)] * (levels - len(asks))
    bids = bids + [(BID_PAD, 0)] * (levels - len(bids))
    return ",".join(f"{a},{aq},{b},{bq}" for (a, aq), (b, bq) in zip(asks, bids, strict=True))


def all_events(feed: LobsterFeed, batch_size: int = 1 << 16) -> np.ndarray:
    return np.concatenate(list(feed.batches(batch_size)))


def ev_tuples(events: np.ndarray) -> list[tuple[int, int, int, int, int, int]]:
    """(kind, side, price, qty, order_id, flags) of each event."""
    return [
        (int(e["kind"]), int(e["side"]), int(e["price"]), int(e["qty"]), int(e["order_id"]), int(e["flags"]))
        for e in events
    ]


# -- every message type -------------------------------------------------------------------------

A1, A2, A3 = 1_010_000, 1_010_100, 1_010_200  # asks $101.00, $101.01, $101.02
B1, B2 = 1_000_000, 999_900  # bids $100.00, $99.99


@pytest.fixture
def all_types_pair(tmp_path: Path) -> tuple[Path, Path]:
    row_a = book_row([(A1, 100), (A2, 200)], [(B1, 150), (B2, 300)], 2)
    row_b = book_row([(A1, 100), (A2, 200)], [(B1, 130), (B2, 300)], 2)
    row_c = book_row([(A2, 200), (A3, 40)], [(B1, 130), (B2, 300)], 2)
    row_d = book_row([(A2, 200), (A3, 40)], [(B1, 100), (B2, 300)], 2)
    messages = [
        f"34200.5,1,11,50,{B1},1",  # add to an existing bid level
        f"34200.5,2,11,20,{B1},1",  # partial cancel, same time stamp
        f"34201,4,7,100,{A1},-1",  # execution of an order resting before the file began
        "34201.000000001,5,0,10,1005050,-1",  # hidden execution at half a cent
        "34202,7,0,0,-1,-1",  # halt
        "34203,7,0,0,0,-1",  # quoting
        "34204,7,0,0,1,-1",  # trading
        "34205.25,6,0,500,1005000,1",  # cross
        f"34206,3,11,30,{B1},1",  # delete
    ]
    rows = [row_a, row_b, row_c, row_c, row_c, row_c, row_c, row_c, row_d]
    return write_pair(tmp_path, messages, rows, 2)


def test_every_message_type_maps_to_its_canonical_event(all_types_pair: tuple[Path, Path]) -> None:
    feed = LobsterFeed(*all_types_pair)
    ev = all_events(feed)
    snap = F_SNAPSHOT
    assert ev_tuples(ev) == [
        # the book before message 1: row 1 without the 50 shares message 1 added
        (K_CLEAR, 0, 0, 0, 0, snap),
        (K_SET_LEVEL, 1, B1, 100, 0, snap),
        (K_SET_LEVEL, 1, B2, 300, 0, snap),
        (K_SET_LEVEL, -1, A1, 100, 0, snap),
        (K_SET_LEVEL, -1, A2, 200, 0, snap | F_LAST),
        (K_ADD, 1, B1, 50, 11, F_LAST),
        (K_CANCEL, 1, B1, 20, 11, F_LAST),
        # the execution empties $101.00; $101.02 enters the window and is revealed after it
        (K_EXECUTE, -1, A1, 100, 7, 0),
        (K_SET_LEVEL, -1, A3, 40, 0, F_REVEAL | F_LAST),
        # a hidden execution against a resting sell: the aggressor bought
        (K_TRADE, 1, 1_005_050, 10, 0, F_HIDDEN | F_LAST),
        (K_HALT, 0, 0, TradingStatus.HALTED.code, 0, F_LAST),
        (K_HALT, 0, 0, TradingStatus.QUOTING.code, 0, F_LAST),
        (K_HALT, 0, 0, TradingStatus.TRADING.code, 0, F_LAST),
        (K_TRADE, 0, 1_005_000, 500, 0, F_CROSS | F_LAST),
        (K_DELETE, 1, B1, 30, 11, F_LAST),
    ]
    assert ev["seq"].tolist() == list(range(len(ev)))
    assert (ev["ts_recv"] == ev["ts_event"]).all()
    # snapshot and message 1 share message 1's time; times are exact nanoseconds
    secs = [34200.5] * 7 + [34201] * 2
    assert ev["ts_event"][:9].tolist() == [MIDNIGHT_NS + int(s * 10**9) for s in secs]
    assert int(ev["ts_event"][9]) == MIDNIGHT_NS + 34201 * 10**9 + 1
    assert int(ev["ts_event"][13]) == MIDNIGHT_NS + 34205 * 10**9 + 250_000_000
    rep = feed.report
    assert rep.rows_read == 9
    assert dict(rep.message_types) == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 3}
    assert rep.events_emitted["set_level"] == 5
    assert rep.events_emitted["halt"] == 3
    assert rep.total_emitted == len(ev)
    assert (rep.snapshot_levels, rep.reveals, rep.reveal_clears, rep.reveal_resets) == (4, 1, 0, 0)
    assert rep.total_skipped == 0
    assert "reveals=1" in rep.summary()


def test_feed_satisfies_the_feed_handler_protocol(all_types_pair: tuple[Path, Path]) -> None:
    feed = LobsterFeed(*all_types_pair, symbol="XYZ", venue="TEST", tick_size="0.0001")
    assert isinstance(feed, FeedHandler)
    assert feed.instrument.symbol == "XYZ"
    assert feed.instrument.venue == "TEST"
    assert feed.instrument.timezone == "America/New_York"
    assert feed.levels == 2
    assert feed.count_rows() == 9


def test_batches_are_bounded_and_chunking_does_not_change_the_stream(
    all_types_pair: tuple[Path, Path],
) -> None:
    feed = LobsterFeed(*all_types_pair)
    whole = all_events(feed)
    small = list(feed.batches(batch_size=2))
    assert all(1 <= len(b) <= 2 for b in small)
    assert all(b.dtype == EVENT_DTYPE for b in small)
    assert np.array_equal(np.concatenate(small), whole)
    for rows in (1, 2, 4):
        chunks = list(feed.chunks(rows))
        assert [c.first_row for c in chunks] == list(range(1, 10, rows))
        assert np.array_equal(np.concatenate([c.events for c in chunks]), whole)
    assert feed.report.rows_read == 9  # the report restarts with each pass


def test_chunks_carry_the_orderbook_rows_in_ticks_with_empty_levels_zero(tmp_path: Path) -> None:
    rows = [book_row([(A1, 5)], [], 3), book_row([(A1, 5)], [(B1, 7)], 3)]
    pair = write_pair(tmp_path, ["34200,5,0,1,1005000,1", f"34201,1,1,7,{B1},1"], rows, 3)
    feed = LobsterFeed(*pair, tick_size="0.01")
    (chunk,) = list(feed.chunks())
    assert chunk.rows == 2
    assert chunk.ask_px.tolist() == [[10100, 0, 0], [10100, 0, 0]]
    assert chunk.ask_qty.tolist() == [[5, 0, 0], [5, 0, 0]]
    assert chunk.bid_px.tolist() == [[0, 0, 0], [10000, 0, 0]]
    assert chunk.bid_qty.tolist() == [[0, 0, 0], [7, 0, 0]]
    # LOBSTER's filler never becomes an event
    ev = chunk.events
    assert ev_tuples(ev) == [
        (K_CLEAR, 0, 0, 0, 0, F_SNAPSHOT),
        (K_SET_LEVEL, -1, 10100, 5, 0, F_SNAPSHOT | F_LAST),
        (K_TRADE, -1, 10050, 1, 0, F_HIDDEN | F_LAST),
        (K_ADD, 1, 10000, 7, 1, F_LAST),
    ]


# -- the reveal rule ----------------------------------------------------------------------------


def test_levels_outside_the_window_are_revealed_reset_and_cleared(tmp_path: Path) -> None:
    # one level per side: everything below the best bid is outside the window
    b00, b01, b02, b03 = 1_000_000, 1_000_100, 1_000_200, 1_000_300
    b995, b990 = 995_000, 990_000
    ask = (1_010_000, 100)

    def r(bid: tuple[int, int]) -> str:
        return book_row([ask], [bid], 1)

    messages = [
        f"34200,1,1,10,{b01},1",  # 1 new best bid
        f"34201,1,2,5,{b02},1",  # 2 pushes $100.01 out of the window
        f"34202,3,2,5,{b02},1",  # 3 $100.01 comes back: reset, then its size
        f"34203,1,3,7,{b03},1",  # 4 pushes $100.01 out again
        f"34204,3,3,7,{b03},1",  # 5 $100.01 went away unseen; $100.00 shows
        f"34205,1,4,9,{b990},1",  # 6 an add far outside the window
        f"34206,3,99,100,{b00},1",  # 7 $99.50 enters, never seen before
        f"34207,3,98,20,{b995},1",  # 8 the outside add is reached
    ]
    rows = [
        r((b01, 10)),
        r((b02, 5)),
        r((b01, 10)),
        r((b03, 7)),
        r((b00, 100)),
        r((b00, 100)),
        r((b995, 20)),
        r((b990, 9)),
    ]
    pair = write_pair(tmp_path, messages, rows, 1)
    feed = LobsterFeed(*pair)
    ev = all_events(feed)
    rv = F_REVEAL
    assert ev_tuples(ev) == [
        (K_CLEAR, 0, 0, 0, 0, F_SNAPSHOT),
        (K_SET_LEVEL, -1, *ask, 0, F_SNAPSHOT | F_LAST),
        (K_ADD, 1, b01, 10, 1, F_LAST),
        (K_ADD, 1, b02, 5, 2, F_LAST),
        (K_DELETE, 1, b02, 5, 2, 0),
        (K_SET_LEVEL, 1, b01, 0, 0, rv),
        (K_SET_LEVEL, 1, b01, 10, 0, rv | F_LAST),
        (K_ADD, 1, b03, 7, 3, F_LAST),
        (K_DELETE, 1, b03, 7, 3, 0),
        (K_SET_LEVEL, 1, b00, 100, 0, rv),
        (K_SET_LEVEL, 1, b01, 0, 0, rv | F_LAST),
        (K_ADD, 1, b990, 9, 4, F_LAST),
        (K_DELETE, 1, b00, 100, 99, 0),
        (K_SET_LEVEL, 1, b995, 20, 0, rv | F_LAST),
        (K_DELETE, 1, b995, 20, 98, 0),
        (K_SET_LEVEL, 1, b990, 0, 0, rv),
        (K_SET_LEVEL, 1, b990, 9, 0, rv | F_LAST),
    ]
    rep = feed.report
    assert (rep.reveals, rep.reveal_resets, rep.reveal_clears) == (4, 2, 1)


def test_a_deleted_deepest_level_reveals_the_next_one_on_the_right_side(tmp_path: Path) -> None:
    # both sides have two levels; an ask at level 2 is deleted and a third ask appears
    rows = [
        book_row([(A1, 10), (A2, 20)], [(B1, 30), (B2, 40)], 2),
        book_row([(A1, 10), (A3, 50)], [(B1, 30), (B2, 40)], 2),
    ]
    messages = [f"34200,1,5,3,{B2},1", f"34201,3,6,20,{A2},-1"]
    ev = all_events(LobsterFeed(*write_pair(tmp_path, messages, rows, 2)))
    assert ev_tuples(ev[-2:]) == [
        (K_DELETE, -1, A2, 20, 6, 0),
        (K_SET_LEVEL, -1, A3, 50, 0, F_REVEAL | F_LAST),
    ]
    # the snapshot undid the add of 3 shares at $99.99
    assert (K_SET_LEVEL, 1, B2, 37, 0, F_SNAPSHOT) in ev_tuples(ev)


def test_a_first_message_that_empties_a_level_puts_it_back_in_the_snapshot(tmp_path: Path) -> None:
    rows = [book_row([(A2, 20)], [(B1, 30)], 2)]
    pair = write_pair(tmp_path, [f"34200,3,6,15,{A1},-1"], rows, 2)
    ev = all_events(LobsterFeed(*pair))
    assert ev_tuples(ev) == [
        (K_CLEAR, 0, 0, 0, 0, F_SNAPSHOT),
        (K_SET_LEVEL, 1, B1, 30, 0, F_SNAPSHOT),
        (K_SET_LEVEL, -1, A1, 15, 0, F_SNAPSHOT),
        (K_SET_LEVEL, -1, A2, 20, 0, F_SNAPSHOT | F_LAST),
        (K_DELETE, -1, A1, 15, 6, F_LAST),
    ]


# -- time ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("34200", 34200 * 10**9),
        ("34200.5", 34200 * 10**9 + 500_000_000),
        ("34200.015105074", 34200 * 10**9 + 15_105_074),
        ("34200.0151050740", 34200 * 10**9 + 15_105_074),  # a zero below the nanosecond is fine
        ("57599.999999999", 57599 * 10**9 + 999_999_999),
    ],
)
def test_times_convert_exactly_to_utc_nanoseconds(tmp_path: Path, text: str, ns: int) -> None:
    pair = write_pair(tmp_path, [f"{text},5,0,1,1005000,1"], [book_row([(A1, 1)], [(B1, 1)], 1)], 1)
    ev = all_events(LobsterFeed(*pair))
    assert int(ev["ts_event"][-1]) == MIDNIGHT_NS + ns


def test_time_zone_and_date_come_from_the_arguments(tmp_path: Path) -> None:
    pair = write_pair(tmp_path, ["3600,5,0,1,1005000,1"], [book_row([(A1, 1)], [(B1, 1)], 1)], 1, stem="x")
    ev = all_events(LobsterFeed(*pair, symbol="X", date=dt.date(2020, 1, 15), tz="Europe/London"))
    # London is on UTC in January: 01:00 local = 01:00 UTC
    assert format_ns(int(ev["ts_event"][-1])) == "2020-01-15T01:00:00.000000000Z"


# -- file names and compression ---------------------------------------------------------------


def test_lobster_file_names_are_parsed() -> None:
    n = parse_lobster_filename("/x/GOOG_2012-06-21_34200000_57600000_message_10.csv.gz")
    assert n is not None
    assert (n.symbol, n.date, n.start_ms, n.end_ms, n.kind, n.levels) == (
        "GOOG",
        dt.date(2012, 6, 21),
        34_200_000,
        57_600_000,
        "message",
        10,
    )
    m = parse_lobster_filename("BRK_B_2019-02-28_0_86400000_orderbook_1.csv")
    assert m is not None
    assert (m.symbol, m.kind, m.levels) == ("BRK_B", "orderbook", 1)
    assert parse_lobster_filename("GOOG_message_10.csv") is None
    assert parse_lobster_filename("GOOG_2012-13-40_1_2_message_10.csv") is None


def test_a_name_without_symbol_or_date_needs_them_given(tmp_path: Path) -> None:
    pair = write_pair(tmp_path, ["34200,5,0,1,1005000,1"], [book_row([(A1, 1)], [(B1, 1)], 1)], 1, stem="day")
    with pytest.raises(DataError, match="cannot tell the symbol"):
        LobsterFeed(*pair)
    with pytest.raises(DataError, match="cannot tell the trading date"):
        LobsterFeed(*pair, symbol="X")
    feed = LobsterFeed(*pair, symbol="X", date=dt.date(2012, 6, 21))
    assert feed.instrument.symbol == "X"


def test_compression_is_detected_from_the_content_not_the_name(tmp_path: Path) -> None:
    msgs = [f"34200,1,1,5,{B1},1"]
    rows = [book_row([(A1, 1)], [(B1, 5)], 1)]
    gz_named_csv = write_pair(tmp_path, msgs, rows, 1, gz=True, suffix=".csv")
    (tmp_path / "plain").mkdir()
    plain_named_gz = write_pair(tmp_path / "plain", msgs, rows, 1, gz=False, suffix=".csv.gz")
    a = all_events(LobsterFeed(*gz_named_csv))
    b = all_events(LobsterFeed(*plain_named_gz))
    assert np.array_equal(a, b)
    assert len(a) == 3  # clear, the ask, the add (the bid in row 1 is the add itself)


def test_names_that_disagree_or_levels_that_do_not_fit_are_errors(tmp_path: Path) -> None:
    msgs = ["34200,5,0,1,1005000,1"]
    m, b = write_pair(tmp_path, msgs, [book_row([(A1, 1)], [(B1, 1)], 2)], 2)
    wrong = b.with_name(b.name.replace("_2.csv", "_3.csv"))
    b.rename(wrong)
    with pytest.raises(DataError, match="disagree"):
        LobsterFeed(m, wrong)
    m2 = m.with_name(m.name.replace("_2.csv", "_3.csv"))
    m.rename(m2)
    with pytest.raises(DataError, match="says 3 levels but the orderbook has 2"):
        LobsterFeed(m2, wrong)
    with pytest.raises(DataNotFoundError):
        LobsterFeed(tmp_path / "nope_message_1.csv", wrong)


# -- validation: fail fast, name file, row and value ----------------------------------------------

GOOD_ROW = book_row([(A1, 100)], [(B1, 100)], 1)


@pytest.mark.parametrize(
    ("bad_message", "error", "pattern"),
    [
        ("34199,5,0,1,1005000,1", TimeOrderError, r"row 3: time goes backwards"),
        ("34201,8,0,1,1005000,1", ParseError, r"row 3: unknown message type .*got 8"),
        ("34201,5,0,1,1005000,2", ParseError, r"row 3: direction must be 1 or -1 .*got 2"),
        ("34201,5,0,1,1005000,0", ParseError, r"row 3: direction"),
        ("34201,1,5,0,1000000,1", ParseError, r"row 3: size must be positive .*got 0"),
        ("34201,3,5,-4,1000000,1", ParseError, r"row 3: size must be positive"),
        ("34201,1,5,3,0,1", ParseError, r"row 3: price must be positive"),
        ("34201,7,0,0,5,-1", ParseError, r"row 3: a halt message .*got 5"),
        ("34201,5,0,1,1005000", ParseError, r"row 3: expected 6 columns, got 5"),
        ("34201,5,0,1,1005000,1,9", ParseError, r"row 3: expected 6 columns, got 7"),
        ("34201,5,0,abc,1005000,1", ParseError, r"row 3: column 4 \(size\): not a number .*'abc'"),
        ("34201,5,0,NaN,1005000,1", ParseError, r"row 3: column 4 \(size\).*'NaN'"),
        ("34201,5,0,,1005000,1", ParseError, r"row 3: column 4 \(size\).*''"),
        ("34201,5,0,1.5,1005000,1", ParseError, r"row 3: column 4 \(size\)"),
        ("nan,5,0,1,1005000,1", ParseError, r"row 3: column 1 \(time\)"),
        ("34201.0000000001,5,0,1,1005000,1", ParseError, r"row 3: .*below the nanosecond"),
        ("", ParseError, r"row 3: empty line"),
    ],
)
def test_a_bad_message_row_fails_naming_file_row_and_value(
    tmp_path: Path, bad_message: str, error: type[Exception], pattern: str
) -> None:
    msgs = ["34200,5,0,1,1005000,1", "34200.5,5,0,1,1005000,1", bad_message, "34300,5,0,1,1005000,1"]
    pair = write_pair(tmp_path, msgs, [GOOD_ROW] * 4, 1)
    with pytest.raises(error, match=pattern) as info:
        all_events(LobsterFeed(*pair))
    err = info.value
    assert isinstance(err, DataError)
    assert err.row == 3
    assert err.source is not None
    assert err.source.endswith("_message_1.csv")


@pytest.mark.parametrize(
    ("bad_row", "error", "pattern"),
    [
        (
            book_row([(A1, 100)], [(A1, 100)], 1),
            CrossedBookError,
            r"row 2: crossed .*got \(1010000, 1010000\)",
        ),
        (book_row([(A1, 100)], [(A1 + 100, 100)], 1), CrossedBookError, r"row 2: crossed"),
        (f"{A1},100,{B1}", ParseError, r"row 2: expected 4 columns, got 3"),
        (f"{A1},100,{B1},x", ParseError, r"row 2: column 4 \(bid_size_1\).*'x'"),
        (book_row([(A1, 0)], [(B1, 100)], 1), DataError, r"row 2: ask size at level 1 is not positive"),
        (book_row([(ASK_PAD, 5)], [(B1, 100)], 1), DataError, r"row 2: empty ask level 1 has a size"),
        (book_row([(-5, 5)], [(B1, 100)], 1), DataError, r"row 2: ask price at level 1 is not positive"),
    ],
)
def test_a_bad_orderbook_row_fails_naming_file_row_and_value(
    tmp_path: Path, bad_row: str, error: type[Exception], pattern: str
) -> None:
    msgs = ["34200,5,0,1,1005000,1"] * 3
    pair = write_pair(tmp_path, msgs, [GOOD_ROW, bad_row, GOOD_ROW], 1)
    with pytest.raises(error, match=pattern) as info:
        all_events(LobsterFeed(*pair))
    assert isinstance(info.value, DataError)
    assert str(info.value.source).endswith("_orderbook_1.csv")


def test_levels_out_of_order_or_with_gaps_are_errors(tmp_path: Path) -> None:
    msgs = ["34200,5,0,1,1005000,1"]
    cases = [
        (book_row([(A2, 1), (A1, 1)], [(B1, 1)], 2), "ask prices must increase"),
        (book_row([(A1, 1)], [(B2, 1), (B1, 1)], 2), "bid prices must decrease"),
        (f"{ASK_PAD},0,{B1},1,{A1},1,{BID_PAD},0", "ask level 1 is empty but a deeper level is not"),
    ]
    for i, (row, pattern) in enumerate(cases):
        (tmp_path / str(i)).mkdir()
        pair = write_pair(tmp_path / str(i), msgs, [row], 2)
        with pytest.raises(DataError, match=rf"row 1: {pattern}"):
            all_events(LobsterFeed(*pair))


def test_files_with_different_row_counts_are_an_error(tmp_path: Path) -> None:
    msgs = [f"{34200 + i},5,0,1,1005000,1" for i in range(5)]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    pair = write_pair(tmp_path / "a", msgs, [GOOD_ROW] * 4, 1)
    with pytest.raises(DataError, match="message file has 5 rows but the orderbook file has 4"):
        list(LobsterFeed(*pair).chunks(2))
    pair = write_pair(tmp_path / "b", msgs[:3], [GOOD_ROW] * 7, 1)
    with pytest.raises(DataError, match="row 4: the message file has 3 rows but the orderbook file has 7"):
        list(LobsterFeed(*pair).chunks(2))


def test_empty_files_are_errors(tmp_path: Path) -> None:
    m, b = write_pair(tmp_path, ["34200,5,0,1,1005000,1"], [GOOD_ROW], 1)
    b.write_bytes(b"")
    with pytest.raises(DataError, match="orderbook file is empty"):
        LobsterFeed(m, b)
    b.write_text(GOOD_ROW + "\n")
    m.write_bytes(b"")
    with pytest.raises(DataError, match="message file has 0 rows but the orderbook file has 1"):
        list(LobsterFeed(m, b).batches())


def test_a_coarser_tick_rejects_off_grid_prices_and_converts_the_rest(tmp_path: Path) -> None:
    msgs = [f"34200,1,1,5,{B1},1", "34201,5,0,1,1005050,1"]
    pair = write_pair(tmp_path, msgs, [book_row([(A1, 1)], [(B1, 5)], 1)] * 2, 1)
    with pytest.raises(
        DataError, match=r"row 2: price 1005050 \(\$100\.5050\) is not a multiple of tick_size 0\.01"
    ):
        all_events(LobsterFeed(*pair, tick_size="0.01"))
    first = next(LobsterFeed(*pair, tick_size="0.01").chunks(1)).events
    assert ev_tuples(first)[-1] == (K_ADD, 1, 10000, 5, 1, F_LAST)
    # lots: a lot of 5 shares divides 5 but not 1
    with pytest.raises(DataError, match=r"_message_1\.csv, row 2: size 1 is not a multiple of lot_size 5"):
        all_events(LobsterFeed(*pair, lot_size="5"))


# -- bounded memory -----------------------------------------------------------------------------


def _write_long_pair(folder: Path, n: int) -> tuple[Path, Path]:
    """n rows: an order joins the best bid and leaves again, over and over."""
    folder.mkdir()
    base = book_row([(A1, 100)], [(B1, 100)], 1)
    more = book_row([(A1, 100)], [(B1, 150)], 1)
    msgs = io.StringIO()
    rows = io.StringIO()
    for i in range(n):
        t = f"{34200 + i // 1000}.{i % 1000:03d}"
        if i % 2 == 0:
            msgs.write(f"{t},1,{i},50,{B1},1\n")
            rows.write(more + "\n")
        else:
            msgs.write(f"{t},3,{i - 1},50,{B1},1\n")
            rows.write(base + "\n")
    m = folder / "LONG_2012-06-21_34200000_57600000_message_1.csv"
    b = folder / "LONG_2012-06-21_34200000_57600000_orderbook_1.csv"
    m.write_text(msgs.getvalue())
    b.write_text(rows.getvalue())
    return m, b


def _peak_bytes(pair: tuple[Path, Path]) -> tuple[int, int]:
    feed = LobsterFeed(*pair)
    list(feed.chunks(64))  # compile and warm up outside the measurement
    tracemalloc.start()
    try:
        n = 0
        for batch in feed.batches(batch_size=1_000):
            n += len(batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, n


def test_memory_stays_bounded_when_the_file_is_ten_times_longer(tmp_path: Path) -> None:
    small_peak, small_n = _peak_bytes(_write_long_pair(tmp_path / "small", 4_000))
    large_peak, large_n = _peak_bytes(_write_long_pair(tmp_path / "large", 40_000))
    assert large_n - 3 == 10 * (small_n - 3)  # the same stream ten times over, after a 3-event snapshot
    # whole-file reading would need ~10x; streaming needs the same few chunks
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


# -- the real GOOG day ----------------------------------------------------------------------------


def test_goog_day_report_matches_provenance(lobster_goog: tuple[Path, Path]) -> None:
    feed = LobsterFeed(*lobster_goog)
    assert feed.levels == 10
    assert feed.instrument.symbol == "GOOG"
    ev = all_events(feed)
    rep = feed.report
    assert rep.rows_read == 147_916
    assert dict(rep.message_types) == {1: 71_258, 2: 19, 3: 64_961, 4: 7_765, 5: 3_913}
    assert rep.total_skipped == 0
    for kind, count in (("add", 71_258), ("cancel", 19), ("delete", 64_961), ("execute", 7_765)):
        assert rep.events_emitted[kind] == count
    assert rep.events_emitted["trade"] == 3_913
    assert rep.events_emitted["clear"] == 1
    assert rep.events_emitted["set_level"] == (
        rep.snapshot_levels + rep.reveals + rep.reveal_resets + rep.reveal_clears
    )
    assert rep.snapshot_levels == 20  # both sides always have ten levels
    assert rep.total_emitted == len(ev)
    # one F_LAST per message after the snapshot
    last = (ev["flags"] & F_LAST) != 0
    snap = (ev["flags"] & F_SNAPSHOT) != 0
    assert int((last & ~snap).sum()) == 147_916
    # direction counts (PROVENANCE): the book side for types 1-4, the opposite of the aggressor for 5
    kinds = ev["kind"]
    book_msg = np.isin(kinds, [K_ADD, K_CANCEL, K_DELETE, K_EXECUTE])
    buys = int(((ev["side"] == 1) & book_msg).sum() + ((ev["side"] == -1) & (kinds == K_TRADE)).sum())
    assert buys == 71_735
    # stream order and time
    assert ev["seq"].tolist() == list(range(len(ev)))
    assert (np.diff(ev["ts_event"]) >= 0).all()
    assert format_ns(int(ev["ts_event"][0])) == "2012-06-21T13:30:00.015105074Z"
    assert format_ns(int(ev["ts_event"][-1])) == "2012-06-21T19:59:59.871751084Z"
    # 50 hidden executions at half-cent prices (LOBSTER units are $0.0001)
    trades = ev[kinds == K_TRADE]
    assert int((trades["price"] % 100 != 0).sum()) == 50
    assert ((trades["flags"] & F_HIDDEN) != 0).all()
    assert (trades["order_id"] == 0).all()


def test_goog_with_a_cent_tick_fails_at_the_first_half_cent_print(lobster_goog: tuple[Path, Path]) -> None:
    msg, _ = lobster_goog
    with gzip.open(msg, "rt", newline="") as f:
        first = next(i for i, rec in enumerate(csv.reader(f), 1) if int(rec[4]) % 100)
    with pytest.raises(DataError, match=rf"row {first}: price \d+ .* tick_size 0\.01") as info:
        all_events(LobsterFeed(*lobster_goog, tick_size="0.01"))
    assert info.value.row == first


def test_a_row_that_changes_both_sides_reveals_on_the_side_without_the_message(
    tmp_path: Path,
) -> None:
    # message 2 adds a bid; the same row also shows a second ask level it did not create
    rows = [
        book_row([(A1, 10)], [(B1, 30)], 2),
        book_row([(A1, 10), (A2, 20)], [(B1, 30), (B2, 5)], 2),
    ]
    messages = ["34200,5,0,1,1005000,1", f"34201,1,8,5,{B2},1"]
    ev = all_events(LobsterFeed(*write_pair(tmp_path, messages, rows, 2)))
    assert ev_tuples(ev[-2:]) == [
        (K_ADD, 1, B2, 5, 8, 0),
        (K_SET_LEVEL, -1, A2, 20, 0, F_REVEAL | F_LAST),
    ]


def test_a_reduction_outside_the_window_marks_its_level_as_held(tmp_path: Path) -> None:
    # $99.99 is below the one-level window when 5 shares leave it; it is reset on its return
    rows = [book_row([(A1, 10)], [(B1, 30)], 1)] * 2 + [book_row([(A1, 10)], [(B2, 40)], 1)]
    messages = ["34200,5,0,1,1005000,1", f"34201,3,8,5,{B2},1", f"34202,3,9,30,{B1},1"]
    feed = LobsterFeed(*write_pair(tmp_path, messages, rows, 1))
    ev = all_events(feed)
    assert ev_tuples(ev[-4:]) == [
        (K_DELETE, 1, B2, 5, 8, F_LAST),
        (K_DELETE, 1, B1, 30, 9, 0),
        (K_SET_LEVEL, 1, B2, 0, 0, F_REVEAL),
        (K_SET_LEVEL, 1, B2, 40, 0, F_REVEAL | F_LAST),
    ]
    assert feed.report.reveal_resets == 1


def test_windows_line_ends_read_the_same(all_types_pair: tuple[Path, Path], tmp_path: Path) -> None:
    crlf = []
    for path in all_types_pair:
        out = tmp_path / "crlf" / path.name
        out.parent.mkdir(exist_ok=True)
        out.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
        crlf.append(out)
    assert np.array_equal(all_events(LobsterFeed(*crlf)), all_events(LobsterFeed(*all_types_pair)))
