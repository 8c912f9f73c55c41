"""A smart order router over lit venues and a dark midpoint pool (docs/algorithms.md, "SOR")."""

from __future__ import annotations

import math
from typing import Self

from pydantic import Field, model_validator

from execsim.core.errors import ConfigError
from execsim.execution.algos.base import AlgoState, ChildRole, ScheduleAlgo, ScheduleConfig
from execsim.execution.schedules import Schedule, twap_schedule
from execsim.execution.strategy import FillInfo, StrategyContext
from execsim.model.enums import OrderType, TimeInForce

__all__ = ["SmartOrderRouter"]


class SmartOrderRouter(ScheduleAlgo):
    """Work a parent on a TWAP pace across several lit venues and one dark midpoint pool.

    Routing policy
    --------------
    * **Dark first.** At the start, if ``dark_venue`` is set, ``dark_fraction`` of the parent
      rests in the pool as a midpoint peg (capped at ``limit_price``) with minimum execution
      size ``dark_min_qty``. When that order has filled completely, a new one is posted for
      ``dark_fraction`` of what the lit side is not working. The lit schedule has priority:
      when it needs quantity the dark order holds, the dark order is sized down (never topped
      up again after that). Dark fills count towards the schedule, so the lit side trades less.
    * **Aggressive (taking) lit children.** The quantity to cross is split over the lit venues'
      displayed liquidity, level by level across venues, best price first (lowest ask for a
      buy), then the larger displayed size, then the venue order in ``lit_venues``; levels
      more than ``cross_ticks`` beyond the best consolidated price (or past ``limit_price``) are
      not used; ``depth_levels`` levels per venue are considered. One IOC per venue, limited at
      the worst level allocated there; quantity beyond the displayed liquidity goes to the
      venue with the best price, limited at best + ``cross_ticks``.
    * **Passive lit children** join the best near touch across lit venues (highest bid for a
      buy); among venues at that price, the one with the least displayed quantity (shortest
      queue), then the venue order. Re-pegging keeps a child on its venue.
    * The pace is a TWAP of ``n_slices`` over the horizon, worked as in every schedule algorithm
      (passive for one slice, then crossed; or all aggressive).
    """

    algo_name = "sor"

    class Config(ScheduleConfig):
        """Parameters of :class:`SmartOrderRouter` (and those of :class:`AlgoConfig`)."""

        n_slices: int = Field(default=10, gt=0)
        lit_venues: list[str] | None = Field(
            default=None, description="default: every venue but the dark one"
        )
        dark_venue: str | None = None
        dark_fraction: float = Field(default=0.5, ge=0, le=1)
        dark_min_qty: int = Field(default=0, ge=0)
        depth_levels: int = Field(default=5, gt=0)

        @model_validator(mode="after")
        def _venues(self) -> Self:
            if self.lit_venues is not None:
                if not self.lit_venues:
                    raise ValueError("lit_venues must name at least one venue")
                if self.dark_venue is not None and self.dark_venue in self.lit_venues:
                    raise ValueError(f"{self.dark_venue!r} cannot be both lit and dark")
            return self

    config: Config

    def __init__(self, config: SmartOrderRouter.Config | None = None) -> None:
        super().__init__(config if config is not None else SmartOrderRouter.Config())
        self.lit: list[str] = []
        self.dark: str | None = None
        self.routed: dict[str, int] = {}

    def on_start(self, ctx: StrategyContext) -> None:
        cfg = self.config
        dark = cfg.dark_venue
        lit = cfg.lit_venues if cfg.lit_venues is not None else [v for v in ctx.venues if v != dark]
        for v in [*lit, *([dark] if dark else [])]:
            if v not in ctx.venues:
                raise ConfigError(f"SmartOrderRouter: unknown venue {v!r}; the session has {ctx.venues}")
        if not lit:
            raise ConfigError(f"SmartOrderRouter: no lit venue among {ctx.venues}")
        self.lit, self.dark = list(lit), dark
        super().on_start(ctx)
        if cfg.venue is None:
            self.venue = self.lit[0]

    def build_schedule(self, ctx: StrategyContext) -> Schedule:
        return twap_schedule(self.qty, self.start_ns, self.end_ns, self.config.n_slices)

    def prepare(self, ctx: StrategyContext) -> None:
        super().prepare(ctx)
        self._post_dark(ctx)

    def _send(
        self, ctx: StrategyContext, role: ChildRole, venue: str, qty: int, price: int | None, **kw: object
    ) -> None:
        oid = self.submit_child(ctx, role, qty, price, venue=venue, **kw)  # type: ignore[arg-type]
        if oid is not None:
            self.routed[venue] = self.routed.get(venue, 0) + ctx.order(oid).qty

    def _post_dark(self, ctx: StrategyContext) -> None:
        cfg = self.config
        if self.dark is None or cfg.dark_fraction <= 0 or self.open_children(ctx, ChildRole.DARK):
            return
        lit_working = self.open_qty(ctx, ChildRole.PASSIVE) + self.open_qty(ctx, ChildRole.AGGRESSIVE)
        q = math.floor(cfg.dark_fraction * (self.qty - self.filled - lit_working))
        if q < max(1, cfg.dark_min_qty):
            return
        self._send(
            ctx, ChildRole.DARK, self.dark, q, cfg.limit_price,
            order_type=OrderType.MIDPOINT_PEG, min_qty=cfg.dark_min_qty,
        )  # fmt: skip

    def on_child_fill(self, ctx: StrategyContext, fill: FillInfo) -> None:
        dark = self.children.get(fill.order_id) is ChildRole.DARK
        if dark and not ctx.order(fill.order_id).is_open and self.state is AlgoState.WORKING:
            self._post_dark(ctx)

    def take(self, ctx: StrategyContext, qty: int) -> None:
        buy = self.sign > 0
        levels: list[tuple[int, int, int]] = []  # (price, displayed qty, venue index)
        for i, v in enumerate(self.lit):
            bp, bq, ap, aq = ctx.book(v).top(self.config.depth_levels)
            px, sz = (ap, aq) if buy else (bp, bq)
            levels.extend((int(p), int(s), i) for p, s in zip(px, sz, strict=True) if s > 0)
        if not levels:
            return
        best = min(p for p, _, _ in levels) if buy else max(p for p, _, _ in levels)
        limit = self.cap(best + self.sign * self.config.cross_ticks)
        if (limit < best) if buy else (limit > best):
            return  # the parent's limit cannot reach the market
        usable = [lv for lv in levels if (lv[0] <= limit if buy else lv[0] >= limit)]
        usable.sort(key=lambda lv: (self.sign * lv[0], -lv[1], lv[2]))
        alloc: dict[int, list[int]] = {}  # venue index -> [qty, worst price]
        need = qty
        for p, s, i in usable:
            if need <= 0:
                break
            q = min(need, s)
            a = alloc.setdefault(i, [0, p])
            a[0] += q
            a[1] = max(a[1], p) if buy else min(a[1], p)
            need -= q
        if need > 0:
            i0 = usable[0][2]
            a = alloc.setdefault(i0, [0, limit])
            a[0] += need
            a[1] = limit
        for i, (q, p) in sorted(alloc.items()):
            self._send(ctx, ChildRole.AGGRESSIVE, self.lit[i], q, p, tif=TimeInForce.IOC)

    def best_passive_venue(self, ctx: StrategyContext) -> str | None:
        """The lit venue a passive child joins (best near touch, then shortest queue)."""
        cands = []
        for i, v in enumerate(self.lit):
            near = self.near_touch(ctx, v)
            if near is not None:
                cands.append((-self.sign * near[0], near[1], i))
        return self.lit[min(cands)[2]] if cands else None

    def post(self, ctx: StrategyContext, qty: int) -> None:
        v = self.best_passive_venue(ctx)
        if v is None:
            return
        p = self.passive_price(ctx, v)
        if p is not None:
            self._send(ctx, ChildRole.PASSIVE, v, qty, p, post_only=True)
