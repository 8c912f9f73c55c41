"""The smart order router: routing rules on hand-made books, and sessions with lit and dark venues."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from execsim.backtest import RunConfig, run_session
from execsim.core.errors import ConfigError
from execsim.data.synthetic import default_instrument
from execsim.execution.algos import ChildRole, SmartOrderRouter
from execsim.execution.strategy import OrderInfo, ParentInfo
from execsim.model.enums import OrderStatus, OrderType, Side, TimeInForce
from execsim.model.instrument import Instrument
from execsim.venues.base import MockVenue, Quote
from execsim.venues.contra_flow import CONTRA_DTYPE, ScheduledContraFlow
from execsim.venues.dark import DarkMidpointPool

S = 1_000_000_000


class Book:
    """A fixed book: levels best first."""

    def __init__(self, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> None:
        self.bids, self.asks = bids, asks

    def best_bid(self) -> tuple[int, int] | None:
        return self.bids[0] if self.bids else None

    def best_ask(self) -> tuple[int, int] | None:
        return self.asks[0] if self.asks else None

    def top(self, n_levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        def side(levels: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
            px, qty = np.zeros(n_levels, np.int64), np.zeros(n_levels, np.int64)
            for i, (p, q) in enumerate(levels[:n_levels]):
                px[i], qty[i] = p, q
            return px, qty

        bp, bq = side(self.bids)
        ap, aq = side(self.asks)
        return bp, bq, ap, aq


class RecordingContext:
    """A strategy context over fixed per-venue books that records what the strategy sends."""

    def __init__(self, books: dict[str, Book]) -> None:
        self.books = books
        self.now = 0
        self.sent: list[dict[str, Any]] = []
        self.timers: list[tuple[int, Any]] = []
        self.orders: dict[int, OrderInfo] = {}
        self.cancels: list[tuple[int, int | None]] = []

    instrument: Instrument = default_instrument()
    rng = np.random.default_rng(0)

    @property
    def venues(self) -> tuple[str, ...]:
        return tuple(self.books)

    def book(self, venue: str | None = None) -> Book:
        return self.books[venue or self.venues[0]]

    def submit(self, side: Side, qty: int, price: int | None = None, **kw: Any) -> int:
        oid = len(self.orders) + 1
        self.sent.append({"side": side, "qty": qty, "price": price, **kw})
        self.orders[oid] = OrderInfo(
            order_id=oid, venue=kw["venue"], side=side, order_type=kw.get("order_type", OrderType.LIMIT),
            tif=kw.get("tif", TimeInForce.GTC), price=price, qty=qty, status=OrderStatus.SUBMITTED,
            filled_qty=0, avg_price=None, ts_submit=self.now, tag=kw.get("tag", ""),
            parent_id=kw["parent_id"],
        )  # fmt: skip
        return oid

    def new_parent(self, side: Side, qty: int, **kw: Any) -> ParentInfo:
        return ParentInfo(parent_id=1, side=side, qty=qty, ts_decision=self.now, arrival_bid=0, arrival_ask=0)

    def order(self, order_id: int) -> OrderInfo:
        return self.orders[order_id]

    def open_orders(self) -> list[OrderInfo]:
        return [o for o in self.orders.values() if o.is_open]

    def cancel(self, order_id: int, qty: int | None = None) -> None:
        self.cancels.append((order_id, qty))

    def modify(self, order_id: int, **kw: Any) -> None:
        pass

    def set_timer(self, at_ns: int, payload: Any = None) -> None:
        self.timers.append((at_ns, payload))

    def subscribe_trades(self) -> None:
        pass

    def log(self, message: str) -> None:
        pass


def started(books: dict[str, Book], **cfg: Any) -> tuple[SmartOrderRouter, RecordingContext]:
    """A router started on the books (its first decision taken), with what it sent."""
    ctx = RecordingContext(books)
    sor = SmartOrderRouter(SmartOrderRouter.Config(**{"n_slices": 1, "duration_s": 10, **cfg}))
    sor.on_start(ctx)  # type: ignore[arg-type]
    at, payload = ctx.timers[0]
    assert at == 0
    sor.on_timer(ctx, payload)  # type: ignore[arg-type]
    return sor, ctx


def routes(ctx: RecordingContext) -> list[tuple[str, int, int | None, str]]:
    return [(s["venue"], s["qty"], s["price"], str(s["tif"])) for s in ctx.sent]


TWO = {
    "A": Book(bids=[(99, 50), (98, 10)], asks=[(101, 30), (102, 50)]),
    "B": Book(bids=[(99, 10), (97, 80)], asks=[(100, 20), (101, 40)]),
}


def test_sor_takes_the_best_prices_across_venues_level_by_level() -> None:
    # levels by price: B 100x20; at 101: B (40 shown) before A (30 shown); then A 102
    _, ctx = started(TWO, qty=70, placement="aggressive", cross_ticks=2)
    assert routes(ctx) == [("A", 10, 101, "ioc"), ("B", 60, 101, "ioc")]
    _, ctx = started(TWO, qty=100, placement="aggressive", cross_ticks=2)
    assert routes(ctx) == [("A", 40, 102, "ioc"), ("B", 60, 101, "ioc")]


def test_sor_sends_what_the_books_do_not_show_to_the_best_venue_at_its_limit() -> None:
    # 140 lots shown within 102; the other 60 go to B (best price) limited at 100 + 2
    _, ctx = started(TWO, qty=200, placement="aggressive", cross_ticks=2)
    assert routes(ctx) == [("A", 80, 102, "ioc"), ("B", 120, 102, "ioc")]


def test_sor_never_crosses_beyond_the_parent_limit() -> None:
    _, ctx = started(TWO, qty=50, placement="aggressive", cross_ticks=2, limit_price=100)
    assert routes(ctx) == [("B", 50, 100, "ioc")]


def test_sor_sells_into_the_highest_bids() -> None:
    _, ctx = started(TWO, side="sell", qty=70, placement="aggressive", cross_ticks=1)
    # bids at 99: A shows 50, B 10 -> A first; 98 (A) is within one tick
    assert routes(ctx) == [("A", 60, 98, "ioc"), ("B", 10, 99, "ioc")]


def test_sor_joins_the_best_bid_on_the_venue_with_the_shortest_queue() -> None:
    _, ctx = started(TWO, qty=30)
    assert routes(ctx) == [("B", 30, 99, "gtc")]
    assert ctx.sent[0]["post_only"] is True
    better_a = {"A": Book(bids=[(100, 500)], asks=[(102, 5)]), "B": TWO["B"]}
    _, ctx = started(better_a, qty=30)
    assert routes(ctx) == [("A", 30, 100, "gtc")]


def test_sor_rests_a_midpoint_peg_in_the_dark_pool_first() -> None:
    books = {**TWO, "DARK": Book(bids=[], asks=[])}
    sor, ctx = started(books, qty=100, dark_venue="DARK", dark_fraction=0.4, dark_min_qty=10)
    assert sor.lit == ["A", "B"]
    dark = ctx.sent[0]
    assert (dark["venue"], dark["qty"], dark["order_type"], dark["min_qty"]) == (
        "DARK",
        40,
        OrderType.MIDPOINT_PEG,
        10,
    )
    assert sor.children[1] is ChildRole.DARK
    # the lit side posts the rest of the (single) slice passively: 100 - 40 held in the dark
    assert routes(ctx)[1:] == [("B", 60, 99, "gtc")]


def test_sor_validates_its_venues() -> None:
    with pytest.raises(ConfigError, match="unknown venue 'C'"):
        started(TWO, lit_venues=["A", "C"])
    with pytest.raises(ConfigError, match="both lit and dark"):
        SmartOrderRouter.Config.from_dict({"lit_venues": ["A"], "dark_venue": "A"})


# -- sessions ---------------------------------------------------------------------------------------
def _cfg() -> RunConfig:
    return RunConfig.from_dict(
        {
            "data": {"kind": "synthetic", "n_events": 50_000, "minutes": 5},
            "venues": [{"kind": "mock", "name": "A"}],
            "strategy": {"class": "execsim.execution.algos:SmartOrderRouter"},
        }
    )


def _mock(name: str, bid: int, ask: int, qty: int = 100) -> MockVenue:
    return MockVenue(name=name, instrument=default_instrument(), book=Quote(bid, qty, ask, qty))


def test_sor_session_routes_to_the_venue_with_the_better_price() -> None:
    sor = SmartOrderRouter(
        SmartOrderRouter.Config(qty=150, start_offset_s=1, duration_s=30, n_slices=3, placement="aggressive")
    )
    res = run_session(_cfg(), strategy=sor, venues=[_mock("A", 99_990, 100_004), _mock("B", 99_990, 100_002)])
    fills = res.fills.to_pylist()
    assert sum(f["qty"] for f in fills) == 150
    assert {f["venue"] for f in fills} == {"B"}
    assert {f["price"] for f in fills} == {100_002}


def test_sor_session_fills_in_the_dark_pool_and_lets_the_lit_schedule_use_the_rest() -> None:
    lit = _mock("A", 99_999, 100_001, qty=500)
    t0 = 1_704_205_800 * S  # the synthetic market's start
    # a 60-lot seller arrives in the pool 5 s in, a 50-lot one at 25 s (min size 20 each)
    flow = ScheduledContraFlow(
        np.array([(t0 + 5 * S, -1, 60, 20), (t0 + 25 * S, -1, 50, 20)], dtype=CONTRA_DTYPE)
    )
    dark = DarkMidpointPool(
        "DARK",
        default_instrument(),
        lit_quote=lit.quote,
        contra=flow,
        rng=np.random.default_rng(0),
        start_ns=t0,
    )
    sor = SmartOrderRouter(
        SmartOrderRouter.Config(
            qty=200, start_offset_s=1, duration_s=40, n_slices=4, placement="aggressive", cross_ticks=5,
            dark_venue="DARK", dark_fraction=0.5, dark_min_qty=20,
        )
    )  # fmt: skip
    res = run_session(_cfg(), strategy=sor, venues=[lit, dark])
    fills = res.fills.to_pylist()
    assert sum(f["qty"] for f in fills) == sor.filled == 200
    dark_fills = [f for f in fills if f["venue"] == "DARK"]
    # the first seller meets our 100-lot peg in full at the lit mid (100_000)
    assert dark_fills[0]["qty"] == 60
    assert dark_fills[0]["price"] == 100_000
    assert dark_fills[0]["liquidity"] == "maker"
    orders = res.orders.to_pylist()
    assert orders[0]["venue"] == "DARK"
    assert orders[0]["order_type"] == "midpoint_peg"
    assert orders[0]["qty"] == 100
    # dark fills count towards the schedule: the lit side buys only what the schedule still needs
    # (slice 0: 50; slice 1: nothing, 110 are filled; slice 2: 150 - 110; slice 3: the last 10,
    # after the second seller took the remaining 40 of the peg at 25 s)
    assert [f["qty"] for f in dark_fills] == [60, 40]
    lit = [(o["ts_submit"] - sor.start_ns, o["qty"]) for o in orders if o["venue"] == "A"]
    assert lit == [(0, 50), (20 * S, 40), (30 * S, 10)]
    assert sor.routed["DARK"] >= 100
    assert sor.max_committed <= 200
