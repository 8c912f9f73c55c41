"""The L2 (price-level) book: hand cases, window moves, and a randomized dict reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execsim.book.l2 import BBO_DTYPE, L2Book
from execsim.data.schema import (
    EVENT_DTYPE,
    F_LAST,
    K_ADD,
    K_CLEAR,
    K_HALT,
    K_SET_LEVEL,
    K_TRADE,
)
from execsim.model.enums import Side, TradingStatus


def _events(rows: list[tuple[int, int, int, int]], *, last_every: int = 1) -> np.ndarray:
    """Events from (kind, side, price, qty) rows; seq = row index; F_LAST every n rows."""
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for i, (kind, side, price, qty) in enumerate(rows):
        ev[i]["kind"] = kind
        ev[i]["side"] = side
        ev[i]["price"] = price
        ev[i]["qty"] = qty
        ev[i]["seq"] = i
        if (i + 1) % last_every == 0 or i == len(rows) - 1:
            ev[i]["flags"] = F_LAST
    return ev


def _set(side: int, price: int, qty: int) -> tuple[int, int, int, int]:
    return (K_SET_LEVEL, side, price, qty)


class DictBook:
    """The obvious reference: one dict per side, best by max/min over the keys."""

    def __init__(self) -> None:
        self.side: dict[int, dict[int, int]] = {1: {}, -1: {}}

    def apply(self, kind: int, side: int, price: int, qty: int) -> None:
        if kind == K_SET_LEVEL:
            if qty > 0:
                self.side[side][price] = qty
            else:
                self.side[side].pop(price, None)
        elif kind == K_CLEAR:
            for s in (1, -1):
                if side in (0, s):
                    self.side[s].clear()

    def best(self, side: int) -> tuple[int, int] | None:
        levels = self.side[side]
        if not levels:
            return None
        px = max(levels) if side == 1 else min(levels)
        return px, levels[px]

    def top(self, side: int, n: int) -> list[tuple[int, int]]:
        levels = self.side[side]
        prices = sorted(levels, reverse=side == 1)[:n]
        return [(p, levels[p]) for p in prices]


def _top_pairs(book: L2Book, n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    bpx, bq, apx, aq = book.top(n)
    bids = [(int(p), int(q)) for p, q in zip(bpx, bq, strict=True) if q > 0]
    asks = [(int(p), int(q)) for p, q in zip(apx, aq, strict=True) if q > 0]
    return bids, asks


# -- hand cases ---------------------------------------------------------------------------


def test_set_level_builds_the_touch_and_removal_falls_back_to_the_next_level() -> None:
    book = L2Book()
    book.apply(_events([_set(1, 100, 5), _set(1, 98, 3), _set(-1, 103, 7), _set(-1, 105, 1), _set(1, 99, 4)]))
    assert book.best_bid() == (100, 5)
    assert book.best_ask() == (103, 7)
    assert book.qty_at(Side.BUY, 99) == 4
    assert book.qty_at(-1, 105) == 1
    assert book.qty_at(1, 101) == 0
    book.apply(_events([_set(1, 100, 0), _set(-1, 103, 2)]))
    assert book.best_bid() == (99, 4)  # next level down, found by the scan
    assert book.best_ask() == (103, 2)  # absolute quantity, not a delta
    book.apply(_events([_set(1, 99, 0), _set(1, 98, 0)]))
    assert book.best_bid() is None
    assert book.stats["bid_levels"] == 0
    assert book.stats["ask_levels"] == 2


def test_removing_an_absent_level_changes_nothing_and_is_counted() -> None:
    book = L2Book()
    book.apply(_events([_set(1, 100, 5), _set(1, 90, 0), _set(-1, 101, 0)]))
    assert book.best_bid() == (100, 5)
    assert book.best_ask() is None
    assert book.stats["absent_deletes"] == 2


def test_top_pads_missing_levels_with_zero_price_and_qty() -> None:
    book = L2Book()
    book.apply(_events([_set(1, 100, 5), _set(1, 97, 2), _set(-1, 102, 7)]))
    bpx, bq, apx, aq = book.top(4)
    assert bpx.tolist() == [100, 97, 0, 0]
    assert bq.tolist() == [5, 2, 0, 0]
    assert apx.tolist() == [102, 0, 0, 0]
    assert aq.tolist() == [7, 0, 0, 0]
    empty = L2Book().top(2)
    assert [a.tolist() for a in empty] == [[0, 0]] * 4


def test_clear_empties_one_side_or_both() -> None:
    rows = [_set(1, 100, 5), _set(1, 99, 1), _set(-1, 101, 7), _set(-1, 150_000, 2)]
    book = L2Book(window=64)
    book.apply(_events([*rows, (K_CLEAR, 1, 0, 0)]))
    assert book.best_bid() is None
    assert book.best_ask() == (101, 7)
    book.apply(_events([(K_CLEAR, -1, 0, 0)]))
    assert book.best_ask() is None
    assert book.qty_at(-1, 150_000) == 0  # the far (overflow) level went too
    book.apply(_events([*rows, (K_CLEAR, 0, 0, 0), _set(1, 50, 1)]))
    assert book.best_bid() == (50, 1)
    assert book.best_ask() is None
    assert book.stats["clears"] == 3
    assert book.stats["bid_levels"] == 1


def test_trade_and_halt_change_no_level_and_other_kinds_are_ignored() -> None:
    book = L2Book()
    n = book.apply(
        _events(
            [
                _set(1, 100, 5),
                (K_TRADE, -1, 100, 3),
                (K_HALT, 0, 0, TradingStatus.HALTED.code),
                (K_ADD, 1, 100, 9),
            ]
        )
    )
    assert n == 3
    assert book.best_bid() == (100, 5)
    assert book.trading_status is TradingStatus.HALTED
    s = book.stats
    assert (s["trades"], s["halts"], s["ignored_events"]) == (1, 1, 1)


def test_invalid_events_are_rejected_and_listed() -> None:
    book = L2Book()
    applied = book.apply(_events([_set(0, 100, 5), _set(1, 100, -1), (K_CLEAR, 2, 0, 0), _set(1, 100, 5)]))
    assert applied == 1
    assert book.best_bid() == (100, 5)
    assert book.stats["rejected_events"] == 3
    assert book.rejected == [(0, "invalid side"), (1, "negative qty"), (2, "invalid side")]


def test_apply_refuses_arrays_that_are_not_canonical_events() -> None:
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        L2Book().apply(np.zeros(3, np.int64))
    with pytest.raises(ValueError, match="side"):
        L2Book().qty_at(Side.NONE, 100)


def test_replay_bbo_reports_the_touch_after_each_f_last_event() -> None:
    book = L2Book()
    ev = _events(
        [_set(1, 100, 5), _set(-1, 102, 7), _set(1, 101, 1), _set(-1, 102, 0), _set(-1, 104, 3)],
        last_every=2,
    )
    bbo = book.replay_bbo(ev)
    assert bbo.dtype == BBO_DTYPE
    assert bbo["seq"].tolist() == [1, 3, 4]
    assert bbo[0].tolist() == (1, 100, 5, 102, 7)
    assert bbo[1].tolist() == (3, 101, 1, 0, 0)  # ask side empty: price 0, qty 0
    assert bbo[2].tolist() == (4, 101, 1, 104, 3)


def test_crossed_books_at_batch_boundaries_are_counted() -> None:
    book = L2Book()
    book.apply(_events([_set(1, 100, 5), _set(-1, 100, 5), _set(-1, 101, 5), _set(-1, 100, 0)]))
    assert book.stats["crossed_at_last"] == 2  # after events 1 (locked) and 2 (still locked)


# -- the window ---------------------------------------------------------------------------


def test_far_levels_live_in_the_overflow_and_are_never_lost() -> None:
    # A 16-tick window with levels thousands of ticks apart: most sit in the overflow.
    book = L2Book(window=16)
    rows = [_set(1, 10_000 - 7 * i, i + 1) for i in range(200)]
    rows += [_set(-1, 10_001 + 11 * i, i + 1) for i in range(200)]
    book.apply(_events(rows))
    bids, asks = _top_pairs(book, 250)
    assert bids == [(10_000 - 7 * i, i + 1) for i in range(200)]
    assert asks == [(10_001 + 11 * i, i + 1) for i in range(200)]
    s = book.stats
    assert s["overflow_bid_levels"] + s["overflow_ask_levels"] > 300
    assert s["bid_levels"] == s["ask_levels"] == 200


def test_window_recentres_when_the_touch_moves_far_away() -> None:
    book = L2Book(window=64)
    book.apply(_events([_set(1, 1_000, 5), _set(-1, 1_001, 5)]))
    # the market jumps by a million ticks: the old levels stay (in overflow) until removed
    book.apply(_events([_set(1, 1_000_000, 2), _set(-1, 1_000_003, 4)]))
    assert book.best_bid() == (1_000_000, 2)
    assert book.best_ask() == (1_001, 5)  # the old ask is still the lowest ask
    book.apply(_events([_set(-1, 1_001, 0)]))
    assert book.best_ask() == (1_000_003, 4)
    assert book.stats["recentres"] >= 2
    # the new touch is now inside the window: updates near it take the dense path
    before = book.stats["overflow_ops"]
    book.apply(_events([_set(1, 999_999, 1), _set(-1, 1_000_002, 1), _set(1, 1_000_000, 0)]))
    assert book.stats["overflow_ops"] == before
    assert book.best_bid() == (999_999, 1)
    assert book.qty_at(1, 1_000) == 5


def test_window_grows_when_the_spread_is_wider_than_half_of_it() -> None:
    book = L2Book(window=32)
    book.apply(_events([_set(1, 5_000, 1), _set(-1, 5_500, 1)]))
    s = book.stats
    assert s["window_grows"] >= 1
    assert s["window"] >= 1_024
    assert s["overflow_bid_levels"] == s["overflow_ask_levels"] == 0


def test_a_spread_wider_than_the_largest_window_is_served_from_the_overflow() -> None:
    book = L2Book(window=1_024)
    far = 1 << 30
    rows = [_set(1, 10, 1), _set(-1, far, 1)]
    rows += [_set(1, 10 + i, 1) for i in range(1, 50)] + [_set(-1, far - i, 1) for i in range(1, 50)]
    book.apply(_events(rows))
    assert book.best_bid() == (59, 1)
    assert book.best_ask() == (far - 49, 1)
    book.apply(_events([_set(-1, far - 49, 0), _set(1, 59, 0)]))
    assert book.best_bid() == (58, 1)
    assert book.best_ask() == (far - 48, 1)
    assert book.stats["recentres"] <= 2  # no thrashing while the spread cannot fit


def test_bids_just_above_a_window_that_cannot_hold_the_spread_are_found_as_next_best() -> None:
    # a spread of 2**23 ticks cannot fit even the largest window, so the window stays at [0, 16)
    # and the touch is served from the overflow: the edge price 16 must be found as next best
    book = L2Book(window=16)
    book.apply(_events([_set(1, 10, 1), _set(-1, 10 + (1 << 23), 1)]))
    assert (int(book.state[0][0]), book.stats["window"]) == (0, 16)
    book.apply(_events([_set(1, 16, 2), _set(1, 21, 3)]))
    assert book.best_bid() == (21, 3)
    book.apply(_events([_set(1, 21, 0)]))
    assert book.best_bid() == (16, 2)
    book.apply(_events([_set(1, 16, 0)]))
    assert book.best_bid() == (10, 1)
    assert book.stats["window"] == 16


def test_asks_just_below_a_window_that_cannot_hold_the_spread_are_found_as_next_best() -> None:
    book = L2Book(window=16)
    book.apply(_events([_set(-1, 10, 1), _set(1, 10 - (1 << 23), 1)]))
    assert (int(book.state[0][0]), book.stats["window"]) == (0, 16)
    book.apply(_events([_set(-1, -1, 2), _set(-1, -6, 3)]))
    assert book.best_ask() == (-6, 3)
    book.apply(_events([_set(-1, -6, 0)]))
    assert book.best_ask() == (-1, 2)
    book.apply(_events([_set(-1, -1, 0)]))
    assert book.best_ask() == (10, 1)


def test_negative_prices_are_ordinary_ticks() -> None:
    book = L2Book(window=8)
    book.apply(_events([_set(1, -50, 1), _set(1, -60, 2), _set(-1, -45, 3)]))
    assert book.best_bid() == (-50, 1)
    assert book.best_ask() == (-45, 3)
    book.apply(_events([_set(1, -50, 0)]))
    assert book.best_bid() == (-60, 2)


# -- randomized comparison with the dict reference -----------------------------------------


def _random_stream(rng: np.random.Generator, n: int, *, spread_ticks: int) -> list[tuple[int, int, int, int]]:
    rows: list[tuple[int, int, int, int]] = []
    mid = 50_000
    for _ in range(n):
        r = rng.random()
        if r < 0.002:
            rows.append((K_CLEAR, int(rng.integers(-1, 2)), 0, 0))
            continue
        if r < 0.01:
            mid += int(rng.integers(-5 * spread_ticks, 5 * spread_ticks + 1))  # a jump
        elif r < 0.2:
            mid += int(rng.integers(-2, 3))
        side = 1 if rng.random() < 0.5 else -1
        dist = int(rng.geometric(0.2)) if rng.random() < 0.9 else int(rng.integers(1, 50 * spread_ticks))
        price = mid - side * dist
        qty = 0 if rng.random() < 0.35 else int(rng.integers(1, 1_000))
        rows.append(_set(side, price, qty))
    return rows


def _assert_same(book: L2Book, ref: DictBook, depth: int) -> None:
    assert book.best_bid() == ref.best(1)
    assert book.best_ask() == ref.best(-1)
    bids, asks = _top_pairs(book, depth)
    assert bids == ref.top(1, depth)
    assert asks == ref.top(-1, depth)
    assert book.stats["bid_levels"] == len(ref.side[1])
    assert book.stats["ask_levels"] == len(ref.side[-1])


@pytest.mark.parametrize(("window", "seed"), [(8, 1), (64, 2), (1 << 16, 3)])
def test_random_streams_match_a_dict_reference_after_every_batch(window: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = _random_stream(rng, 6_000, spread_ticks=window)
    ev = _events(rows, last_every=7)
    book = L2Book(window=window)
    ref = DictBook()
    # replay in chunks; after each, the whole book must equal the reference
    bbo_rows = []
    for lo in range(0, len(rows), 500):
        chunk = ev[lo : lo + 500]
        bbo_rows.append(book.replay_bbo(chunk))
        for kind, side, price, qty in rows[lo : lo + 500]:
            ref.apply(kind, side, price, qty)
        _assert_same(book, ref, 400)
        for price in rng.integers(49_000, 51_000, 20):
            for side in (1, -1):
                assert book.qty_at(side, int(price)) == ref.side[side].get(int(price), 0)
    # and the BBO after each F_LAST event equals the reference replayed event by event
    bbo = np.concatenate(bbo_rows)
    ref = DictBook()
    expected = []
    for i, row in enumerate(rows):
        ref.apply(*row)
        if ev[i]["flags"] & F_LAST:
            b = ref.best(1) or (0, 0)
            a = ref.best(-1) or (0, 0)
            expected.append((i, b[0], b[1], a[0], a[1]))
    assert bbo.tolist() == expected
    assert book.stats["recentres"] > 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([K_SET_LEVEL] * 12 + [K_CLEAR, K_TRADE]),
            st.sampled_from([1, -1, 0]),
            st.integers(-300, 300),
            st.integers(0, 4),
        ),
        max_size=120,
    ),
    st.sampled_from([1, 2, 4, 32]),
    st.sampled_from([1, 3, 37]),
)
def test_any_sequence_matches_the_dict_reference(
    rows: list[tuple[int, int, int, int]], window: int, spacing: int
) -> None:
    rows = [(k, s if k == K_CLEAR or s != 0 else 1, p * spacing, q) for k, s, p, q in rows]
    book = L2Book(window=window)
    ref = DictBook()
    for row in rows:
        ref.apply(*row)
    if rows:
        book.apply(_events(rows))
    _assert_same(book, ref, 300)
