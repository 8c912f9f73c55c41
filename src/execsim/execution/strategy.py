"""The strategy API: plain Python callbacks over a context that can trade.

A strategy is an object with any of these methods (all optional); the session calls them at
*the strategy's* time — market data arrives after the market-data latency, order reports after
the response latency — and every order it sends reaches the venue after the order-entry
latency::

    on_start(ctx)                      once, at the session start
    on_book(ctx)                       at the book-sampling interval it subscribed to
    on_trade(ctx, trade)               each market trade print, if subscribed
    on_timer(ctx, payload)             when a timer it set fires
    on_order_update(ctx, order, report)  any change of one of its orders
    on_fill(ctx, fill)                 each fill of one of its orders (after on_order_update)
    on_stop(ctx)                       once, at the session end

Between callbacks nothing runs in Python: the compiled engine replays the market up to the
next moment the strategy must decide. A strategy therefore subscribes explicitly to what it
needs (``ctx.subscribe_trades()``, ``ctx.subscribe_book(interval_ns)``, timers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from execsim.model.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from execsim.model.instrument import Instrument

__all__ = ["BookView", "FillInfo", "OrderInfo", "ParentInfo", "Strategy", "StrategyContext", "TradeInfo"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderInfo:
    """A snapshot of one of our orders as the strategy knows it (after response latency)."""

    order_id: int
    venue: str
    side: Side
    order_type: OrderType
    tif: TimeInForce
    price: int | None
    qty: int
    status: OrderStatus
    filled_qty: int
    avg_price: float | None
    ts_submit: int
    tag: str = ""
    parent_id: int = 0

    @property
    def leaves_qty(self) -> int:
        """Quantity still open (0 once the order is done)."""
        done = self.status in _DONE
        return 0 if done else self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        """True until the order is filled, cancelled, rejected or expired."""
        return self.status not in _DONE


_DONE = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentInfo:
    """A parent (client) order that child orders work: what TCA measures against.

    ``ts_decision`` is when the strategy created it; ``arrival_bid``/``arrival_ask`` the best
    bid and offer the strategy saw then (0 when a side was empty).
    """

    parent_id: int
    side: Side
    qty: int
    ts_decision: int
    arrival_bid: int
    arrival_ask: int
    limit_price: int | None = None
    algo: str = ""
    venue: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FillInfo:
    """One fill of one of our orders."""

    order_id: int
    venue: str
    side: Side
    price: int
    qty: int
    liquidity: LiquiditySide
    fee: float
    ts_venue: int
    ts_recv: int
    queue_ahead: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeInfo:
    """A market trade print (ticks, lots); ``side`` is the aggressor side, NONE if unknown."""

    ts_event: int
    ts_recv: int
    price: int
    qty: int
    side: Side


class BookView(Protocol):
    """The strategy's view of a book, as of its own receive time."""

    def best_bid(self) -> tuple[int, int] | None:
        """(price, qty) of the best bid, or None."""
        ...

    def best_ask(self) -> tuple[int, int] | None:
        """(price, qty) of the best ask, or None."""
        ...

    def top(self, n_levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(bid_px, bid_qty, ask_px, ask_qty) of the top levels, best first; empty: qty 0."""
        ...


class StrategyContext(Protocol):
    """What a strategy can see and do; implemented by the backtest session (and live trading)."""

    @property
    def now(self) -> int:
        """The strategy's current time (ns)."""
        ...

    @property
    def instrument(self) -> Instrument:
        """The traded instrument."""
        ...

    @property
    def venues(self) -> tuple[str, ...]:
        """Names of the venues the strategy can send orders to (the first is the default)."""
        ...

    @property
    def rng(self) -> np.random.Generator:
        """The strategy's own random stream, spawned from the run seed."""
        ...

    def book(self, venue: str | None = None) -> BookView:
        """The strategy's view of a venue's book (its market data, delayed by latency)."""
        ...

    def submit(
        self,
        side: Side,
        qty: int,
        price: int | None = None,
        *,
        order_type: OrderType = OrderType.LIMIT,
        tif: TimeInForce = TimeInForce.GTC,
        venue: str | None = None,
        post_only: bool = False,
        display_qty: int | None = None,
        min_qty: int = 0,
        tag: str = "",
        parent_id: int = 0,
    ) -> int:
        """Send a new order (a child of ``parent_id`` if given); return its id."""
        ...

    def new_parent(
        self, side: Side, qty: int, *, limit_price: int | None = None, algo: str = "", venue: str = ""
    ) -> ParentInfo:
        """Declare a parent order decided now; TCA measures its children against it."""
        ...

    def cancel(self, order_id: int, qty: int | None = None) -> None:
        """Cancel an order, or size it down by ``qty`` lots."""
        ...

    def modify(self, order_id: int, *, price: int | None = None, qty: int | None = None) -> None:
        """Change an order's price and/or total quantity."""
        ...

    def order(self, order_id: int) -> OrderInfo:
        """The strategy's current knowledge of one order."""
        ...

    def open_orders(self) -> list[OrderInfo]:
        """Orders not yet known to be done, oldest first."""
        ...

    @property
    def position(self) -> int:
        """Net filled quantity in lots (buys positive)."""
        ...

    def set_timer(self, at_ns: int, payload: Any = None) -> None:
        """Call ``on_timer(ctx, payload)`` at time ``at_ns`` (>= now)."""
        ...

    def subscribe_trades(self) -> None:
        """Call ``on_trade`` for every market trade print from now on."""
        ...

    def subscribe_book(self, interval_ns: int) -> None:
        """Call ``on_book`` every ``interval_ns`` of market time from now on."""
        ...

    def traded_volume(self) -> int:
        """Market volume (lots) printed in trades the strategy has seen since the start."""
        ...

    def log(self, message: str) -> None:
        """Record a message in the run's strategy log (with the current time)."""
        ...


class Strategy:
    """Base class with no-op callbacks; subclass and override what you need."""

    def on_start(self, ctx: StrategyContext) -> None:
        """Called once at the session start."""

    def on_book(self, ctx: StrategyContext) -> None:
        """Called at the subscribed book-sampling interval."""

    def on_trade(self, ctx: StrategyContext, trade: TradeInfo) -> None:
        """Called for each market trade print, if subscribed."""

    def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
        """Called when a timer fires."""

    def on_order_update(self, ctx: StrategyContext, order: OrderInfo, report: Any) -> None:
        """Called when one of our orders changes state."""

    def on_fill(self, ctx: StrategyContext, fill: FillInfo) -> None:
        """Called for each fill of one of our orders."""

    def on_stop(self, ctx: StrategyContext) -> None:
        """Called once at the session end."""
