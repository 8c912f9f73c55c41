"""Pre-trade controls in the spirit of MiFID II RTS 6 Art. 15, and the kill switch.

Each control is a small plug-in with one question, :meth:`PreTradeCheck.check`: may this
request go out now? It answers ``None`` (yes) or a :class:`Denial` naming the rule, the limit
and the offending value. The :class:`~execsim.execution.oms.OrderManager` runs the controls in
order before anything reaches a venue, logs the first denial as an
:class:`~execsim.execution.events.OrderDenied` event and returns it: a breach is never an
exception. Stateful controls (the throttle, the duplicate check) learn what was actually sent
through :meth:`PreTradeCheck.on_sent`.

The controls, their :class:`RiskConfig` keys and defaults (every configurable control is off by
default; the kill switch and the parent-order controls are always on):

================== ================================== ==========================================
rule               config keys                        denies
================== ================================== ==========================================
kill_switch        (``OrderManager.kill``)            new orders and modifies in a killed scope
restricted_list    ``restricted_symbols`` = ()        new orders in a restricted symbol
parent_side        (always)                           a child on the other side of its parent
parent_limit       (always)                           a child priced through its parent's limit
parent_allocation  (always)                           children's filled + working > parent qty
max_order_qty      ``max_order_qty`` = None           order quantity (lots) above the limit
max_order_value    ``max_order_value`` = None         price × qty (quote currency) above it
price_collar       ``price_collar_bps`` / ``_ticks``  a limit price too far from the reference
max_participation  ``max_participation`` = None       qty / recent market volume above it
duplicate_order    ``duplicate_window_ns`` = None     same algo/venue/side/type/price/qty again
message_throttle   ``max_messages``,                  more than ``max_messages`` per algorithm in
                   ``message_window_ns`` = 1 s,       any window; cancels count, and are denied
                   ``throttle_cancels`` = False       only with ``throttle_cancels``
================== ================================== ==========================================

Limits compare exactly (integers, or fractions of the configured decimal): a value equal to its
limit passes, one above it is denied.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol, runtime_checkable

from pydantic import Field

from execsim.core.config import FrozenConfig
from execsim.execution.events import KillScope, OrderRequest
from execsim.model.enums import Side
from execsim.model.instrument import Instrument

__all__ = [
    "Check",
    "Denial",
    "DuplicateOrderCheck",
    "KillSwitch",
    "KillSwitchCheck",
    "MaxOrderQty",
    "MaxOrderValue",
    "MaxParticipation",
    "MessageThrottle",
    "ParentControls",
    "ParentLimits",
    "PreTradeCheck",
    "PriceCollar",
    "RestrictedList",
    "RiskConfig",
    "RiskContext",
    "build_checks",
]

NEW, MODIFY, CANCEL = "new", "modify", "cancel"


class RiskConfig(FrozenConfig):
    """Limits of the configurable pre-trade controls (None or empty = that control is off).

    Attributes
    ----------
    price_collar_bps, price_collar_ticks
        A limit price may lie at most this far from the reference price (bps of the reference,
        or ticks). With both set, the band is the wider of the two (so a bps band never shrinks
        below a few ticks at low prices).
    max_order_qty
        Largest order quantity, in lots.
    max_order_value
        Largest order value, price × quantity in the quote currency (market orders are valued
        at the reference price).
    max_participation
        Largest order quantity as a fraction of the recent market volume the caller supplies.
    max_messages, message_window_ns
        At most ``max_messages`` messages (new orders, modifies, cancels) per algorithm in any
        window of ``message_window_ns``.
    throttle_cancels
        Deny cancels over the message limit too (by default they are counted but always go out,
        since a cancel reduces risk).
    duplicate_window_ns
        Deny a new order identical (algorithm, venue, side, type, price, qty) to one sent less
        than this long ago.
    restricted_symbols
        Instruments that may not be traded.
    """

    price_collar_bps: float | None = Field(default=None, gt=0)
    price_collar_ticks: int | None = Field(default=None, gt=0)
    max_order_qty: int | None = Field(default=None, gt=0)
    max_order_value: float | None = Field(default=None, gt=0)
    max_participation: float | None = Field(default=None, gt=0)
    max_messages: int | None = Field(default=None, gt=0)
    message_window_ns: int = Field(default=1_000_000_000, gt=0)
    throttle_cancels: bool = False
    duplicate_window_ns: int | None = Field(default=None, gt=0)
    restricted_symbols: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Denial:
    """Why a control refused a request: the rule, its limit, the offending value, in words."""

    rule: str
    limit: float | int | str | None
    value: float | int | str | None
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentLimits:
    """What the parent-order controls need to know about a child's parent.

    ``committed`` is the parent quantity already taken by everything *other than* the order
    being checked: every child's fills plus the working quantity of the other live children.
    """

    parent_id: int
    side: Side
    qty: int
    limit_price: int | None
    committed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskContext:
    """Everything a control may look at besides the request itself.

    For ``action="modify"`` the request is the order as it would be after the modify (its
    price, and its total quantity: filled plus the new open quantity); for ``"cancel"`` the
    order as it is.
    """

    now: int
    action: str
    instrument: Instrument
    algo: str
    order_id: int
    reference_price: float | None = None
    recent_volume: int | None = None
    parent: ParentLimits | None = None


@runtime_checkable
class PreTradeCheck(Protocol):
    """A pre-trade control."""

    rule: str

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        """Return a denial if ``request`` may not go out now, else None."""
        ...

    def on_sent(self, request: OrderRequest, ctx: RiskContext) -> None:
        """Learn that a request (of ``ctx.action``) was sent."""
        ...


class Check:
    """Base class of the built-in controls: stateless unless ``on_sent`` is overridden."""

    rule = ""

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:  # pragma: no cover
        raise NotImplementedError

    def on_sent(self, request: OrderRequest, ctx: RiskContext) -> None:
        """Do nothing (stateless control)."""

    def deny(self, limit: float | int | str | None, value: float | int | str | None, message: str) -> Denial:
        """A denial by this control."""
        return Denial(rule=self.rule, limit=limit, value=value, message=message)

    def __repr__(self) -> str:
        attrs = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({attrs})"


def _exact(x: float | int) -> Fraction:
    """A configured limit as an exact fraction of its decimal text (0.3 is 3/10, not 0.2999…)."""
    return Fraction(x) if isinstance(x, int) else Fraction(repr(float(x)))


def _ratio(x: float | int) -> tuple[int, int]:
    """A reference price as an exact integer ratio (floats are binary fractions, exactly)."""
    return (x, 1) if isinstance(x, int) else float(x).as_integer_ratio()


class _UnitValue:
    """The quote-currency value of one tick × one lot of an instrument, as a cached ratio."""

    def __init__(self) -> None:
        self._ins: Instrument | None = None
        self._ratio = (1, 1)

    def __call__(self, ins: Instrument) -> tuple[int, int]:
        if ins is not self._ins:
            u = Fraction(ins.tick_size) * Fraction(ins.lot_size)
            self._ins, self._ratio = ins, (u.numerator, u.denominator)
        return self._ratio


def _fmt(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):.6g}"


# -- the kill switch ----------------------------------------------------------------------------------


class KillSwitch:
    """The killed scopes of one OMS."""

    def __init__(self) -> None:
        self._active: list[KillScope] = []

    @property
    def active(self) -> tuple[KillScope, ...]:
        """Killed scopes, in the order they were killed."""
        return tuple(self._active)

    def kill(self, scope: KillScope) -> None:
        """Kill a scope (again: no change)."""
        if scope not in self._active:
            self._active.append(scope)

    def reset(self, scope: KillScope) -> bool:
        """Lift exactly this scope; return whether it was killed."""
        if scope in self._active:
            self._active.remove(scope)
            return True
        return False

    def covering(self, *, algo: str, instrument: str, venue: str) -> KillScope | None:
        """The first killed scope that covers an order, or None."""
        if not self._active:
            return None
        for s in self._active:
            if s.matches(algo=algo, instrument=instrument, venue=venue):
                return s
        return None


class KillSwitchCheck(Check):
    """Deny new orders and modifies in a killed scope (cancels always go out)."""

    rule = "kill_switch"

    def __init__(self, switch: KillSwitch) -> None:
        self._switch = switch

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        if ctx.action == CANCEL:
            return None
        scope = self._switch.covering(algo=ctx.algo, instrument=ctx.instrument.symbol, venue=request.venue)
        if scope is None:
            return None
        return self.deny(
            str(scope),
            f"algo={ctx.algo},instrument={ctx.instrument.symbol},venue={request.venue}",
            f"kill switch active for {scope}; reset it to trade again",
        )


# -- static controls ------------------------------------------------------------------------------------


class RestrictedList(Check):
    """Deny new orders in a restricted instrument."""

    rule = "restricted_list"

    def __init__(self, symbols: tuple[str, ...]) -> None:
        self.symbols = tuple(symbols)

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        sym = ctx.instrument.symbol
        if ctx.action != NEW or sym not in self.symbols:
            return None
        return self.deny(None, sym, f"{sym} is on the restricted list {list(self.symbols)}")


class ParentControls(Check):
    """A child must be on its parent's side, within its limit, and fit in what is left of it.

    One control with three rules: ``parent_side``, ``parent_limit`` (a priced child may not be
    worse than the parent's limit price; market children pass) and ``parent_allocation``
    (children's filled plus working quantity may not exceed the parent quantity).
    """

    rule = "parent_allocation"

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        p = ctx.parent
        if p is None or ctx.action == CANCEL:
            return None
        if request.side is not p.side:
            return Denial(
                rule="parent_side",
                limit=p.side.value,
                value=request.side.value,
                message=f"a {request.side.value} child of {p.side.value} parent {p.parent_id}",
            )
        if p.limit_price is not None and request.price is not None:
            worse = request.price > p.limit_price if p.side is Side.BUY else request.price < p.limit_price
            if worse:
                return Denial(
                    rule="parent_limit",
                    limit=p.limit_price,
                    value=request.price,
                    message=f"price {request.price} is through parent {p.parent_id}'s limit {p.limit_price}",
                )
        total = p.committed + request.qty
        if total > p.qty:
            return self.deny(
                p.qty,
                total,
                f"parent {p.parent_id}: {p.committed} lots filled or working + {request.qty} = {total} "
                f"> parent qty {p.qty}",
            )
        return None


class MaxOrderQty(Check):
    """Deny an order larger than ``limit`` lots."""

    rule = "max_order_qty"

    def __init__(self, limit: int) -> None:
        self.limit = int(limit)

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        if ctx.action == CANCEL or request.qty <= self.limit:
            return None
        return self.deny(self.limit, request.qty, f"order qty {request.qty} lots > limit {self.limit} lots")


class MaxOrderValue(Check):
    """Deny an order worth more than ``limit`` (price × quantity, quote currency).

    Market and peg orders are valued at the reference price; without one they are denied.
    """

    rule = "max_order_value"

    def __init__(self, limit: float) -> None:
        self.limit = float(limit)
        lim = _exact(limit)
        self._lim = (lim.numerator, lim.denominator)
        self._unit = _UnitValue()

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        if ctx.action == CANCEL:
            return None
        if request.price is not None:
            pn, pd = request.price, 1
        elif ctx.reference_price is not None:
            pn, pd = _ratio(ctx.reference_price)
        else:
            return self.deny(
                self.limit, None, "an order without a price needs a reference price to be valued"
            )
        ins = ctx.instrument
        un, ud = self._unit(ins)
        ln, ld = self._lim
        # value = pn/pd × qty × un/ud <= ln/ld, in integers
        if pn * request.qty * un * ld <= ln * pd * ud:
            return None
        value = Fraction(pn * request.qty * un, pd * ud)
        return self.deny(
            self.limit,
            float(value),
            f"order value {_fmt(value)} {ins.currency} > limit {self.limit:g} {ins.currency}",
        )


class PriceCollar(Check):
    """Deny a limit price further than the band from the reference price.

    The band's half-width is ``bps`` of the reference, or ``ticks``, or the wider of the two.
    Orders without a price (market, peg) are not collared; without a reference price a priced
    order is denied.
    """

    rule = "price_collar"

    def __init__(self, *, bps: float | None = None, ticks: int | None = None) -> None:
        if bps is None and ticks is None:
            raise ValueError("PriceCollar needs bps or ticks")
        self.bps, self.ticks = bps, ticks
        b = _exact(bps) if bps is not None else Fraction(0)
        self._bps = (b.numerator, b.denominator)

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        if ctx.action == CANCEL or request.price is None:
            return None
        if ctx.reference_price is None:
            return self.deny(None, None, f"no reference price to check price {request.price} against")
        # the common case in integers: |price − n/d| within n/d × bps/10⁴, or within ticks
        n, d = _ratio(ctx.reference_price)
        dev_d = abs(request.price * d - n)  # the deviation times d
        bn, bd = self._bps
        if self.bps is not None and dev_d * 10_000 * bd <= abs(n) * bn:
            return None
        if self.ticks is not None and dev_d <= self.ticks * d:
            return None
        ref = Fraction(n, d)
        band = Fraction(0)
        if self.bps is not None:
            band = abs(ref) * _exact(self.bps) / 10_000
        if self.ticks is not None:
            band = max(band, Fraction(self.ticks))
        dev = abs(Fraction(request.price) - ref)
        if dev <= band:
            return None
        dev_bps = float(dev / ref * 10_000) if ref else float("inf")
        return self.deny(
            float(band),
            float(dev),
            f"price {request.price} is {_fmt(dev)} ticks ({dev_bps:.1f} bps) from the reference "
            f"{_fmt(ref)}; collar ±{_fmt(band)} ticks",
        )


class MaxParticipation(Check):
    """Deny an order larger than ``limit`` × the recent market volume (which the caller supplies)."""

    rule = "max_participation"

    def __init__(self, limit: float) -> None:
        self.limit = float(limit)
        lim = _exact(limit)
        self._lim = (lim.numerator, lim.denominator)

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        if ctx.action == CANCEL:
            return None
        vol = ctx.recent_volume
        if vol is None:
            return self.deny(self.limit, None, "no recent market volume supplied to check participation")
        if vol <= 0:
            return self.deny(self.limit, float("inf"), f"order qty {request.qty} against no recent volume")
        ln, ld = self._lim
        if request.qty * ld <= ln * vol:
            return None
        ratio = Fraction(request.qty, vol)
        return self.deny(
            self.limit,
            float(ratio),
            f"order qty {request.qty} is {float(ratio):.4g} of the recent volume {vol}; limit {self.limit:g}",
        )


# -- stateful controls ------------------------------------------------------------------------------------


class MessageThrottle(Check):
    """At most ``max_messages`` messages per algorithm in any window of ``window_ns``.

    A message sent at ``t`` counts against every message at ``t' < t + window_ns``. New orders,
    modifies and cancels all count; cancels are denied only if ``throttle_cancels``.
    """

    rule = "message_throttle"

    def __init__(self, max_messages: int, window_ns: int, *, throttle_cancels: bool = False) -> None:
        self.max_messages, self.window_ns = int(max_messages), int(window_ns)
        self.throttle_cancels = throttle_cancels
        self._sent: dict[str, deque[int]] = {}

    def _count(self, algo: str, now: int) -> int:
        q = self._sent.get(algo)
        if not q:
            return 0
        while q and q[0] <= now - self.window_ns:
            q.popleft()
        return len(q)

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        if ctx.action == CANCEL and not self.throttle_cancels:
            return None
        n = self._count(ctx.algo, ctx.now)
        if n < self.max_messages:
            return None
        return self.deny(
            self.max_messages,
            n + 1,
            f"algo {ctx.algo!r}: message {n + 1} within {self.window_ns} ns; limit {self.max_messages}",
        )

    def on_sent(self, request: OrderRequest, ctx: RiskContext) -> None:
        self._sent.setdefault(ctx.algo, deque()).append(ctx.now)


class DuplicateOrderCheck(Check):
    """Deny a new order identical to one sent less than ``window_ns`` ago.

    Identical means same algorithm, venue, side, order type, price and quantity.
    """

    rule = "duplicate_order"

    def __init__(self, window_ns: int) -> None:
        self.window_ns = int(window_ns)
        self._last: dict[tuple[object, ...], int] = {}

    @staticmethod
    def _key(request: OrderRequest, ctx: RiskContext) -> tuple[object, ...]:
        return (ctx.algo, request.venue, request.side, request.order_type, request.price, request.qty)

    def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
        if ctx.action != NEW:
            return None
        last = self._last.get(self._key(request, ctx))
        if last is None or ctx.now - last >= self.window_ns:
            return None
        age = ctx.now - last
        return self.deny(
            self.window_ns,
            age,
            f"same {request.side.value} {request.qty} @ {request.price} at {request.venue} sent {age} ns ago "
            f"(window {self.window_ns} ns)",
        )

    def on_sent(self, request: OrderRequest, ctx: RiskContext) -> None:
        if ctx.action == NEW:
            self._last[self._key(request, ctx)] = ctx.now


def build_checks(config: RiskConfig | None, switch: KillSwitch) -> list[PreTradeCheck]:
    """The built-in controls in the order they run: kill switch, restricted list, parent
    controls, then the configured limits (qty, value, collar, participation, duplicate, throttle)."""
    c = config or RiskConfig()
    out: list[PreTradeCheck] = [KillSwitchCheck(switch)]
    if c.restricted_symbols:
        out.append(RestrictedList(c.restricted_symbols))
    out.append(ParentControls())
    if c.max_order_qty is not None:
        out.append(MaxOrderQty(c.max_order_qty))
    if c.max_order_value is not None:
        out.append(MaxOrderValue(c.max_order_value))
    if c.price_collar_bps is not None or c.price_collar_ticks is not None:
        out.append(PriceCollar(bps=c.price_collar_bps, ticks=c.price_collar_ticks))
    if c.max_participation is not None:
        out.append(MaxParticipation(c.max_participation))
    if c.duplicate_window_ns is not None:
        out.append(DuplicateOrderCheck(c.duplicate_window_ns))
    if c.max_messages is not None:
        out.append(MessageThrottle(c.max_messages, c.message_window_ns, throttle_cancels=c.throttle_cancels))
    return out
