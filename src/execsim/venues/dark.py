"""A dark midpoint pool: hidden orders that trade only at the lit midpoint, with minimum sizes.

Rules (``docs/venues.md`` has them with their assumptions and defaults)
----------------------------------------------------------------------
* **No pre-trade transparency**: :meth:`DarkMidpointPool.quote` is always empty, so a
  consolidated BBO never sees the pool.
* **Our orders** rest hidden. ``MIDPOINT_PEG`` and ``LIMIT`` are both pegged to the midpoint;
  a price, when given, caps it (a buy never pays above it, a sell never receives below it).
  Minimum execution size: ``SubmitOrder.min_qty`` and the pool's ``min_qty`` (the larger
  applies; when an order's leaves fall below it, the leaves are the minimum). Market orders,
  icebergs and FOK are rejected with a reason; IOC is accepted and its remainder cancelled at
  once (the pool holds no resting contra liquidity to meet it); post-only is accepted (every
  pool order is passive).
* **Contra flow** comes from a :class:`~execsim.venues.contra_flow.ContraFlowModel`, drawn
  with the pool's generator on consecutive fixed windows of ``chunk_ns`` from ``start_ns``,
  so the same seed gives the same arrivals however the session steps the pool (and with or
  without our orders: the counterfactual run sees the same flow). Each arrival is
  immediate-or-cancel: it meets our resting orders on the other side at that instant, in
  price-time priority (uncapped pegs first, then the more generous cap, then the earlier
  order), each fill at least both sides' minimum size; an order whose minimum cannot be met is
  passed over for the next one. What is left of the arrival leaves the pool; an arrival
  smaller than the pool minimum is turned away.
* **Price**: the lit midpoint from ``lit_quote()`` (the session's consolidated lit BBO), which
  the pool calls at each arrival after moving :attr:`~DarkMidpointPool.now` to the arrival's
  time, so a session can answer from a book indexed by ``pool.now``. No fill when the lit book
  is one-sided, locked or crossed (or halted: the session passes an empty quote), or when the
  pool is halted. A midpoint between two ticks (an odd spread) is not representable in integer
  ticks: ``off_grid="skip"`` (default, as the matching engine's midpoint peg) gives no fill;
  ``"round_against"`` fills at the tick against us (our buy pays the upper tick, our sell
  receives the lower one), conservatively. Both are counted in :attr:`~DarkMidpointPool.stats`.
* **No self-crossing**: our orders never trade with each other, only with contra flow.
* Fills are reported as MAKER (our order rested; the contra arrived), ``queue_ahead`` 0.
* :meth:`~DarkMidpointPool.advance` stops at the first arrival that filled any of our orders.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import Field

from execsim.core.config import FrozenConfig
from execsim.core.errors import ConfigError
from execsim.model.enums import LiquiditySide, OrderType, Side, TimeInForce
from execsim.model.instrument import Instrument
from execsim.venues.base import (
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    Quote,
    ReportKind,
    SubmitOrder,
    Venue,
    VenueCommand,
    VenueConformanceError,
    check_rejections,
)
from execsim.venues.contra_flow import (
    CONTRA_DTYPE,
    ContraFlowConfig,
    ContraFlowModel,
    check_contra_arrivals,
)

__all__ = ["DarkMidpointPool", "DarkPoolConfig", "DarkVenue", "check_dark_venue"]


class DarkPoolConfig(FrozenConfig):
    """A dark midpoint pool: minimum size, half-tick rule, contra flow."""

    min_qty_lots: int = Field(default=0, ge=0, description="pool-wide minimum execution size")
    off_grid: Literal["skip", "round_against"] = Field(
        default="skip", description="what a half-tick midpoint does: no fill, or round against us"
    )
    chunk_ns: int = Field(default=1_000_000_000, gt=0, description="window of each contra-flow draw")
    contra: ContraFlowConfig = Field(default_factory=ContraFlowConfig)


@dataclass(slots=True)
class _Resting:
    order_id: int
    side: Side
    cap: int | None
    leaves: int
    min_qty: int
    seq: int


class DarkMidpointPool:
    """A dark pool that crosses our hidden orders with contra flow at the lit midpoint.

    Parameters
    ----------
    name, instrument
        The venue's name (on every report) and instrument.
    lit_quote
        The consolidated lit BBO now; called at each contra arrival.
    contra
        The contra-flow model.
    rng
        The pool's random generator, spawned from the run's seed sequence.
    start_ns
        Venue time at creation; contra windows are aligned to it.
    min_qty
        Pool-wide minimum execution size, lots.
    off_grid
        ``"skip"`` or ``"round_against"`` for a half-tick midpoint.
    chunk_ns
        Window of each contra-flow draw.
    """

    def __init__(
        self,
        name: str,
        instrument: Instrument,
        *,
        lit_quote: Callable[[], Quote],
        contra: ContraFlowModel,
        rng: np.random.Generator,
        start_ns: int = 0,
        min_qty: int = 0,
        off_grid: Literal["skip", "round_against"] = "skip",
        chunk_ns: int = 1_000_000_000,
    ) -> None:
        if off_grid not in ("skip", "round_against"):
            raise ConfigError(f"off_grid must be 'skip' or 'round_against', got {off_grid!r}")
        if chunk_ns <= 0 or min_qty < 0:
            raise ConfigError(f"need chunk_ns > 0 and min_qty >= 0, got {chunk_ns} and {min_qty}")
        self.name = name
        self.instrument = instrument
        self.lit_quote = lit_quote
        self.contra = contra
        self.rng = rng
        self.min_qty = int(min_qty)
        self.off_grid = off_grid
        self.chunk_ns = int(chunk_ns)
        self._now = int(start_ns)
        self._drawn_to = int(start_ns)
        self._pending = np.empty(0, dtype=CONTRA_DTYPE)
        self._pi = 0
        self._orders: dict[int, _Resting] = {}
        self._seen: set[int] = set()
        self._seq = 0
        self._halted = False
        self.stats: Counter[str] = Counter()
        """Contra arrivals and why they did or did not fill: ``arrivals``, ``matched``,
        ``contra_below_pool_min``, ``halted``, ``lit_one_sided``, ``lit_locked_or_crossed``,
        ``mid_off_grid`` (skipped), ``mid_rounded_against_us`` (filled at a rounded price),
        ``min_qty`` (an order of ours passed over), ``no_eligible_order``."""

    @classmethod
    def from_config(
        cls,
        name: str,
        instrument: Instrument,
        config: DarkPoolConfig,
        *,
        lit_quote: Callable[[], Quote],
        rng: np.random.Generator,
        start_ns: int = 0,
    ) -> DarkMidpointPool:
        """Build from a config."""
        return cls(
            name,
            instrument,
            lit_quote=lit_quote,
            contra=config.contra.build(),
            rng=rng,
            start_ns=start_ns,
            min_qty=config.min_qty_lots,
            off_grid=config.off_grid,
            chunk_ns=config.chunk_ns,
        )

    # ---------------------------------------------------------------------------- public API
    @property
    def now(self) -> int:
        return self._now

    @property
    def halted(self) -> bool:
        """Whether the pool is halted now."""
        return self._halted

    def quote(self) -> Quote:
        """Always empty: a dark pool has no pre-trade transparency."""
        return Quote()

    def open_qty(self, order_id: int) -> int:
        """Leaves of one of our resting orders (0 when not resting)."""
        o = self._orders.get(order_id)
        return 0 if o is None else o.leaves

    def next_arrival_ns(self, horizon_ns: int) -> int | None:
        """Time of the next contra arrival up to ``horizon_ns`` (``None`` if none).

        A session that keeps the lit venues in lockstep can advance them to this time before
        advancing the pool. Peeking does not change the arrival stream.
        """
        self._draw_to(horizon_ns)
        if self._pi < len(self._pending) and int(self._pending["ts"][self._pi]) <= horizon_ns:
            return int(self._pending["ts"][self._pi])
        return None

    def advance(self, until_ns: int) -> tuple[int, list[ExecutionReport]]:
        """Meet contra arrivals in ``(now, until_ns]``; stop at the first that filled us."""
        return self._run_until(until_ns, stop_on_reports=True)

    def handle(self, command: VenueCommand) -> list[ExecutionReport]:
        """Apply a command; contra arrivals due at or before it are met first (reported first)."""
        out = self._run_until(command.ts_ns, stop_on_reports=False)[1]
        if isinstance(command, SubmitOrder):
            out += self._submit(command)
        elif isinstance(command, CancelOrder):
            out += self._cancel(command)
        else:
            out += self._modify(command)
        return out

    def halt(self, ts_ns: int) -> list[ExecutionReport]:
        """Halt the pool at ``ts_ns`` (no fills, submits rejected, cancels allowed)."""
        out = self._run_until(ts_ns, stop_on_reports=False)[1]
        self._halted = True
        return out

    def resume(self, ts_ns: int) -> list[ExecutionReport]:
        """Lift a halt at ``ts_ns`` (a dark pool resumes directly: it has no auction)."""
        out = self._run_until(ts_ns, stop_on_reports=False)[1]
        self._halted = False
        return out

    # ------------------------------------------------------------------------------ timeline
    def _draw_to(self, t: int) -> None:
        while self._drawn_to < t:
            t0, t1 = self._drawn_to, self._drawn_to + self.chunk_ns
            new = check_contra_arrivals(self.contra.arrivals(t0, t1, self.rng), t0, t1, repr(self.contra))
            if new.size:
                self._pending = np.concatenate((self._pending[self._pi :], new))
                self._pi = 0
            self._drawn_to = t1

    def _run_until(self, until_ns: int, *, stop_on_reports: bool) -> tuple[int, list[ExecutionReport]]:
        until_ns = max(int(until_ns), self._now)  # never backwards
        self._draw_to(until_ns)
        out: list[ExecutionReport] = []
        ts = self._pending["ts"]
        while self._pi < len(self._pending) and int(ts[self._pi]) <= until_ns:
            rec = self._pending[self._pi]
            self._pi += 1
            self._now = max(self._now, int(rec["ts"]))
            reps = self._meet(int(rec["side"]), int(rec["qty"]), int(rec["min_qty"]))
            out += reps
            if reps and stop_on_reports:
                return self._now, out
        self._now = until_ns
        return self._now, out

    def _price(self, our_side: Side) -> tuple[int | None, bool]:
        """The execution price for our side now (``None``: no fill), and whether it was rounded."""
        if self._halted:
            self.stats["halted"] += 1
            return None, False
        q = self.lit_quote()
        if q.bid_qty <= 0 or q.ask_qty <= 0:
            self.stats["lit_one_sided"] += 1
            return None, False
        if q.bid_px >= q.ask_px:
            self.stats["lit_locked_or_crossed"] += 1
            return None, False
        mid2 = q.bid_px + q.ask_px
        if mid2 % 2 == 0:
            return mid2 // 2, False
        if self.off_grid == "skip":
            self.stats["mid_off_grid"] += 1
            return None, False
        # against us: our buy pays the upper tick, our sell receives the lower one
        return ((mid2 + 1) // 2 if our_side is Side.BUY else mid2 // 2), True

    def _meet(self, side_code: int, qty: int, min_qty: int) -> list[ExecutionReport]:
        self.stats["arrivals"] += 1
        if qty < self.min_qty:
            self.stats["contra_below_pool_min"] += 1  # the pool would not accept it
            return []
        ours = Side.SELL if side_code == 1 else Side.BUY
        price, rounded = self._price(ours)
        if price is None:
            return []
        buy = ours is Side.BUY
        eligible = [
            o
            for o in self._orders.values()
            if o.side is ours and (o.cap is None or (price <= o.cap if buy else price >= o.cap))
        ]
        # uncapped pegs first, then the more generous cap, then time
        eligible.sort(key=lambda o: (o.cap is not None, -(o.cap or 0) if buy else (o.cap or 0), o.seq))
        if not eligible:
            self.stats["no_eligible_order"] += 1
            return []
        out: list[ExecutionReport] = []
        remaining, c_min = qty, max(min_qty, self.min_qty)
        for o in eligible:
            if remaining <= 0:
                break
            q = min(o.leaves, remaining)
            if q < min(max(o.min_qty, self.min_qty), o.leaves) or q < min(c_min, remaining):
                self.stats["min_qty"] += 1
                continue
            o.leaves -= q
            remaining -= q
            out.append(
                self._report(
                    o.order_id,
                    ReportKind.FILL,
                    price=price,
                    qty=q,
                    leaves_qty=o.leaves,
                    liquidity=LiquiditySide.MAKER,
                )
            )
            if o.leaves == 0:
                del self._orders[o.order_id]
        if out:
            self.stats["matched"] += 1
            if rounded:
                self.stats["mid_rounded_against_us"] += 1
        return out

    # ------------------------------------------------------------------------------ commands
    def _report(self, order_id: int, kind: ReportKind, **kw: object) -> ExecutionReport:
        return ExecutionReport(ts_ns=self._now, venue=self.name, order_id=order_id, kind=kind, **kw)  # type: ignore[arg-type]

    def _reject(self, order_id: int, reason: str) -> list[ExecutionReport]:
        return [self._report(order_id, ReportKind.REJECTED, reason=reason)]

    def _submit(self, o: SubmitOrder) -> list[ExecutionReport]:
        reason = None
        if self._halted:
            reason = "halted"
        elif o.qty <= 0:
            reason = f"qty must be positive, got {o.qty}"
        elif o.order_id in self._seen:
            reason = "duplicate order id"
        elif o.order_type is OrderType.MARKET:
            reason = "market orders are not accepted in a dark midpoint pool (use a midpoint peg)"
        elif o.order_type is OrderType.LIMIT and o.price is None:
            reason = "limit order without price"
        elif o.display_qty is not None:
            reason = "iceberg orders are not accepted in a dark pool (nothing is displayed)"
        elif o.min_qty < 0 or o.min_qty > o.qty:
            reason = f"min_qty must be between 0 and qty ({o.qty}), got {o.min_qty}"
        elif o.qty < self.min_qty:
            reason = f"qty {o.qty} is below the pool's minimum quantity {self.min_qty}"
        elif o.tif is TimeInForce.FOK:
            reason = "fill-or-kill cannot fill on arrival: the pool holds no resting contra liquidity"
        if reason is not None:
            return self._reject(o.order_id, reason)
        self._seen.add(o.order_id)
        out = [self._report(o.order_id, ReportKind.ACCEPTED, price=o.price or 0, leaves_qty=o.qty)]
        if o.tif is TimeInForce.IOC:
            out.append(
                self._report(
                    o.order_id,
                    ReportKind.CANCELLED,
                    qty=o.qty,
                    leaves_qty=0,
                    reason="no resting contra liquidity in the pool",
                )
            )
            return out
        self._seq += 1
        self._orders[o.order_id] = _Resting(
            order_id=o.order_id, side=o.side, cap=o.price, leaves=o.qty, min_qty=o.min_qty, seq=self._seq
        )
        return out

    def _cancel(self, c: CancelOrder) -> list[ExecutionReport]:
        o = self._orders.get(c.order_id)
        if o is None:
            return self._reject(c.order_id, "unknown order")
        if c.qty is not None and c.qty <= 0:
            return self._reject(c.order_id, f"cancel qty must be positive, got {c.qty}")
        cut = o.leaves if c.qty is None else min(c.qty, o.leaves)
        o.leaves -= cut
        if o.leaves == 0:
            del self._orders[c.order_id]
        return [self._report(c.order_id, ReportKind.CANCELLED, qty=cut, leaves_qty=o.leaves)]

    def _modify(self, m: ModifyOrder) -> list[ExecutionReport]:
        o = self._orders.get(m.order_id)
        if o is None:
            return self._reject(m.order_id, "unknown order")
        if self._halted:
            return self._reject(m.order_id, "halted")
        new_qty = o.leaves if m.qty is None else m.qty
        if new_qty <= 0 or new_qty < self.min_qty:
            return self._reject(
                m.order_id,
                f"qty must be positive and at least the pool minimum {self.min_qty}, got {new_qty}",
            )
        new_cap = o.cap if m.price is None else m.price
        if new_cap != o.cap or new_qty > o.leaves:
            self._seq += 1  # a price change or size-up loses time priority
            o.seq = self._seq
        o.cap, o.leaves = new_cap, new_qty
        return [self._report(m.order_id, ReportKind.MODIFIED, price=new_cap or 0, leaves_qty=new_qty)]


# ---------------------------------------------------------------------------- conformance
@runtime_checkable
class DarkVenue(Venue, Protocol):
    """A dark venue: a :class:`Venue` with no quote, a minimum size and a lit reference quote."""

    min_qty: int
    lit_quote: Callable[[], Quote]


def check_dark_venue(make_venue: Callable[[], DarkVenue], *, horizon_ns: int = 3_600 * 10**9) -> None:
    """Run the venue contract checks adapted to dark pools; raise on a breach.

    :func:`~execsim.venues.base.check_venue` needs a two-sided quote and an IOC that fills on
    arrival; a dark pool has neither. The pool from ``make_venue`` must hold no contra
    liquidity at creation, see a two-sided lit quote, and receive contra flow on both sides
    within ``horizon_ns``. Checks: the quote is empty; bad orders are rejected with a reason;
    an unknown cancel is rejected; a resting order can be cancelled; our buy and sell never
    trade with each other; every fill is at the lit midpoint of that moment (or a tick from it
    when it is a half tick), at least the pool minimum, within the order; leaves add up; reports
    carry the venue's name and the time ``advance`` reached; ``advance`` never goes backwards;
    a cancelled order no longer fills.
    """
    v = make_venue()

    def fail(msg: str) -> None:
        raise VenueConformanceError(f"{type(v).__name__}: {msg}")

    if not isinstance(v, DarkVenue):
        raise VenueConformanceError(f"{type(v).__name__} does not implement the DarkVenue protocol")
    q = v.quote()
    if q.bid_qty or q.ask_qty:
        fail(f"a dark venue must not quote (no pre-trade transparency), got {q}")
    t0 = v.now
    bad = (
        SubmitOrder(ts_ns=t0, order_id=1, side=Side.BUY, qty=0, order_type=OrderType.MIDPOINT_PEG),
        SubmitOrder(ts_ns=t0, order_id=2, side=Side.BUY, qty=1, price=None),
    )
    check_rejections(v, t0, bad, fail)
    size = max(3, v.min_qty)
    reps = v.handle(
        SubmitOrder(ts_ns=t0, order_id=10, side=Side.BUY, qty=size, order_type=OrderType.MIDPOINT_PEG)
    )
    if [r.kind for r in reps] != [ReportKind.ACCEPTED]:
        fail(f"a midpoint peg must be ACCEPTED without fills, got {reps}")
    reps = v.handle(CancelOrder(ts_ns=t0, order_id=10))
    if [r.kind for r in reps] != [ReportKind.CANCELLED] or reps[0].qty != size or reps[0].leaves_qty != 0:
        fail(f"cancelling a resting {size}-lot order must report CANCELLED qty={size} leaves=0, got {reps}")

    big = max(1_000, 10 * v.min_qty)
    open_qty = {11: big, 12: big}
    for oid, side in ((11, Side.BUY), (12, Side.SELL)):
        reps = v.handle(
            SubmitOrder(ts_ns=t0, order_id=oid, side=side, qty=big, order_type=OrderType.MIDPOINT_PEG)
        )
        if [r.kind for r in reps] != [ReportKind.ACCEPTED]:
            fail(f"our buy and sell must rest without trading with each other, got {reps}")
    last = v.now
    end = t0 + horizon_ns
    filled_sides: set[int] = set()
    while last < end and len(filled_sides) < 2:
        reached, reps = v.advance(end)
        if reached < last:
            fail(f"advance went backwards: {reached} < {last}")
        last = reached
        lit = v.lit_quote()
        for r in reps:
            if r.venue != v.name or r.order_id not in open_qty or r.ts_ns != reached:
                fail(f"report names the wrong venue/order or time (reached {reached}): {r}")
            if r.kind is not ReportKind.FILL:
                fail(f"advance may only report fills here, got {r}")
            mid2 = lit.bid_px + lit.ask_px
            if lit.bid_qty <= 0 or lit.ask_qty <= 0 or abs(2 * r.price - mid2) > (mid2 % 2):
                fail(f"fill at {r.price} is not at the lit midpoint of {lit}: {r}")
            if r.qty < min(v.min_qty, open_qty[r.order_id]) or r.qty <= 0:
                fail(f"fill of {r.qty} lots is below the pool minimum {v.min_qty}: {r}")
            open_qty[r.order_id] -= r.qty
            if r.leaves_qty != open_qty[r.order_id] or r.leaves_qty < 0:
                fail(f"leaves_qty {r.leaves_qty} != open quantity {open_qty[r.order_id]} after {r}")
            filled_sides.add(r.order_id)
    if not filled_sides:
        fail(f"no fill within {horizon_ns} ns: check_dark_venue needs contra flow on both sides")
    for oid, left in open_qty.items():
        if left:
            reps = v.handle(CancelOrder(ts_ns=v.now, order_id=oid))
            if [r.kind for r in reps] != [ReportKind.CANCELLED] or reps[0].qty != left:
                fail(f"cancelling order {oid} with {left} lots open must report CANCELLED qty={left}: {reps}")
    reached, reps = v.advance(v.now + horizon_ns)
    if reps or reached < last:
        fail(f"cancelled orders must not fill and advance must not go back: {reached}, {reps}")
