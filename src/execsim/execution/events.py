"""The OMS's records: order requests, the commands it releases, and its event log.

Everything the :class:`~execsim.execution.oms.OrderManager` does is an event appended to one
per-run :class:`EventLog`: a parent order declared, an order submitted or denied by a pre-trade
control, each execution report applied to an order (with the state before and after), cancel
and replace requests, kill-switch activations and resets. The log is the audit trail: it can be
queried by order, parent, kind, venue, algorithm and time, and written as one Arrow table.

Requests are frozen records; so are events. An event of an order carries a snapshot
(:class:`~execsim.execution.strategy.OrderInfo`) of the order *after* the event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pyarrow as pa

from execsim.execution.strategy import FillInfo, OrderInfo, ParentInfo
from execsim.model.enums import OrderStatus, OrderType, Side, TimeInForce
from execsim.venues.base import CancelOrder, ExecutionReport, ModifyOrder, SubmitOrder

__all__ = [
    "EVENT_LOG_SCHEMA",
    "CancelRequest",
    "EventLog",
    "KillScope",
    "KillSwitchEvent",
    "ModifyRequest",
    "OmsEvent",
    "OmsEventKind",
    "OrderDenied",
    "OrderEvent",
    "OrderRequest",
    "OrderSubmitted",
    "ParentCreated",
]


class OmsEventKind(StrEnum):
    """What an OMS event records.

    The order-lifecycle kinds (``submitted`` … ``expired``) drive the transition table of
    :data:`~execsim.execution.oms.ORDER_STATE_TABLE`; ``denied`` is a pre-trade denial (of a new
    order, which it moves from ``initialized`` to ``rejected``, or of a cancel or modify, which
    leaves the order as it was); ``parent_created``, ``kill`` and ``reset`` concern no single order.
    """

    PARENT_CREATED = "parent_created"
    SUBMITTED = "submitted"
    DENIED = "denied"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCEL_REQUESTED = "cancel_requested"
    CANCELLED = "cancelled"
    CANCEL_REJECTED = "cancel_rejected"
    REPLACE_REQUESTED = "replace_requested"
    REPLACED = "replaced"
    REPLACE_REJECTED = "replace_rejected"
    EXPIRED = "expired"
    KILL = "kill"
    RESET = "reset"


# -- requests ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """A new order the strategy or an algorithm asks the OMS to send.

    Prices are in ticks (``None`` for market and midpoint-peg orders), quantities in lots.
    ``parent_id`` (0 = none) makes it a child of a parent order; ``tag`` names the algorithm
    when there is no parent (see :meth:`~execsim.execution.oms.OrderManager.algo_of`).
    """

    venue: str
    side: Side
    qty: int
    price: int | None = None
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    display_qty: int | None = None
    min_qty: int = 0
    tag: str = ""
    parent_id: int = 0

    def to_command(self, order_id: int, ts_ns: int) -> SubmitOrder:
        """The venue command for this request, arriving at the venue at ``ts_ns``."""
        return SubmitOrder(
            ts_ns=ts_ns,
            order_id=order_id,
            side=self.side,
            qty=self.qty,
            price=self.price,
            order_type=self.order_type,
            tif=self.tif,
            post_only=self.post_only,
            display_qty=self.display_qty,
            min_qty=self.min_qty,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRequest:
    """A cancel the OMS released: send it to ``venue`` (``qty=None`` cancels the whole order,
    otherwise the order is sized down by ``qty`` lots)."""

    order_id: int
    venue: str
    qty: int | None
    ts: int

    def to_command(self, ts_ns: int) -> CancelOrder:
        """The venue command, arriving at the venue at ``ts_ns``."""
        return CancelOrder(ts_ns=ts_ns, order_id=self.order_id, qty=self.qty)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModifyRequest:
    """A modify the OMS released: new price (ticks) and/or new open quantity (lots)."""

    order_id: int
    venue: str
    price: int | None
    qty: int | None
    ts: int

    def to_command(self, ts_ns: int) -> ModifyOrder:
        """The venue command, arriving at the venue at ``ts_ns``."""
        return ModifyOrder(ts_ns=ts_ns, order_id=self.order_id, price=self.price, qty=self.qty)


@dataclass(frozen=True, slots=True, kw_only=True)
class KillScope:
    """Which orders a kill switch covers: every field that is set must match (None = any).

    ``KillScope()`` is everything; ``KillScope(algo="twap")`` one algorithm;
    ``KillScope(venue="dark")`` one venue; ``KillScope(instrument="GOOG")`` one instrument.
    """

    algo: str | None = None
    instrument: str | None = None
    venue: str | None = None

    def matches(self, *, algo: str, instrument: str, venue: str) -> bool:
        """True when an order of ``algo`` in ``instrument`` at ``venue`` falls in this scope."""
        return (
            (self.algo is None or self.algo == algo)
            and (self.instrument is None or self.instrument == instrument)
            and (self.venue is None or self.venue == venue)
        )

    def __str__(self) -> str:
        fields = (("algo", self.algo), ("instrument", self.instrument), ("venue", self.venue))
        parts = [f"{k}={v}" for k, v in fields if v is not None]
        return ",".join(parts) if parts else "everything"


# -- events -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OmsEvent:
    """One entry of the OMS event log.

    Attributes
    ----------
    seq
        Position in the log (0, 1, 2, …): the total order of everything the OMS did.
    ts
        OMS time (ns): when the OMS acted or learned of the event (a report's receive time).
    kind
        What happened.
    order_id, parent_id, venue, algo
        What it concerns (0 / empty when not applicable).
    """

    seq: int
    ts: int
    kind: OmsEventKind
    order_id: int = 0
    parent_id: int = 0
    venue: str = ""
    algo: str = ""

    def row(self) -> dict[str, Any]:
        """The event as one row of :data:`EVENT_LOG_SCHEMA` (missing columns are None)."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind.value,
            "order_id": self.order_id,
            "parent_id": self.parent_id,
            "venue": self.venue,
            "algo": self.algo,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent(OmsEvent):
    """A transition of one order (an execution report applied, or a request sent).

    ``order`` is the order after the event. For events caused by a venue report, ``report`` is
    that report, ``command`` what the venue was answering (``"submit"``, ``"cancel"``,
    ``"modify"``, ``"market"`` for market activity, ``"session"`` for the session end) and
    ``ts_venue`` the venue time. ``fill`` is set for fills (with the fee passed in).
    """

    status_before: OrderStatus
    status_after: OrderStatus
    order: OrderInfo
    command: str = ""
    ts_venue: int | None = None
    price: int | None = None
    qty: int = 0
    leaves_qty: int = 0
    reason: str | None = None
    report: ExecutionReport | None = None
    fill: FillInfo | None = None

    def row(self) -> dict[str, Any]:
        out = OmsEvent.row(self)
        out.update(
            status_before=self.status_before.value,
            status_after=self.status_after.value,
            command=self.command,
            ts_venue=self.ts_venue,
            side=self.order.side.value,
            price=self.price,
            qty=self.qty,
            filled_qty=self.order.filled_qty,
            leaves_qty=self.leaves_qty,
            reason=self.reason,
        )
        if self.fill is not None:
            out.update(liquidity=self.fill.liquidity.value, fee=self.fill.fee)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSubmitted(OrderEvent):
    """A new order passed every pre-trade control and is released to its venue.

    Send ``to_command(arrival_ns)`` to the venue.
    """

    request: OrderRequest

    def to_command(self, ts_ns: int) -> SubmitOrder:
        """The venue command for the order, arriving at the venue at ``ts_ns``."""
        return self.request.to_command(self.order_id, ts_ns)


def _num(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDenied(OmsEvent):
    """A request refused by a pre-trade control: nothing was sent to the venue.

    Attributes
    ----------
    action
        What was refused: ``"new"``, ``"modify"`` or ``"cancel"``.
    rule
        The control that refused it (``"max_order_qty"``, ``"price_collar"``, ``"kill_switch"``…).
    limit, value
        The configured limit and the offending value, in the units the message names.
    message
        One line naming rule, limit and value.
    order
        The order after the denial: a denied new order is recorded as ``rejected`` with reason
        ``"denied: <rule>: <message>"``; a denied cancel or modify leaves the order unchanged.
    status_before, status_after
        The order's status around the denial.
    """

    action: str
    rule: str
    limit: float | int | str | None
    value: float | int | str | None
    message: str
    order: OrderInfo | None = None
    status_before: OrderStatus | None = None
    status_after: OrderStatus | None = None

    def row(self) -> dict[str, Any]:
        out = OmsEvent.row(self)
        out.update(
            command=self.action,
            rule=self.rule,
            limit=_num(self.limit),
            value=_num(self.value),
            reason=self.message,
            status_before=None if self.status_before is None else self.status_before.value,
            status_after=None if self.status_after is None else self.status_after.value,
        )
        if self.order is not None:
            out.update(side=self.order.side.value, price=self.order.price, qty=self.order.qty)
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class KillSwitchEvent(OmsEvent):
    """A kill switch activated (``kind=kill``) or reset (``kind=reset``), by whom and why.

    ``cancelled`` lists the orders a kill asked to cancel; ``was_active`` tells whether a reset
    found its scope killed.
    """

    scope: KillScope
    by: str
    reason: str
    cancelled: tuple[int, ...] = ()
    was_active: bool = True

    def row(self) -> dict[str, Any]:
        out = OmsEvent.row(self)
        out.update(scope=str(self.scope), by=self.by, reason=self.reason, qty=len(self.cancelled))
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentCreated(OmsEvent):
    """A parent order was declared (decision time = ``ts``)."""

    parent: ParentInfo

    def row(self) -> dict[str, Any]:
        out = OmsEvent.row(self)
        p = self.parent
        out.update(side=p.side.value, price=p.limit_price, qty=p.qty)
        return out


EVENT_LOG_SCHEMA = pa.schema(
    [
        ("seq", pa.int64()),
        ("ts", pa.int64()),
        ("kind", pa.string()),
        ("order_id", pa.int64()),
        ("parent_id", pa.int64()),
        ("venue", pa.string()),
        ("algo", pa.string()),
        ("status_before", pa.string()),
        ("status_after", pa.string()),
        ("command", pa.string()),
        ("ts_venue", pa.int64()),
        ("side", pa.string()),
        ("price", pa.int64()),
        ("qty", pa.int64()),
        ("filled_qty", pa.int64()),
        ("leaves_qty", pa.int64()),
        ("liquidity", pa.string()),
        ("fee", pa.float64()),
        ("rule", pa.string()),
        ("limit", pa.float64()),
        ("value", pa.float64()),
        ("reason", pa.string()),
        ("by", pa.string()),
        ("scope", pa.string()),
    ]
)
"""Columns of :meth:`EventLog.to_arrow`: one row per event; a column an event kind does not use
is null. ``command`` holds what a report answered, or the denied action; ``reason`` a report's
reason, a denial's message or a kill's reason; ``qty`` for a kill is the number of cancels sent."""


class EventLog(Sequence[OmsEvent]):
    """The append-only, queryable event log of one OMS (one run)."""

    def __init__(self) -> None:
        self._events: list[OmsEvent] = []

    def append(self, event: OmsEvent) -> None:
        """Append an event; its ``seq`` must be the log's length (the OMS numbers them)."""
        if event.seq != len(self._events):
            raise ValueError(f"event seq {event.seq} out of order: the log holds {len(self._events)}")
        self._events.append(event)

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self) -> Iterator[OmsEvent]:
        return iter(self._events)

    def __getitem__(self, i: Any) -> Any:
        return self._events[i]

    def query(
        self,
        *,
        order_id: int | None = None,
        parent_id: int | None = None,
        kind: OmsEventKind | str | Iterable[OmsEventKind | str] | None = None,
        venue: str | None = None,
        algo: str | None = None,
        since: int | None = None,
        until: int | None = None,
    ) -> list[OmsEvent]:
        """Events matching every filter given, in log order.

        ``kind`` is one kind or several; ``since`` is inclusive and ``until`` exclusive (ns).
        """
        kinds: set[str] | None = None
        if kind is not None:
            kinds = {str(kind)} if isinstance(kind, str) else {str(k) for k in kind}
            unknown = kinds - {k.value for k in OmsEventKind}
            if unknown:
                known = [k.value for k in OmsEventKind]
                raise ValueError(f"unknown event kind(s) {sorted(unknown)}; expected one of {known}")
        return [
            e
            for e in self._events
            if (order_id is None or e.order_id == order_id)
            and (parent_id is None or e.parent_id == parent_id)
            and (kinds is None or e.kind.value in kinds)
            and (venue is None or e.venue == venue)
            and (algo is None or e.algo == algo)
            and (since is None or e.ts >= since)
            and (until is None or e.ts < until)
        ]

    def rows(self, events: Iterable[OmsEvent] | None = None) -> list[dict[str, Any]]:
        """Events (all, or those given) as rows with every column of :data:`EVENT_LOG_SCHEMA`."""
        names = EVENT_LOG_SCHEMA.names
        out = []
        for e in self._events if events is None else events:
            r = e.row()
            out.append({n: r.get(n) for n in names})
        return out

    def to_arrow(self, events: Iterable[OmsEvent] | None = None) -> pa.Table:
        """Events (all, or those given, e.g. a :meth:`query` result) as an Arrow table."""
        return pa.Table.from_pylist(self.rows(events), schema=EVENT_LOG_SCHEMA)
