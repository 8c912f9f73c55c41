"""The venue contract: commands in, execution reports out.

A venue exposes one method that matters, :meth:`Venue.handle` (a command at its arrival time
→ the reports it causes), plus :meth:`Venue.advance`, which moves the venue's own market
forward in time and returns the reports that market activity caused to *our* resting orders
(a fill by an incoming market order, an expiry). Between two calls nothing happens, so a
session can interleave many venues and the strategy deterministically.

Every venue ships with the same conformance checks (:func:`check_venue`), run over every
implementation in the test suite, and :class:`MockVenue` is a tiny reference venue for tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from execsim.core.errors import ExecsimError
from execsim.model.enums import LiquiditySide, OrderType, Side, TimeInForce
from execsim.model.instrument import Instrument

__all__ = [
    "CancelOrder",
    "ExecutionReport",
    "MockVenue",
    "ModifyOrder",
    "Quote",
    "ReportKind",
    "SubmitOrder",
    "Venue",
    "VenueCommand",
    "VenueConformanceError",
    "check_venue",
    "consolidated_quote",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitOrder:
    """A new order arriving at the venue at ``ts_ns``.

    ``price`` is in ticks (``None`` for market and midpoint-peg orders), ``qty`` in lots.
    ``display_qty`` makes an iceberg; ``min_qty`` is the minimum execution size (dark venues).
    """

    ts_ns: int
    order_id: int
    side: Side
    qty: int
    price: int | None = None
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    display_qty: int | None = None
    min_qty: int = 0
    owner: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelOrder:
    """Cancel ``order_id`` entirely, or size it down by ``qty`` lots."""

    ts_ns: int
    order_id: int
    qty: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModifyOrder:
    """Change price and/or total quantity of ``order_id`` (priority rules as in matching)."""

    ts_ns: int
    order_id: int
    price: int | None = None
    qty: int | None = None


VenueCommand = SubmitOrder | CancelOrder | ModifyOrder


class ReportKind(StrEnum):
    """What an execution report says happened."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FILL = "fill"
    CANCELLED = "cancelled"
    MODIFIED = "modified"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionReport:
    """One thing that happened to one of our orders at a venue (FIX ExecutionReport-like).

    Attributes
    ----------
    ts_ns
        Venue time of the event.
    venue, order_id, kind
        Where, which order, what.
    price, qty
        For ``FILL``: execution price (ticks) and quantity (lots). For ``CANCELLED``: qty is the
        quantity cancelled.
    leaves_qty
        Quantity still open at the venue afterwards.
    liquidity
        For fills: maker or taker.
    queue_ahead
        For passive fills: lots ahead of the order in its queue when the fill happened (the
        venue's exact value on L3 data, its queue model's estimate on L2 data).
    reason
        For rejections, cancellations and expiries: why, in words.
    """

    ts_ns: int
    venue: str
    order_id: int
    kind: ReportKind
    price: int = 0
    qty: int = 0
    leaves_qty: int = 0
    liquidity: LiquiditySide = LiquiditySide.NONE
    queue_ahead: int = 0
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """Best bid and offer: prices in ticks, quantities in lots (qty 0 = side empty)."""

    bid_px: int = 0
    bid_qty: int = 0
    ask_px: int = 0
    ask_qty: int = 0

    @property
    def mid2(self) -> int | None:
        """Twice the midpoint, in ticks (an integer even when the mid is a half tick)."""
        if self.bid_qty <= 0 or self.ask_qty <= 0:
            return None
        return self.bid_px + self.ask_px


@runtime_checkable
class Venue(Protocol):
    """What a session needs from a venue."""

    name: str
    instrument: Instrument

    @property
    def now(self) -> int:
        """The venue's current time (ns)."""
        ...

    def handle(self, command: VenueCommand) -> list[ExecutionReport]:
        """Apply a command at ``command.ts_ns`` (>= ``now``); return the reports it causes."""
        ...

    def advance(self, until_ns: int) -> tuple[int, list[ExecutionReport]]:
        """Move the venue's market forward to ``until_ns``.

        May stop early, at the first time at which the market caused reports for our orders;
        returns ``(time reached, reports)``. Without reports the time reached is ``until_ns``.
        """
        ...

    def quote(self) -> Quote:
        """The venue's best bid and offer now (as the venue sees it, no latency)."""
        ...


def consolidated_quote(quotes: Sequence[Quote]) -> Quote:
    """The consolidated best bid and offer over venues: best price, summed size at that price."""
    bids = [q for q in quotes if q.bid_qty > 0]
    asks = [q for q in quotes if q.ask_qty > 0]
    out_bid = max((q.bid_px for q in bids), default=0)
    out_ask = min((q.ask_px for q in asks), default=0)
    return Quote(
        bid_px=out_bid,
        bid_qty=sum(q.bid_qty for q in bids if q.bid_px == out_bid),
        ask_px=out_ask,
        ask_qty=sum(q.ask_qty for q in asks if q.ask_px == out_ask),
    )


def lit_order_problem(o: SubmitOrder, seen: Container[int], *, venue: str, type_reason: str) -> str | None:
    """Why a lit venue without pegs, icebergs or minimum sizes rejects ``o`` (``None``: it does not).

    Checks, in order: the quantity, the side, the order type (limit or market, else
    ``type_reason``), the price the type needs or takes, ``display_qty``, ``min_qty``, post-only
    on an order that cannot rest, and an order id already in ``seen``. ``venue`` names the venue
    in the reasons ("the L2 replay venue").
    """
    if o.qty <= 0:
        return f"quantity must be > 0, got {o.qty}"
    if o.side not in (Side.BUY, Side.SELL):
        return f"side must be buy or sell, got {o.side}"
    if o.order_type not in (OrderType.LIMIT, OrderType.MARKET):
        return type_reason
    if o.order_type is OrderType.LIMIT and o.price is None:
        return "a limit order needs a price"
    if o.order_type is OrderType.MARKET and o.price is not None:
        return "a market order takes no price"
    if o.display_qty is not None:
        return f"iceberg orders (display_qty) are not supported by {venue}"
    if o.min_qty:
        return f"min_qty is not supported by {venue}"
    if o.post_only and (o.order_type is not OrderType.LIMIT or o.tif in (TimeInForce.IOC, TimeInForce.FOK)):
        return "post-only needs an order that can rest (limit, GTC/DAY)"
    if o.order_id in seen:
        return "duplicate order id"
    return None


@dataclass
class MockVenue:
    """A minimal reference venue for tests: a fixed contra book that never changes.

    Marketable limit and market orders fill immediately at ``quote`` (up to the displayed
    size, the rest rests or is cancelled by TIF); resting orders never fill unless
    :meth:`trade_through` is called. Cancels and modifies behave as on a real venue.
    """

    name: str
    instrument: Instrument
    book: Quote = field(default_factory=lambda: Quote(bid_px=99, bid_qty=100, ask_px=101, ask_qty=100))
    _now: int = 0
    _open: dict[int, tuple[SubmitOrder, int]] = field(default_factory=dict)
    _seen: set[int] = field(default_factory=set)

    @property
    def now(self) -> int:
        return self._now

    def quote(self) -> Quote:
        return self.book

    def advance(self, until_ns: int) -> tuple[int, list[ExecutionReport]]:
        self._now = max(self._now, until_ns)
        return self._now, []

    def _report(self, order_id: int, kind: ReportKind, **kw: object) -> ExecutionReport:
        return ExecutionReport(ts_ns=self._now, venue=self.name, order_id=order_id, kind=kind, **kw)  # type: ignore[arg-type]

    def handle(self, command: VenueCommand) -> list[ExecutionReport]:
        self._now = max(self._now, command.ts_ns)
        if isinstance(command, SubmitOrder):
            return self._submit(command)
        if command.order_id not in self._open:
            return [self._report(command.order_id, ReportKind.REJECTED, reason="unknown order")]
        order, leaves = self._open[command.order_id]
        if isinstance(command, CancelOrder):
            cut = leaves if command.qty is None else min(command.qty, leaves)
            if cut >= leaves:
                del self._open[command.order_id]
            else:
                self._open[command.order_id] = (order, leaves - cut)
            return [self._report(order.order_id, ReportKind.CANCELLED, qty=cut, leaves_qty=leaves - cut)]
        new_qty = leaves if command.qty is None else command.qty
        if new_qty <= 0:
            return [self._report(order.order_id, ReportKind.REJECTED, reason="qty must be positive")]
        price = order.price if command.price is None else command.price
        self._open[order.order_id] = (
            dataclasses.replace(order, price=price, qty=new_qty),
            new_qty,
        )
        return [self._report(order.order_id, ReportKind.MODIFIED, price=price or 0, leaves_qty=new_qty)]

    def _submit(self, o: SubmitOrder) -> list[ExecutionReport]:
        if o.qty <= 0:
            return [
                self._report(o.order_id, ReportKind.REJECTED, reason=f"qty must be positive, got {o.qty}")
            ]
        if o.order_id in self._seen:
            return [self._report(o.order_id, ReportKind.REJECTED, reason="duplicate order id")]
        if o.order_type is OrderType.LIMIT and o.price is None:
            return [self._report(o.order_id, ReportKind.REJECTED, reason="limit order without price")]
        self._seen.add(o.order_id)
        buy = o.side is Side.BUY
        touch_px, touch_qty = (
            (self.book.ask_px, self.book.ask_qty) if buy else (self.book.bid_px, self.book.bid_qty)
        )
        marketable = touch_qty > 0 and (
            o.order_type is OrderType.MARKET
            or (o.price is not None and (o.price >= touch_px if buy else o.price <= touch_px))
        )
        if o.post_only and marketable:
            return [
                self._report(o.order_id, ReportKind.REJECTED, reason="post-only order would take liquidity")
            ]
        if o.tif is TimeInForce.FOK and (not marketable or touch_qty < o.qty):
            return [
                self._report(
                    o.order_id, ReportKind.REJECTED, reason="fill-or-kill order cannot fill completely"
                )
            ]
        out = [self._report(o.order_id, ReportKind.ACCEPTED, leaves_qty=o.qty)]
        leaves = o.qty
        if marketable:
            q = min(o.qty, touch_qty)
            leaves -= q
            out.append(
                self._report(
                    o.order_id,
                    ReportKind.FILL,
                    price=touch_px,
                    qty=q,
                    leaves_qty=leaves,
                    liquidity=LiquiditySide.TAKER,
                )
            )
        if leaves and (o.order_type is OrderType.MARKET or o.tif in (TimeInForce.IOC, TimeInForce.FOK)):
            out.append(
                self._report(
                    o.order_id, ReportKind.CANCELLED, qty=leaves, reason="unfilled remainder", leaves_qty=0
                )
            )
            leaves = 0
        if leaves:
            self._open[o.order_id] = (o, leaves)
        return out

    def trade_through(self, order_id: int, qty: int) -> list[ExecutionReport]:
        """Let the market fill ``qty`` of a resting order (a test hook)."""
        order, leaves = self._open[order_id]
        q = min(qty, leaves)
        if q == leaves:
            del self._open[order_id]
        else:
            self._open[order_id] = (order, leaves - q)
        return [
            self._report(
                order_id,
                ReportKind.FILL,
                price=order.price or 0,
                qty=q,
                leaves_qty=leaves - q,
                liquidity=LiquiditySide.MAKER,
            )
        ]


class VenueConformanceError(ExecsimError, AssertionError):
    """A venue implementation breaks the venue contract."""


def check_rejections(
    v: Venue, t0: int, bad_orders: Sequence[SubmitOrder], fail: Callable[[str], None]
) -> None:
    """Call ``fail`` unless each of ``bad_orders`` gives exactly one REJECTED report with a reason
    and a cancel of an unknown order at ``t0`` exactly one REJECTED report (the shared first step
    of the venue conformance checks)."""
    for bad in bad_orders:
        reps = v.handle(bad)
        if [r.kind for r in reps] != [ReportKind.REJECTED] or not reps[0].reason:
            fail(f"{bad} must give exactly one REJECTED report with a reason, got {reps}")
    reps = v.handle(CancelOrder(ts_ns=t0, order_id=999_999))
    if [r.kind for r in reps] != [ReportKind.REJECTED]:
        fail(f"cancelling an unknown order must be rejected, got {reps}")


def check_venue(make_venue: Callable[[], Venue]) -> None:
    """Run the venue contract checks on fresh venues from ``make_venue``; raise on a breach.

    The venue must have liquidity on both sides of its quote when created. Checks: bad orders
    are rejected with a reason (never an exception); reports carry the venue's name, the right
    order id and non-decreasing times; fills never exceed the order; leaves quantities add up;
    an unknown cancel is rejected; a resting order can be cancelled and then no longer fills;
    ``advance`` never goes backwards.
    """

    def fail(msg: str) -> None:
        raise VenueConformanceError(f"{type(v).__name__}: {msg}")

    v = make_venue()
    if not isinstance(v, Venue):
        raise VenueConformanceError(f"{type(v).__name__} does not implement the Venue protocol")
    t0 = v.now
    q = v.quote()
    if q.bid_qty <= 0 or q.ask_qty <= 0:
        fail("check_venue needs a venue with both sides quoted")
    bad = (
        SubmitOrder(ts_ns=t0, order_id=1, side=Side.BUY, qty=0, price=q.bid_px),
        SubmitOrder(ts_ns=t0, order_id=2, side=Side.BUY, qty=1, price=None),
    )
    check_rejections(v, t0, bad, fail)

    # a passive order rests, and a cancel removes it
    passive = SubmitOrder(ts_ns=t0, order_id=10, side=Side.BUY, qty=3, price=q.bid_px - 5)
    reps = v.handle(passive)
    if not reps or reps[0].kind is not ReportKind.ACCEPTED or any(r.kind is ReportKind.FILL for r in reps):
        fail(f"a passive limit order must be ACCEPTED without fills, got {reps}")
    reps = v.handle(CancelOrder(ts_ns=t0, order_id=10))
    if [r.kind for r in reps] != [ReportKind.CANCELLED] or reps[0].qty != 3 or reps[0].leaves_qty != 0:
        fail(f"cancelling a resting 3-lot order must report CANCELLED qty=3 leaves=0, got {reps}")

    # an aggressive IOC fills at most its quantity, at or better than its limit
    ioc = SubmitOrder(
        ts_ns=t0, order_id=11, side=Side.BUY, qty=q.ask_qty + 5, price=q.ask_px, tif=TimeInForce.IOC
    )
    reps = v.handle(ioc)
    filled = sum(r.qty for r in reps if r.kind is ReportKind.FILL)
    if filled <= 0 or filled > ioc.qty:
        fail(f"a marketable IOC must fill between 1 and {ioc.qty} lots, filled {filled}: {reps}")
    if any(r.kind is ReportKind.FILL and r.price > q.ask_px for r in reps):
        fail(f"a buy limited at {q.ask_px} filled above its limit: {reps}")
    open_qty = ioc.qty
    last_ts = t0
    for r in reps:
        if r.venue != v.name or r.order_id != 11:
            fail(f"report names the wrong venue or order: {r}")
        if r.ts_ns < last_ts:
            fail(f"report times go backwards: {reps}")
        last_ts = r.ts_ns
        if r.kind in (ReportKind.FILL, ReportKind.CANCELLED):
            open_qty -= r.qty
            if r.leaves_qty != open_qty:
                fail(f"leaves_qty {r.leaves_qty} != open quantity {open_qty} after {r}")
    if open_qty != 0:
        fail(f"an IOC must leave nothing open, {open_qty} lots left: {reps}")
    reached, _ = v.advance(v.now + 1_000)
    if reached < t0:
        fail(f"advance went backwards: {reached} < {t0}")
