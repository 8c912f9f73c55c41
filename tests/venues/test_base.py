from __future__ import annotations

import pytest

from execsim.model import Instrument, LiquiditySide, OrderType, Side, TimeInForce
from execsim.venues.base import (
    CancelOrder,
    ExecutionReport,
    MockVenue,
    ModifyOrder,
    Quote,
    ReportKind,
    SubmitOrder,
    Venue,
    VenueConformanceError,
    check_venue,
    consolidated_quote,
)

INST = Instrument(symbol="X", venue="MOCK", tick_size="0.01")


def _mock() -> MockVenue:
    return MockVenue(name="MOCK", instrument=INST)


def test_mock_venue_passes_the_venue_conformance_checks() -> None:
    check_venue(_mock)


def test_conformance_checks_catch_a_venue_that_overfills() -> None:
    class Overfilling(MockVenue):
        def handle(self, command):  # type: ignore[no-untyped-def]
            reps = super().handle(command)
            return [
                ExecutionReport(**{**{f: getattr(r, f) for f in r.__slots__}, "qty": r.qty * 10})  # type: ignore[attr-defined]
                if r.kind is ReportKind.FILL
                else r
                for r in reps
            ]

    with pytest.raises(VenueConformanceError, match="must fill between 1 and"):
        check_venue(lambda: Overfilling(name="BAD", instrument=INST))


def test_mock_venue_market_order_fills_at_the_touch_and_cancels_the_rest() -> None:
    v = _mock()
    reps = v.handle(SubmitOrder(ts_ns=5, order_id=1, side=Side.SELL, qty=150, order_type=OrderType.MARKET))
    assert [r.kind for r in reps] == [ReportKind.ACCEPTED, ReportKind.FILL, ReportKind.CANCELLED]
    assert (reps[1].price, reps[1].qty, reps[1].liquidity) == (99, 100, LiquiditySide.TAKER)
    assert (reps[2].qty, reps[2].leaves_qty) == (50, 0)


def test_mock_venue_fok_post_only_modify_and_passive_fill() -> None:
    v = _mock()
    fok = v.handle(SubmitOrder(ts_ns=0, order_id=1, side=Side.BUY, qty=500, price=101, tif=TimeInForce.FOK))
    assert fok[0].kind is ReportKind.REJECTED
    po = v.handle(SubmitOrder(ts_ns=0, order_id=2, side=Side.BUY, qty=5, price=101, post_only=True))
    assert po[0].reason == "post-only order would take liquidity"
    v.handle(SubmitOrder(ts_ns=0, order_id=3, side=Side.BUY, qty=5, price=98))
    mod = v.handle(ModifyOrder(ts_ns=1, order_id=3, qty=8))
    assert (mod[0].kind, mod[0].leaves_qty) == (ReportKind.MODIFIED, 8)
    fill = v.trade_through(3, 3)
    assert (fill[0].qty, fill[0].leaves_qty, fill[0].liquidity) == (3, 5, LiquiditySide.MAKER)
    assert v.handle(CancelOrder(ts_ns=2, order_id=3))[0].qty == 5
    assert isinstance(v, Venue)


def test_consolidated_quote_takes_best_prices_and_sums_sizes_at_them() -> None:
    q = consolidated_quote(
        [Quote(99, 10, 101, 5), Quote(99, 7, 102, 50), Quote(98, 100, 101, 1), Quote(0, 0, 0, 0)]
    )
    assert q == Quote(99, 17, 101, 6)
    assert q.mid2 == 200
    assert consolidated_quote([]) == Quote()
    assert Quote().mid2 is None
