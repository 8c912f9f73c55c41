"""The L2 replay venue: hand-built tapes for every rule, conformance, real data, determinism."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execsim.data.schema import EVENT_DTYPE, F_LAST, K_CLEAR, K_HALT, K_SET_LEVEL, K_TRADE
from execsim.data.synthetic import default_instrument, iter_synthetic_l2, synthetic_l2_stream
from execsim.model import Instrument, LiquiditySide, OrderType, Side, TimeInForce
from execsim.venues.base import (
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    ReportKind,
    SubmitOrder,
    Venue,
    check_venue,
)
from execsim.venues.l2_replay import L2ReplayVenue
from execsim.venues.queue_models import ProbQueue, QueueModelConfig

INST = Instrument(symbol="T", venue="TEST", tick_size="1", lot_size="1")
_KIND = {"S": K_SET_LEVEL, "T": K_TRADE, "C": K_CLEAR, "H": K_HALT}

Row = tuple  # (ts, kind letter, side, price, qty[, last])


def tape(rows: list[Row]) -> np.ndarray:
    """Canonical events from ``(ts, kind, side, price, qty[, last=True])`` rows."""
    ev = np.zeros(len(rows), EVENT_DTYPE)
    for i, r in enumerate(rows):
        ts, k, side, px, q = r[:5]
        last = r[5] if len(r) > 5 else True
        ev[i] = (ts, ts, i, _KIND[k], side, px, q, 0, F_LAST if last else 0)
    return ev


# bids 100:50 99:40 98:30, asks 101:30 102:60 103:20, all at t=0 in one message
SNAP: list[Row] = [
    (0, "C", 0, 0, 0, False),
    (0, "S", 1, 100, 50, False),
    (0, "S", 1, 99, 40, False),
    (0, "S", 1, 98, 30, False),
    (0, "S", -1, 101, 30, False),
    (0, "S", -1, 102, 60, False),
    (0, "S", -1, 103, 20),
]


def venue(rows: list[Row] = (), **kw: object) -> L2ReplayVenue:  # type: ignore[assignment]
    v = L2ReplayVenue([tape(SNAP + list(rows))], INST, **kw)  # type: ignore[arg-type]
    v.advance(0)
    return v


def buy(oid: int, qty: int, price: int | None, ts: int = 0, **kw: object) -> SubmitOrder:
    return SubmitOrder(ts_ns=ts, order_id=oid, side=Side.BUY, qty=qty, price=price, **kw)  # type: ignore[arg-type]


def sell(oid: int, qty: int, price: int | None, ts: int = 0, **kw: object) -> SubmitOrder:
    return SubmitOrder(ts_ns=ts, order_id=oid, side=Side.SELL, qty=qty, price=price, **kw)  # type: ignore[arg-type]


def kinds(reps: list[ExecutionReport]) -> list[ReportKind]:
    return [r.kind for r in reps]


def fills(reps: list[ExecutionReport]) -> list[tuple[int, int, int]]:
    """(price, qty, leaves) of each fill."""
    return [(r.price, r.qty, r.leaves_qty) for r in reps if r.kind is ReportKind.FILL]


def qa(v: L2ReplayVenue, oid: int) -> float:
    return next(o.queue_ahead for o in v.open_orders() if o.order_id == oid)


# -- queue position and passive fills ----------------------------------------------------------
def test_risk_averse_queue_on_a_hand_tape_with_partial_fills() -> None:
    v = venue(
        [
            (10, "S", 1, 100, 45),  # 5 cancelled: behind us, but only 45 can be ahead
            (20, "T", -1, 100, 20),  # a sell takes 20 of the 45 ahead
            (21, "S", 1, 100, 25),  # the update reflecting that trade: nothing new
            (30, "S", 1, 100, 30),  # 5 join behind us
            (40, "T", -1, 100, 28),  # 25 ahead, then 3 reach us
            (41, "S", 1, 100, 2),
            (50, "T", -1, 100, 10),  # we are at the front: 7 fill us, 3 go behind
        ]
    )
    assert kinds(v.handle(buy(1, 10, 100))) == [ReportKind.ACCEPTED]
    assert qa(v, 1) == 50.0  # the back of a 50-lot level
    expected = {10: 45.0, 20: 25.0, 21: 25.0, 30: 25.0}
    for t, q in expected.items():
        assert v.advance(t) == (t, [])
        assert qa(v, 1) == q, t
    reached, reps = v.advance(100)
    assert reached == 40  # stops right after the fill
    assert len(reps) == 1
    r = reps[0]
    assert (r.kind, r.price, r.qty, r.leaves_qty, r.queue_ahead) == (ReportKind.FILL, 100, 3, 7, 25)
    assert (r.liquidity, r.ts_ns, r.order_id, r.venue) == (LiquiditySide.MAKER, 40, 1, "TEST")
    assert v.now == 40
    reached, reps = v.advance(100)
    assert reached == 50
    assert fills(reps) == [(100, 7, 0)]
    assert reps[0].queue_ahead == 0
    assert v.open_orders() == []
    assert v.advance(100) == (100, [])


def test_probabilistic_queue_advances_on_cancels_where_risk_averse_does_not() -> None:
    rows: list[Row] = [
        (10, "S", 1, 100, 80),  # 30 join behind us: front 50, back 30
        (20, "S", 1, 100, 60),  # 20 cancelled
        (30, "T", -1, 100, 40),
    ]
    ra = venue(rows)
    ra.handle(buy(1, 10, 100))
    pq = venue(rows, queue_model=ProbQueue("power", 1.0))
    pq.handle(buy(1, 10, 100))
    ra.advance(20)
    pq.advance(20)
    assert qa(ra, 1) == 50.0  # all 20 assumed behind us
    assert qa(pq, 1) == pytest.approx(50 - 20 * 50 / 80)  # 37.5: uniform over 80 lots
    assert ra.advance(30) == (30, [])  # 40 traded, 10 still ahead
    assert qa(ra, 1) == 10.0
    reached, reps = pq.advance(30)
    # 40 - 37.5 = 2.5 lots reach us: 2 whole lots fill
    assert (reached, fills(reps)) == (30, [(100, 2, 8)])
    assert reps[0].queue_ahead == 38  # the estimate 37.5, rounded


def test_queue_model_config_is_accepted_by_the_venue() -> None:
    v = venue(queue_model=QueueModelConfig(model="prob_log"))
    assert isinstance(v.queue_model, ProbQueue)
    assert v.queue_model.func == "log"


def test_trade_through_our_price_fills_the_whole_order_at_our_price() -> None:
    v = venue([(10, "T", -1, 99, 1), (20, "T", 1, 102, 1)])
    v.handle(buy(1, 10, 100))
    v.handle(sell(2, 7, 101))
    assert qa(v, 2) == 30.0
    reached, reps = v.advance(15)
    assert reached == 10
    assert fills(reps) == [(100, 10, 0)]
    assert reps[0].queue_ahead == 50
    reached, reps = v.advance(25)
    assert reached == 20
    assert fills(reps) == [(101, 7, 0)]
    assert reps[0].liquidity is LiquiditySide.MAKER


def test_a_trade_by_an_aggressor_on_our_side_does_not_move_our_queue() -> None:
    v = venue([(10, "T", 1, 100, 30)])  # a buy printed at our bid price (it crossed earlier)
    v.handle(buy(1, 10, 100))
    assert v.advance(20) == (20, [])
    assert qa(v, 1) == 50.0


def test_opposite_best_reaching_our_price_fills_us_at_message_end_only() -> None:
    v = venue(
        [
            (10, "S", -1, 100, 5, False),  # an ask at our bid price, removed again
            (10, "S", -1, 100, 0),  # within the same message: the book never crossed us
            (20, "S", -1, 100, 5),  # now it stays
        ]
    )
    v.handle(buy(1, 10, 100))
    assert v.advance(15) == (15, [])
    reached, reps = v.advance(30)
    assert reached == 20
    assert fills(reps) == [(100, 10, 0)]


def test_advance_stops_after_the_message_in_which_we_filled() -> None:
    v = venue([(10, "T", -1, 100, 60, False), (10, "S", 1, 100, 0), (20, "S", 1, 99, 41)])
    v.handle(buy(1, 10, 100))
    reached, reps = v.advance(30)
    assert reached == 10
    assert fills(reps) == [(100, 10, 0)]
    assert v.book.qty_at(Side.BUY, 100) == 0  # the whole message was applied
    assert v.book.qty_at(Side.BUY, 99) == 40  # but nothing after it
    assert v.advance(30) == (30, [])
    assert v.book.qty_at(Side.BUY, 99) == 41


def test_our_orders_at_one_price_fill_in_our_own_time_priority() -> None:
    v = venue([(10, "T", -1, 100, 65)])
    v.handle(buy(1, 10, 100))
    v.handle(buy(2, 10, 100))
    _, reps = v.advance(20)
    # 65 lots: 50 market lots ahead, then order 1 (10), then 5 for order 2
    assert [(r.order_id, r.qty, r.leaves_qty) for r in reps] == [(1, 10, 0), (2, 5, 5)]
    assert qa(v, 2) == 0.0


def test_a_sweep_through_hundreds_of_our_orders_fills_every_one() -> None:
    n = 300
    v = venue([(10, "T", -1, 97 - n, 5)])  # a sell printing below all of them
    for k in range(n):
        v.handle(buy(k + 1, k + 1, 97 - k))  # a grid of bids below the book, qty k + 1
    reached, reps = v.advance(20)
    assert reached == 10
    assert sorted((r.order_id, r.qty, r.leaves_qty) for r in reps) == [(k + 1, k + 1, 0) for k in range(n)]
    assert v.open_orders() == []


def test_clear_and_snapshot_keep_the_queue_when_the_level_comes_back() -> None:
    v = venue(
        [
            (10, "T", -1, 100, 20),  # 30 ahead
            (20, "C", 0, 0, 0, False),
            (20, "S", 1, 100, 45, False),  # the snapshot re-sets our level
            (20, "S", -1, 101, 30),
            (30, "C", 0, 0, 0, False),
            (30, "S", 1, 99, 40, False),  # our level is not in this snapshot
            (30, "S", -1, 101, 30),
            (40, "T", -1, 100, 1),
        ]
    )
    v.handle(buy(1, 10, 100))
    v.advance(20)
    # 50 -> 45 with 20 traded: no cancellation, queue 30 stays (under the 45 of the level)
    assert qa(v, 1) == 30.0
    v.advance(30)
    assert qa(v, 1) == 0.0  # the level is gone: we are alone at the front
    _, reps = v.advance(40)
    assert fills(reps) == [(100, 1, 9)]


# -- taking liquidity ---------------------------------------------------------------------------
def test_fok_fills_completely_across_levels_or_is_rejected() -> None:
    v = venue()
    reps = v.handle(buy(1, 100, 102, tif=TimeInForce.FOK))  # 30 + 60 available up to 102
    assert kinds(reps) == [ReportKind.REJECTED]
    assert reps[0].reason == "fill-or-kill order cannot be filled completely"
    reps = v.handle(buy(2, 80, 102, tif=TimeInForce.FOK))
    assert kinds(reps) == [ReportKind.ACCEPTED, ReportKind.FILL, ReportKind.FILL]
    assert fills(reps) == [(101, 30, 50), (102, 50, 0)]
    assert all(r.liquidity is LiquiditySide.TAKER for r in reps[1:])
    assert v.open_orders() == []


def test_post_only_is_rejected_when_it_would_take_and_rests_otherwise() -> None:
    v = venue()
    reps = v.handle(buy(1, 5, 101, post_only=True))
    assert kinds(reps) == [ReportKind.REJECTED]
    assert reps[0].reason == "post-only order would take liquidity"
    assert kinds(v.handle(buy(2, 5, 100, post_only=True))) == [ReportKind.ACCEPTED]
    assert qa(v, 2) == 50.0


def test_market_order_walks_the_book_and_cancels_its_remainder() -> None:
    v = venue()
    reps = v.handle(sell(1, 130, None, order_type=OrderType.MARKET))
    assert kinds(reps)[0] is ReportKind.ACCEPTED
    assert fills(reps) == [(100, 50, 80), (99, 40, 40), (98, 30, 10)]
    assert (reps[-1].kind, reps[-1].qty, reps[-1].leaves_qty) == (ReportKind.CANCELLED, 10, 0)
    assert reps[-1].reason == "market order remainder cancelled: no contra liquidity"


def test_ioc_cancels_and_a_limit_order_rests_its_remainder() -> None:
    v = venue()
    reps = v.handle(buy(1, 40, 101, tif=TimeInForce.IOC))
    assert fills(reps) == [(101, 30, 10)]
    assert (reps[-1].kind, reps[-1].qty) == (ReportKind.CANCELLED, 10)
    v = venue()
    reps = v.handle(buy(2, 40, 101))
    assert kinds(reps) == [ReportKind.ACCEPTED, ReportKind.FILL]
    [o] = v.open_orders()
    assert (o.order_id, o.price, o.leaves_qty, o.queue_ahead) == (2, 101, 10, 0.0)  # no bids at 101


def test_depletion_hides_what_we_took_until_the_tape_resets_the_level() -> None:
    v = venue([(5, "S", -1, 101, 25)])
    assert fills(v.handle(buy(1, 20, 101, tif=TimeInForce.IOC))) == [(101, 20, 0)]
    q = v.quote()
    assert (q.ask_px, q.ask_qty) == (101, 10)
    assert fills(v.handle(buy(2, 20, 101, tif=TimeInForce.IOC))) == [(101, 10, 10)]
    q = v.quote()
    assert (q.ask_px, q.ask_qty) == (102, 60)  # 101 is used up
    assert v.book.qty_at(Side.SELL, 101) == 30  # the replayed book itself is untouched
    v.advance(5)
    q = v.quote()
    assert (q.ask_px, q.ask_qty) == (101, 25)  # the tape re-set the level: ours is forgotten


def test_without_depletion_every_order_sees_the_recorded_depth() -> None:
    v = venue(depletion="none")
    assert fills(v.handle(buy(1, 20, 101, tif=TimeInForce.IOC))) == [(101, 20, 0)]
    assert fills(v.handle(buy(2, 20, 101, tif=TimeInForce.IOC))) == [(101, 20, 0)]
    assert v.quote().ask_qty == 30


def test_bad_orders_are_rejected_with_reasons() -> None:
    v = venue()
    cases = [
        buy(1, 0, 100),
        buy(2, 5, None),
        buy(3, 5, 100, order_type=OrderType.MARKET),
        buy(4, 5, None, order_type=OrderType.MIDPOINT_PEG),
        buy(5, 5, 100, display_qty=1),
        buy(6, 5, 100, tif=TimeInForce.IOC, post_only=True),
    ]
    for c in cases:
        reps = v.handle(c)
        assert kinds(reps) == [ReportKind.REJECTED], c
        assert reps[0].reason, c
    assert kinds(v.handle(buy(7, 5, 97))) == [ReportKind.ACCEPTED]
    assert v.handle(buy(7, 5, 97))[0].reason == "duplicate order id"


# -- cancel and modify ---------------------------------------------------------------------------
def test_partial_cancel_and_size_down_keep_the_queue_size_up_and_price_change_lose_it() -> None:
    v = venue([(10, "T", -1, 100, 20)])
    v.handle(buy(1, 10, 100))
    v.advance(10)
    assert qa(v, 1) == 30.0
    reps = v.handle(CancelOrder(ts_ns=11, order_id=1, qty=3))
    assert [(r.kind, r.qty, r.leaves_qty) for r in reps] == [(ReportKind.CANCELLED, 3, 7)]
    assert qa(v, 1) == 30.0
    reps = v.handle(ModifyOrder(ts_ns=12, order_id=1, qty=5))
    assert [(r.kind, r.leaves_qty) for r in reps] == [(ReportKind.MODIFIED, 5)]
    assert qa(v, 1) == 30.0  # size-down keeps priority
    v.handle(ModifyOrder(ts_ns=13, order_id=1, qty=8))
    assert qa(v, 1) == 50.0  # size-up: back of the (recorded, still 50-lot) level
    reps = v.handle(ModifyOrder(ts_ns=14, order_id=1, price=99))
    assert (reps[0].kind, reps[0].price, reps[0].leaves_qty) == (ReportKind.MODIFIED, 99, 8)
    assert qa(v, 1) == 40.0
    reps = v.handle(ModifyOrder(ts_ns=15, order_id=1, price=101))  # now marketable: it trades
    assert kinds(reps) == [ReportKind.MODIFIED, ReportKind.FILL]
    assert fills(reps) == [(101, 8, 0)]
    assert reps[1].liquidity is LiquiditySide.TAKER
    assert v.open_orders() == []


def test_unknown_cancel_and_modify_are_rejected_and_a_full_cancel_stops_fills() -> None:
    v = venue([(10, "T", -1, 99, 5)])
    assert v.handle(CancelOrder(ts_ns=0, order_id=9))[0].reason == "unknown order id"
    assert kinds(v.handle(ModifyOrder(ts_ns=0, order_id=9, qty=2))) == [ReportKind.REJECTED]
    v.handle(buy(1, 10, 100))
    reps = v.handle(CancelOrder(ts_ns=1, order_id=1))
    assert [(r.kind, r.qty, r.leaves_qty) for r in reps] == [(ReportKind.CANCELLED, 10, 0)]
    assert v.advance(20) == (20, [])  # the trade through 100 finds nothing of ours


def test_modify_of_a_post_only_order_into_the_spread_is_rejected_when_it_would_take() -> None:
    v = venue()
    v.handle(buy(1, 5, 100, post_only=True))
    reps = v.handle(ModifyOrder(ts_ns=0, order_id=1, price=101))
    assert kinds(reps) == [ReportKind.REJECTED]
    assert reps[0].reason == "post-only order would take liquidity"
    assert [(o.price, o.queue_ahead) for o in v.open_orders()] == [(100, 50.0)]


# -- time and halts ---------------------------------------------------------------------------
def test_handle_replays_the_tape_up_to_the_command_and_returns_fills_first() -> None:
    v = venue([(10, "T", -1, 99, 1), (20, "S", -1, 101, 10)])
    v.handle(buy(1, 10, 100))
    reps = v.handle(buy(2, 5, 101, ts=20, tif=TimeInForce.IOC))
    assert [(r.order_id, r.kind) for r in reps] == [
        (1, ReportKind.FILL),  # at 10, before the command
        (2, ReportKind.ACCEPTED),
        (2, ReportKind.FILL),
    ]
    assert reps[0].ts_ns == 10
    assert reps[1].ts_ns == 20
    assert v.now == 20
    assert v.book.qty_at(Side.SELL, 101) == 10  # the event at exactly ts 20 came first


def test_halt_rejects_submits_and_stops_fills_until_trading_resumes() -> None:
    v = venue(
        [
            (10, "H", 0, 0, 0),  # halted
            (20, "T", -1, 99, 5),  # a print during the halt: not for us
            (30, "H", 0, 0, 2),  # trading again
            (40, "T", -1, 99, 5),
        ]
    )
    v.handle(buy(1, 10, 100))
    assert v.advance(25) == (25, [])
    reps = v.handle(buy(2, 5, 97, ts=25))
    assert kinds(reps) == [ReportKind.REJECTED]
    assert reps[0].reason == "halted"
    assert kinds(v.handle(ModifyOrder(ts_ns=25, order_id=1, price=99))) == [ReportKind.REJECTED]
    assert kinds(v.handle(ModifyOrder(ts_ns=25, order_id=1, qty=9))) == [ReportKind.MODIFIED]
    reached, reps = v.advance(50)
    assert reached == 40
    assert fills(reps) == [(100, 9, 0)]
    assert kinds(v.handle(buy(3, 5, 97, ts=50))) == [ReportKind.ACCEPTED]


def test_a_cross_during_a_halt_fills_us_when_trading_resumes() -> None:
    v = venue([(10, "H", 0, 0, 0), (20, "S", -1, 100, 5), (30, "H", 0, 0, 2)])
    v.handle(buy(1, 10, 100))
    assert v.advance(25) == (25, [])  # an ask at our bid while halted: nothing fills
    reached, reps = v.advance(40)
    assert reached == 30
    assert fills(reps) == [(100, 10, 0)]


def test_price_shift_presents_shifted_prices_and_the_market_moves_through_our_orders() -> None:
    v = L2ReplayVenue([tape(SNAP)], INST, price_shift=lambda t: 0 if t < 100 else 5)
    v.advance(0)
    v.handle(buy(1, 10, 100))
    v.handle(sell(2, 7, 102))
    v.handle(sell(4, 200, 103))
    assert v.quote().bid_px == 100
    v.advance(100)  # the shift is evaluated at the start of a call: still 0 here
    assert v.shift == 0
    reps = v.handle(buy(3, 1, 90, ts=100))
    # shift 5: our asks at 102 and 103 now sit on the recorded levels 97 and 98, under the
    # best bid 100. Oldest first, each trades at its own price with the bids that cross it:
    # order 2 takes 7 of the 50 at 100; order 4 the other 43, then 40 at 99 and 30 at 98.
    assert [(r.order_id, r.kind, r.price, r.qty, r.leaves_qty) for r in reps] == [
        (2, ReportKind.FILL, 102, 7, 0),
        (4, ReportKind.FILL, 103, 113, 87),
        (3, ReportKind.ACCEPTED, 0, 0, 1),
    ]
    assert reps[0].liquidity is LiquiditySide.MAKER
    assert reps[1].queue_ahead == 20  # its estimate before the shift: behind 20 at 103
    q = v.quote()
    assert (q.bid_px, q.bid_qty, q.ask_px) == (0, 0, 106)  # we took every bid (until the tape resets them)
    o = {x.order_id: x for x in v.open_orders()}
    # our bid keeps its price 100 = recorded 95: an empty level, so nothing ahead
    assert (o[1].price, o[1].queue_ahead) == (100, 0.0)
    assert (o[3].price, o[3].queue_ahead) == (90, 0.0)
    assert (o[4].price, o[4].leaves_qty) == (103, 87)


# -- contract, real data, determinism, speed ---------------------------------------------------
def _synthetic_venue(n_events: int = 20_000, **kw: object) -> L2ReplayVenue:
    v = L2ReplayVenue(
        iter_synthetic_l2(seed=11, n_events=n_events, batch_size=4096), default_instrument(), **kw
    )  # type: ignore[arg-type]
    v.advance(v.first_ts())
    return v


def test_venue_implements_the_protocol_and_passes_check_venue() -> None:
    assert isinstance(_synthetic_venue(), Venue)
    check_venue(_synthetic_venue)
    check_venue(lambda: _synthetic_venue(queue_model=ProbQueue("log")))


def market_maker(
    v: L2ReplayVenue, *, step_ns: int, qty: int, until_ns: int | None = None
) -> list[ExecutionReport]:
    """Every ``step_ns`` cancel our quotes and re-place one bid and one ask at the touch."""
    out: list[ExecutionReport] = []
    live: set[int] = set()
    oid = 0
    t = v.now
    while not v.exhausted and (until_ns is None or t < until_ns):
        t += step_ns
        while True:
            reached, reps = v.advance(t)
            out += reps
            live -= {r.order_id for r in reps if r.leaves_qty == 0}
            if reached >= t:
                break
        for o in sorted(live):
            out += v.handle(CancelOrder(ts_ns=t, order_id=o))
        live.clear()
        q = v.quote()
        for side, px in ((Side.BUY, q.bid_px), (Side.SELL, q.ask_px)):
            if px:
                oid += 1
                reps = v.handle(SubmitOrder(ts_ns=t, order_id=oid, side=side, qty=qty, price=px))
                out += reps
                if reps[-1].kind is ReportKind.ACCEPTED:
                    live.add(oid)
    return out


def _check_accounting(reports: list[ExecutionReport]) -> None:
    """Fills never exceed an order and leaves always equal what is left."""
    by_order: dict[int, int] = {}
    for r in reports:
        if r.kind is ReportKind.ACCEPTED:
            by_order[r.order_id] = r.leaves_qty
        elif r.kind in (ReportKind.FILL, ReportKind.CANCELLED):
            by_order[r.order_id] -= r.qty
            assert r.qty > 0
            assert by_order[r.order_id] == r.leaves_qty >= 0, r


def test_twin_runs_on_the_same_tape_give_identical_reports() -> None:
    def one() -> list[ExecutionReport]:
        v = _synthetic_venue(60_000, queue_model=ProbQueue("power", 2.0))
        return market_maker(v, step_ns=100_000_000, qty=5)

    a, b = one(), one()
    assert a == b
    assert sum(r.kind is ReportKind.FILL for r in a) > 10  # the run did exercise fills
    _check_accounting(a)


@pytest.mark.shared_data
def test_binance_capture_a_resting_bid_at_the_touch_eventually_fills(shared_data: Path) -> None:
    from execsim.data.feeds.binance import BinanceFeed

    d = shared_data / "binance_hftbacktest" / "spot"
    files = [d / "btcusdt_20240808.gz", d / "btcusdt_20240809.gz"]
    if not all(f.is_file() for f in files):
        pytest.skip(f"Binance spot capture not found under {d}")
    feed = BinanceFeed(files)
    v = L2ReplayVenue(feed.batches(), feed.instrument, queue_model=ProbQueue("power", 2.0))
    v.advance(v.first_ts())
    while v.quote().bid_qty == 0:  # trades print before the REST snapshot arrives
        v.advance(v.now + 100_000_000)
    q = v.quote()
    assert 0 < q.bid_px < q.ask_px
    qty = feed.instrument.qty_to_lots("0.001")
    v.handle(buy(1, qty, q.bid_px, ts=v.now))
    start = v.now
    got: list[ExecutionReport] = []
    while not got and not v.exhausted:
        _, got = v.advance(v.now + 1_000_000_000)
    assert got, "a bid at the touch never filled in 10 minutes of BTCUSDT"
    r = got[0]
    assert (r.order_id, r.price, r.liquidity) == (1, q.bid_px, LiquiditySide.MAKER)
    assert 0 < r.qty <= qty
    assert r.ts_ns > start
    assert v.stats["events"] > 0


def _mm_rate(n_events: int) -> tuple[float, dict[str, int], int]:
    # the benchmark's density: 5 M events per hour of market time
    ev = synthetic_l2_stream(seed=3, n_events=n_events, duration_ns=n_events * 720_000)
    batches: Iterator[np.ndarray] = (ev[i : i + 1_000_000] for i in range(0, n_events, 1_000_000))
    v = L2ReplayVenue(batches, default_instrument(), queue_model=ProbQueue("power", 2.0))
    v.advance(v.first_ts())
    t0 = time.process_time()
    reps = market_maker(v, step_ns=100_000_000, qty=5)
    cpu = time.process_time() - t0
    return v.stats["events"] / cpu, v.stats, sum(r.kind is ReportKind.FILL for r in reps)


def test_market_making_workload_runs_and_reports_its_speed() -> None:
    rate, stats, n_fills = _mm_rate(300_000)
    assert stats["events"] == 300_000
    assert n_fills > 0
    print(f"\nL2ReplayVenue market-making workload, 300k events: {rate / 1e6:.2f} M events/CPU-s")
    assert rate > 50_000  # an order of magnitude below anything plausible: catches a Python loop


@pytest.mark.slow
def test_market_making_workload_speed_on_5m_events() -> None:
    rate, stats, n_fills = _mm_rate(5_000_000)
    print(
        f"\nL2ReplayVenue market-making workload, 5M events: {rate / 1e6:.2f} M events/CPU-s, {n_fills} fills"
    )
    assert stats["events"] == 5_000_000
    assert rate > 200_000


# -- properties ---------------------------------------------------------------------------------
_event = st.tuples(
    st.sampled_from(["S", "T"]),
    st.sampled_from([1, -1]),
    st.integers(97, 104),
    st.integers(0, 80),
)


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(_event, min_size=1, max_size=40),
    orders=st.lists(
        st.tuples(st.sampled_from([1, -1]), st.integers(97, 104), st.integers(1, 30)), max_size=4
    ),
    model=st.sampled_from(["risk", "power", "log"]),
)
def test_random_tapes_never_overfill_and_keep_the_books(
    events: list[tuple[str, int, int, int]], orders: list[tuple[int, int, int]], model: str
) -> None:
    rows: list[Row] = []
    for k, (kind, side, px, q) in enumerate(events):
        if kind == "T":
            q = max(q, 1)
        rows.append((10 + k, kind, side, px, q))
    qm = {"risk": None, "power": ProbQueue("power", 3.0), "log": ProbQueue("log")}[model]
    v = venue(rows, queue_model=qm)
    reps: list[ExecutionReport] = []
    for i, (side, px, q) in enumerate(orders):
        reps += v.handle(SubmitOrder(ts_ns=0, order_id=i + 1, side=Side.from_code(side), qty=q, price=px))
    while True:
        reached, got = v.advance(10_000)
        reps += got
        if reached >= 10_000:
            break
    _check_accounting(reps)
    for o in v.open_orders():
        assert 0.0 <= o.queue_ahead <= max(o.level_qty, 0)
    assert all(r.liquidity is LiquiditySide.MAKER for r in reps if r.kind is ReportKind.FILL and r.ts_ns > 0)
