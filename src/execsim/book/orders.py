"""Read-only records the books hand out: views of resting orders and price levels."""

from __future__ import annotations

from dataclasses import dataclass

from execsim.model.enums import Side

__all__ = ["LevelView", "OrderView"]


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
