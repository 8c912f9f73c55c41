"""L3 book: FIFO queues, anonymous quantity, SET_LEVEL reveals, growth, and a reference model."""

from __future__ import annotations

import numpy as np
import pytest

from execsim.book.l3 import L3Book
from execsim.core.errors import BookError
from execsim.data.schema import (
    EVENT_DTYPE,
    K_ADD,
    K_CANCEL,
    K_CLEAR,
    K_DELETE,
    K_EXECUTE,
    K_HALT,
    K_SET_LEVEL,
    K_TRADE,
    empty_events,
)
from execsim.model.enums import Side, TradingStatus

BUY, SELL = 1, -1


def events(*rows: tuple[int, int, int, int, int]) -> np.ndarray:
    """Events from (kind, side, price, qty, order_id) tuples; seq = row index."""
    out = empty_events(len(rows))
    for i, (k, s, p, q, o) in enumerate(rows):
        out[i] = (1000 + i, 1000 + i, i, k, s, p, q, o, 0)
    return out


def add(s: int, p: int, q: int, o: int) -> tuple[int, int, int, int, int]:
    return (K_ADD, s, p, q, o)


def book_with(*rows: tuple[int, int, int, int, int], capacity: int = 64) -> L3Book:
    b = L3Book(capacity=capacity)
    b.apply(events(*rows))
    return b


def queue(b: L3Book, side: Side, price: int) -> tuple[tuple[int, int], ...]:
    lv = b.level(side, price)
    assert lv is not None
    return lv.orders


# ----------------------------------------------------------------------------- FIFO basics
def test_orders_at_one_price_queue_in_arrival_order() -> None:
    b = book_with(add(BUY, 100, 10, 1), add(BUY, 100, 5, 2), add(BUY, 100, 7, 3))
    assert queue(b, Side.BUY, 100) == ((1, 10), (2, 5), (3, 7))
    assert b.best_bid() == (100, 22)
    o3 = b.order(3)
    assert o3 is not None
    assert (o3.qty_ahead, o3.orders_ahead) == (15, 2)
    o1 = b.order(1)
    assert o1 is not None
    assert (o1.qty_ahead, o1.orders_ahead) == (0, 0)
    assert len(b) == 3


def test_partial_cancel_keeps_the_order_in_place() -> None:
    b = book_with(add(SELL, 200, 10, 1), add(SELL, 200, 5, 2), (K_CANCEL, SELL, 200, 4, 1))
    assert queue(b, Side.SELL, 200) == ((1, 6), (2, 5))
    assert b.best_ask() == (200, 11)
    o2 = b.order(2)
    assert o2 is not None
    assert o2.qty_ahead == 6


def test_execution_removes_the_order_when_it_reaches_zero() -> None:
    b = book_with(
        add(SELL, 200, 10, 1),
        add(SELL, 200, 5, 2),
        (K_EXECUTE, SELL, 200, 4, 1),
        (K_EXECUTE, SELL, 200, 6, 1),
    )
    assert queue(b, Side.SELL, 200) == ((2, 5),)
    assert b.order(1) is None
    assert b.stats["executed_qty"] == 10
    assert b.stats["executes"] == 2


def test_delete_removes_an_order_from_the_middle_of_the_queue() -> None:
    b = book_with(add(BUY, 100, 1, 1), add(BUY, 100, 2, 2), add(BUY, 100, 3, 3), (K_DELETE, BUY, 100, 2, 2))
    assert queue(b, Side.BUY, 100) == ((1, 1), (3, 3))
    b.apply(events((K_DELETE, BUY, 100, 1, 1), (K_DELETE, BUY, 100, 3, 3)))
    assert b.level(Side.BUY, 100) is None
    assert b.best_bid() is None
    assert len(b) == 0


def test_trade_and_halt_do_not_change_the_book() -> None:
    b = book_with(add(BUY, 100, 10, 1), add(SELL, 101, 10, 2))
    before = b.top(2)
    b.apply(events((K_TRADE, BUY, 101, 3, 77), (K_HALT, 0, 0, TradingStatus.HALTED.code, 0)))
    after = b.top(2)
    for x, y in zip(before, after, strict=True):
        np.testing.assert_array_equal(x, y)
    assert b.trading_status is TradingStatus.HALTED
    assert b.stats["traded_qty"] == 3
    assert b.stats["halts"] == 1


def test_price_levels_are_sorted_best_first_on_both_sides() -> None:
    b = book_with(
        add(BUY, 98, 1, 1),
        add(BUY, 100, 2, 2),
        add(BUY, 99, 3, 3),
        add(SELL, 103, 4, 4),
        add(SELL, 101, 5, 5),
        add(SELL, 102, 6, 6),
    )
    bp, bq, ap, aq = b.top(3)
    assert bp.tolist() == [100, 99, 98]
    assert bq.tolist() == [2, 3, 1]
    assert ap.tolist() == [101, 102, 103]
    assert aq.tolist() == [5, 6, 4]


def test_top_pads_missing_levels_with_zero_price_and_quantity() -> None:
    b = book_with(add(BUY, 100, 2, 1), add(SELL, 101, 5, 2), add(SELL, 105, 1, 3))
    bp, bq, ap, aq = b.top(4)
    assert bp.tolist() == [100, 0, 0, 0]
    assert bq.tolist() == [2, 0, 0, 0]
    assert ap.tolist() == [101, 105, 0, 0]
    assert aq.tolist() == [5, 1, 0, 0]


def test_replay_top_records_the_book_after_every_event() -> None:
    b = L3Book(capacity=8)
    ev = events(
        add(BUY, 100, 2, 1),
        add(BUY, 101, 3, 2),
        add(SELL, 103, 4, 3),
        (K_EXECUTE, BUY, 101, 3, 2),
        (K_TRADE, SELL, 100, 1, 0),
    )
    bp, bq, ap, aq = b.replay_top(ev, 2)
    assert bp.shape == (5, 2)
    assert bp.tolist() == [[100, 0], [101, 100], [101, 100], [100, 0], [100, 0]]
    assert bq.tolist() == [[2, 0], [3, 2], [3, 2], [2, 0], [2, 0]]
    assert ap.tolist() == [[0, 0], [0, 0], [103, 0], [103, 0], [103, 0]]
    assert aq.tolist() == [[0, 0], [0, 0], [4, 0], [4, 0], [4, 0]]


# ----------------------------------------------------------------------------- anonymous quantity
def test_set_level_on_an_empty_price_creates_anonymous_quantity() -> None:
    b = book_with((K_SET_LEVEL, BUY, 100, 50, 0))
    lv = b.level(Side.BUY, 100)
    assert lv is not None
    assert (lv.qty, lv.anonymous_qty, lv.orders) == (50, 50, ())
    assert len(b) == 0


def test_anonymous_quantity_is_ahead_of_every_known_order() -> None:
    b = book_with((K_SET_LEVEL, BUY, 100, 50, 0), add(BUY, 100, 10, 1), add(BUY, 100, 5, 2))
    o2 = b.order(2)
    assert o2 is not None
    assert (o2.qty_ahead, o2.orders_ahead) == (60, 1)
    assert b.best_bid() == (100, 65)


def test_delete_of_an_unknown_order_reduces_the_anonymous_quantity() -> None:
    b = book_with(
        (K_SET_LEVEL, SELL, 300, 40, 0),
        add(SELL, 300, 10, 1),
        (K_DELETE, SELL, 300, 15, 999),
        (K_EXECUTE, SELL, 300, 5, 998),
        (K_CANCEL, SELL, 300, 1, 997),
    )
    lv = b.level(Side.SELL, 300)
    assert lv is not None
    assert (lv.qty, lv.anonymous_qty, lv.orders) == (29, 19, ((1, 10),))
    assert b.stats["unknown_order_events"] == 3
    assert b.stats["inconsistent_reductions"] == 0
    assert b.stats["executed_qty"] == 5


def test_unknown_order_reduction_larger_than_anonymous_quantity_clamps_and_is_counted() -> None:
    b = book_with((K_SET_LEVEL, SELL, 300, 4, 0), add(SELL, 300, 10, 1))
    b.apply(events((K_DELETE, SELL, 300, 6, 999)))
    lv = b.level(Side.SELL, 300)
    assert lv is not None
    # the known order is untouched: only the anonymous part is reduced, and not below zero
    assert (lv.qty, lv.anonymous_qty, lv.orders) == (10, 0, ((1, 10),))
    assert b.stats["inconsistent_reductions"] == 1
    # an unknown order at a price with no level at all
    b.apply(events((K_EXECUTE, BUY, 50, 3, 12345)))
    assert b.stats["unknown_order_events"] == 2
    assert b.stats["inconsistent_reductions"] == 2
    assert b.best_bid() is None


def test_anonymous_level_disappears_when_its_quantity_is_used_up() -> None:
    b = book_with((K_SET_LEVEL, BUY, 100, 5, 0), (K_SET_LEVEL, BUY, 99, 5, 0))
    b.apply(events((K_DELETE, BUY, 100, 5, 7)))
    assert b.level(Side.BUY, 100) is None
    assert b.best_bid() == (99, 5)


def test_set_level_counts_known_orders_towards_the_level_total() -> None:
    b = book_with(add(BUY, 100, 10, 1), add(BUY, 100, 5, 2), (K_SET_LEVEL, BUY, 100, 40, 0))
    lv = b.level(Side.BUY, 100)
    assert lv is not None
    assert (lv.qty, lv.anonymous_qty) == (40, 25)
    assert b.stats["reveal_trims"] == 0


def test_set_level_below_the_known_orders_trims_the_newest_first() -> None:
    b = book_with(
        add(BUY, 100, 10, 1),
        add(BUY, 100, 5, 2),
        add(BUY, 100, 4, 3),
        (K_SET_LEVEL, BUY, 100, 12, 0),
    )
    lv = b.level(Side.BUY, 100)
    assert lv is not None
    # 19 known, 12 allowed: order 3 (4) goes, order 2 loses 3 of 5
    assert lv.orders == ((1, 10), (2, 2))
    assert (lv.qty, lv.anonymous_qty) == (12, 0)
    assert b.order(3) is None
    assert b.stats["reveal_trims"] == 2
    assert len(b) == 2


def test_set_level_to_zero_removes_the_level_and_its_orders() -> None:
    b = book_with(add(SELL, 100, 10, 1), (K_SET_LEVEL, SELL, 100, 0, 0), (K_SET_LEVEL, SELL, 90, 0, 0))
    assert b.best_ask() is None
    assert b.order(1) is None
    assert len(b) == 0
    assert b.stats["reveal_trims"] == 1


# ----------------------------------------------------------------------------- clear, rejects
def test_clear_one_side_keeps_the_other() -> None:
    b = book_with(add(BUY, 100, 1, 1), add(BUY, 99, 1, 2), add(SELL, 101, 1, 3), (K_CLEAR, BUY, 0, 0, 0))
    assert b.best_bid() is None
    assert b.best_ask() == (101, 1)
    assert b.order(1) is None
    assert len(b) == 1
    # the freed ids can be used again
    b.apply(events(add(BUY, 100, 2, 1), (K_CLEAR, 0, 0, 0, 0)))
    assert b.best_bid() is None
    assert b.best_ask() is None
    assert len(b) == 0


def test_invalid_events_are_counted_and_listed_not_raised() -> None:
    b = book_with(
        add(BUY, 100, 10, 1),
        add(BUY, 101, 10, 1),  # duplicate id
        add(BUY, 100, 0, 2),  # qty 0
        add(0, 100, 5, 3),  # no side
        (K_CANCEL, BUY, 100, -1, 1),  # negative cancel
        (42, BUY, 100, 1, 1),  # unknown kind
    )
    assert b.stats["rejected_events"] == 5
    assert [s for s, _ in b.rejected] == [1, 2, 3, 4, 5]
    assert b.rejected[0][1] == "duplicate order id"
    assert queue(b, Side.BUY, 100) == ((1, 10),)
    assert b.level(Side.BUY, 101) is None


def test_apply_rejects_arrays_of_the_wrong_dtype() -> None:
    b = L3Book()
    with pytest.raises(BookError, match="EVENT_DTYPE"):
        b.apply(np.zeros(3, dtype=np.int64))


# ----------------------------------------------------------------------------- growth, wide prices
def test_capacity_grows_past_the_initial_allocation() -> None:
    n = 5000
    b = L3Book(capacity=4)
    ev = empty_events(n)
    ev["kind"] = K_ADD
    ev["side"] = np.where(np.arange(n) % 2 == 0, BUY, SELL)
    half = np.arange(n) // 2
    ev["price"] = np.where(ev["side"] == BUY, 1000 - half % 700, 2000 + half % 900)
    ev["qty"] = 1 + np.arange(n) % 7
    ev["order_id"] = 10**12 + np.arange(n) * 7919
    ev["seq"] = np.arange(n)
    b.apply(ev)
    assert len(b) == n
    assert b.capacity >= n
    assert b.n_levels(Side.BUY) == 700
    assert b.n_levels(Side.SELL) == 900
    # every order is still findable after the rehashes
    for i in (0, 1, 777, n - 1):
        o = b.order(int(ev["order_id"][i]))
        assert o is not None
        assert (o.price, o.qty) == (int(ev["price"][i]), int(ev["qty"][i]))
    # delete all, in a different order, and the book is empty again
    dele = ev[::-1].copy()
    dele["kind"] = K_DELETE
    b.apply(dele)
    assert len(b) == 0
    assert b.best_bid() is None
    assert b.best_ask() is None
    assert b.stats["unknown_order_events"] == 0


def test_wide_sparse_prices_far_from_the_touch() -> None:
    # LOBSTER-style prices ($0.0001 units) plus stub quotes millions of ticks away
    b = book_with(
        add(BUY, 5_800_000, 100, 1),
        add(SELL, 5_801_000, 100, 2),
        add(BUY, 1, 5, 3),
        add(SELL, 9_999_999_999, 5, 4),
        add(BUY, 5_799_900, 7, 5),
        add(SELL, -3, 1, 6),  # a (strange) negative ask becomes the best ask
    )
    bp, _, ap, _ = b.top(3)
    assert bp.tolist() == [5_800_000, 5_799_900, 1]
    assert ap.tolist() == [-3, 5_801_000, 9_999_999_999]
    b.apply(events((K_DELETE, SELL, -3, 1, 6)))
    assert b.best_ask() == (5_801_000, 100)


def test_replay_top_grows_mid_stream() -> None:
    n = 300
    ev = empty_events(n)
    ev["kind"] = K_ADD
    ev["side"] = SELL
    ev["price"] = 1_000_000 + 97 * np.arange(n)[::-1]  # each add is a new best ask
    ev["qty"] = 1
    ev["order_id"] = np.arange(n)
    b = L3Book(capacity=2)
    _, _, ap, aq = b.replay_top(ev, 1)
    np.testing.assert_array_equal(ap[:, 0], ev["price"])
    assert (aq == 1).all()


def test_copy_is_independent() -> None:
    b = book_with(add(BUY, 100, 10, 1))
    c = b.copy()
    c.apply(events((K_DELETE, BUY, 100, 10, 1)))
    assert b.best_bid() == (100, 10)
    assert c.best_bid() is None


# ----------------------------------------------------------------------------- reference model
class RefBook:
    """A tiny, obviously-correct pure-Python L3 book with the same documented semantics."""

    def __init__(self) -> None:
        # side -> price -> [anonymous qty, [[order_id, qty], ...]]
        self.levels: dict[int, dict[int, list]] = {1: {}, -1: {}}
        self.where: dict[int, tuple[int, int]] = {}
        self.unknown = 0
        self.inconsistent = 0
        self.trims = 0
        self.rejected = 0

    def _drop_if_empty(self, s: int, p: int) -> None:
        lv = self.levels[s][p]
        if lv[0] == 0 and not lv[1]:
            del self.levels[s][p]

    def _reduce_anon(self, s: int, p: int, q: int) -> None:
        self.unknown += 1
        lv = self.levels.get(s, {}).get(p)
        if lv is None:
            self.inconsistent += q > 0 or s not in (1, -1)
            return
        if q > lv[0]:
            self.inconsistent += 1
            q = lv[0]
        lv[0] -= q
        self._drop_if_empty(s, p)

    def apply(self, k: int, s: int, p: int, q: int, o: int) -> None:
        if k == K_ADD:
            if s not in (1, -1) or q <= 0 or o in self.where:
                self.rejected += 1
                return
            self.levels[s].setdefault(p, [0, []])[1].append([o, q])
            self.where[o] = (s, p)
        elif k in (K_CANCEL, K_EXECUTE, K_DELETE):
            if k != K_DELETE and q <= 0:
                self.rejected += 1
                return
            if o not in self.where:
                self._reduce_anon(s, p, q)
                return
            os_, op = self.where[o]
            lv = self.levels[os_][op]
            entry = next(e for e in lv[1] if e[0] == o)
            if k == K_DELETE or q >= entry[1]:
                if k != K_DELETE and q > entry[1]:
                    self.inconsistent += 1
                lv[1].remove(entry)
                del self.where[o]
                self._drop_if_empty(os_, op)
            else:
                entry[1] -= q
        elif k == K_SET_LEVEL:
            lv = self.levels[s].setdefault(p, [0, []])
            known = sum(e[1] for e in lv[1])
            excess = known - q
            while excess > 0:
                e = lv[1][-1]
                self.trims += 1
                if e[1] <= excess:
                    excess -= e[1]
                    lv[1].pop()
                    del self.where[e[0]]
                else:
                    e[1] -= excess
                    excess = 0
            lv[0] = max(q, 0) - sum(e[1] for e in lv[1])
            self._drop_if_empty(s, p)
        elif k == K_CLEAR:
            for side in (1, -1) if s == 0 else (s,):
                for lv in self.levels[side].values():
                    for e in lv[1]:
                        del self.where[e[0]]
                self.levels[side] = {}

    def top(self, n: int) -> tuple[list[int], list[int], list[int], list[int]]:
        out = []
        for s in (1, -1):
            prices = sorted(self.levels[s], reverse=s == 1)[:n]
            qtys = [self.levels[s][p][0] + sum(e[1] for e in self.levels[s][p][1]) for p in prices]
            pad = n - len(prices)
            out += [prices + [0] * pad, qtys + [0] * pad]
        return out[0], out[1], out[2], out[3]


def random_stream(rng: np.random.Generator, n: int) -> np.ndarray:
    """A stream mixing every kind, with unknown ids, duplicates and reveals."""
    ev = empty_events(n)
    live: list[tuple[int, int, int]] = []
    next_id = 1
    for i in range(n):
        r = rng.random()
        s = int(rng.choice([1, -1]))
        p = int(100 + s * -rng.integers(0, 8)) if s == 1 else int(101 + rng.integers(0, 8))
        o = 0
        q = int(rng.integers(1, 9))
        if r < 0.42 or not live:
            k = K_ADD
            o = next_id if rng.random() > 0.02 else int(rng.integers(1, next_id + 1))
            next_id += 1
            live.append((o, s, p))
        elif r < 0.75:
            k = int(rng.choice([K_CANCEL, K_EXECUTE, K_DELETE]))
            if rng.random() < 0.85:
                o, s, p = live.pop(int(rng.integers(0, len(live))))
                if rng.random() < 0.5:
                    live.append((o, s, p))
            else:
                o = 10**9 + i  # unknown to the book
        elif r < 0.9:
            k = K_SET_LEVEL
            q = int(rng.integers(0, 30))
        elif r < 0.96:
            k = K_TRADE
        elif r < 0.985:
            k = K_HALT
            q = 2
        else:
            k = K_CLEAR
            s = int(rng.choice([1, -1, 0]))
        ev[i] = (i, i, i, k, s, p, q, o, 0)
    return ev


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_random_streams_match_the_reference_book(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ev = random_stream(rng, 3000)
    assert ev.dtype == EVENT_DTYPE
    ref = RefBook()
    b = L3Book(capacity=4)
    bp, bq, ap, aq = b.replay_top(ev, 5)
    for i, e in enumerate(ev):
        ref.apply(int(e["kind"]), int(e["side"]), int(e["price"]), int(e["qty"]), int(e["order_id"]))
        rbp, rbq, rap, raq = ref.top(5)
        assert (bp[i].tolist(), bq[i].tolist()) == (rbp, rbq), f"bids differ after event {i}: {e}"
        assert (ap[i].tolist(), aq[i].tolist()) == (rap, raq), f"asks differ after event {i}: {e}"
    assert len(b) == len(ref.where)
    for o, (s, p) in ref.where.items():
        lv = b.level(Side.from_code(s), p)
        assert lv is not None
        assert lv.orders == tuple((e[0], e[1]) for e in ref.levels[s][p][1])
        assert lv.anonymous_qty == ref.levels[s][p][0]
        assert b.order(o) is not None
    st = b.stats
    assert st["unknown_order_events"] == ref.unknown
    assert st["inconsistent_reductions"] == ref.inconsistent
    assert st["reveal_trims"] == ref.trims
    assert st["rejected_events"] == ref.rejected
    assert st["events_applied"] == len(ev)


def test_apply_and_replay_top_reach_the_same_state() -> None:
    ev = random_stream(np.random.default_rng(9), 2000)
    a, b = L3Book(capacity=8), L3Book(capacity=8)
    a.apply(ev[:700])
    a.apply(ev[700:])
    bp, bq, ap, aq = b.replay_top(ev, 3)
    top = a.top(3)
    for x, y in zip(top, (bp[-1], bq[-1], ap[-1], aq[-1]), strict=True):
        np.testing.assert_array_equal(x, y)
    assert a.stats == b.stats
