"""The session's record of our orders, fills and order events, as the strategy learns them.

Every change comes from an execution report delivered after the response latency (or from the
strategy's own request, for ``PENDING_CANCEL``), through a transition table: an illegal
transition is a bug in a venue or the session and raises. The full OMS with parent/child
ledgers and pre-trade controls builds on this in :mod:`execsim.execution`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from execsim.core.errors import ExecsimError
from execsim.execution.strategy import FillInfo, OrderInfo, ParentInfo
from execsim.model.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from execsim.venues.base import ExecutionReport, ReportKind

__all__ = ["ORDER_EVENT_FIELDS", "IllegalTransitionError", "Ledger"]

S = OrderStatus
_LIVE = {S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL}
# report kind -> statuses it may arrive in
_ALLOWED: dict[ReportKind, frozenset[OrderStatus]] = {
    ReportKind.ACCEPTED: frozenset({S.SUBMITTED, S.PENDING_CANCEL}),
    ReportKind.REJECTED: frozenset(_LIVE),
    ReportKind.FILL: frozenset(_LIVE),
    ReportKind.CANCELLED: frozenset(_LIVE),
    ReportKind.MODIFIED: frozenset({S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL}),
    ReportKind.EXPIRED: frozenset(_LIVE),
}

ORDER_EVENT_FIELDS = (
    "ts_venue",
    "ts_recv",
    "order_id",
    "venue",
    "kind",
    "command",
    "price",
    "qty",
    "leaves_qty",
    "reason",
)


class IllegalTransitionError(ExecsimError, RuntimeError):
    """A report arrived that the order's state does not allow (a venue or session bug)."""


@dataclass(slots=True)
class _Order:
    info: OrderInfo
    leaves: int
    notional: float = 0.0
    ts_done: int | None = None
    reason: str | None = None
    status_before_cancel: OrderStatus | None = None


class Ledger:
    """Our orders, fills and the order-event log of one session."""

    def __init__(self) -> None:
        self._orders: dict[int, _Order] = {}
        self.parents: list[ParentInfo] = []
        self.fills: list[FillInfo] = []
        self.events: list[tuple[object, ...]] = []
        self.position = 0
        self.cash = 0.0  # in ticks × lots, minus fees kept separately

    def new_order(
        self,
        *,
        order_id: int,
        venue: str,
        side: Side,
        qty: int,
        price: int | None,
        order_type: OrderType,
        tif: TimeInForce,
        ts: int,
        tag: str,
        parent_id: int = 0,
    ) -> OrderInfo:
        """Record an order the strategy has just sent."""
        info = OrderInfo(
            order_id=order_id, venue=venue, side=side, order_type=order_type, tif=tif, price=price, qty=qty,
            status=S.SUBMITTED, filled_qty=0, avg_price=None, ts_submit=ts, tag=tag, parent_id=parent_id,
        )  # fmt: skip
        self._orders[order_id] = _Order(info, qty)
        return info

    def __contains__(self, order_id: int) -> bool:
        return order_id in self._orders

    def get(self, order_id: int) -> OrderInfo:
        """The current state of an order."""
        try:
            return self._orders[order_id].info
        except KeyError:
            raise ExecsimError(f"unknown order id {order_id}") from None

    def open_orders(self) -> list[OrderInfo]:
        """Orders not known to be done, oldest first."""
        return [o.info for o in self._orders.values() if o.info.is_open]

    def all_orders(self) -> list[tuple[OrderInfo, int | None, str | None]]:
        """Every order with its completion time and final reason."""
        return [(o.info, o.ts_done, o.reason) for o in self._orders.values()]

    def mark_pending_cancel(self, order_id: int) -> None:
        """The strategy asked to cancel (fully) an open order."""
        o = self._orders[order_id]
        if o.info.status in (S.ACCEPTED, S.PARTIALLY_FILLED, S.SUBMITTED):
            o.status_before_cancel = o.info.status
            o.info = replace(o.info, status=S.PENDING_CANCEL)

    def _set(self, o: _Order, **kw: object) -> None:
        o.info = replace(o.info, **kw)  # type: ignore[arg-type]

    def apply(self, r: ExecutionReport, *, command: str, ts_recv: int, fee: float = 0.0) -> FillInfo | None:
        """Apply a delivered report; return the fill it carries, if any.

        ``command`` is what the venue was answering ("submit", "cancel", "modify" or "market"
        for reports caused by market activity); a rejected cancel or modify leaves the order as
        it was.
        """
        o = self._orders[r.order_id]
        st = o.info.status
        self.events.append(
            (
                r.ts_ns,
                ts_recv,
                r.order_id,
                r.venue,
                r.kind.value,
                command,
                r.price,
                r.qty,
                r.leaves_qty,
                r.reason,
            )
        )
        if st not in _ALLOWED[r.kind]:
            if r.kind is ReportKind.REJECTED and command in ("cancel", "modify"):
                return None  # a cancel/modify that crossed with the order's completion
            raise IllegalTransitionError(
                f"order {r.order_id}: {r.kind.value} report not allowed in state {st.value}"
            )
        if r.kind is ReportKind.REJECTED:
            if command in ("cancel", "modify"):
                if st is S.PENDING_CANCEL and o.status_before_cancel is not None:
                    self._set(o, status=o.status_before_cancel)
                return None
            self._finish(o, S.REJECTED, r)
            return None
        if r.kind is ReportKind.ACCEPTED:
            if st is S.SUBMITTED:
                self._set(o, status=S.ACCEPTED)
            o.status_before_cancel = S.ACCEPTED
            return None
        if r.kind is ReportKind.MODIFIED:
            total = o.info.filled_qty + r.leaves_qty
            self._set(o, price=r.price if r.price else o.info.price, qty=total)
            o.leaves = r.leaves_qty
            return None
        if r.kind is ReportKind.FILL:
            filled = o.info.filled_qty + r.qty
            o.notional += r.price * r.qty
            o.leaves = r.leaves_qty
            done = r.leaves_qty == 0
            status = (
                S.FILLED if done else (S.PENDING_CANCEL if st is S.PENDING_CANCEL else S.PARTIALLY_FILLED)
            )
            self._set(o, filled_qty=filled, avg_price=o.notional / filled, status=status)
            if st is not S.PENDING_CANCEL:
                o.status_before_cancel = S.PARTIALLY_FILLED
            if done:
                o.ts_done = r.ts_ns
            sign = 1 if o.info.side is Side.BUY else -1
            self.position += sign * r.qty
            self.cash -= sign * r.price * r.qty
            fill = FillInfo(
                order_id=r.order_id, venue=r.venue, side=o.info.side, price=r.price, qty=r.qty,
                liquidity=r.liquidity if r.liquidity is not LiquiditySide.NONE else LiquiditySide.TAKER,
                fee=fee, ts_venue=r.ts_ns, ts_recv=ts_recv, queue_ahead=r.queue_ahead,
            )  # fmt: skip
            self.fills.append(fill)
            return fill
        # CANCELLED or EXPIRED: whole remainder, or a size-down
        o.leaves = r.leaves_qty
        if r.leaves_qty == 0:
            self._finish(o, S.CANCELLED if r.kind is ReportKind.CANCELLED else S.EXPIRED, r)
        else:
            back = o.status_before_cancel or S.ACCEPTED
            self._set(o, qty=o.info.filled_qty + r.leaves_qty, status=back if st is S.PENDING_CANCEL else st)
        return None

    def _finish(self, o: _Order, status: OrderStatus, r: ExecutionReport) -> None:
        self._set(o, status=status)
        o.ts_done = r.ts_ns
        o.reason = r.reason

    def expire_open(self, ts: int, reason: str) -> list[int]:
        """Mark every open order expired (at the session end); return their ids."""
        ids = []
        for o in self._orders.values():
            if o.info.is_open:
                self._set(o, status=S.EXPIRED)
                o.ts_done, o.reason = ts, reason
                ids.append(o.info.order_id)
                self.events.append(
                    (ts, ts, o.info.order_id, o.info.venue, "expired", "session", 0, 0, 0, reason)
                )
        return ids

    def fills_array(self) -> dict[str, np.ndarray]:
        """The fills as columns."""
        f = self.fills
        return {
            "ts_venue": np.array([x.ts_venue for x in f], np.int64),
            "ts_recv": np.array([x.ts_recv for x in f], np.int64),
            "order_id": np.array([x.order_id for x in f], np.int64),
            "parent_id": np.array([self._orders[x.order_id].info.parent_id for x in f], np.int64),
            "venue": np.array([x.venue for x in f], object),
            "side": np.array([x.side.value for x in f], object),
            "price": np.array([x.price for x in f], np.int64),
            "qty": np.array([x.qty for x in f], np.int64),
            "liquidity": np.array([x.liquidity.value for x in f], object),
            "queue_ahead": np.array([x.queue_ahead for x in f], np.int64),
            "fee": np.array([x.fee for x in f], np.float64),
        }
