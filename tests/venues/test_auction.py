"""Call auctions: the uncross (cards A1–A13 of docs/venues.md, properties against a brute-force
oracle) and the call-auction venue (conformance, halts, re-opening, background orders)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execsim.core.errors import ConfigError, DataError
from execsim.data.schema import K_ADD, K_HALT, empty_events
from execsim.model import Instrument, LiquiditySide, OrderType, Side, TimeInForce, TradingStatus
from execsim.venues.auction import (
    AUCTION_ORDER_DTYPE,
    BACKGROUND_ORDER_DTYPE,
    AuctionBackgroundConfig,
    AuctionOrder,
    AuctionResult,
    CallAuctionConfig,
    CallAuctionVenue,
    PriceRule,
    check_auction_venue,
    generate_background_orders,
    uncross,
)
from execsim.venues.base import (
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    Quote,
    ReportKind,
    SubmitOrder,
    VenueConformanceError,
    check_venue,
)

BUY, SELL = Side.BUY, Side.SELL
INST = Instrument(symbol="X", venue="AUCT", tick_size="0.01")


def o(oid: int, qty: int, price: int | None = None, t: int = 0) -> AuctionOrder:
    return AuctionOrder(order_id=oid, qty=qty, price=price, priority=t)


def fills(r: AuctionResult) -> dict[int, int]:
    return {f.order_id: f.qty for f in r.fills}


def rest(r: AuctionResult) -> dict[int, int]:
    return {u.order_id: u.qty for u in r.unfilled}


# ------------------------------------------------------------------- cards A1–A13 (docs/venues.md)
def test_a01_unique_maximum_volume_sets_the_price() -> None:
    # D(99)=20 S=5 -> 5; D(100)=20 S=15 -> 15; D(101)=10 S=15 -> 10
    r = uncross([o(1, 10, 101, 1), o(2, 10, 100, 2)], [o(3, 5, 99, 3), o(4, 10, 100, 4)])
    assert (r.price, r.volume, r.rule) == (100, 15, PriceRule.MAX_VOLUME)
    assert (r.surplus_side, r.surplus_qty, r.buy_qty, r.sell_qty) == (BUY, 5, 20, 15)
    assert fills(r) == {1: 10, 2: 5, 3: 5, 4: 10}
    assert rest(r) == {2: 5}


def test_a02_volume_tie_broken_by_minimum_surplus() -> None:
    # volume 10 at 100, 101 and 102; surplus 0 at 100, -5 at 101 and 102
    r = uncross([o(1, 10, 102)], [o(2, 10, 100, 1), o(3, 5, 101, 2)])
    assert (r.price, r.volume, r.rule, r.surplus_side) == (100, 10, PriceRule.MIN_SURPLUS, Side.NONE)
    assert fills(r) == {1: 10, 2: 10}
    assert rest(r) == {3: 5}  # limited above the auction price: not executable


def test_a03_buy_surplus_at_every_tied_price_takes_the_highest() -> None:
    # volume 10 and buy surplus 10 at 100, 101 and 102
    r = uncross([o(1, 20, 102)], [o(2, 10, 100)], reference_price=95)
    assert (r.price, r.rule, r.surplus_side, r.surplus_qty) == (102, PriceRule.MARKET_PRESSURE, BUY, 10)
    assert fills(r) == {1: 10, 2: 10}


def test_a04_sell_surplus_at_every_tied_price_takes_the_lowest() -> None:
    r = uncross([o(1, 10, 102)], [o(2, 20, 100)], reference_price=110)
    assert (r.price, r.rule, r.surplus_side, r.surplus_qty) == (100, PriceRule.MARKET_PRESSURE, SELL, 10)
    assert rest(r) == {2: 10}


def _balanced_market_book() -> tuple[list[AuctionOrder], list[AuctionOrder]]:
    """Market 100 each side; limits 5 @ 100 (buy) and 5 @ 110 (sell): surplus 0 on 101..109."""
    return [o(1, 100, None, 1), o(2, 5, 100, 2)], [o(3, 100, None, 3), o(4, 5, 110, 4)]


def test_a05_balanced_range_takes_the_reference_price_between_limits() -> None:
    r = uncross(*_balanced_market_book(), reference_price=104)
    assert (r.price, r.volume, r.rule, r.surplus_qty) == (104, 100, PriceRule.REFERENCE, 0)
    assert fills(r) == {1: 100, 3: 100}
    assert rest(r) == {2: 5, 4: 5}


def test_a06_reference_outside_the_range_takes_the_closest_end() -> None:
    assert uncross(*_balanced_market_book(), reference_price=120).price == 109
    assert uncross(*_balanced_market_book(), reference_price=50).price == 101


def test_a07_without_reference_the_middle_of_the_range() -> None:
    r = uncross(*_balanced_market_book())
    assert (r.price, r.rule) == (105, PriceRule.MIDPOINT)  # (101 + 109) / 2


def test_a08_mixed_pressure_half_tick_middle_takes_the_lower() -> None:
    # 100: D 15 S 10 (+5); 101: D 10 S 15 (-5): tied, opposite surpluses, middle 100.5
    bids, asks = [o(1, 10, 101), o(2, 5, 100)], [o(3, 10, 100), o(4, 5, 101)]
    r = uncross(bids, asks)
    assert (r.price, r.rule, r.surplus_side) == (100, PriceRule.LOWER, BUY)
    r = uncross(bids, asks, reference_price=101)
    assert (r.price, r.rule, r.surplus_side) == (101, PriceRule.REFERENCE, SELL)


def test_a09_market_orders_have_absolute_priority() -> None:
    # the latest order is a market buy; it fills before the better-timed limits
    r = uncross([o(1, 10, None, 3), o(2, 10, 105, 1), o(3, 10, 103, 2)], [o(4, 15, 100, 0)])
    # 104..105: D 20 S 15 (+5) vs 100..103: D 30 (+15): minimum surplus, then buy pressure -> 105
    assert (r.price, r.rule) == (105, PriceRule.MARKET_PRESSURE)
    assert fills(r) == {1: 10, 2: 5, 4: 15}
    assert rest(r) == {2: 5, 3: 10}


def test_a10_marginal_side_rationed_by_time_priority() -> None:
    r = uncross([o(1, 10, 100, 30), o(2, 10, 100, 10), o(3, 10, 100, 20)], [o(4, 15, 100)])
    assert (r.price, r.volume, r.surplus_qty) == (100, 15, 15)
    assert fills(r) == {2: 10, 3: 5, 4: 15}  # t=10 first, then t=20 partially, t=30 nothing
    assert [u.order_id for u in r.unfilled] == [3, 1]


def test_a11_better_price_beats_earlier_time() -> None:
    r = uncross([o(1, 10, 100, 1), o(2, 10, 101, 2)], [o(3, 10, 99)])
    # volume 10 at 99, 100 and 101; surplus +10, +10, 0: the later but better-priced bid trades
    assert (r.price, r.rule) == (101, PriceRule.MIN_SURPLUS)
    assert fills(r) == {2: 10, 3: 10}


def test_a12_market_orders_only_trade_at_the_reference_or_not_at_all() -> None:
    r = uncross([o(1, 10)], [o(2, 7)], reference_price=100)
    assert (r.price, r.volume, r.rule, r.surplus_side, r.surplus_qty) == (
        100,
        7,
        PriceRule.MARKET_ONLY,
        BUY,
        3,
    )
    r = uncross([o(1, 10)], [o(2, 7)])
    assert (r.price, r.volume, r.rule) == (None, 0, PriceRule.NO_TRADE)
    assert rest(r) == {1: 10, 2: 7}


def test_a13_uncrossed_book_does_not_trade() -> None:
    r = uncross([o(1, 10, 99)], [o(2, 10, 101)], reference_price=100)
    assert (r.price, r.volume, r.rule, r.fills) == (None, 0, PriceRule.NO_TRADE, ())
    assert uncross([], []).rule is PriceRule.NO_TRADE


# ----------------------------------------------------------------------------- input handling
def test_structured_arrays_give_the_same_result_as_records() -> None:
    bids, asks = [o(1, 10, 101, 1), o(2, 10, None, 2)], [o(3, 5, 99, 3), o(4, 10, 100, 4)]

    def arr(xs: list[AuctionOrder]) -> np.ndarray:
        a = np.zeros(len(xs), dtype=AUCTION_ORDER_DTYPE)
        for i, x in enumerate(xs):
            a[i] = (x.order_id, x.price or 0, x.qty, x.priority, x.price is None)
        return a

    assert uncross(arr(bids), arr(asks), reference_price=100) == uncross(bids, asks, reference_price=100)


def test_bad_input_names_side_row_and_value() -> None:
    with pytest.raises(DataError, match=r"asks, row 2: order quantity must be positive \(got 0\)"):
        uncross([o(1, 5, 100)], [o(2, 5, 100), o(3, 0, 100)])
    with pytest.raises(DataError, match="unique"):
        uncross([o(1, 5, 100)], [o(1, 5, 100)])
    with pytest.raises(DataError, match="structured array"):
        uncross(np.zeros(2), [])


# ------------------------------------------------------------------- properties vs an oracle
def _oracle(
    bids: list[AuctionOrder], asks: list[AuctionOrder], ref: int | None
) -> tuple[int | None, int, int]:
    """The documented rules, tick by tick over [lowest limit, highest limit]: (price, D, S)."""
    limits = [x.price for x in bids + asks if x.price is not None]
    mb = sum(x.qty for x in bids if x.price is None)
    ms = sum(x.qty for x in asks if x.price is None)
    if not limits:
        return (ref, mb, ms) if (mb and ms and ref is not None) else (None, 0, 0)

    def d(p: int) -> int:
        return mb + sum(x.qty for x in bids if x.price is not None and x.price >= p)

    def s(p: int) -> int:
        return ms + sum(x.qty for x in asks if x.price is not None and x.price <= p)

    grid = list(range(min(limits), max(limits) + 1))
    vmax = max(min(d(p), s(p)) for p in grid)
    if vmax == 0:
        return None, 0, 0
    tied = [p for p in grid if min(d(p), s(p)) == vmax]
    m = min(abs(d(p) - s(p)) for p in tied)
    tied = [p for p in tied if abs(d(p) - s(p)) == m]
    if all(d(p) > s(p) for p in tied):
        p = max(tied)
    elif all(d(p) < s(p) for p in tied):
        p = min(tied)
    else:
        target2 = 2 * ref if ref is not None else min(tied) + max(tied)
        p = min(tied, key=lambda q: (abs(2 * q - target2), q))
    return p, d(p), s(p)


def _book(draw: st.DrawFn) -> tuple[list[AuctionOrder], list[AuctionOrder], int | None]:
    def side(base: int) -> list[AuctionOrder]:
        n = draw(st.integers(1, 8))
        return [
            AuctionOrder(
                order_id=base + i,
                qty=draw(st.sampled_from([5, 10, 20]) | st.integers(1, 20)),  # round sizes: more ties
                price=draw(st.none() | st.integers(95, 105) | st.integers(95, 105)),  # ~1/3 market
                priority=draw(st.integers(0, 5)),  # collisions: the order id breaks the tie
            )
            for i in range(n)
        ]

    ref = draw(st.one_of(st.none(), st.integers(90, 110)))
    return side(0), side(100), ref


books = st.composite(_book)()


@settings(max_examples=300, deadline=None)
@given(books)
def test_uncross_matches_the_brute_force_oracle_and_allocates_soundly(
    book: tuple[list[AuctionOrder], list[AuctionOrder], int | None],
) -> None:
    bids, asks, ref = book
    r = uncross(bids, asks, reference_price=ref)
    price, d, s = _oracle(bids, asks, ref)
    assert r.price == price
    assert (r.volume, r.buy_qty, r.sell_qty) == (min(d, s), d, s)
    assert r.surplus_qty == abs(d - s)
    if price is None:
        assert r.fills == ()
    by_id = {x.order_id: x for x in bids + asks}
    filled = dict.fromkeys(by_id, 0)
    for f in r.fills:
        filled[f.order_id] += f.qty
        assert f.qty > 0
    left = {u.order_id: u.qty for u in r.unfilled}
    for i, x in by_id.items():
        assert 0 <= filled[i] <= x.qty
        assert filled[i] + left.get(i, 0) == x.qty  # every lot accounted for once
        if filled[i] and x.price is not None:
            assert (x.price >= r.price) if i < 100 else (x.price <= r.price)  # type: ignore[operator]
    buys = sum(q for i, q in filled.items() if i < 100)
    sells = sum(q for i, q in filled.items() if i >= 100)
    assert buys == sells == r.volume

    # price-time priority: an order that got anything means every better one filled completely
    def key(x: AuctionOrder, buy: bool) -> tuple[int, int, int, int]:
        px = 0 if x.price is None else (-x.price if buy else x.price)
        return (x.price is not None, px, x.priority, x.order_id)

    for group, buy in ((bids, True), (asks, False)):
        for a in group:
            for b in group:
                if key(a, buy) < key(b, buy) and filled[b.order_id] > 0:
                    assert filled[a.order_id] == a.qty
    # only the surplus side keeps executable interest unfilled
    if price is not None:
        if r.surplus_side is not BUY:
            assert all(filled[x.order_id] == x.qty for x in bids if x.price is None or x.price >= price)
        if r.surplus_side is not SELL:
            assert all(filled[x.order_id] == x.qty for x in asks if x.price is None or x.price <= price)


@settings(max_examples=150, deadline=None)
@given(books, st.randoms(use_true_random=False))
def test_uncross_ignores_input_order_and_removing_an_order_never_raises_volume(
    book: tuple[list[AuctionOrder], list[AuctionOrder], int | None], rnd: random.Random
) -> None:
    bids, asks, ref = book
    r = uncross(bids, asks, reference_price=ref)
    sb, sa = list(bids), list(asks)
    rnd.shuffle(sb)
    rnd.shuffle(sa)
    assert uncross(sb, sa, reference_price=ref) == r
    for i in range(len(bids)):
        assert uncross(bids[:i] + bids[i + 1 :], asks, reference_price=ref).volume <= r.volume
    for i in range(len(asks)):
        assert uncross(bids, asks[:i] + asks[i + 1 :], reference_price=ref).volume <= r.volume


def test_uncross_of_many_orders_is_sort_based() -> None:
    rng = np.random.default_rng(3)
    n = 50_000
    bids = np.zeros(n, dtype=AUCTION_ORDER_DTYPE)
    asks = np.zeros(n, dtype=AUCTION_ORDER_DTYPE)
    for k, a in enumerate((bids, asks)):
        a["order_id"] = np.arange(n) + k * n
        a["price"] = rng.integers(9_000, 11_000, n)
        a["qty"] = rng.integers(1, 500, n)
        a["priority"] = rng.permutation(n)
    r = uncross(bids, asks, reference_price=10_000)
    assert r.volume > 0
    assert 9_000 <= r.price <= 11_000  # type: ignore[operator]
    assert sum(f.qty for f in r.fills if f.side is BUY) == r.volume


# ---------------------------------------------------------------------------------- the venue
def _bg(rows: list[tuple[int, int, int | None, int]]) -> np.ndarray:
    """(ts, side code, price or None for market, qty) -> background orders."""
    a = np.zeros(len(rows), dtype=BACKGROUND_ORDER_DTYPE)
    for i, (ts, side, px, q) in enumerate(rows):
        a[i] = (ts, side, px or 0, q, px is None)
    return a


def _venue(**kw: object) -> CallAuctionVenue:
    """Call from t=0 to 1000; background: sell 10 @ 100 (t=5), sell 10 @ 101 (t=6), buy 5 @ 99."""
    args: dict[str, object] = {
        "auction_ts_ns": 1_000,
        "reference_price": 100,
        "background": _bg([(5, -1, 100, 10), (6, -1, 101, 10), (7, 1, 99, 5)]),
    }
    args.update(kw)
    return CallAuctionVenue("AUCT", INST, **args)  # type: ignore[arg-type]


def buy(t: int, oid: int, qty: int, px: int | None, **kw: object) -> SubmitOrder:
    typ = OrderType.MARKET if px is None else OrderType.LIMIT
    return SubmitOrder(ts_ns=t, order_id=oid, side=BUY, qty=qty, price=px, order_type=typ, **kw)  # type: ignore[arg-type]


def test_call_auction_venue_passes_the_auction_conformance_checks() -> None:
    check_auction_venue(_venue)
    cfg = CallAuctionConfig(auction_ts_ns=10**9, reference_price=10_000, background=AuctionBackgroundConfig())
    check_auction_venue(lambda: CallAuctionVenue.from_config("A", INST, cfg, rng=np.random.default_rng(1)))


def test_check_venue_does_not_apply_to_a_call_auction() -> None:
    # no continuous quote and no IOC: the lit-venue checks cannot pass, by design
    with pytest.raises(VenueConformanceError, match="both sides quoted"):
        check_venue(_venue)


def test_auction_conformance_catches_a_venue_that_fills_during_the_call() -> None:
    class Eager(CallAuctionVenue):
        def handle(self, command):  # type: ignore[no-untyped-def]
            reps = super().handle(command)
            if reps and reps[0].kind is ReportKind.ACCEPTED and command.order_type is OrderType.MARKET:
                reps.append(
                    ExecutionReport(
                        ts_ns=command.ts_ns,
                        venue=self.name,
                        order_id=command.order_id,
                        kind=ReportKind.FILL,
                        price=100,
                        qty=1,
                        leaves_qty=command.qty - 1,
                    )
                )
            return reps

    with pytest.raises(VenueConformanceError, match="without fills"):
        check_auction_venue(lambda: Eager("E", INST, auction_ts_ns=1_000, background=_bg([(5, -1, 100, 10)])))


def test_our_order_fills_at_the_uncross_and_the_remainder_expires() -> None:
    v = _venue()
    assert v.quote() == Quote()
    assert v.handle(buy(10, 1, 25, 101, tif=TimeInForce.DAY)) == [
        ExecutionReport(
            ts_ns=10, venue="AUCT", order_id=1, kind=ReportKind.ACCEPTED, price=101, leaves_qty=25
        )
    ]
    # indicative: D(99)=30 S=0; D(100)=25 S=10; D(101)=25 S=20 -> 20 lots at 101
    ind = v.indicative()
    assert (ind.price, ind.volume, ind.rule) == (101, 20, PriceRule.MAX_VOLUME)
    reached, reps = v.advance(5_000)
    assert reached == 1_000  # stopped at the uncross: our order was involved
    assert [(r.kind, r.price, r.qty, r.leaves_qty, r.liquidity) for r in reps] == [
        (ReportKind.FILL, 101, 20, 5, LiquiditySide.NONE),
        (ReportKind.EXPIRED, 0, 5, 0, LiquiditySide.NONE),
    ]
    assert "opening auction over" in (reps[1].reason or "")
    assert v.indicative() == v.result
    assert v.result is not None
    assert v.result.price == 101
    assert v.advance(5_000) == (5_000, [])
    late = v.handle(buy(6_000, 2, 1, 100))
    assert (late[0].kind, late[0].reason) == (ReportKind.REJECTED, "auction closed")


def test_gtc_remainder_is_cancelled_after_a_closing_auction() -> None:
    v = _venue(kind="closing")
    v.handle(buy(10, 1, 50, 99, tif=TimeInForce.GTC))  # behind the background buy at 99
    _, reps = v.advance(2_000)
    assert [(r.kind, r.qty) for r in reps] == [(ReportKind.CANCELLED, 50)]
    assert "closing auction" in (reps[0].reason or "")


def test_without_our_orders_advance_runs_through_the_uncross() -> None:
    v = _venue()
    assert v.advance(2_000) == (2_000, [])
    assert v.result is not None
    assert v.result.volume == 0  # no buy at or above 100: no cross


def test_orders_that_cannot_rest_in_a_call_are_rejected_with_reasons() -> None:
    v = _venue()
    cases = {
        1: (buy(0, 1, 5, 100, tif=TimeInForce.IOC), "IOC"),
        2: (buy(0, 2, 5, 100, tif=TimeInForce.FOK), "FOK"),
        3: (buy(0, 3, 5, 100, post_only=True), "post-only"),
        4: (SubmitOrder(ts_ns=0, order_id=4, side=BUY, qty=5, order_type=OrderType.MIDPOINT_PEG), "midpoint"),
        5: (buy(0, 5, 5, 100, min_qty=2), "minimum quantity"),
        6: (buy(0, 6, 0, 100), "positive"),
    }
    for oid, (cmd, why) in cases.items():
        reps = v.handle(cmd)
        assert [r.kind for r in reps] == [ReportKind.REJECTED], oid
        assert why in (reps[0].reason or ""), (oid, reps[0].reason)
    assert v.handle(buy(0, 7, 5, 100))[0].kind is ReportKind.ACCEPTED
    assert v.handle(buy(0, 7, 5, 100))[0].reason == "duplicate order id"


def test_iceberg_takes_part_with_its_full_quantity() -> None:
    v = CallAuctionVenue("AUCT", INST, auction_ts_ns=1_000, background=_bg([(5, -1, 100, 30)]))
    assert v.handle(buy(10, 1, 25, 100, display_qty=5))[0].kind is ReportKind.ACCEPTED
    _, reps = v.advance(1_000)
    assert [(r.kind, r.qty) for r in reps] == [(ReportKind.FILL, 25)]


def test_partial_cancel_keeps_priority_and_size_up_loses_it() -> None:
    # only 10 lots offered (sell 10 @ 100 at t=5): time priority decides between our two bids
    v = CallAuctionVenue("AUCT", INST, auction_ts_ns=1_000, background=_bg([(5, -1, 100, 10)]))
    v.handle(buy(10, 1, 12, 100))
    v.handle(buy(11, 2, 10, 100))
    assert v.handle(CancelOrder(ts_ns=12, order_id=1, qty=4))[0].leaves_qty == 8  # keeps its place
    _, reps = v.advance(1_000)
    assert {(r.order_id, r.qty) for r in reps if r.kind is ReportKind.FILL} == {(1, 8), (2, 2)}

    v = CallAuctionVenue("AUCT", INST, auction_ts_ns=1_000, background=_bg([(5, -1, 100, 10)]))
    v.handle(buy(10, 1, 8, 100))
    v.handle(buy(11, 2, 10, 100))
    assert v.handle(ModifyOrder(ts_ns=12, order_id=1, qty=9))[0].kind is ReportKind.MODIFIED  # to the back
    _, reps = v.advance(1_000)
    assert {(r.order_id, r.qty) for r in reps if r.kind is ReportKind.FILL} == {(2, 10)}


def test_halt_rejects_submits_allows_cancels_and_resume_reopens_the_call() -> None:
    v = _venue(reopen_call_ns=500)
    v.handle(buy(10, 1, 5, 100))
    v.handle(buy(10, 2, 5, 100))
    assert v.halt(200) == []
    assert v.halted
    assert v.uncross_ts_ns is None
    r = v.handle(buy(210, 3, 5, 100))
    assert (r[0].kind, r[0].reason) == (ReportKind.REJECTED, "halted")
    assert v.handle(ModifyOrder(ts_ns=210, order_id=1, qty=2))[0].reason == "halted"
    assert v.handle(CancelOrder(ts_ns=220, order_id=2))[0].kind is ReportKind.CANCELLED
    assert v.advance(1_200) == (1_200, [])  # no uncross while halted
    assert v.result is None
    v.resume(1_300)
    assert v.uncross_ts_ns == 1_800  # re-opening auction after the 500 ns call
    reached, reps = v.advance(10_000)
    assert reached == 1_800
    assert [(r.order_id, r.kind, r.qty) for r in reps] == [(1, ReportKind.FILL, 5)]


def test_background_orders_are_turned_away_while_halted_and_counted() -> None:
    v = _venue()
    v.halt(0)
    v.advance(100)
    assert v.skipped["halted"] == 3
    assert v.indicative().rule is PriceRule.NO_TRADE


def test_resume_before_the_scheduled_time_keeps_the_scheduled_auction() -> None:
    v = _venue(reopen_call_ns=100)
    v.halt(10)
    v.resume(20)
    assert v.uncross_ts_ns == 1_000


def test_halt_records_of_a_tape_drive_the_venue() -> None:
    ev = empty_events(3)
    ev["kind"] = K_HALT
    ev["ts_event"] = [100, 1_500, 2_000]
    ev["qty"] = [TradingStatus.HALTED.code, TradingStatus.QUOTING.code, TradingStatus.TRADING.code]
    v = _venue(status_events=ev)
    v.handle(buy(10, 1, 5, 101))
    reached, _ = v.advance(1_999)
    assert (reached, v.result) == (1_999, None)  # halted over the scheduled auction time
    assert v.handle(buy(1_999, 2, 5, 101))[0].kind is ReportKind.ACCEPTED  # quoting: orders accepted
    reached, reps = v.advance(3_000)
    assert reached == 2_000  # TRADING: the re-opening cross
    assert sorted((r.order_id, r.qty) for r in reps if r.kind is ReportKind.FILL) == [(1, 5), (2, 5)]


def test_tape_with_other_kinds_or_backwards_times_is_refused() -> None:
    ev = empty_events(2)
    ev["kind"] = [K_HALT, K_ADD]
    with pytest.raises(DataError, match="status_events, row 2: status_events must hold HALT"):
        _venue(status_events=ev)
    with pytest.raises(DataError, match="background, row 2: arrival times go backwards"):
        _venue(background=_bg([(5, 1, 100, 1), (4, 1, 100, 1)]))


def test_a_command_after_the_auction_time_gets_the_uncross_reports_first() -> None:
    v = _venue()
    v.handle(buy(10, 1, 5, 101))
    reps = v.handle(buy(2_000, 2, 5, 101))
    assert [(r.order_id, r.kind, r.ts_ns) for r in reps] == [
        (1, ReportKind.FILL, 1_000),
        (2, ReportKind.REJECTED, 2_000),
    ]


def test_generated_background_is_seeded_and_crosses_around_the_reference() -> None:
    cfg = AuctionBackgroundConfig(n_orders=400)

    def draw(seed: int) -> np.ndarray:
        return generate_background_orders(
            cfg, start_ns=0, end_ns=10**9, reference_price=5_000, rng=np.random.default_rng(seed)
        )

    a, b, c = draw(1), draw(1), draw(2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert (np.diff(a["ts"]) >= 0).all()
    assert 0 <= a["ts"].min() <= a["ts"].max() <= 10**9
    v = CallAuctionVenue("A", INST, auction_ts_ns=10**9, reference_price=5_000, background=a)
    v.advance(10**9)
    res = v.result
    assert res is not None
    assert res.volume > 0
    assert abs(res.price - 5_000) <= 10  # type: ignore[operator]
    with pytest.raises(ConfigError, match="unknown key 'n'"):
        AuctionBackgroundConfig.from_dict({"n": 3})
