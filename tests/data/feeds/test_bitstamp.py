"""Bitstamp L3 log: the real capture's counts, and a small hand-written log for every rule and error."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from execsim.core.errors import CrossedBookError, DataNotFoundError, ParseError, TimeOrderError
from execsim.data.feeds.base import FeedHandler
from execsim.data.feeds.bitstamp import (
    SKIP_BEFORE_REST,
    SKIP_BLANK,
    SKIP_NEVER_RESTED,
    SKIP_NOOP_CHANGE,
    SKIP_PRINT_AS_EXECUTE,
    SKIP_SNAPSHOT,
    SKIP_TAKER_FILL,
    SKIP_UNKNOWN_CHANGE,
    BitstampFeed,
)
from execsim.data.schema import (
    EVENT_DTYPE,
    F_LAST,
    F_SNAPSHOT,
    K_ADD,
    K_CANCEL,
    K_DELETE,
    K_EXECUTE,
    K_SET_LEVEL,
    K_TRADE,
)

BTC = 10**8  # lots per BTC (lot 0.00000001)
MS = 1_000_000  # ns per ms
T0 = 1_430_438_400_000  # 2015-05-01T00:00:00Z in ms
REAL = "bitstamp_obanalytics/bitstamp_btcusd_2015-05-01T0000-0230Z.log.gz"


# ---------------------------------------------------------------------------- log builders
def order(ts: int, what: str, oid: int, side: int, price: str, amount: str) -> str:
    payload = {
        "price": price,
        "amount": amount,
        "datetime": str((T0 + ts) // 1000),
        "id": oid,
        "order_type": 0 if side == 1 else 1,
    }
    return f"{T0 + ts} order_{what} {json.dumps(payload)}"


def trade(ts: int, price: float, amount: float, tid: int) -> str:
    return f"{T0 + ts} trade {json.dumps({'price': price, 'amount': amount, 'id': tid})}"


def book(ts: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> str:
    payload = {"bids": [list(b) for b in bids], "asks": [list(a) for a in asks]}
    return f"{T0 + ts} order_book {json.dumps(payload)}"


def write_log(tmp_path: Path, lines: list[str], name: str = "log.txt", gz: bool = False) -> Path:
    path = tmp_path / name
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def run(path: Path, **kw: object) -> tuple[np.ndarray, BitstampFeed]:
    feed = BitstampFeed(path, **kw)  # type: ignore[arg-type]
    batches = list(feed.batches())
    ev = np.concatenate(batches) if batches else np.zeros(0, dtype=EVENT_DTYPE)
    return ev, feed


def rows(ev: np.ndarray) -> list[tuple[int, int, int, int, int]]:
    """(kind, side, price, qty, order_id) of each event: what a book consumes."""
    return [(int(e["kind"]), int(e["side"]), int(e["price"]), int(e["qty"]), int(e["order_id"])) for e in ev]


def accounted(feed: BitstampFeed) -> bool:
    """Every input line became events or a counted skip."""
    return feed.stats["lines emitted as events"] + feed.report.total_skipped == feed.report.rows_read


# ------------------------------------------------------------------------------- real data
@pytest.fixture(scope="module")
def real(shared_data: Path) -> tuple[np.ndarray, BitstampFeed]:
    path = shared_data / REAL
    if not path.is_file():
        pytest.skip(f"Bitstamp capture not found at {path}")
    return run(path)


def test_real_capture_line_counts_match_the_provenance(real: tuple[np.ndarray, BitstampFeed]) -> None:
    _ev, feed = real
    # PROVENANCE.md: 30,279 lines; 13,438 created, 359 changed, 13,445 deleted, 331 trades,
    # 2,706 snapshots; 183 change/delete events on ids never created in-file
    assert feed.report.rows_read == 30_279
    assert feed.stats["lines order_created"] == 13_438
    assert feed.stats["lines order_changed"] == 359
    assert feed.stats["lines order_deleted"] == 13_445
    assert feed.stats["lines trade"] == 331
    assert feed.stats["lines order_book"] == 2_706
    assert feed.stats["events on order ids never created in-file"] == 183
    assert accounted(feed)
    assert isinstance(feed, FeedHandler)


def test_real_capture_every_trade_print_becomes_one_execution(
    real: tuple[np.ndarray, BitstampFeed],
) -> None:
    ev, feed = real
    # PROVENANCE.md: 331 trades, 629.906333 BTC in total (6 decimals shown)
    executed = ev["qty"][ev["kind"] == K_EXECUTE].sum() + ev["qty"][ev["kind"] == K_TRADE].sum()
    assert abs(int(executed) - 629_906_333 * 100) < 100
    inferred = sum(v for k, v in feed.stats.items() if k.startswith("trades: aggressor"))
    assert inferred == 331
    assert feed.report.skipped[SKIP_PRINT_AS_EXECUTE] + (ev["kind"] == K_TRADE).sum() == 331


def test_real_capture_is_time_ordered_and_only_the_first_snapshot_is_emitted(
    real: tuple[np.ndarray, BitstampFeed],
) -> None:
    ev, feed = real
    assert np.all(np.diff(ev["ts_event"]) >= 0)
    assert np.array_equal(ev["seq"], np.arange(len(ev)))
    assert np.array_equal(ev["ts_event"], ev["ts_recv"])
    assert feed.report.skipped[SKIP_SNAPSHOT] == 2_705
    snap = ev[ev["kind"] == K_SET_LEVEL]
    assert len(snap) == 40
    assert np.all(snap["flags"] & F_SNAPSHOT)
    assert (snap["flags"] & F_LAST).sum() == 1


def test_real_capture_rebuilt_book_agrees_with_the_exchange_snapshots(
    real: tuple[np.ndarray, BitstampFeed], shared_data: Path
) -> None:
    l3 = pytest.importorskip("execsim.book.l3")
    ev, _ = real
    snaps = []
    with gzip.open(shared_data / REAL, "rt") as f:
        for line in f:
            ts, etype, payload = line.split(" ", 2)
            if etype == "order_book":
                d = json.loads(payload)
                snaps.append(
                    (int(ts) * MS, round(float(d["bids"][0][0]) * 100), round(float(d["asks"][0][0]) * 100))
                )
    bid_px, _, ask_px, _ = l3.L3Book().replay_top(ev, 1)
    # the top of the book after the last event at or before each snapshot
    at = np.searchsorted(ev["ts_event"], [s[0] for s in snaps], side="right") - 1
    bid_ok = np.mean(bid_px[at, 0] == [s[1] for s in snaps])
    ask_ok = np.mean(ask_px[at, 0] == [s[2] for s in snaps])
    # the snapshot channel lags the order channel a little, so a few disagree
    assert bid_ok > 0.97
    assert ask_ok > 0.97
    # aggressors' ADDs are held back until they have matched: the book is (almost) never crossed
    last = (ev["flags"] & F_LAST) > 0
    both = last & (bid_px[:, 0] > 0) & (ask_px[:, 0] > 0)
    crossed = both & (bid_px[:, 0] >= ask_px[:, 0])
    assert crossed.sum() < 0.001 * both.sum()


# ---------------------------------------------------------------------------- mapping rules
def test_created_order_is_an_add_with_side_ticks_lots_and_local_time(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [order(5, "created", 7, 1, "236.47", "2.00000000"), order(9, "created", 8, -1, "240.00", "0.5")],
    )
    ev, feed = run(log)
    assert rows(ev) == [(K_ADD, 1, 23647, 2 * BTC, 7), (K_ADD, -1, 24000, BTC // 2, 8)]
    assert list(ev["ts_event"]) == [(T0 + 5) * MS, (T0 + 9) * MS]
    assert np.array_equal(ev["ts_recv"], ev["ts_event"])
    assert list(ev["seq"]) == [0, 1]
    assert np.all(ev["flags"] == F_LAST)
    assert feed.instrument.symbol == "BTCUSD"
    assert feed.instrument.venue == "BITSTAMP"
    assert dict(feed.report.events_emitted) == {"add": 2}


def test_deleted_with_a_remainder_is_a_delete_of_the_remainder(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [order(0, "created", 7, 1, "100.00", "2.0"), order(10, "deleted", 7, 1, "100.00", "2.0")],
    )
    ev, _ = run(log)
    assert rows(ev)[1] == (K_DELETE, 1, 10000, 2 * BTC, 7)


def test_resting_order_hit_by_an_arriving_order_is_executed_and_the_taker_never_rests(
    tmp_path: Path,
) -> None:
    log = write_log(
        tmp_path,
        [
            order(0, "created", 1, 1, "100.00", "2.0"),  # resting bid
            order(5000, "created", 2, -1, "99.90", "0.5"),  # a sell through the bid
            order(5010, "changed", 1, 1, "100.00", "1.5"),  # the bid loses 0.5
            order(5012, "deleted", 2, -1, "99.90", "0.0"),  # the seller is filled
            trade(5020, 100.0, 0.5, 900),
        ],
    )
    ev, feed = run(log)
    assert rows(ev) == [(K_ADD, 1, 10000, 2 * BTC, 1), (K_EXECUTE, 1, 10000, BTC // 2, 1)]
    assert feed.report.skipped[SKIP_PRINT_AS_EXECUTE] == 1
    assert feed.report.skipped[SKIP_TAKER_FILL] == 1
    assert feed.report.skipped[SKIP_NEVER_RESTED] == 1
    assert feed.stats["trades: aggressor inferred (maker and taker)"] == 1
    assert feed.stats["executions inferred from trade prints"] == 1
    assert accounted(feed)


def test_taker_that_partly_fills_rests_after_its_fill_with_the_remainder(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [
            order(0, "created", 1, -1, "100.00", "0.3"),  # resting ask
            order(5000, "created", 2, 1, "100.05", "1.0"),  # a buy through the ask
            order(5008, "deleted", 1, -1, "100.00", "0.0"),  # ask filled
            order(5009, "changed", 2, 1, "100.05", "0.7"),  # buyer keeps 0.7
            trade(5011, 100.0, 0.3, 901),
            order(9000, "deleted", 2, 1, "100.05", "0.7"),  # later cancelled
        ],
    )
    ev, feed = run(log)
    assert rows(ev) == [
        (K_ADD, -1, 10000, 3 * BTC // 10, 1),
        (K_EXECUTE, -1, 10000, 3 * BTC // 10, 1),
        (K_ADD, 1, 10005, 7 * BTC // 10, 2),  # after the fill, never crossing the ask
        (K_DELETE, 1, 10005, 7 * BTC // 10, 2),
    ]
    # the held-back ADD is stamped at the last line of its trade (the print)
    assert ev["ts_event"][2] == (T0 + 5011) * MS
    assert feed.stats["aggressor ADDs with the post-fill amount"] == 1
    assert accounted(feed)


def test_maker_is_the_order_that_arrived_first_when_both_sit_at_the_trade_price(
    tmp_path: Path,
) -> None:
    log = write_log(
        tmp_path,
        [
            order(0, "created", 50, -1, "100.00", "0.2"),  # resting ask
            order(4000, "created", 51, 1, "100.00", "1.0"),  # bid at the same price arrives
            order(4001, "changed", 51, 1, "100.00", "0.8"),
            order(4002, "deleted", 50, -1, "100.00", "0.0"),
            trade(4003, 100.0, 0.2, 5),
        ],
    )
    ev, feed = run(log)
    assert (K_EXECUTE, -1, 10000, BTC // 5, 50) in rows(ev)
    assert rows(ev)[-1] == (K_ADD, 1, 10000, 4 * BTC // 5, 51)
    assert feed.stats["trades: aggressor inferred (maker and taker)"] == 1


def test_trade_print_with_no_order_events_is_a_trade_of_unknown_side(tmp_path: Path) -> None:
    ev, feed = run(write_log(tmp_path, [trade(0, 236.47, 0.21144331, 8111041)]))
    assert rows(ev) == [(K_TRADE, 0, 23647, 21_144_331, 8111041)]
    assert feed.stats["trades: aggressor unknown"] == 1


def test_trade_matched_only_to_a_taker_is_a_trade_with_the_taker_side(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [
            order(0, "created", 3, 1, "101.00", "1.0"),  # buy through a book we never saw
            order(6, "changed", 3, 1, "101.00", "0.6"),
            trade(8, 100.5, 0.4, 77),
        ],
    )
    ev, feed = run(log)
    assert rows(ev) == [(K_TRADE, 1, 10050, 4 * BTC // 10, 77), (K_ADD, 1, 10100, 6 * BTC // 10, 3)]
    assert feed.stats["trades: aggressor inferred (taker only)"] == 1


def test_float_noise_in_trade_prints_is_rounded_to_the_grid(tmp_path: Path) -> None:
    ev, _ = run(write_log(tmp_path, [trade(0, 234.56999999999999, 1.7885566900000001, 1)]))
    assert rows(ev) == [(K_TRADE, 0, 23457, 178_855_669, 1)]


def test_orders_never_created_in_file_are_emitted_for_the_anonymous_book(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [
            order(0, "deleted", 90, -1, "105.00", "3.0"),  # cancelled, rested before capture
            order(10, "deleted", 91, 1, "99.00", "0.0"),  # filled, size unknown
            trade(12, 99.0, 0.25, 1),
            order(20, "changed", 92, 1, "98.00", "1.0"),  # unknown reduction
            order(30, "deleted", 92, 1, "98.00", "1.0"),  # now the size is known
        ],
    )
    ev, feed = run(log)
    assert rows(ev) == [
        (K_DELETE, -1, 10500, 3 * BTC, 90),
        (K_EXECUTE, 1, 9900, BTC // 4, 91),
        (K_DELETE, 1, 9800, BTC, 92),
    ]
    assert feed.report.skipped[SKIP_UNKNOWN_CHANGE] == 1
    assert feed.stats["order ids never created in-file"] == 3
    assert feed.stats["events on order ids never created in-file"] == 4
    assert accounted(feed)


def test_reduction_without_a_trade_print_is_a_cancel(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [order(0, "created", 4, -1, "100.00", "2.0"), order(9000, "changed", 4, -1, "100.00", "1.25")],
    )
    ev, feed = run(log)
    assert rows(ev)[1] == (K_CANCEL, -1, 10000, 3 * BTC // 4, 4)
    assert feed.stats["reductions without a trade print (CANCEL)"] == 1


def test_fill_to_zero_without_a_trade_print_is_still_an_execution(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [order(0, "created", 4, -1, "100.00", "2.0"), order(9000, "deleted", 4, -1, "100.00", "0")],
    )
    ev, feed = run(log)
    assert rows(ev)[1] == (K_EXECUTE, -1, 10000, 2 * BTC, 4)
    assert feed.stats["fills to 0 without a matched trade print (EXECUTE)"] == 1


def test_trade_outside_the_match_window_is_not_paired(tmp_path: Path) -> None:
    lines = [
        order(0, "created", 4, -1, "100.00", "2.0"),
        order(1000, "changed", 4, -1, "100.00", "1.5"),
        trade(4000, 100.0, 0.5, 3),  # 3 s after the reduction
    ]
    ev, _ = run(write_log(tmp_path, lines), match_window_ms=1000)
    assert [r[0] for r in rows(ev)] == [K_ADD, K_CANCEL, K_TRADE]
    ev, _ = run(write_log(tmp_path, lines), match_window_ms=5000)
    assert [r[0] for r in rows(ev)] == [K_ADD, K_EXECUTE]


def test_amount_increase_is_delete_plus_add_and_loses_priority(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [order(0, "created", 4, 1, "100.00", "1.0"), order(10, "changed", 4, 1, "100.00", "1.5")],
    )
    ev, feed = run(log)
    assert rows(ev)[1:] == [(K_DELETE, 1, 10000, BTC, 4), (K_ADD, 1, 10000, 3 * BTC // 2, 4)]
    assert list(ev["flags"][1:]) == [0, F_LAST]  # one venue message: consistent after the ADD
    assert feed.stats["amount increases (DELETE + ADD)"] == 1


def test_price_change_is_delete_at_the_old_price_plus_add_at_the_new(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [order(0, "created", 4, 1, "100.00", "1.0"), order(10, "changed", 4, 1, "100.10", "0.999")],
    )
    ev, feed = run(log)
    assert rows(ev)[1:] == [(K_DELETE, 1, 10000, BTC, 4), (K_ADD, 1, 10010, 99_900_000, 4)]
    assert feed.stats["price changes (DELETE + ADD)"] == 1


def test_aggressor_that_walks_the_book_rests_between_its_steps(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [
            order(0, "created", 1, 1, "100.00", "1.0"),
            order(1, "created", 2, 1, "99.90", "1.0"),
            order(5000, "created", 9, -1, "100.00", "3.0"),  # sells into the bid at 100.00
            order(5010, "deleted", 1, 1, "100.00", "0"),
            order(5011, "changed", 9, -1, "100.00", "2.0"),
            trade(5012, 100.0, 1.0, 1),
            order(5020, "changed", 9, -1, "99.90", "2.0"),  # walks down to the next bid
            order(5030, "deleted", 2, 1, "99.90", "0"),
            order(5031, "changed", 9, -1, "99.90", "1.0"),
            trade(5032, 99.9, 1.0, 2),
        ],
    )
    ev, feed = run(log)
    assert rows(ev) == [
        (K_ADD, 1, 10000, BTC, 1),
        (K_ADD, 1, 9990, BTC, 2),
        (K_EXECUTE, 1, 10000, BTC, 1),
        (K_ADD, -1, 10000, 2 * BTC, 9),  # rests after its first fill (not crossing 99.90)
        (K_DELETE, -1, 10000, 2 * BTC, 9),  # re-priced through the next bid
        (K_EXECUTE, 1, 9990, BTC, 2),
        (K_ADD, -1, 9990, BTC, 9),  # rests again, after its second fill
    ]
    assert feed.report.skipped[SKIP_TAKER_FILL] == 2
    assert accounted(feed)


def test_aggressor_repriced_before_its_trade_group_ends_gets_one_add(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [
            order(0, "created", 1, 1, "100.00", "1.0"),
            order(1, "created", 2, 1, "99.90", "1.0"),
            order(5000, "created", 9, -1, "100.00", "3.0"),
            order(5010, "deleted", 1, 1, "100.00", "0"),
            order(5011, "changed", 9, -1, "100.00", "2.0"),
            order(5012, "changed", 9, -1, "99.90", "2.0"),  # re-priced before the first print
            trade(5013, 100.0, 1.0, 1),
            order(5030, "deleted", 2, 1, "99.90", "0"),
            order(5031, "changed", 9, -1, "99.90", "1.0"),
            trade(5032, 99.9, 1.0, 2),
        ],
    )
    ev, feed = run(log)
    assert rows(ev) == [
        (K_ADD, 1, 10000, BTC, 1),
        (K_ADD, 1, 9990, BTC, 2),
        (K_EXECUTE, 1, 10000, BTC, 1),
        (K_EXECUTE, 1, 9990, BTC, 2),
        (K_ADD, -1, 9990, BTC, 9),  # one ADD, where and with what it ended
    ]
    assert feed.report.skipped[SKIP_BEFORE_REST] == 1  # the re-price folded into the ADD
    assert accounted(feed)


def test_second_create_of_a_live_id_replaces_the_order(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [order(0, "created", 4, 1, "100.00", "1.0"), order(10, "created", 4, 1, "100.20", "2.0")],
    )
    ev, feed = run(log)
    assert rows(ev)[1:] == [(K_DELETE, 1, 10000, BTC, 4), (K_ADD, 1, 10020, 2 * BTC, 4)]
    assert feed.stats["order_created for a live id (DELETE + ADD)"] == 1


def test_change_that_changes_nothing_is_skipped_and_counted(tmp_path: Path) -> None:
    log = write_log(
        tmp_path,
        [order(0, "created", 4, 1, "100.00", "1.0"), order(10, "changed", 4, 1, "100.00", "1.0")],
    )
    ev, feed = run(log)
    assert len(ev) == 1
    assert feed.report.skipped[SKIP_NOOP_CHANGE] == 1


def test_blank_lines_are_counted(tmp_path: Path) -> None:
    ev, feed = run(write_log(tmp_path, [trade(0, 1.0, 1.0, 1), "", trade(1, 1.0, 1.0, 2)]))
    assert len(ev) == 2
    assert feed.report.skipped[SKIP_BLANK] == 1
    assert feed.report.rows_read == 3


# ------------------------------------------------------------------------------- snapshots
SNAP_LINES = [
    book(0, [("100.00", "1.0"), ("99.00", "2.0")], [("101.00", "1.5"), ("102.00", "3.0")]),
    book(3300, [("100.00", "1.0"), ("98.50", "0.5")], [("101.00", "1.5"), ("101.50", "3.0")]),
]


def test_first_snapshot_anchors_the_book_and_the_rest_are_counted(tmp_path: Path) -> None:
    ev, feed = run(write_log(tmp_path, SNAP_LINES))
    assert rows(ev) == [
        (K_SET_LEVEL, 1, 10000, BTC, 0),
        (K_SET_LEVEL, 1, 9900, 2 * BTC, 0),
        (K_SET_LEVEL, -1, 10100, 3 * BTC // 2, 0),
        (K_SET_LEVEL, -1, 10200, 3 * BTC, 0),
    ]
    assert np.all(ev["flags"] & F_SNAPSHOT)
    assert list(ev["flags"] & F_LAST) == [0, 0, 0, F_LAST]
    assert feed.report.skipped[SKIP_SNAPSHOT] == 1


def test_snapshots_none_and_all(tmp_path: Path) -> None:
    ev, feed = run(write_log(tmp_path, SNAP_LINES), snapshots="none")
    assert len(ev) == 0
    assert feed.report.skipped[SKIP_SNAPSHOT] == 2
    ev, feed = run(write_log(tmp_path, SNAP_LINES), snapshots="all")
    second = rows(ev[ev["ts_event"] == (T0 + 3300) * MS])
    # 99.00 vanished inside the second snapshot's bid range: it is set to 0; 102.00 lies
    # beyond the new ask range (it may just have left the top 20), so it is left alone
    assert sorted(second) == sorted(
        [
            (K_SET_LEVEL, 1, 10000, BTC, 0),
            (K_SET_LEVEL, 1, 9850, BTC // 2, 0),
            (K_SET_LEVEL, 1, 9900, 0, 0),
            (K_SET_LEVEL, -1, 10100, 3 * BTC // 2, 0),
            (K_SET_LEVEL, -1, 10150, 3 * BTC, 0),
        ]
    )
    assert feed.stats["order_book snapshots emitted"] == 2


def test_crossed_snapshot_is_an_error(tmp_path: Path) -> None:
    log = write_log(tmp_path, ["", book(0, [("101.00", "1")], [("100.00", "1")])])
    with pytest.raises(CrossedBookError, match=r"row 2.*crossed"):
        run(log)


# ------------------------------------------------------------------------ files and batches
def test_gzip_is_detected_by_its_magic_bytes_not_its_name(tmp_path: Path) -> None:
    lines = [order(0, "created", 7, 1, "100.00", "1.0"), trade(5, 100.0, 0.1, 1)]
    plain, _ = run(write_log(tmp_path, lines, "plain.log"))
    packed, _ = run(write_log(tmp_path, lines, "packed.log", gz=True))
    assert np.array_equal(plain, packed)


def test_batch_size_does_not_change_the_stream(tmp_path: Path) -> None:
    lines = [order(i * 10, "created", i, 1, f"{100 + i}.00", "1.0") for i in range(1, 30)]
    lines += [order(1000 + i, "deleted", i, 1, f"{100 + i}.00", "1.0") for i in range(1, 30)]
    path = write_log(tmp_path, lines)
    whole, _ = run(path)
    feed = BitstampFeed(path)
    parts = list(feed.batches(batch_size=7))
    assert all(len(p) <= 7 for p in parts)
    assert np.array_equal(np.concatenate(parts), whole)


def test_missing_file_and_bad_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError):
        BitstampFeed(tmp_path / "nope.log")
    path = write_log(tmp_path, [trade(0, 1.0, 1.0, 1)])
    with pytest.raises(ValueError, match="snapshots"):
        BitstampFeed(path, snapshots="some")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("bad", "error", "pattern"),
    [
        (f'{T0 - 5} trade {{"price": 1.0, "amount": 1.0, "id": 9}}', TimeOrderError, "backwards"),
        (f'{T0 + 9} trade {{"price": 1.0, "amount": }}', ParseError, "bad JSON"),
        (f"{T0 + 9} order_modified {{}}", ParseError, "unknown event type"),
        (f'{T0 + 9} trade {{"price": NaN, "amount": 1.0, "id": 9}}', ParseError, "NaN"),
        (order(9, "created", 3, 1, "NaN", "1.0"), ParseError, "price"),
        (order(9, "created", 3, 1, "abc", "1.0"), ParseError, "price"),
        (order(9, "created", 3, 1, "100.001", "1.0"), ParseError, "tick_size"),
        (order(9, "created", 3, 1, "100.00", "-1.0"), ParseError, "negative"),
        (order(9, "created", 3, 1, "100.00", "0"), ParseError, "amount 0"),
        (f'{T0 + 9} order_created {{"price": "1.00", "amount": "1", "id": 3}}', ParseError, "order_type"),
        (
            f'{T0 + 9} order_created {{"price": "1.00", "amount": "1", "id": 3, "order_type": 2}}',
            ParseError,
            "order_type",
        ),
        (f"{T0 + 9} trade", ParseError, "expected"),
        (f"x{T0} trade {{}}", ParseError, "timestamp"),
        (f"{T0 + 9:_} trade {{}}", ParseError, "timestamp"),
    ],
)
def test_bad_line_names_file_row_and_value(
    tmp_path: Path, bad: str, error: type[Exception], pattern: str
) -> None:
    path = write_log(tmp_path, [trade(0, 100.0, 1.0, 1), bad])
    with pytest.raises(error, match=pattern) as info:
        run(path)
    text = str(info.value)
    assert str(path) in text
    assert "row 2" in text
    assert getattr(info.value, "row", None) == 2
