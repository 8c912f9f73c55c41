"""Read-only records the books and the matching engine hand out: views of resting orders and
price levels, fills, order updates and match results."""

from __future__ import annotations

from dataclasses import dataclass

from execsim.model.enums import LiquiditySide, OrderStatus, Side

__all__ = ["Fill", "LevelView", "MatchResult", "OrderUpdate", "OrderView"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderView:
    """A resting order as the book sees it now.

    Attributes
    ----------
    order_id
        The order's id.
    side
        ``Side.BUY`` (bid) or ``Side.SELL`` (ask).
    price
        Price in ticks (for a midpoint peg: the price it would trade at now, 0 if none).
    qty
        Displayed (visible) quantity left, in lots.
    hidden_qty
        Iceberg reserve not shown in the book, in lots (0 for plain orders).
    qty_ahead
        Lots ahead of it in its level's queue, anonymous quantity included (0 at the head).
    orders_ahead
        Known orders ahead of it in the queue (anonymous quantity is not counted as orders,
        since the book does not know how many orders hold it).
    """

    order_id: int
    side: Side
    price: int
    qty: int
    hidden_qty: int = 0
    qty_ahead: int
    orders_ahead: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelView:
    """One visible price level and its FIFO queue.

    Attributes
    ----------
    side, price
        Where the level is.
    qty
        Total visible quantity: ``anonymous_qty`` plus the known orders' quantities.
    anonymous_qty
        Quantity the book knows exists but not which orders hold it; it is at the head of the
        queue, ahead of every known order.
    orders
        ``(order_id, qty)`` of the known orders, oldest (head of the queue) first.
    """

    side: Side
    price: int
    qty: int
    anonymous_qty: int
    orders: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One match between an aggressing (taker) order and a resting (maker) order.

    Attributes
    ----------
    taker_order_id, maker_order_id
        The two orders. ``maker_order_id`` is 0 when the maker is *anonymous* quantity (held
        by orders the book never saw individually, e.g. a level learnt from a snapshot).
    price, qty
        Execution price (ticks) and quantity (lots).
    aggressor_side
        Side of the taker; the maker is on the opposite side.
    taker_owner, maker_owner
        Owner ids (0: no owner, e.g. market-data orders).
    maker_qty_ahead, maker_orders_ahead
        The maker's queue position at the time of the fill: the lots and the fills (orders) at
        its level (or peg queue) that this aggressor executed before it, i.e. its position
        when the aggressor arrived, for its first fill. 0 for the head of the queue.
    maker_is_peg, maker_is_iceberg
        What kind of resting order the maker is.
    ts
        Time of the operation that produced the fill (ns).
    """

    taker_order_id: int
    maker_order_id: int
    price: int
    qty: int
    aggressor_side: Side
    taker_owner: int = 0
    maker_owner: int = 0
    maker_qty_ahead: int = 0
    maker_orders_ahead: int = 0
    maker_is_peg: bool = False
    maker_is_iceberg: bool = False
    ts: int = 0

    @property
    def maker_side(self) -> Side:
        """Side of the resting order."""
        return self.aggressor_side.opposite

    @property
    def maker_is_anonymous(self) -> bool:
        """True when the maker is anonymous quantity rather than a known order."""
        return self.maker_order_id == 0

    def liquidity_side(self, order_id: int) -> LiquiditySide:
        """Return ``TAKER`` / ``MAKER`` for one of this fill's orders, ``NONE`` for any other id."""
        if order_id == self.taker_order_id:
            return LiquiditySide.TAKER
        if order_id == self.maker_order_id:
            return LiquiditySide.MAKER
        return LiquiditySide.NONE


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdate:
    """A change of one order's state (accepted, filled, cancelled, rejected, modified).

    Attributes
    ----------
    order_id
        The order.
    status
        Its status after the change.
    reason
        Why, for rejections and cancellations (``None`` otherwise).
    filled_qty, cancelled_qty
        Lots filled / cancelled by this change.
    leaves_qty
        Lots still resting after it (displayed plus iceberg reserve).
    cum_filled_qty
        Lots filled over the order's life.
    ts
        Time of the operation (ns).
    """

    order_id: int
    status: OrderStatus
    reason: str | None = None
    filled_qty: int = 0
    cancelled_qty: int = 0
    leaves_qty: int = 0
    cum_filled_qty: int = 0
    ts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchResult:
    """What one engine operation (submit, cancel, modify) did.

    Attributes
    ----------
    order_id
        The order the operation was about.
    status
        Its status afterwards: ``ACCEPTED`` (resting, nothing filled yet), ``PARTIALLY_FILLED``
        (resting, some filled), ``FILLED``, ``CANCELLED`` (nothing left; ``reason`` says why,
        ``filled_qty`` may be > 0) or ``REJECTED`` (nothing changed; ``reason`` says why).
    reason
        Why it was rejected or cancelled, in words; ``None`` otherwise.
    filled_qty, cancelled_qty
        Lots of this order filled / cancelled by the operation.
    leaves_qty
        Lots of this order resting afterwards (displayed plus iceberg reserve).
    fills
        Every fill the operation produced, in execution order (including crosses of resting
        midpoint pegs that it made possible).
    updates
        Every order-state change, in order: makers filled or cancelled (self-trade prevention),
        then this order's own final update, then pegs crossed afterwards.
    """

    order_id: int
    status: OrderStatus
    reason: str | None = None
    filled_qty: int = 0
    cancelled_qty: int = 0
    leaves_qty: int = 0
    fills: tuple[Fill, ...] = ()
    updates: tuple[OrderUpdate, ...] = ()

    @property
    def accepted(self) -> bool:
        """False only when the operation was rejected."""
        return self.status is not OrderStatus.REJECTED

    @property
    def notional(self) -> int:
        """Sum of price × qty over this order's own fills (ticks × lots)."""
        oid = self.order_id
        return sum(f.price * f.qty for f in self.fills if oid in (f.taker_order_id, f.maker_order_id))
