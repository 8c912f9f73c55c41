"""The order management system: order lifecycle, parent/child ledger, position, controls.

One :class:`OrderManager` per run and instrument holds the current state of every order, parent
order, the position and cash, and appends everything it does to one event log
(:class:`~execsim.execution.events.EventLog`). Orders outside are frozen snapshots
(:class:`~execsim.execution.strategy.OrderInfo`); they change only by events, through
:data:`ORDER_STATE_TABLE`, and an event the table does not allow raises
:class:`IllegalTransitionError` (a bug in a venue or the session, never a market condition).

How a session drives it::

    ev = oms.request_new(OrderRequest(...), now=t, reference_price=mid, recent_volume=v)
    if isinstance(ev, OrderSubmitted):      # passed the pre-trade controls
        send(ev.to_command(t + entry_latency))
    else:                                   # OrderDenied: logged, nothing sent
        ...
    req = oms.request_cancel(order_id, now=t)          # CancelRequest | OrderDenied
    req = oms.request_modify(order_id, price=p, now=t)  # ModifyRequest | OrderDenied
    ev = oms.on_report(report, command="submit", now=t_recv, fee=fee)  # each delivered report
    for req in oms.kill(KillScope(algo="twap"), now=t, reason="...", by="risk desk"):
        send(req.to_command(t + entry_latency))

Pending states are bookkeeping of requests in flight: an order is ``pending_cancel`` while a
full cancel is unanswered, else ``pending_replace`` while a modify or a partial cancel (a
quantity reduction, as FIX does it) is unanswered, else its venue state. Answers are matched
to requests by the ``command`` they answer, oldest first, so several requests may be in flight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import numpy as np

from execsim.core.errors import ExecsimError
from execsim.execution.events import (
    CancelRequest,
    EventLog,
    KillScope,
    KillSwitchEvent,
    ModifyRequest,
    OmsEvent,
    OmsEventKind,
    OrderDenied,
    OrderEvent,
    OrderRequest,
    OrderSubmitted,
    ParentCreated,
)
from execsim.execution.risk import (
    CANCEL,
    MODIFY,
    NEW,
    Denial,
    KillSwitch,
    ParentLimits,
    PreTradeCheck,
    RiskConfig,
    RiskContext,
    build_checks,
)
from execsim.execution.strategy import FillInfo, OrderInfo, ParentInfo
from execsim.model.enums import LiquiditySide, OrderStatus, Side
from execsim.model.instrument import Instrument
from execsim.venues.base import ExecutionReport, ReportKind

__all__ = [
    "DONE_STATUSES",
    "ORDER_STATE_TABLE",
    "IllegalTransitionError",
    "OrderManager",
    "ParentState",
    "PnL",
    "Position",
]

S = OrderStatus
K = OmsEventKind
DONE_STATUSES = frozenset({S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED})
"""Statuses an order never leaves."""


def _table() -> dict[tuple[OrderStatus, OmsEventKind], frozenset[OrderStatus]]:
    t: dict[tuple[OrderStatus, OmsEventKind], frozenset[OrderStatus]] = {}

    def add(state: OrderStatus, event: OmsEventKind, *targets: OrderStatus) -> None:
        t[(state, event)] = frozenset(targets)

    add(S.INITIALIZED, K.SUBMITTED, S.SUBMITTED)
    add(S.INITIALIZED, K.DENIED, S.REJECTED)
    for st in (S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED):
        add(st, K.PARTIALLY_FILLED, S.PARTIALLY_FILLED)
        add(st, K.FILLED, S.FILLED)
        add(st, K.CANCEL_REQUESTED, S.PENDING_CANCEL)
        add(st, K.REPLACE_REQUESTED, S.PENDING_REPLACE)
        add(st, K.CANCELLED, S.CANCELLED)
        add(st, K.REJECTED, S.REJECTED)
        add(st, K.EXPIRED, S.EXPIRED)
    add(S.SUBMITTED, K.ACCEPTED, S.ACCEPTED)
    # a venue may change a live order on its own (a size-down, a re-price)
    add(S.ACCEPTED, K.REPLACED, S.ACCEPTED)
    add(S.PARTIALLY_FILLED, K.REPLACED, S.PARTIALLY_FILLED)
    # a cancel in flight: the venue may still ack, fill, change or reject the order before it
    pc = S.PENDING_CANCEL
    add(pc, K.ACCEPTED, pc)
    add(pc, K.PARTIALLY_FILLED, pc)
    add(pc, K.FILLED, S.FILLED)
    add(pc, K.CANCELLED, S.CANCELLED)
    add(pc, K.CANCEL_REJECTED, S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_REPLACE)
    add(pc, K.REPLACED, pc)
    add(pc, K.REPLACE_REJECTED, pc)
    add(pc, K.REJECTED, S.REJECTED)
    add(pc, K.EXPIRED, S.EXPIRED)
    # a modify (or a partial cancel) in flight
    pr = S.PENDING_REPLACE
    add(pr, K.ACCEPTED, pr)
    add(pr, K.PARTIALLY_FILLED, pr)
    add(pr, K.FILLED, S.FILLED)
    add(pr, K.REPLACED, S.ACCEPTED, S.PARTIALLY_FILLED, pr)
    add(pr, K.REPLACE_REJECTED, S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, pr)
    add(pr, K.CANCEL_REQUESTED, pc)
    add(pr, K.REPLACE_REQUESTED, pr)
    add(pr, K.CANCELLED, S.CANCELLED)
    add(pr, K.REJECTED, S.REJECTED)
    add(pr, K.EXPIRED, S.EXPIRED)
    # a cancel or modify that crossed with the order's completion is answered with a reject
    for st in DONE_STATUSES:
        add(st, K.CANCEL_REJECTED, st)
        add(st, K.REPLACE_REJECTED, st)
    return t


ORDER_STATE_TABLE: Mapping[tuple[OrderStatus, OmsEventKind], frozenset[OrderStatus]] = MappingProxyType(
    _table()
)
"""The order lifecycle: ``(status, event) -> statuses it may lead to``.

A pair missing from the table is an illegal transition. Most pairs lead to one status; a
reject or confirmation of a request in flight returns the order to the status the *remaining*
requests and the venue state give (e.g. ``pending_cancel`` + ``cancel_rejected`` →
``partially_filled``, or ``pending_replace`` when a modify is still unanswered).
"""


class IllegalTransitionError(ExecsimError, RuntimeError):
    """An event the order's state does not allow (a bug in a venue or the session)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentState:
    """A parent order and the ledger of its children (a snapshot).

    Attributes
    ----------
    info
        The parent as declared (side, qty, limit, decision time, arrival quote, algo).
    children
        Ids of its child orders, in submission order (denied ones included).
    filled_qty
        Lots filled by all children.
    working_qty
        Lots open at venues or in flight: live children's open quantity (an unanswered
        size-up counted at its new size).
    avg_price
        Average fill price in ticks (None before the first fill).
    """

    info: ParentInfo
    children: tuple[int, ...]
    filled_qty: int
    working_qty: int
    avg_price: float | None

    @property
    def parent_id(self) -> int:
        """The parent's id."""
        return self.info.parent_id

    @property
    def side(self) -> Side:
        """The parent's side."""
        return self.info.side

    @property
    def qty(self) -> int:
        """The parent's quantity in lots."""
        return self.info.qty

    @property
    def remaining_qty(self) -> int:
        """Lots still to fill: ``qty - filled_qty``."""
        return self.info.qty - self.filled_qty

    @property
    def unallocated_qty(self) -> int:
        """Lots no child is working yet: ``qty - filled_qty - working_qty`` (never negative)."""
        return self.info.qty - self.filled_qty - self.working_qty


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """Net position and cash of one instrument (a snapshot).

    ``qty`` is in lots (buys positive); ``cash`` in ticks × lots (buys pay: negative), exact;
    ``fees`` in the quote currency, kept apart from cash.
    """

    symbol: str
    currency: str
    qty: int
    cash: int
    fees: float
    bought_qty: int
    sold_qty: int
    avg_price: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PnL:
    """Profit and loss at a mark price (average-cost accounting).

    ``realised``, ``unrealised`` and ``total`` are in ticks × lots (``total = realised +
    unrealised = cash + position × mark``); the ``*_ccy`` values are in the quote currency,
    and ``net_ccy`` is the total less fees.
    """

    mark: float
    position: int
    avg_price: float | None
    realised: float
    unrealised: float
    fees: float
    realised_ccy: float
    unrealised_ccy: float
    currency: str

    @property
    def total(self) -> float:
        """Realised plus unrealised, in ticks × lots."""
        return self.realised + self.unrealised

    @property
    def net_ccy(self) -> float:
        """Realised plus unrealised less fees, in the quote currency."""
        return self.realised_ccy + self.unrealised_ccy - self.fees


@dataclass(slots=True)
class _Pending:
    command: str  # the venue command: "cancel" or "modify"
    full: bool  # a full cancel (not a size-down or modify)
    qty: int | None  # modify: the new open qty; size-down: lots to cancel
    price: int | None = None


@dataclass(slots=True)
class _Order:
    info: OrderInfo  # the snapshot handed out, rebuilt by OrderManager._refresh
    request: OrderRequest
    algo: str
    base: OrderStatus  # the venue state: initialized/submitted/accepted/partially filled/done
    leaves: int
    price: int | None
    status: OrderStatus = S.INITIALIZED  # base with the pending requests overlaid (see _status)
    filled: int = 0
    notional: int = 0
    pending: list[_Pending] = field(default_factory=list)
    ts_done: int | None = None
    reason: str | None = None
    done: bool = False  # base in DONE_STATUSES (kept as a flag: enum hashing is slow)

    def _status(self) -> OrderStatus:
        if not self.pending or self.done:
            return self.base
        if any(p.full for p in self.pending):
            return S.PENDING_CANCEL
        return S.PENDING_REPLACE

    @property
    def working(self) -> int:
        """Lots this order may still fill, at worst.

        A modify sets the *open* quantity, so while one is unanswered the lots open now may
        fill first and the venue then opens ``qty`` more: each unanswered modify with a ``qty``
        counts in full on top of what is open (a price-only modify keeps what is left, and a
        partial cancel only reduces it, so neither adds anything).
        """
        if self.done:
            return 0
        # a nonsense negative order (the venue rejects it) frees nothing
        return max(self.leaves, 0) + sum(
            p.qty for p in self.pending if p.command == "modify" and p.qty is not None
        )


@dataclass(slots=True)
class _Parent:
    info: ParentInfo
    children: list[int] = field(default_factory=list)


class OrderManager:
    """Orders, parent orders, position and pre-trade controls of one run and instrument.

    Parameters
    ----------
    instrument
        The traded instrument (prices in its ticks, quantities in its lots).
    risk
        Limits of the configurable pre-trade controls (None: all off). The kill switch and the
        parent-order controls are always on.
    checks
        Extra pre-trade controls (:class:`~execsim.execution.risk.PreTradeCheck`), run after
        the built-in ones.
    first_order_id
        The id of the first order (ids then count up by one, denied orders included).
    """

    def __init__(
        self,
        instrument: Instrument,
        risk: RiskConfig | None = None,
        *,
        checks: Sequence[PreTradeCheck] = (),
        first_order_id: int = 1,
    ) -> None:
        self.instrument = instrument
        self.risk = risk or RiskConfig()
        self.kill_switch = KillSwitch()
        self.checks: tuple[PreTradeCheck, ...] = (*build_checks(self.risk, self.kill_switch), *checks)
        self.events = EventLog()
        self.fills: list[FillInfo] = []
        self.report_log: list[tuple[Any, ...]] = []
        """Every execution report applied (and denials and session-end expiries) as
        ``(ts_venue, ts_recv, order_id, venue, kind, command, price, qty, leaves_qty, reason)``."""
        self._orders: dict[int, _Order] = {}
        self._parents: dict[int, _Parent] = {}
        self._next_id = int(first_order_id)
        self._position = 0
        self._cash = 0
        self._fees = 0.0
        self._bought = 0
        self._sold = 0
        self._basis = Fraction(0)  # signed cost of the open position, ticks × lots
        self._realised = Fraction(0)

    # -- identity -----------------------------------------------------------------------------------
    def algo_of(self, order_id: int) -> str:
        """The algorithm an order belongs to: its parent's ``algo`` if set, else its ``tag``.

        Kill-switch scopes and the message throttle use this name.
        """
        return self._get(order_id).algo

    def _algo(self, request: OrderRequest) -> str:
        p = self._parents.get(request.parent_id)
        return p.info.algo if p is not None and p.info.algo else request.tag

    def _get(self, order_id: int) -> _Order:
        try:
            return self._orders[order_id]
        except KeyError:
            raise ExecsimError(f"unknown order id {order_id}") from None

    # -- parents ------------------------------------------------------------------------------------
    def new_parent(
        self,
        side: Side,
        qty: int,
        *,
        now: int,
        arrival_bid: int = 0,
        arrival_ask: int = 0,
        limit_price: int | None = None,
        algo: str = "",
        venue: str = "",
    ) -> ParentState:
        """Declare a parent order decided at ``now`` (ids count 1, 2, …); return its state."""
        side = Side(side)
        if side not in (Side.BUY, Side.SELL):
            raise ExecsimError(f"a parent order needs side buy or sell, got {side.value}")
        if qty <= 0:
            raise ExecsimError(f"a parent order needs a positive quantity, got {qty}")
        info = ParentInfo(
            parent_id=len(self._parents) + 1,
            side=side,
            qty=int(qty),
            ts_decision=int(now),
            arrival_bid=int(arrival_bid),
            arrival_ask=int(arrival_ask),
            limit_price=limit_price,
            algo=algo,
            venue=venue,
        )
        self._parents[info.parent_id] = _Parent(info)
        self._log(
            ParentCreated(
                seq=len(self.events),
                ts=int(now),
                kind=K.PARENT_CREATED,
                parent_id=info.parent_id,
                venue=venue,
                algo=algo,
                parent=info,
            )
        )
        return self.parent(info.parent_id)

    def parent(self, parent_id: int) -> ParentState:
        """The current state of a parent order and its children."""
        p = self._parents.get(parent_id)
        if p is None:
            raise ExecsimError(f"unknown parent id {parent_id}; declare it with new_parent first")
        filled = notional = working = 0
        for oid in p.children:
            o = self._orders[oid]
            filled += o.filled
            notional += o.notional
            working += o.working
        return ParentState(
            info=p.info,
            children=tuple(p.children),
            filled_qty=filled,
            working_qty=working,
            avg_price=notional / filled if filled else None,
        )

    @property
    def parents(self) -> list[ParentInfo]:
        """Every parent order as declared, by id."""
        return [p.info for p in self._parents.values()]

    def _parent_limits(self, parent_id: int, exclude: int) -> ParentLimits | None:
        p = self._parents.get(parent_id)
        if p is None:
            return None
        committed = 0
        for oid in p.children:
            if oid != exclude:
                o = self._orders[oid]
                committed += o.filled + o.working
        return ParentLimits(
            parent_id=parent_id,
            side=p.info.side,
            qty=p.info.qty,
            limit_price=p.info.limit_price,
            committed=committed,
        )

    # -- requests -----------------------------------------------------------------------------------
    def _first_denial(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        for c in self.checks:
            d = c.check(request, ctx)
            if d is not None:
                return d
        return None

    def _sent(self, request: OrderRequest, ctx: RiskContext) -> None:
        for c in self.checks:
            c.on_sent(request, ctx)

    def request_new(
        self,
        request: OrderRequest,
        *,
        now: int,
        reference_price: float | None = None,
        recent_volume: int | None = None,
    ) -> OrderSubmitted | OrderDenied:
        """Run the pre-trade controls on a new order and record it.

        Parameters
        ----------
        request
            The order.
        now
            OMS time (ns).
        reference_price
            The price collar's reference and the value of orders without a price, in ticks
            (e.g. the mid the strategy sees; may be a half tick).
        recent_volume
            Market volume (lots) over the caller's participation window.

        Returns
        -------
        OrderSubmitted | OrderDenied
            Submitted: send ``event.to_command(arrival_ns)`` to ``request.venue``; the order is
            ``submitted``. Denied: nothing to send; the order is recorded as ``rejected`` with
            reason ``"denied: <rule>: <message>"``. Both are logged.
        """
        if not request.venue:
            raise ExecsimError("an order request needs a venue")
        if request.parent_id and request.parent_id not in self._parents:
            raise ExecsimError(f"unknown parent id {request.parent_id}; declare it with new_parent first")
        now = int(now)
        oid = self._next_id
        self._next_id += 1
        algo = self._algo(request)
        info = OrderInfo(
            order_id=oid,
            venue=request.venue,
            side=request.side,
            order_type=request.order_type,
            tif=request.tif,
            price=request.price,
            qty=request.qty,
            status=S.INITIALIZED,
            filled_qty=0,
            avg_price=None,
            ts_submit=int(now),
            tag=request.tag,
            parent_id=request.parent_id,
        )
        o = _Order(
            info=info, request=request, algo=algo, base=S.INITIALIZED, leaves=request.qty, price=request.price
        )
        ctx = RiskContext(
            now=int(now),
            action=NEW,
            instrument=self.instrument,
            algo=algo,
            order_id=oid,
            reference_price=reference_price,
            recent_volume=recent_volume,
            parent=self._parent_limits(request.parent_id, exclude=oid) if request.parent_id else None,
        )
        denial = self._first_denial(request, ctx)
        self._orders[oid] = o
        if request.parent_id:
            self._parents[request.parent_id].children.append(oid)
        if denial is not None:
            reason = f"denied: {denial.rule}: {denial.message}"
            o.base, o.ts_done, o.reason, o.done = S.REJECTED, int(now), reason, True
            self._refresh(o)
            self._check_target(oid, S.INITIALIZED, K.DENIED, o.status)
            ev = self._denied(o, NEW, denial, now, before=S.INITIALIZED)
            row = (
                now,
                now,
                oid,
                request.venue,
                "denied",
                "submit",
                request.price or 0,
                request.qty,
                0,
                reason,
            )
            self.report_log.append(row)
            return ev
        o.base = S.SUBMITTED
        self._refresh(o)
        self._check_target(oid, S.INITIALIZED, K.SUBMITTED, o.status)
        self._sent(request, ctx)
        sub = OrderSubmitted(
            seq=len(self.events),
            ts=int(now),
            kind=K.SUBMITTED,
            order_id=oid,
            parent_id=request.parent_id,
            venue=request.venue,
            algo=algo,
            status_before=S.INITIALIZED,
            status_after=o.status,
            order=o.info,
            command="submit",
            price=request.price,
            qty=request.qty,
            leaves_qty=o.leaves,
            request=request,
        )
        self._log(sub)
        return sub

    def _denied(
        self, o: _Order, action: str, d: Denial, now: int, *, before: OrderStatus | None = None
    ) -> OrderDenied:
        ev = OrderDenied(
            seq=len(self.events),
            ts=int(now),
            kind=K.DENIED,
            order_id=o.info.order_id,
            parent_id=o.info.parent_id,
            venue=o.info.venue,
            algo=o.algo,
            action=action,
            rule=d.rule,
            limit=d.limit,
            value=d.value,
            message=d.message,
            order=o.info,
            status_before=o.status if before is None else before,
            status_after=o.status,
        )
        self._log(ev)
        return ev

    def _deny_request(self, o: _Order, action: str, rule: str, message: str, now: int) -> OrderDenied:
        return self._denied(
            o, action, Denial(rule=rule, limit=None, value=o.status.value, message=message), now
        )

    def _order_ctx(self, o: _Order, action: str, now: int, **kw: Any) -> RiskContext:
        return RiskContext(
            now=int(now),
            action=action,
            instrument=self.instrument,
            algo=o.algo,
            order_id=o.info.order_id,
            **kw,
        )

    def request_cancel(
        self, order_id: int, qty: int | None = None, *, now: int
    ) -> CancelRequest | OrderDenied:
        """Ask to cancel an order (``qty=None``), or to size it down by ``qty`` lots.

        Returns the :class:`CancelRequest` to send, or an :class:`OrderDenied` (rule
        ``order_not_open`` for an order known to be done, ``cancel_pending`` when a full cancel
        is already in flight, ``message_throttle`` with ``throttle_cancels``). A full cancel
        makes the order ``pending_cancel``; a size-down ``pending_replace``.
        """
        o = self._get(order_id)
        if o.done:
            return self._deny_request(
                o, CANCEL, "order_not_open", f"order {order_id} is {o.status.value}", now
            )
        if o.status is S.PENDING_CANCEL:
            msg = f"order {order_id} already has a cancel in flight"
            return self._deny_request(o, CANCEL, "cancel_pending", msg, now)
        req = self._current_request(o)
        ctx = self._order_ctx(o, CANCEL, now)
        d = self._first_denial(req, ctx)
        if d is not None:
            return self._denied(o, CANCEL, d, now)
        return self._send_cancel(o, qty, now, req, ctx, reason=None)

    def _send_cancel(
        self, o: _Order, qty: int | None, now: int, req: OrderRequest, ctx: RiskContext, *, reason: str | None
    ) -> CancelRequest:
        before = o.status
        kind = K.CANCEL_REQUESTED if qty is None else K.REPLACE_REQUESTED
        self._legal(o, kind)
        o.pending.append(_Pending(command="cancel", full=qty is None, qty=qty))
        self._sent(req, ctx)
        self._transitioned(o, kind, before, now, command="cancel", qty=qty or 0, reason=reason)
        return CancelRequest(order_id=o.info.order_id, venue=o.info.venue, qty=qty, ts=int(now))

    def request_modify(
        self,
        order_id: int,
        *,
        price: int | None = None,
        qty: int | None = None,
        now: int,
        reference_price: float | None = None,
        recent_volume: int | None = None,
    ) -> ModifyRequest | OrderDenied:
        """Ask to change an order's price (ticks) and/or open quantity (lots).

        ``qty`` is the new *open* quantity, as venues apply it (the order's total becomes
        filled + ``qty``). The modified order passes the same controls as a new one (the
        duplicate check excepted). Returns the :class:`ModifyRequest` to send (the order becomes
        ``pending_replace``) or an :class:`OrderDenied` (also ``order_not_open`` and
        ``cancel_pending``).
        """
        o = self._get(order_id)
        if o.done:
            return self._deny_request(
                o, MODIFY, "order_not_open", f"order {order_id} is {o.status.value}", now
            )
        if o.status is S.PENDING_CANCEL:
            msg = f"order {order_id} has a cancel in flight"
            return self._deny_request(o, MODIFY, "cancel_pending", msg, now)
        cur = self._current_request(o)
        new_leaves = o.leaves if qty is None else int(qty)
        req = replace(cur, price=cur.price if price is None else int(price), qty=o.filled + new_leaves)
        ctx = self._order_ctx(
            o,
            MODIFY,
            now,
            reference_price=reference_price,
            recent_volume=recent_volume,
            parent=self._modify_parent_limits(o, qty),
        )
        d = self._first_denial(req, ctx)
        if d is not None:
            return self._denied(o, MODIFY, d, now)
        before = o.status
        self._legal(o, K.REPLACE_REQUESTED)
        o.pending.append(_Pending(command="modify", full=False, qty=qty, price=price))
        self._sent(req, ctx)
        self._transitioned(o, K.REPLACE_REQUESTED, before, now, command="modify", price=price, qty=qty or 0)
        return ModifyRequest(order_id=order_id, venue=o.info.venue, price=price, qty=qty, ts=int(now))

    def _modify_parent_limits(self, o: _Order, qty: int | None) -> ParentLimits | None:
        """The parent's limits for a modify of child ``o``: a modify that sets the open quantity
        also keeps the lots open now (and those of earlier unanswered modifies) committed, since
        they may fill before the venue applies it (see :attr:`_Order.working`)."""
        if not o.info.parent_id:
            return None
        p = self._parent_limits(o.info.parent_id, exclude=o.info.order_id)
        if p is None or qty is None:
            return p
        return replace(p, committed=p.committed + o.working)

    def _current_request(self, o: _Order) -> OrderRequest:
        r = o.request
        if r.price == o.price and r.qty == o.info.qty:
            return r
        return replace(r, price=o.price, qty=o.info.qty)

    # -- reports -----------------------------------------------------------------------------------------
    def _legal(self, o: _Order, kind: OmsEventKind) -> None:
        if (o.status, kind) not in ORDER_STATE_TABLE:
            raise IllegalTransitionError(
                f"order {o.info.order_id}: event {kind.value} not allowed in state {o.status.value}"
            )

    def _check_target(self, oid: int, before: OrderStatus, kind: OmsEventKind, after: OrderStatus) -> None:
        if after not in ORDER_STATE_TABLE.get((before, kind), frozenset()):
            raise IllegalTransitionError(
                f"order {oid}: event {kind.value} led from {before.value} to {after.value}, "
                "which the transition table does not allow"
            )

    def _refresh(self, o: _Order) -> None:
        o.status = o._status()
        i, r = o.info, o.request
        # a direct construction: dataclasses.replace costs several times more per event
        o.info = OrderInfo(
            order_id=i.order_id,
            venue=r.venue,
            side=r.side,
            order_type=r.order_type,
            tif=r.tif,
            price=o.price,
            qty=i.qty if o.done else o.filled + o.leaves,
            status=o.status,
            filled_qty=o.filled,
            avg_price=o.notional / o.filled if o.filled else None,
            ts_submit=i.ts_submit,
            tag=r.tag,
            parent_id=r.parent_id,
        )

    def _transitioned(
        self, o: _Order, kind: OmsEventKind, before: OrderStatus, now: int, **kw: Any
    ) -> OrderEvent:
        self._refresh(o)
        self._check_target(o.info.order_id, before, kind, o.status)
        ev = OrderEvent(
            seq=len(self.events),
            ts=int(now),
            kind=kind,
            order_id=o.info.order_id,
            parent_id=o.info.parent_id,
            venue=o.info.venue,
            algo=o.algo,
            status_before=before,
            status_after=o.status,
            order=o.info,
            leaves_qty=0 if o.done else o.leaves,
            **kw,
        )
        self._log(ev)
        return ev

    def _pop(self, o: _Order, command: str) -> _Pending | None:
        for i, p in enumerate(o.pending):
            if p.command == command:
                return o.pending.pop(i)
        return None

    def _finish(self, o: _Order, status: OrderStatus, ts: int, reason: str | None) -> None:
        o.base, o.ts_done, o.reason, o.done = status, ts, reason, True
        o.pending.clear()

    def on_report(self, report: ExecutionReport, *, command: str, now: int, fee: float = 0.0) -> OrderEvent:
        """Apply an execution report delivered to the OMS at ``now``; return the event.

        Parameters
        ----------
        report
            The venue's report.
        command
            What the venue was answering: ``"submit"``, ``"cancel"``, ``"modify"``, or
            ``"market"`` for reports caused by market activity. A ``rejected`` report answering
            a cancel or modify rejects that request (the order goes back to its state before
            it); answering anything else it rejects the order.
        now
            Delivery time (the OMS's receive time).
        fee
            For fills: the fee (quote currency; negative = rebate).

        Returns
        -------
        OrderEvent
            The transition, with ``.order`` the order afterwards and ``.fill`` the fill, if any.

        Raises
        ------
        IllegalTransitionError
            When the order's state does not allow the report (e.g. a fill after ``cancelled``,
            a second ``accepted``), or the quantities do not add up. The state is unchanged.
        """
        o = self._get(report.order_id)
        r = report
        oid = r.order_id
        if r.venue != o.info.venue:
            raise IllegalTransitionError(
                f"order {oid} lives at {o.info.venue!r}; got a report from {r.venue!r}"
            )
        before = o.status
        now = int(now)
        ev_kind: OmsEventKind
        fill: FillInfo | None = None
        if r.kind is ReportKind.ACCEPTED:
            ev_kind = K.ACCEPTED
            self._legal(o, ev_kind)
            if o.base is not S.SUBMITTED:
                raise IllegalTransitionError(f"order {oid}: accepted twice (venue state {o.base.value})")
            o.base = S.ACCEPTED
        elif r.kind is ReportKind.REJECTED and command in ("cancel", "modify"):
            idx = next((i for i, p in enumerate(o.pending) if p.command == command), None)
            if o.done or idx is None:
                if not o.done:
                    raise IllegalTransitionError(
                        f"order {oid}: a {command} was rejected but none is in flight"
                    )
                ev_kind = K.CANCEL_REJECTED if command == "cancel" else K.REPLACE_REJECTED
                self._legal(o, ev_kind)
            else:
                full = o.pending[idx].full
                ev_kind = K.CANCEL_REJECTED if full else K.REPLACE_REJECTED
                self._legal(o, ev_kind)
                del o.pending[idx]
        elif r.kind is ReportKind.REJECTED:
            ev_kind = K.REJECTED
            self._legal(o, ev_kind)
            self._finish(o, S.REJECTED, r.ts_ns, r.reason)
        elif r.kind is ReportKind.FILL:
            ev_kind = K.FILLED if r.leaves_qty == 0 else K.PARTIALLY_FILLED
            self._legal(o, ev_kind)
            if r.qty <= 0 or r.qty > o.leaves or r.leaves_qty != o.leaves - r.qty:
                raise IllegalTransitionError(
                    f"order {oid}: fill of {r.qty} with leaves {r.leaves_qty} does not add up to the "
                    f"open quantity {o.leaves}"
                )
            fill = self._fill(o, r, now, fee)
        elif r.kind is ReportKind.CANCELLED:
            ev_kind = K.CANCELLED if r.leaves_qty == 0 else K.REPLACED
            self._legal(o, ev_kind)
            if r.leaves_qty < 0 or r.qty + r.leaves_qty != o.leaves:
                raise IllegalTransitionError(
                    f"order {oid}: cancel of {r.qty} with leaves {r.leaves_qty} does not add up to the "
                    f"open quantity {o.leaves}"
                )
            if command == "cancel":
                self._pop(o, "cancel")
            if r.leaves_qty == 0:
                self._finish(o, S.CANCELLED, r.ts_ns, r.reason)
            else:
                o.leaves = r.leaves_qty
        elif r.kind is ReportKind.MODIFIED:
            ev_kind = K.REPLACED
            self._legal(o, ev_kind)
            if r.leaves_qty <= 0:
                raise IllegalTransitionError(f"order {oid}: modified to leaves {r.leaves_qty}")
            if command == "modify":
                self._pop(o, "modify")
            o.leaves = r.leaves_qty
            if r.price:
                o.price = r.price
        elif r.kind is ReportKind.EXPIRED:
            ev_kind = K.EXPIRED
            self._legal(o, ev_kind)
            self._finish(o, S.EXPIRED, r.ts_ns, r.reason)
        else:  # pragma: no cover - ReportKind is closed
            raise IllegalTransitionError(f"unknown report kind {r.kind!r}")
        self.report_log.append(
            (r.ts_ns, now, oid, r.venue, r.kind.value, command, r.price, r.qty, r.leaves_qty, r.reason)
        )
        return self._transitioned(
            o,
            ev_kind,
            before,
            now,
            command=command,
            ts_venue=r.ts_ns,
            price=r.price or None,
            qty=r.qty,
            reason=r.reason,
            report=r,
            fill=fill,
        )

    def _fill(self, o: _Order, r: ExecutionReport, now: int, fee: float) -> FillInfo:
        o.filled += r.qty
        o.notional += r.price * r.qty
        o.leaves = r.leaves_qty
        if r.leaves_qty == 0:
            self._finish(o, S.FILLED, r.ts_ns, None)
        elif o.base is not S.PARTIALLY_FILLED:
            o.base = S.PARTIALLY_FILLED
        self._book_fill(o.info.side, r.price, r.qty, fee)
        liq = r.liquidity if r.liquidity is not LiquiditySide.NONE else LiquiditySide.TAKER
        f = FillInfo(
            order_id=r.order_id,
            venue=r.venue,
            side=o.info.side,
            price=r.price,
            qty=r.qty,
            liquidity=liq,
            fee=float(fee),
            ts_venue=r.ts_ns,
            ts_recv=now,
            queue_ahead=r.queue_ahead,
        )
        self.fills.append(f)
        return f

    def _book_fill(self, side: Side, price: int, qty: int, fee: float) -> None:
        s = 1 if side is Side.BUY else -1
        pos = self._position
        if pos == 0 or (pos > 0) == (s > 0):
            self._basis += s * price * qty
        else:
            close = min(qty, abs(pos))
            avg = self._basis / pos
            sign = 1 if pos > 0 else -1
            self._realised += (price - avg) * close * sign
            self._basis -= avg * close * sign
            if qty > close:  # the position flips: the rest opens at this price
                self._basis = Fraction(s * price * (qty - close))
        self._position = pos + s * qty
        if self._position == 0:
            self._basis = Fraction(0)
        self._cash -= s * price * qty
        self._fees += float(fee)
        if s > 0:
            self._bought += qty
        else:
            self._sold += qty

    def expire_open(self, now: int, reason: str = "session end") -> list[OrderEvent]:
        """Expire every order not known to be done (at the session end); return the events."""
        out = []
        for o in self._orders.values():
            if o.done:
                continue
            before = o.status
            self._legal(o, K.EXPIRED)
            self._finish(o, S.EXPIRED, int(now), reason)
            oid = o.info.order_id
            self.report_log.append(
                (int(now), int(now), oid, o.info.venue, "expired", "session", 0, 0, 0, reason)
            )
            out.append(self._transitioned(o, K.EXPIRED, before, now, command="session", reason=reason))
        return out

    # -- kill switch -------------------------------------------------------------------------------------
    def kill(self, scope: KillScope, *, now: int, reason: str, by: str = "") -> list[CancelRequest]:
        """Cancel every open order in ``scope`` and deny new orders there until :meth:`reset`.

        Orders with a full cancel already in flight are not cancelled again. Returns the cancel
        requests to send (kill cancels are never throttled, though they count as messages).
        """
        self.kill_switch.kill(scope)
        targets = [o for o in self._open(scope) if o.status is not S.PENDING_CANCEL]
        self._log_kill_switch(
            K.KILL, scope, now, by, reason, cancelled=tuple(o.info.order_id for o in targets)
        )
        why = f"kill switch ({scope}): {reason}"
        return [
            self._send_cancel(
                o, None, now, self._current_request(o), self._order_ctx(o, CANCEL, now), reason=why
            )
            for o in targets
        ]

    def reset(self, scope: KillScope, *, now: int, reason: str = "", by: str = "") -> bool:
        """Lift a kill of exactly ``scope``; return whether it was killed (logged either way)."""
        was = self.kill_switch.reset(scope)
        self._log_kill_switch(K.RESET, scope, now, by, reason, was_active=was)
        return was

    def _log_kill_switch(
        self, kind: OmsEventKind, scope: KillScope, now: int, by: str, reason: str, **kw: Any
    ) -> None:
        self._log(
            KillSwitchEvent(
                seq=len(self.events),
                ts=int(now),
                kind=kind,
                algo=scope.algo or "",
                venue=scope.venue or "",
                scope=scope,
                by=by,
                reason=reason,
                **kw,
            )
        )

    @property
    def killed(self) -> tuple[KillScope, ...]:
        """Scopes killed and not reset."""
        return self.kill_switch.active

    # -- queries -----------------------------------------------------------------------------------------
    def _log(self, ev: OmsEvent) -> None:
        self.events.append(ev)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def order(self, order_id: int) -> OrderInfo:
        """The current state of an order."""
        return self._get(order_id).info

    def orders(self) -> list[OrderInfo]:
        """Every order (denied ones included), by id."""
        return [o.info for o in self._orders.values()]

    def open_orders(self, scope: KillScope | None = None) -> list[OrderInfo]:
        """Orders not known to be done (in ``scope`` if given), oldest first."""
        return [o.info for o in self._open(scope)]

    def _open(self, scope: KillScope | None) -> list[_Order]:
        sym = self.instrument.symbol
        return [
            o
            for o in self._orders.values()
            if not o.done
            and (scope is None or scope.matches(algo=o.algo, instrument=sym, venue=o.info.venue))
        ]

    def all_orders(self) -> list[tuple[OrderInfo, int | None, str | None]]:
        """Every order with its completion time and final reason (the results' orders table)."""
        return [(o.info, o.ts_done, o.reason) for o in self._orders.values()]

    @property
    def position(self) -> int:
        """Net filled quantity in lots (buys positive)."""
        return self._position

    @property
    def cash(self) -> int:
        """Cash in ticks × lots: sells received less buys paid (fees kept apart)."""
        return self._cash

    @property
    def fees(self) -> float:
        """Fees paid, quote currency (negative = net rebates)."""
        return self._fees

    def position_state(self) -> Position:
        """The position, cash and fees as a snapshot."""
        return Position(
            symbol=self.instrument.symbol,
            currency=self.instrument.currency,
            qty=self._position,
            cash=self._cash,
            fees=self._fees,
            bought_qty=self._bought,
            sold_qty=self._sold,
            avg_price=float(self._basis / self._position) if self._position else None,
        )

    def pnl(self, mark: float) -> PnL:
        """Realised and unrealised P&L at ``mark`` (ticks; e.g. the mid, a half tick allowed)."""
        m = Fraction(mark)
        unreal = m * self._position - self._basis
        unit = Fraction(self.instrument.tick_size) * Fraction(self.instrument.lot_size)
        return PnL(
            mark=float(mark),
            position=self._position,
            avg_price=float(self._basis / self._position) if self._position else None,
            realised=float(self._realised),
            unrealised=float(unreal),
            fees=self._fees,
            realised_ccy=float(self._realised * unit),
            unrealised_ccy=float(unreal * unit),
            currency=self.instrument.currency,
        )

    def fills_array(self) -> dict[str, np.ndarray]:
        """The fills as columns (the results' fills table)."""
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
