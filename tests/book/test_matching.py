"""Matching-engine conformance cases; each test is one numbered card of docs/matching.md."""

from __future__ import annotations

import numpy as np
import pytest

from execsim.book.l3 import L3Book
from execsim.book.matching import MatchingEngine
from execsim.book.orders import MatchResult
from execsim.core.errors import BookError
from execsim.data.schema import K_ADD, K_DELETE, K_EXECUTE, K_SET_LEVEL, empty_events
from execsim.model.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce

BUY, SELL = Side.BUY, Side.SELL
PEG, MKT = OrderType.MIDPOINT_PEG, OrderType.MARKET


def lim(e: MatchingEngine, oid: int, side: Side, qty: int, px: int, **kw: object) -> MatchResult:
    return e.submit(order_id=oid, side=side, qty=qty, price=px, **kw)  # type: ignore[arg-type]


def fills(r: MatchResult) -> list[tuple[int, int, int, int]]:
    """(taker, maker, price, qty) of each fill."""
    return [(f.taker_order_id, f.maker_order_id, f.price, f.qty) for f in r.fills]


def queue(e: MatchingEngine, side: Side, px: int) -> tuple[tuple[int, int], ...]:
    lv = e.book.level(side, px)
    return () if lv is None else lv.orders


def two_sided(**kw: object) -> MatchingEngine:
    """Bid 100 x 10 (id 1), ask 104 x 10 (id 2): spread 4 ticks, mid 102 on the grid."""
    e = MatchingEngine(**kw)  # type: ignore[arg-type]
    lim(e, 1, BUY, 10, 100)
    lim(e, 2, SELL, 10, 104)
    return e


# ----------------------------------------------------------------------------- limit orders
def test_m01_limit_order_without_contra_rests() -> None:
    e = MatchingEngine()
    r = lim(e, 1, BUY, 10, 100)
    assert (r.status, r.leaves_qty, r.fills) == (OrderStatus.ACCEPTED, 10, ())
    assert e.book.best_bid() == (100, 10)
    assert [u.status for u in r.updates] == [OrderStatus.ACCEPTED]


def test_m02_crossing_limit_fills_at_the_resting_price() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 10, 101)
    r = lim(e, 2, BUY, 4, 105)
    assert r.status is OrderStatus.FILLED
    assert fills(r) == [(2, 1, 101, 4)]  # maker's price: the taker gets the improvement
    assert e.book.best_ask() == (101, 6)


def test_m03_price_priority_best_price_first() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 5, 103)
    lim(e, 2, SELL, 5, 101)
    lim(e, 3, SELL, 5, 102)
    r = lim(e, 4, BUY, 12, 103)
    assert fills(r) == [(4, 2, 101, 5), (4, 3, 102, 5), (4, 1, 103, 2)]
    assert e.book.best_ask() == (103, 3)


def test_m04_time_priority_at_one_price_and_queue_position_of_fills() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 3, 101)
    lim(e, 2, SELL, 4, 101)
    lim(e, 3, SELL, 5, 101)
    r = lim(e, 9, BUY, 9, 101)
    assert fills(r) == [(9, 1, 101, 3), (9, 2, 101, 4), (9, 3, 101, 2)]
    ahead = [(f.maker_qty_ahead, f.maker_orders_ahead) for f in r.fills]
    assert ahead == [(0, 0), (3, 1), (7, 2)]
    assert queue(e, SELL, 101) == ((3, 3),)


def test_m05_partially_filled_limit_rests_the_remainder_at_its_price() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 4, 101)
    r = lim(e, 2, BUY, 10, 102)
    assert (r.status, r.filled_qty, r.leaves_qty) == (OrderStatus.PARTIALLY_FILLED, 4, 6)
    assert e.book.best_bid() == (102, 6)
    assert e.book.best_ask() is None


def test_m06_anonymous_quantity_is_taken_before_known_orders() -> None:
    book = L3Book()
    ev = empty_events(2)
    ev[0] = (0, 0, 0, K_SET_LEVEL, -1, 101, 7, 0, 0)  # 7 lots from a snapshot, owners unknown
    ev[1] = (0, 0, 1, K_ADD, -1, 101, 5, 55, 0)
    book.apply(ev)
    e = MatchingEngine(book=book)
    r = lim(e, 9, BUY, 9, 101)
    assert fills(r) == [(9, 0, 101, 7), (9, 55, 101, 2)]
    assert r.fills[0].maker_is_anonymous
    assert (r.fills[1].maker_qty_ahead, r.fills[1].maker_orders_ahead) == (7, 0)
    lv = book.level(SELL, 101)
    assert lv is not None
    assert (lv.anonymous_qty, lv.orders) == (0, ((55, 3),))


# ----------------------------------------------------------------------------- market, IOC, FOK
def test_m07_market_order_sweeps_levels() -> None:
    e = MatchingEngine()
    lim(e, 1, BUY, 5, 100)
    lim(e, 2, BUY, 5, 99)
    r = e.submit(order_id=3, side=SELL, qty=8, order_type=MKT)
    assert r.status is OrderStatus.FILLED
    assert fills(r) == [(3, 1, 100, 5), (3, 2, 99, 3)]


def test_m08_market_order_without_contra_is_cancelled_and_reported() -> None:
    e = MatchingEngine()
    lim(e, 1, BUY, 5, 100)
    r = e.submit(order_id=2, side=BUY, qty=8, order_type=MKT)
    assert (r.status, r.filled_qty, r.cancelled_qty) == (OrderStatus.CANCELLED, 0, 8)
    assert r.reason is not None
    assert "no contra liquidity" in r.reason
    assert r.updates[-1].status is OrderStatus.CANCELLED
    assert e.book.best_bid() == (100, 5)  # nothing rested


def test_m09_market_order_remainder_is_cancelled() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 5, 101)
    r = e.submit(order_id=2, side=BUY, qty=8, order_type=MKT)
    assert (r.status, r.filled_qty, r.cancelled_qty, r.leaves_qty) == (OrderStatus.CANCELLED, 5, 3, 0)
    assert e.book.best_bid() is None


def test_m10_ioc_fills_within_its_limit_and_cancels_the_rest() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 5, 101)
    lim(e, 2, SELL, 5, 102)
    r = lim(e, 3, BUY, 8, 101, tif=TimeInForce.IOC)
    assert fills(r) == [(3, 1, 101, 5)]
    assert (r.status, r.cancelled_qty) == (OrderStatus.CANCELLED, 3)
    assert e.book.best_bid() is None
    assert e.book.best_ask() == (102, 5)


def test_m11_ioc_with_nothing_marketable_is_cancelled() -> None:
    e = two_sided()
    r = lim(e, 3, BUY, 8, 103, tif=TimeInForce.IOC)
    assert (r.status, r.filled_qty, r.cancelled_qty) == (OrderStatus.CANCELLED, 0, 8)
    assert e.book.best_bid() == (100, 10)


def test_m12_fok_fills_completely_across_levels() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 5, 101)
    lim(e, 2, SELL, 5, 102)
    r = lim(e, 3, BUY, 10, 102, tif=TimeInForce.FOK)
    assert r.status is OrderStatus.FILLED
    assert fills(r) == [(3, 1, 101, 5), (3, 2, 102, 5)]


def test_m13_fok_that_cannot_fill_is_rejected_before_any_fill() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 5, 101)
    lim(e, 2, SELL, 5, 103)
    r = lim(e, 3, BUY, 10, 102, tif=TimeInForce.FOK)  # only 5 within the limit
    assert (r.status, r.fills) == (OrderStatus.REJECTED, ())
    assert r.reason is not None
    assert "fill-or-kill" in r.reason
    assert queue(e, SELL, 101) == ((1, 5),)


def test_m14_fok_counts_iceberg_reserves() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 10, 101, display_qty=2)
    assert e.book.best_ask() == (101, 2)
    r = lim(e, 3, BUY, 10, 101, tif=TimeInForce.FOK)
    assert r.status is OrderStatus.FILLED
    assert sum(f.qty for f in r.fills) == 10
    assert e.book.best_ask() is None


# ----------------------------------------------------------------------------- post-only
def test_m15_post_only_that_would_take_is_rejected() -> None:
    e = two_sided()
    r = lim(e, 3, BUY, 5, 104, post_only=True)
    assert r.status is OrderStatus.REJECTED
    assert r.reason == "post-only order would take liquidity"
    assert e.book.best_ask() == (104, 10)
    assert e.book.order(3) is None


def test_m16_post_only_that_does_not_cross_rests() -> None:
    e = two_sided()
    r = lim(e, 3, BUY, 5, 103, post_only=True)
    assert r.status is OrderStatus.ACCEPTED
    assert e.book.best_bid() == (103, 5)


def test_m17_post_only_needs_a_resting_order_type() -> None:
    e = two_sided()
    r1 = lim(e, 3, BUY, 5, 101, post_only=True, tif=TimeInForce.IOC)
    r2 = e.submit(order_id=4, side=BUY, qty=5, order_type=MKT, post_only=True)
    assert r1.status is OrderStatus.REJECTED
    assert r2.status is OrderStatus.REJECTED
    assert e.book.best_ask() == (104, 10)


# ----------------------------------------------------------------------------- iceberg
def test_m18_iceberg_shows_only_its_display_quantity() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 50, 101, display_qty=5)
    _, _, ap, aq = e.book.top(1)
    assert (int(ap[0]), int(aq[0])) == (101, 5)
    o = e.book.order(1)
    assert o is not None
    assert (o.qty, o.hidden_qty) == (5, 45)


def test_m19_iceberg_refresh_loses_time_priority() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 10, 101, display_qty=4)
    lim(e, 2, SELL, 3, 101)
    r = lim(e, 9, BUY, 4, 101)  # uses up the display of order 1
    assert fills(r) == [(9, 1, 101, 4)]
    assert queue(e, SELL, 101) == ((2, 3), (1, 4))  # refreshed slice behind order 2
    r = lim(e, 10, BUY, 5, 101)
    assert fills(r) == [(10, 2, 101, 3), (10, 1, 101, 2)]


def test_m20_one_aggressor_consumes_an_iceberg_through_its_refreshes() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 10, 101, display_qty=3)
    r = lim(e, 9, BUY, 12, 101)
    assert [f.qty for f in r.fills] == [3, 3, 3, 1]
    assert all(f.maker_order_id == 1 and f.maker_is_iceberg for f in r.fills)
    assert (r.status, r.leaves_qty) == (OrderStatus.PARTIALLY_FILLED, 2)
    assert e.book.best_bid() == (101, 2)


# ----------------------------------------------------------------------------- midpoint peg
def test_m21_peg_rests_invisibly_and_trades_first_at_the_mid() -> None:
    e = two_sided()
    r = e.submit(order_id=5, side=SELL, qty=3, order_type=PEG)
    assert r.status is OrderStatus.ACCEPTED
    assert e.book.best_ask() == (104, 10)  # not in the visible book
    assert e.peg_orders(SELL) == ((5, 3),)
    r = lim(e, 6, BUY, 5, 104)
    assert fills(r) == [(6, 5, 102, 3), (6, 2, 104, 2)]  # the mid (102) before the lit ask
    assert r.fills[0].maker_is_peg


def test_m22_peg_does_not_trade_when_the_mid_is_off_the_grid() -> None:
    e = MatchingEngine()
    lim(e, 1, BUY, 10, 100)
    lim(e, 2, SELL, 10, 103)  # spread 3: mid 101.5 not on the grid
    e.submit(order_id=5, side=SELL, qty=3, order_type=PEG)
    assert e.midpoint() is None
    r = e.submit(order_id=6, side=BUY, qty=2, order_type=MKT)
    assert fills(r) == [(6, 2, 103, 2)]
    assert e.peg_orders(SELL) == ((5, 3),)


def test_m23_peg_never_trades_outside_the_spread() -> None:
    e = two_sided()
    e.submit(order_id=5, side=BUY, qty=20, order_type=PEG)
    r = e.submit(order_id=6, side=SELL, qty=30, order_type=MKT)
    bid, ask = 100, 104
    for f in r.fills:
        if f.maker_is_peg:
            assert bid < f.price < ask
    # the peg is filled at the mid the lit book makes, before the lit bid
    assert fills(r)[0] == (6, 5, 102, 20)
    assert fills(r)[1] == (6, 1, 100, 10)


def test_m24_incoming_peg_matches_a_resting_contra_peg() -> None:
    e = two_sided()
    e.submit(order_id=5, side=SELL, qty=3, order_type=PEG)
    r = e.submit(order_id=6, side=BUY, qty=5, order_type=PEG)
    assert fills(r) == [(6, 5, 102, 3)]
    assert (r.status, r.leaves_qty) == (OrderStatus.PARTIALLY_FILLED, 2)
    assert e.peg_orders(BUY) == ((6, 2),)
    assert e.peg_orders(SELL) == ()


def test_m25_resting_pegs_cross_once_the_mid_is_on_the_grid() -> None:
    e = MatchingEngine()
    lim(e, 1, BUY, 10, 100)
    lim(e, 2, SELL, 10, 103)  # mid off the grid
    e.submit(order_id=5, side=SELL, qty=3, order_type=PEG)
    e.submit(order_id=6, side=BUY, qty=5, order_type=PEG)
    assert e.peg_orders(BUY) == ((6, 5),)
    r = lim(e, 7, SELL, 1, 102)  # new best ask 102: mid 101 on the grid
    assert r.status is OrderStatus.ACCEPTED
    assert fills(r) == [(6, 5, 101, 3)]  # the later peg (6) is the taker
    assert r.fills[0].aggressor_side is BUY


def test_m26_peg_rejects_a_price_and_needs_both_sides() -> None:
    e = MatchingEngine()
    r = e.submit(order_id=1, side=BUY, qty=5, price=100, order_type=PEG)
    assert r.status is OrderStatus.REJECTED
    lim(e, 2, SELL, 5, 104)
    e.submit(order_id=3, side=SELL, qty=5, order_type=PEG)
    r = e.submit(order_id=4, side=BUY, qty=5, order_type=PEG)  # no bid: no mid
    assert (r.status, r.fills) == (OrderStatus.ACCEPTED, ())
    r = e.submit(order_id=5, side=BUY, qty=5, order_type=PEG, display_qty=2)
    assert (r.status, r.reason) == (OrderStatus.REJECTED, "display_qty (iceberg) needs a limit order")


# ----------------------------------------------------------------------------- cancel / modify
def test_m27_cancel_removes_the_order() -> None:
    e = two_sided()
    r = e.cancel(1)
    assert (r.status, r.cancelled_qty, r.leaves_qty) == (OrderStatus.CANCELLED, 10, 0)
    assert e.book.best_bid() is None
    assert e.book.order(1) is None


def test_m28_cancel_of_an_unknown_order_is_rejected() -> None:
    e = two_sided()
    r = e.cancel(999)
    assert (r.status, r.reason) == (OrderStatus.REJECTED, "unknown order id")
    r = e.modify(999, qty=1)
    assert (r.status, r.reason) == (OrderStatus.REJECTED, "unknown order id")


def test_m29_partial_cancel_keeps_queue_position() -> None:
    e = MatchingEngine()
    lim(e, 1, BUY, 10, 100)
    lim(e, 2, BUY, 10, 100)
    r = e.cancel(1, qty=4)
    assert (r.status, r.cancelled_qty, r.leaves_qty) == (OrderStatus.ACCEPTED, 4, 6)
    assert queue(e, BUY, 100) == ((1, 6), (2, 10))


def test_m30_modify_size_down_keeps_priority() -> None:
    e = MatchingEngine()
    lim(e, 1, BUY, 10, 100)
    lim(e, 2, BUY, 10, 100)
    r = e.modify(1, qty=3)
    assert (r.status, r.leaves_qty, r.cancelled_qty) == (OrderStatus.ACCEPTED, 3, 7)
    assert queue(e, BUY, 100) == ((1, 3), (2, 10))


def test_m31_modify_size_up_loses_priority() -> None:
    e = MatchingEngine()
    lim(e, 1, BUY, 10, 100)
    lim(e, 2, BUY, 10, 100)
    e.modify(1, qty=12)
    assert queue(e, BUY, 100) == ((2, 10), (1, 12))


def test_m32_modify_price_loses_priority_at_the_new_level() -> None:
    e = MatchingEngine()
    lim(e, 1, BUY, 10, 100)
    lim(e, 2, BUY, 10, 101)
    e.modify(1, price=101)
    assert queue(e, BUY, 101) == ((2, 10), (1, 10))
    assert e.book.level(BUY, 100) is None
    e.modify(2, price=100)
    e.modify(2, price=101)  # back at 101: now behind order 1
    assert queue(e, BUY, 101) == ((1, 10), (2, 10))


def test_m33_modify_to_a_crossing_price_trades() -> None:
    e = two_sided()
    r = e.modify(1, price=104, qty=15)  # size-up and re-price: 15 lots at 104
    assert fills(r) == [(1, 2, 104, 10)]
    assert (r.status, r.leaves_qty) == (OrderStatus.PARTIALLY_FILLED, 5)
    assert e.book.best_bid() == (104, 5)
    assert e.book.best_ask() is None


def test_m34_modify_of_a_post_only_order_to_a_crossing_price_is_refused() -> None:
    e = two_sided()
    lim(e, 3, BUY, 5, 101, post_only=True)
    r = e.modify(3, price=104)
    assert (r.status, r.reason) == (OrderStatus.REJECTED, "post-only order would take liquidity")
    assert queue(e, BUY, 101) == ((3, 5),)


# ----------------------------------------------------------------------------- self-trade prevention
def stp_book(policy: str) -> MatchingEngine:
    e = MatchingEngine(self_trade_prevention=policy)
    lim(e, 1, SELL, 5, 101, owner=8)  # someone else
    lim(e, 2, SELL, 5, 101, owner=7)  # same owner as the aggressor below
    lim(e, 3, SELL, 5, 101, owner=8)
    return e


def test_m35_stp_cancel_newest_cancels_the_aggressor() -> None:
    e = stp_book("cancel_newest")
    r = lim(e, 9, BUY, 12, 101, owner=7)
    assert fills(r) == [(9, 1, 101, 5)]
    assert (r.status, r.reason, r.cancelled_qty) == (OrderStatus.CANCELLED, "self-trade prevention", 7)
    assert queue(e, SELL, 101) == ((2, 5), (3, 5))


def test_m36_stp_cancel_oldest_cancels_the_resting_order_and_goes_on() -> None:
    e = stp_book("cancel_oldest")
    r = lim(e, 9, BUY, 12, 101, owner=7)
    assert fills(r) == [(9, 1, 101, 5), (9, 3, 101, 5)]
    cancelled = [u for u in r.updates if u.status is OrderStatus.CANCELLED]
    assert [(u.order_id, u.cancelled_qty, u.reason) for u in cancelled] == [(2, 5, "self-trade prevention")]
    assert (r.status, r.leaves_qty) == (OrderStatus.PARTIALLY_FILLED, 2)


def test_m37_stp_cancel_both() -> None:
    e = stp_book("cancel_both")
    r = lim(e, 9, BUY, 12, 101, owner=7)
    assert fills(r) == [(9, 1, 101, 5)]
    assert r.status is OrderStatus.CANCELLED
    assert e.book.order(2) is None
    assert queue(e, SELL, 101) == ((3, 5),)


def test_m38_stp_none_and_owner_zero_allow_self_trades() -> None:
    e = stp_book("none")
    r = lim(e, 9, BUY, 7, 101, owner=7)
    assert fills(r) == [(9, 1, 101, 5), (9, 2, 101, 2)]
    e2 = MatchingEngine(self_trade_prevention="cancel_both")
    lim(e2, 1, SELL, 5, 101)  # owner 0: no owner
    r = lim(e2, 2, BUY, 5, 101)
    assert fills(r) == [(2, 1, 101, 5)]


def test_m39_fok_blocked_by_self_trade_prevention_is_rejected() -> None:
    e = stp_book("cancel_newest")
    r = lim(e, 9, BUY, 12, 101, owner=7, tif=TimeInForce.FOK)
    assert (r.status, r.fills) == (OrderStatus.REJECTED, ())
    e = stp_book("cancel_oldest")  # own order skipped: 10 lots of others available
    assert lim(e, 9, BUY, 11, 101, owner=7, tif=TimeInForce.FOK).status is OrderStatus.REJECTED
    r = lim(e, 10, BUY, 10, 101, owner=7, tif=TimeInForce.FOK)
    assert r.status is OrderStatus.FILLED
    assert e.book.order(2) is None


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"order_id": 5, "side": BUY, "qty": 0, "price": 100}, "quantity must be > 0"),
        ({"order_id": 5, "side": BUY, "qty": -3, "price": 100}, "quantity must be > 0"),
        ({"order_id": 5, "side": BUY, "qty": 3}, "a limit order needs a price"),
        ({"order_id": 5, "side": BUY, "qty": 3, "price": 9, "order_type": MKT}, "market order"),
        ({"order_id": 1, "side": SELL, "qty": 3, "price": 200}, "duplicate order id"),
        ({"order_id": 0, "side": SELL, "qty": 3, "price": 200}, "reserved"),
        ({"order_id": 5, "side": Side.NONE, "qty": 3, "price": 200}, "side"),
        ({"order_id": 5, "side": BUY, "qty": 3, "price": 90, "display_qty": 0}, "display_qty"),
    ],
)
def test_m40_invalid_orders_are_rejected_with_a_reason(kwargs: dict, reason: str) -> None:
    e = two_sided()
    r = e.submit(**kwargs)
    assert r.status is OrderStatus.REJECTED
    assert r.reason is not None
    assert reason in r.reason
    assert not r.accepted
    assert e.book.top(2)[1].tolist() == [10, 0]
    assert len(e.book) == 2


def test_m41_wrong_argument_types_raise_book_error() -> None:
    e = MatchingEngine()
    with pytest.raises(BookError, match="qty must be an integer"):
        e.submit(order_id=1, side=BUY, qty=1.5, price=100)  # type: ignore[arg-type]
    with pytest.raises(BookError, match="side must be one of"):
        e.submit(order_id=1, side="up", qty=1, price=100)  # type: ignore[arg-type]
    with pytest.raises(BookError, match="self_trade_prevention"):
        MatchingEngine(self_trade_prevention="sometimes")


# ----------------------------------------------------------------------------- with market data
def test_m42_simulated_order_queues_behind_replayed_market_orders() -> None:
    book = L3Book()
    ev = empty_events(3)
    ev[0] = (0, 0, 0, K_ADD, 1, 100, 30, 501, 0)
    ev[1] = (0, 0, 1, K_ADD, 1, 100, 20, 502, 0)
    book.apply(ev)
    e = MatchingEngine(book=book)
    lim(e, 1, BUY, 10, 100, owner=1)
    o = book.order(1)
    assert o is not None
    assert (o.qty_ahead, o.orders_ahead) == (50, 2)
    ev2 = empty_events(1)
    ev2[0] = (0, 0, 2, K_DELETE, 1, 100, 30, 501, 0)  # the market order ahead leaves
    book.apply(ev2)
    o = book.order(1)
    assert o is not None
    assert (o.qty_ahead, o.orders_ahead) == (20, 1)
    r = e.submit(order_id=2, side=SELL, qty=25, order_type=MKT)
    assert fills(r) == [(2, 502, 100, 20), (2, 1, 100, 5)]
    assert (r.fills[1].maker_qty_ahead, r.fills[1].maker_orders_ahead) == (20, 1)


def test_m43_day_orders_rest_like_gtc() -> None:
    e = MatchingEngine()
    r = lim(e, 1, BUY, 10, 100, tif=TimeInForce.DAY)
    assert r.status is OrderStatus.ACCEPTED
    assert e.book.best_bid() == (100, 10)


def test_m44_fill_reports_both_sides_and_liquidity() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 10, 101, owner=3, ts=5)
    r = lim(e, 2, BUY, 4, 101, owner=4, ts=9)
    f = r.fills[0]
    assert (f.aggressor_side, f.maker_side) == (BUY, SELL)
    assert (f.liquidity_side(2), f.liquidity_side(1), f.liquidity_side(77)) == (
        LiquiditySide.TAKER,
        LiquiditySide.MAKER,
        LiquiditySide.NONE,
    )
    assert (f.taker_owner, f.maker_owner, f.ts) == (4, 3, 9)
    maker_upd = r.updates[0]
    assert (maker_upd.order_id, maker_upd.status, maker_upd.filled_qty, maker_upd.leaves_qty) == (
        1,
        OrderStatus.PARTIALLY_FILLED,
        4,
        6,
    )
    assert r.notional == 404


def test_m45_many_fills_grow_the_result_buffers() -> None:
    e = MatchingEngine()
    n = 300  # more fills than the initial buffers hold
    for i in range(n):
        lim(e, 1 + i, SELL, 1, 1000 + i)
    r = e.submit(order_id=10_000, side=BUY, qty=n, order_type=MKT)
    assert len(r.fills) == n
    assert [f.price for f in r.fills] == list(range(1000, 1000 + n))
    assert r.status is OrderStatus.FILLED
    assert np.all(np.array([u.status for u in r.updates[:-1]]) == OrderStatus.FILLED)


def test_m46_market_data_execution_of_an_iceberg_refreshes_it() -> None:
    e = MatchingEngine()
    lim(e, 1, SELL, 10, 101, display_qty=4)
    lim(e, 2, SELL, 3, 101)
    ev = empty_events(1)
    ev[0] = (0, 0, 0, K_EXECUTE, -1, 101, 4, 1, 0)  # the feed executes our displayed part
    e.book.apply(ev)
    assert queue(e, SELL, 101) == ((2, 3), (1, 4))
    o = e.book.order(1)
    assert o is not None
    assert (o.qty, o.hidden_qty, o.qty_ahead) == (4, 2, 3)


def test_m47_order_view_of_a_peg_shows_the_mid_and_its_peg_queue_place() -> None:
    e = two_sided()
    e.submit(order_id=5, side=SELL, qty=3, order_type=PEG)
    e.submit(order_id=6, side=SELL, qty=4, order_type=PEG)
    o = e.book.order(6)
    assert o is not None
    assert (o.price, o.qty, o.qty_ahead, o.orders_ahead) == (102, 4, 3, 1)
    e.cancel(2)  # no ask: no mid
    o = e.book.order(6)
    assert o is not None
    assert o.price == 0
