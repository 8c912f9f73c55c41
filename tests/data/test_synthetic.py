"""The synthetic L2 stream: reproducible, consistent (never crossed) and shaped as asked."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from execsim.data.schema import (
    EVENT_DTYPE,
    F_LAST,
    F_SNAPSHOT,
    F_SYNTHETIC,
    K_CLEAR,
    K_SET_LEVEL,
    K_TRADE,
)
from execsim.data.synthetic import (
    SYNTHETIC_START_NS,
    default_instrument,
    iter_synthetic_l2,
    synthetic_l2_stream,
)


def _replay(events: np.ndarray, n_levels: int) -> tuple[dict[str, int], np.ndarray]:
    """Replay through a plain dict-per-side book, checking every record against the book.

    Returns the books' touches after each message and counts of every inconsistency found.
    """
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    problems: dict[str, int] = {
        "crossed": 0,
        "empty side": 0,
        "removes an absent level": 0,
        "trade off the touch": 0,
        "trade larger than the level": 0,
        "trade not followed by its depth update": 0,
        "level outside the window": 0,
    }
    touches = []
    rows = events.tolist()
    for i, (_te, _tr, _seq, kind, side, price, qty, _oid, flags) in enumerate(rows):
        if kind == K_CLEAR:
            bids.clear()
            asks.clear()
        elif kind == K_SET_LEVEL:
            book = bids if side == 1 else asks
            if qty == 0:
                if price not in book:
                    problems["removes an absent level"] += 1
                book.pop(price, None)
            else:
                book[price] = qty
        elif kind == K_TRADE:
            # a buyer lifts the ask touch, a seller hits the bid touch
            book = asks if side == 1 else bids
            touch = min(book) if side == 1 else max(book)
            if price != touch:
                problems["trade off the touch"] += 1
            if qty > book.get(price, 0):
                problems["trade larger than the level"] += 1
            nxt = rows[i + 1]
            if not (
                nxt[3] == K_SET_LEVEL
                and nxt[4] == -side
                and nxt[5] == price
                and nxt[6] == book.get(price, 0) - qty
            ):
                problems["trade not followed by its depth update"] += 1
        if flags & F_LAST:
            if not bids or not asks:
                problems["empty side"] += 1
                continue
            bb, ba = max(bids), min(asks)
            if bb >= ba:
                problems["crossed"] += 1
            if bb - min(bids) >= n_levels or max(asks) - ba >= n_levels:
                problems["level outside the window"] += 1
            touches.append((bb, ba))
    return problems, np.array(touches)


def test_same_seed_gives_byte_identical_streams() -> None:
    a = synthetic_l2_stream(seed=11, n_events=50_000)
    b = synthetic_l2_stream(seed=11, n_events=50_000)
    assert a.dtype == EVENT_DTYPE
    assert a.tobytes() == b.tobytes()


def test_different_seeds_give_different_streams() -> None:
    a = synthetic_l2_stream(seed=11, n_events=20_000)
    b = synthetic_l2_stream(seed=12, n_events=20_000)
    assert a.tobytes() != b.tobytes()
    # not just the timestamps: the books differ
    assert not np.array_equal(a["price"], b["price"])


def test_a_spawned_seed_sequence_is_accepted_and_reproducible() -> None:
    child_a = np.random.SeedSequence(5).spawn(2)[1]
    child_b = np.random.SeedSequence(5).spawn(2)[1]
    a = synthetic_l2_stream(seed=child_a, n_events=5_000)
    b = synthetic_l2_stream(seed=child_b, n_events=5_000)
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("batch_size", [1, 777, 65_536])
def test_batches_concatenate_to_exactly_the_whole_stream(batch_size: int) -> None:
    n = 30_000 if batch_size > 1 else 3_000
    whole = synthetic_l2_stream(seed=3, n_events=n)
    batches = list(iter_synthetic_l2(seed=3, n_events=n, batch_size=batch_size))
    assert all(len(b) == batch_size for b in batches[:-1])
    assert 1 <= len(batches[-1]) <= batch_size
    assert np.concatenate(batches).tobytes() == whole.tobytes()


def test_replayed_book_never_crosses_and_trades_take_the_touch() -> None:
    events = synthetic_l2_stream(seed=2024, n_events=200_000, n_levels=20)
    problems, _ = _replay(events, n_levels=20)
    assert problems == dict.fromkeys(problems, 0)


def test_small_window_and_high_trade_share_stay_consistent() -> None:
    # few levels and many trades stress the "never empty a side" and sweep paths
    events = synthetic_l2_stream(seed=9, n_events=60_000, n_levels=3, trade_share=0.4)
    problems, _ = _replay(events, n_levels=3)
    assert problems == dict.fromkeys(problems, 0)


def test_mid_price_walks_in_both_directions() -> None:
    events = synthetic_l2_stream(seed=1, n_events=200_000, mid_ticks=100_000)
    _, touches = _replay(events, n_levels=20)
    mid2 = touches[:, 0] + touches[:, 1]  # twice the mid, in ticks
    steps = np.diff(mid2)
    # the mid moves occasionally (not on every message, not never), both ways
    moved = np.count_nonzero(steps) / len(steps)
    assert 0.005 < moved < 0.3
    assert (steps > 0).sum() > 100
    assert (steps < 0).sum() > 100
    assert mid2.max() - mid2.min() >= 10  # it wanders at least a few ticks
    assert touches[0].tolist() == [99_999, 100_001]  # starts centred on mid_ticks


@pytest.mark.parametrize("trade_share", [0.0, 0.05, 0.2])
def test_record_counts_and_trade_share_are_as_requested(trade_share: float) -> None:
    n = 100_000
    events = synthetic_l2_stream(seed=4, n_events=n, trade_share=trade_share, n_levels=10)
    assert len(events) == n
    kinds = events["kind"]
    assert set(np.unique(kinds).tolist()) <= {K_CLEAR, K_SET_LEVEL, K_TRADE}
    share = np.count_nonzero(kinds == K_TRADE) / n
    assert share == pytest.approx(trade_share, rel=0.1, abs=1e-9)
    if trade_share:
        buys = np.count_nonzero(events["side"][kinds == K_TRADE] == 1)
        assert buys / np.count_nonzero(kinds == K_TRADE) == pytest.approx(0.5, abs=0.03)
        trade_ids = events["order_id"][kinds == K_TRADE]
        assert trade_ids.tolist() == list(range(1, len(trade_ids) + 1))


def test_sequence_and_timestamps_are_monotone_within_the_duration() -> None:
    n, dur, lat = 80_000, 600 * 10**9, 150_000
    ev = synthetic_l2_stream(seed=8, n_events=n, duration_ns=dur, latency_ns=lat)
    assert ev["seq"].tolist() == list(range(n))
    assert np.all(np.diff(ev["ts_event"]) >= 0)
    assert np.all(np.diff(ev["ts_recv"]) >= 0)
    assert ev["ts_event"][0] == SYNTHETIC_START_NS
    assert ev["ts_event"][-1] < SYNTHETIC_START_NS + dur
    # the records fill the duration, not just its start
    assert ev["ts_event"][-1] > SYNTHETIC_START_NS + 0.95 * dur
    delay = ev["ts_recv"] - ev["ts_event"]
    assert delay.min() >= lat
    # latency is in [lat, 2 lat) unless ts_recv had to wait for an earlier, later-stamped record
    assert np.mean(delay < 2 * lat) > 0.99


def test_flags_mark_the_snapshot_and_every_message() -> None:
    n_levels = 5
    ev = synthetic_l2_stream(seed=6, n_events=10_000, n_levels=n_levels)
    flags = ev["flags"].astype(np.int64)
    assert np.all(flags & F_SYNTHETIC)
    m = 2 * n_levels + 1
    snap, rest = ev[:m], ev[m:]
    assert snap["kind"][0] == K_CLEAR
    assert snap["side"][0] == 0
    assert np.all(snap["kind"][1:] == K_SET_LEVEL)
    assert np.all(snap["flags"] & F_SNAPSHOT)
    # the snapshot is one message: only its last record closes it
    assert (snap["flags"] & F_LAST).tolist() == [0] * (m - 1) + [F_LAST]
    assert np.all(snap["side"][1 : n_levels + 1] == 1)
    assert np.all(snap["side"][n_levels + 1 :] == -1)
    assert not np.any(rest["flags"] & F_SNAPSHOT)
    assert np.all(rest["flags"] & F_LAST)
    assert np.all(rest["qty"] >= 0)
    assert np.all(rest["price"] > 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_events": 10, "n_levels": 20}, "snapshot size"),
        ({"n_levels": 1}, "n_levels"),
        ({"duration_ns": 0}, "duration_ns"),
        ({"trade_share": 0.9}, "trade_share"),
        ({"mid_ticks": 5}, "mid_ticks"),
        ({"latency_ns": -1}, "latency_ns"),
    ],
)
def test_invalid_arguments_are_rejected_with_a_message(kwargs: dict[str, int | float], message: str) -> None:
    args: dict[str, int | float] = {"n_events": 1_000}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        synthetic_l2_stream(seed=0, **args)  # type: ignore[arg-type]


def test_default_instrument_prices_synthetic_ticks() -> None:
    inst = default_instrument()
    assert (inst.symbol, inst.venue) == ("SYN", "SYNTH")
    assert inst.ticks_to_price(100_000) == Decimal("1000")
    assert inst.lots_to_qty(7) == Decimal("7")
