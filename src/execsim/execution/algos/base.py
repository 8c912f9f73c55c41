"""What every execution algorithm shares: the parent order, its child orders, the horizon.

An :class:`ExecutionAlgo` works one parent order between a start and an end time. Its life:

1. ``on_start``: work out the horizon (``start_ns``/``start_offset_s``, ``end_ns``/``duration_s``)
   and set a timer at the start.
2. At the start: declare the parent (``ctx.new_parent``), let the subclass prepare (build its
   schedule, subscribe to trades), set timers at its decision times, at the end and every
   ``requote_ms``, and take the first decision.
3. Decisions (timers, re-quotes, trade prints for POV, confirmations of cancels it asked for)
   call :meth:`ExecutionAlgo.decide`. The default decision follows two cumulative targets from
   :meth:`ExecutionAlgo.targets`: *soft* — lots that should be filled or working now — and
   *hard* — lots that must be filled now. Anything behind *hard* is crossed with a marketable
   IOC child (:meth:`~ExecutionAlgo.take`); the rest of *soft* rests passively at the near touch
   plus ``offset_ticks`` (:meth:`~ExecutionAlgo.post`), re-pegged every ``requote_ms``. With
   ``placement="aggressive"`` hard equals soft, so nothing rests.
4. At the end: cancel every open child; with ``complete_at_end``, once the cancels are
   confirmed, sweep the remainder with up to ``completion_sweeps`` IOC orders
   ``completion_cross_ticks`` through the far touch. The algorithm is then done.

Invariants (tested): the algorithm never sends a child that would make *filled + open child
quantity* exceed the parent quantity (it counts a child as open until the session tells it the
child is done, so in-flight cancels still count), hence never fills more than the parent.
Partial fills reduce what is left; a rejected post-only child is re-posted after
``repost_delay_ms`` at the then near touch; cancels confirm before their quantity is re-used.

Prices
------
Prices are ticks. ``offset_ticks`` is measured from the near touch *away from the spread*:
0 joins the best bid (buy) or best ask (sell), positive is more passive, negative more
aggressive (inside the spread, never crossing for a passive child). A ``limit_price`` caps
every child: a buy never above it, a sell never below it; an aggressive child whose capped
price cannot reach the far touch is not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, ClassVar, Self

import numpy as np
from pydantic import Field, model_validator

from execsim.core.config import FrozenConfig
from execsim.core.errors import ConfigError
from execsim.core.timeutil import NS_PER_MS, NS_PER_S
from execsim.execution.schedules import Schedule
from execsim.execution.strategy import (
    FillInfo,
    OrderInfo,
    ParentInfo,
    Strategy,
    StrategyContext,
    TradeInfo,
)
from execsim.model.enums import OrderStatus, OrderType, Side, TimeInForce
from execsim.venues.base import ExecutionReport, ReportKind

__all__ = [
    "AlgoConfig",
    "AlgoState",
    "ChildRole",
    "ExecutionAlgo",
    "Placement",
    "ScheduleAlgo",
    "ScheduleConfig",
]


class Placement(StrEnum):
    """How schedule quantity is worked: resting at the near touch, or crossing at once."""

    PASSIVE = "passive"
    AGGRESSIVE = "aggressive"


class ChildRole(StrEnum):
    """Why a child order was sent (also its ``tag`` in the orders table)."""

    PASSIVE = "passive"
    AGGRESSIVE = "aggressive"
    DARK = "dark"
    SWEEP = "sweep"


class AlgoState(StrEnum):
    """Where an algorithm is in its life."""

    PENDING = "pending"
    WORKING = "working"
    CLOSING = "closing"
    DONE = "done"


class AlgoConfig(FrozenConfig):
    """Parameters every execution algorithm shares (prices in ticks, sizes in lots)."""

    side: Side = Field(default=Side.BUY, description="buy or sell")
    qty: int = Field(default=100, gt=0, description="parent quantity (lots)")
    start_offset_s: float = Field(default=0.0, ge=0, description="start this long after on_start")
    start_ns: int | None = Field(default=None, description="absolute start time (overrides the offset)")
    duration_s: float = Field(default=60.0, gt=0, description="horizon length")
    end_ns: int | None = Field(default=None, description="absolute end time (overrides the duration)")
    limit_price: int | None = Field(default=None, gt=0, description="price cap of every child (ticks)")
    venue: str | None = Field(default=None, description="venue of the children (default: the first)")
    placement: Placement = Placement.PASSIVE
    offset_ticks: int = Field(default=0, description="passive price: ticks from the near touch, + = passive")
    cross_ticks: int = Field(default=0, ge=0, description="aggressive price: ticks through the far touch")
    min_child_qty: int = Field(default=1, gt=0, description="smallest child (unless it is all that is left)")
    max_child_qty: int | None = Field(default=None, gt=0, description="largest child")
    requote_ms: float | None = Field(default=250.0, gt=0, description="re-peg and re-decide interval")
    repost_delay_ms: float = Field(default=10.0, ge=0, description="wait after a rejected passive child")
    complete_at_end: bool = Field(default=False, description="sweep the remainder at the end")
    completion_cross_ticks: int = Field(default=10, ge=0)
    completion_sweeps: int = Field(default=3, ge=0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.side is Side.NONE:
            raise ValueError("side must be buy or sell")
        if self.start_ns is not None and self.end_ns is not None and self.end_ns <= self.start_ns:
            raise ValueError(f"end_ns {self.end_ns} must be after start_ns {self.start_ns}")
        if self.max_child_qty is not None and self.max_child_qty < self.min_child_qty:
            raise ValueError(f"max_child_qty {self.max_child_qty} < min_child_qty {self.min_child_qty}")
        return self


class _T(StrEnum):
    """Timer payloads of the base class."""

    BEGIN = "algo.begin"
    DECIDE = "algo.decide"
    REQUOTE = "algo.requote"
    RETRY = "algo.retry"
    END = "algo.end"


_LIVE_FOR_MODIFY = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


class ExecutionAlgo(Strategy):
    """Base class of the execution algorithms: one parent order, its children, its horizon.

    Subclasses override :meth:`targets` (and optionally :meth:`prepare`,
    :meth:`decision_times`, :meth:`take`, :meth:`post`, :meth:`decide`). See the module
    docstring for the life cycle and the invariants.

    Attributes
    ----------
    parent
        The parent order, once declared.
    filled
        Lots filled so far over all children.
    children
        Every child order id with its role.
    max_committed
        The largest *filled + open child quantity* seen right after any submission (never
        above the parent quantity).
    """

    algo_name: str = "algo"
    Config: ClassVar[type[AlgoConfig]] = AlgoConfig
    config: AlgoConfig

    def __init__(self, config: AlgoConfig | None = None) -> None:
        self.config = config if config is not None else type(self).Config()
        self.parent: ParentInfo | None = None
        self.state = AlgoState.PENDING
        self.start_ns = 0
        self.end_ns = 0
        self.venue = ""
        self.filled = 0
        self.children: dict[int, ChildRole] = {}
        self.max_committed = 0
        self.rejections = 0
        self._open: dict[int, ChildRole] = {}
        self._releasing: dict[int, int] = {}
        self._modifying: set[int] = set()
        self._cooldown_until = 0
        self._sweeps_left = 0

    # -- quantities ---------------------------------------------------------------------------
    @property
    def qty(self) -> int:
        """The parent quantity."""
        return self.config.qty

    @property
    def side(self) -> Side:
        """The parent side."""
        return self.config.side

    @property
    def sign(self) -> int:
        """+1 for a buy, −1 for a sell."""
        return 1 if self.config.side is Side.BUY else -1

    @property
    def remaining(self) -> int:
        """Lots not yet filled."""
        return self.qty - self.filled

    def open_qty(self, ctx: StrategyContext, role: ChildRole | None = None) -> int:
        """Open quantity of our children (of one role), as the session knows it."""
        return sum(ctx.order(o).leaves_qty for o, r in self._open.items() if role is None or r is role)

    def open_children(self, ctx: StrategyContext, role: ChildRole | None = None) -> list[OrderInfo]:
        """Open children (of one role), oldest first."""
        return [ctx.order(o) for o, r in self._open.items() if role is None or r is role]

    def available(self, ctx: StrategyContext) -> int:
        """Lots a new child may have: parent − filled − open children (never negative)."""
        return max(0, self.qty - self.filled - self.open_qty(ctx))

    def child_size(self, want: int) -> int:
        """``want`` cut to ``max_child_qty``; 0 if below ``min_child_qty`` and not the whole rest."""
        cfg = self.config
        q = want if cfg.max_child_qty is None else min(want, cfg.max_child_qty)
        if q <= 0 or (q < cfg.min_child_qty and q < self.remaining):
            return 0
        return q

    # -- prices ----------------------------------------------------------------------------------
    def near_touch(self, ctx: StrategyContext, venue: str | None = None) -> tuple[int, int] | None:
        """(price, qty) of our side's best level: the bid for a buy, the ask for a sell."""
        book = ctx.book(venue or self.venue)
        return book.best_bid() if self.side is Side.BUY else book.best_ask()

    def far_touch(self, ctx: StrategyContext, venue: str | None = None) -> tuple[int, int] | None:
        """(price, qty) of the opposite best level (what an aggressive child takes)."""
        book = ctx.book(venue or self.venue)
        return book.best_ask() if self.side is Side.BUY else book.best_bid()

    def cap(self, price: int) -> int:
        """``price`` limited by the parent's ``limit_price``."""
        lim = self.config.limit_price
        if lim is None:
            return price
        return min(price, lim) if self.side is Side.BUY else max(price, lim)

    def passive_price(
        self, ctx: StrategyContext, venue: str | None = None, offset_ticks: int | None = None
    ) -> int | None:
        """Near touch moved ``offset_ticks`` away from the spread, never crossing, capped."""
        near = self.near_touch(ctx, venue)
        if near is None:
            return None
        off = self.config.offset_ticks if offset_ticks is None else offset_ticks
        p = near[0] - self.sign * off
        far = self.far_touch(ctx, venue)
        if far is not None:  # a passive child must not cross (post-only would be rejected)
            p = min(p, far[0] - 1) if self.side is Side.BUY else max(p, far[0] + 1)
        p = self.cap(p)
        return p if p > 0 else None

    def aggressive_price(
        self, ctx: StrategyContext, venue: str | None = None, cross_ticks: int | None = None
    ) -> int | None:
        """Far touch plus ``cross_ticks`` through it, capped; None if the cap cannot reach it."""
        far = self.far_touch(ctx, venue)
        if far is None:
            return None
        cross = self.config.cross_ticks if cross_ticks is None else cross_ticks
        p = self.cap(far[0] + self.sign * cross)
        reaches = p >= far[0] if self.side is Side.BUY else p <= far[0]
        return p if reaches and p > 0 else None

    # -- children ---------------------------------------------------------------------------------
    def submit_child(
        self,
        ctx: StrategyContext,
        role: ChildRole,
        qty: int,
        price: int | None,
        *,
        order_type: OrderType = OrderType.LIMIT,
        tif: TimeInForce = TimeInForce.GTC,
        venue: str | None = None,
        post_only: bool = False,
        min_qty: int = 0,
    ) -> int | None:
        """Send a child of the parent, cut to :meth:`available`; return its id (None if nothing sent)."""
        if self.parent is None:
            return None
        qty = min(int(qty), self.available(ctx))
        if qty <= 0:
            return None
        oid = ctx.submit(
            self.side,
            qty,
            price,
            order_type=order_type,
            tif=tif,
            venue=venue or self.venue,
            post_only=post_only,
            min_qty=min_qty,
            tag=role.value,
            parent_id=self.parent.parent_id,
        )
        self.children[oid] = role
        self._open[oid] = role
        self.max_committed = max(self.max_committed, self.filled + self.open_qty(ctx))
        return oid

    def take(self, ctx: StrategyContext, qty: int) -> None:
        """Cross the spread for ``qty`` lots (default: one IOC at the venue's far touch + cross)."""
        p = self.aggressive_price(ctx)
        if p is not None:
            self.submit_child(ctx, ChildRole.AGGRESSIVE, qty, p, tif=TimeInForce.IOC)

    def post(self, ctx: StrategyContext, qty: int) -> None:
        """Rest ``qty`` lots passively (default: post-only at the passive price)."""
        p = self.passive_price(ctx)
        if p is not None:
            self.submit_child(ctx, ChildRole.PASSIVE, qty, p, post_only=True)

    def release(
        self,
        ctx: StrategyContext,
        need: int,
        roles: Sequence[ChildRole] = (ChildRole.PASSIVE, ChildRole.DARK),
    ) -> None:
        """Free ``need`` lots of resting children (newest first): size down, or cancel whole."""
        for role in roles:
            for o in reversed(self.open_children(ctx, role)):
                if need <= 0:
                    return
                if o.order_id in self._releasing or o.status is OrderStatus.PENDING_CANCEL:
                    continue
                leaves = o.leaves_qty
                if leaves <= 0:
                    continue
                if need >= leaves or o.status is OrderStatus.SUBMITTED:
                    ctx.cancel(o.order_id)
                    self._releasing[o.order_id] = leaves
                    need -= leaves
                else:
                    ctx.cancel(o.order_id, need)
                    self._releasing[o.order_id] = need
                    need = 0

    def releasing_qty(self) -> int:
        """Lots asked back from resting children and not yet confirmed."""
        return sum(self._releasing.values())

    def cancel_children(self, ctx: StrategyContext) -> None:
        """Ask to cancel every open child."""
        for o in self.open_children(ctx):
            if o.status is not OrderStatus.PENDING_CANCEL:
                ctx.cancel(o.order_id)
                self._releasing[o.order_id] = o.leaves_qty

    def requote(self, ctx: StrategyContext) -> None:
        """Re-peg resting passive children to the current passive price (price-only modify)."""
        for o in self.open_children(ctx, ChildRole.PASSIVE):
            if (
                o.status not in _LIVE_FOR_MODIFY
                or o.order_id in self._modifying
                or o.order_id in self._releasing
            ):
                continue
            p = self.passive_price(ctx, o.venue)
            if p is not None and p != o.price:
                ctx.modify(o.order_id, price=p)
                self._modifying.add(o.order_id)

    # -- subclass hooks -----------------------------------------------------------------------------
    def prepare(self, ctx: StrategyContext) -> None:
        """Set up at the start, after the parent is declared (build a schedule, subscribe)."""

    def decision_times(self) -> Sequence[int]:
        """Times (ns) at which to call :meth:`decide`, besides re-quotes."""
        return ()

    def targets(self, ctx: StrategyContext) -> tuple[int, int]:
        """(soft, hard) cumulative lots now: to be filled or working, and to be filled."""
        raise NotImplementedError

    def decide(self, ctx: StrategyContext) -> None:
        """Bring the children in line with :meth:`targets` (see the module docstring)."""
        if self.state is not AlgoState.WORKING:
            return
        soft, hard = self.targets(ctx)
        soft = min(max(soft, 0), self.qty)
        hard = min(max(hard, 0), soft)
        if self.config.placement is Placement.AGGRESSIVE:
            hard = soft
        aggr = self.open_qty(ctx, ChildRole.AGGRESSIVE)
        passive = self.open_qty(ctx, ChildRole.PASSIVE) - sum(
            q for o, q in self._releasing.items() if self._open.get(o) is ChildRole.PASSIVE
        )
        lag = hard - self.filled - aggr
        size = self.child_size(lag) if lag > 0 else 0
        if size > 0:
            free = self.available(ctx)
            # keep working quantity within soft, and the parent within its quantity
            excess = self.filled + aggr + size + passive - soft
            need = max(excess, size - free) - self.releasing_qty()
            if need > 0:
                self.release(ctx, need)
            if free > 0:
                self.take(ctx, min(size, free))
            aggr = self.open_qty(ctx, ChildRole.AGGRESSIVE)
        if self.config.placement is Placement.PASSIVE and ctx.now >= self._cooldown_until:
            want = soft - self.filled - aggr - max(passive, 0)
            size = self.child_size(want) if want > 0 else 0
            if size > 0:
                self.post(ctx, min(size, self.available(ctx)))

    def on_child_fill(self, ctx: StrategyContext, fill: FillInfo) -> None:
        """Called on each fill of a child (after the counts are updated)."""

    # -- Strategy callbacks -----------------------------------------------------------------------------
    def on_start(self, ctx: StrategyContext) -> None:
        cfg = self.config
        t0 = ctx.now
        start = cfg.start_ns if cfg.start_ns is not None else t0 + round(cfg.start_offset_s * NS_PER_S)
        start = max(start, t0)
        end = cfg.end_ns if cfg.end_ns is not None else start + round(cfg.duration_s * NS_PER_S)
        if end <= start:
            raise ConfigError(f"{type(self).__name__}: the horizon ends at {end}, before its start {start}")
        venue = cfg.venue or ctx.venues[0]
        if venue not in ctx.venues:
            raise ConfigError(f"{type(self).__name__}: unknown venue {venue!r}; the session has {ctx.venues}")
        self.start_ns, self.end_ns, self.venue = start, end, venue
        ctx.set_timer(start, _T.BEGIN)

    def _begin(self, ctx: StrategyContext) -> None:
        cfg = self.config
        self.parent = ctx.new_parent(
            cfg.side, cfg.qty, limit_price=cfg.limit_price, algo=self.algo_name, venue=self.venue
        )
        self.state = AlgoState.WORKING
        self._sweeps_left = cfg.completion_sweeps
        self.prepare(ctx)
        for t in sorted(set(self.decision_times())):
            if ctx.now < t < self.end_ns:
                ctx.set_timer(int(t), _T.DECIDE)
        ctx.set_timer(self.end_ns, _T.END)
        if cfg.requote_ms is not None:
            self._next_requote(ctx)
        ctx.log(
            f"{self.algo_name}: parent {self.parent.parent_id} {cfg.side.value} {cfg.qty} lots, "
            f"until {self.end_ns}"
        )
        self.decide(ctx)

    def _next_requote(self, ctx: StrategyContext) -> None:
        assert self.config.requote_ms is not None
        t = ctx.now + max(1, round(self.config.requote_ms * NS_PER_MS))
        if t < self.end_ns:
            ctx.set_timer(t, _T.REQUOTE)

    def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
        if payload is _T.BEGIN:
            self._begin(ctx)
        elif payload is _T.END:
            self._finish(ctx)
        elif self.state is AlgoState.WORKING:
            if payload is _T.REQUOTE:
                self._next_requote(ctx)
                self.on_requote(ctx)
            elif payload is _T.DECIDE:
                self.decide(ctx)
            elif payload is _T.RETRY:
                self.on_retry(ctx)
            else:
                self.on_algo_timer(ctx, payload)

    def on_requote(self, ctx: StrategyContext) -> None:
        """Every ``requote_ms`` while working: re-peg passive children, then decide."""
        self.requote(ctx)
        self.decide(ctx)

    def on_retry(self, ctx: StrategyContext) -> None:
        """``repost_delay_ms`` after a passive child was rejected: decide again."""
        self.decide(ctx)

    def on_released(self, ctx: StrategyContext) -> None:
        """A cancel or size-down the algorithm asked for is confirmed: decide again."""
        self.decide(ctx)

    def on_algo_timer(self, ctx: StrategyContext, payload: Any) -> None:
        """Timers a subclass set itself (while working)."""

    def on_trade(self, ctx: StrategyContext, trade: TradeInfo) -> None:
        """Market trade prints (only if a subclass subscribed)."""

    def on_order_update(self, ctx: StrategyContext, order: OrderInfo, report: Any) -> None:
        oid = order.order_id
        role = self.children.get(oid)
        if role is None:
            return
        kind = report.kind if isinstance(report, ExecutionReport) else None
        if kind is ReportKind.FILL:
            self.filled += report.qty  # counted here: on_fill comes after this callback
        elif kind is not None:
            self._modifying.discard(oid)
        released = kind is ReportKind.CANCELLED and oid in self._releasing
        if released or not order.is_open:
            self._releasing.pop(oid, None)
        if not order.is_open:
            self._open.pop(oid, None)
            self._modifying.discard(oid)
        if kind is ReportKind.REJECTED and not order.is_open:
            self.rejections += 1
            ctx.log(f"{self.algo_name}: child {oid} rejected: {report.reason}")
            self.on_child_rejected(ctx, order, role)
        if self.filled >= self.qty and self.state in (AlgoState.WORKING, AlgoState.CLOSING):
            self._done(ctx, "complete")
            return
        if self.state is AlgoState.CLOSING:
            self._closing_step(ctx)
        elif released and self.state is AlgoState.WORKING:
            self.on_released(ctx)

    def on_child_rejected(self, ctx: StrategyContext, order: OrderInfo, role: ChildRole) -> None:
        """A child was rejected: for a passive one, wait ``repost_delay_ms`` and retry."""
        if role is ChildRole.PASSIVE and self.state is AlgoState.WORKING:
            self._cooldown_until = ctx.now + round(self.config.repost_delay_ms * NS_PER_MS)
            ctx.set_timer(self._cooldown_until, _T.RETRY)

    def on_fill(self, ctx: StrategyContext, fill: FillInfo) -> None:
        if fill.order_id in self.children:
            self.on_child_fill(ctx, fill)

    def _finish(self, ctx: StrategyContext) -> None:
        if self.state is not AlgoState.WORKING:
            return
        self.state = AlgoState.CLOSING
        self.cancel_children(ctx)
        self._closing_step(ctx)

    def _closing_step(self, ctx: StrategyContext) -> None:
        if self._open:
            return
        if self.config.complete_at_end and self.remaining > 0 and self._sweeps_left > 0:
            p = self.aggressive_price(ctx, cross_ticks=self.config.completion_cross_ticks)
            if p is not None:
                self._sweeps_left -= 1
                if (
                    self.submit_child(ctx, ChildRole.SWEEP, self.remaining, p, tif=TimeInForce.IOC)
                    is not None
                ):
                    return
        self._done(ctx, "horizon end")

    def _done(self, ctx: StrategyContext, why: str) -> None:
        self.state = AlgoState.DONE
        ctx.log(
            f"{self.algo_name}: done ({why}): filled {self.filled} of {self.qty} lots "
            f"with {len(self.children)} child orders"
        )

    def on_stop(self, ctx: StrategyContext) -> None:
        if self.state is not AlgoState.DONE:
            ctx.log(
                f"{self.algo_name}: session ended in state {self.state.value}: filled {self.filled} "
                f"of {self.qty} lots"
            )
            self.state = AlgoState.DONE


class ScheduleConfig(AlgoConfig):
    """Parameters of the schedule-following algorithms (and those of :class:`AlgoConfig`)."""

    cross_after: float = Field(
        default=0.8, gt=0, le=1, description="cross a slice's unfilled part after this fraction of it"
    )


class ScheduleAlgo(ExecutionAlgo):
    """An algorithm that follows a :class:`~execsim.execution.schedules.Schedule`.

    Soft target: the lots of the slices started so far. Hard target: the lots of the slices
    that are ``cross_after`` of the way through their interval — with passive placement a
    slice rests at the near touch for that fraction of its interval, then what is left of it is
    crossed (so the last slice, too, is done before the end). Decisions at each slice start,
    at each crossing time and every re-quote.
    """

    config: ScheduleConfig
    schedule: Schedule | None = None

    def build_schedule(self, ctx: StrategyContext) -> Schedule:
        """The schedule over ``[start_ns, end_ns)`` for the parent quantity."""
        raise NotImplementedError

    def prepare(self, ctx: StrategyContext) -> None:
        self.schedule = s = self.build_schedule(ctx)
        if s.total != self.qty:
            raise ConfigError(
                f"{type(self).__name__}: schedule total {s.total} != parent quantity {self.qty}"
            )
        span = s.ends_ns - s.times_ns
        self._cross_times = s.times_ns + np.floor(span * self.config.cross_after).astype(np.int64)
        ctx.log(f"{self.algo_name}: schedule of {s.n_slices} slices: {s.qty.tolist()}")

    def decision_times(self) -> Sequence[int]:
        if self.schedule is None:
            return []
        return [int(t) for t in (*self.schedule.times_ns, *self._cross_times)]

    def targets(self, ctx: StrategyContext) -> tuple[int, int]:
        s = self.schedule
        if s is None:
            return 0, 0
        k = int(np.searchsorted(self._cross_times, ctx.now, side="right"))
        return s.due(ctx.now), int(s.qty[:k].sum())
