"""Small reference strategies: workloads for tests, benchmarks and examples.

The execution algorithms users run (TWAP, VWAP, POV, IS, SOR, ML policies) live in
:mod:`execsim.execution`; these two exist to exercise the engine.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from execsim.core.config import FrozenConfig
from execsim.core.timeutil import NS_PER_MS
from execsim.execution.strategy import FillInfo, Strategy, StrategyContext
from execsim.model.enums import OrderType, Side, TimeInForce

__all__ = ["SliceTaker", "TouchQuoter"]


class TouchQuoter(Strategy):
    """Market-making workload: every ``interval_ms`` cancel and re-place one bid and one ask at
    the touch (the strategy's view of the best bid and offer), ``qty`` lots each."""

    class Config(FrozenConfig):
        """Parameters of :class:`TouchQuoter`."""

        qty: int = Field(default=1, gt=0)
        interval_ms: float = Field(default=100.0, gt=0)
        max_position: int = Field(default=10**9, gt=0)

    def __init__(self, config: TouchQuoter.Config | None = None) -> None:
        self.config = config or TouchQuoter.Config()
        self.bid_id: int | None = None
        self.ask_id: int | None = None
        self.requotes = 0

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer(ctx.now, "quote")

    def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
        book = ctx.book()
        bid, ask = book.best_bid(), book.best_ask()
        for oid in (self.bid_id, self.ask_id):
            if oid is not None and ctx.order(oid).is_open:
                ctx.cancel(oid)
        self.bid_id = self.ask_id = None
        cfg = self.config
        if bid is not None and ask is not None:
            if ctx.position < cfg.max_position:
                self.bid_id = ctx.submit(Side.BUY, cfg.qty, bid[0], post_only=True)
            if ctx.position > -cfg.max_position:
                self.ask_id = ctx.submit(Side.SELL, cfg.qty, ask[0], post_only=True)
            self.requotes += 1
        ctx.set_timer(ctx.now + int(cfg.interval_ms * NS_PER_MS), "quote")


class SliceTaker(Strategy):
    """Buys or sells ``total_qty`` lots in ``slices`` equal marketable IOC slices, one every
    ``interval_ms``, each limited ``max_cross_ticks`` through the touch."""

    class Config(FrozenConfig):
        """Parameters of :class:`SliceTaker`."""

        side: Side = Side.BUY
        total_qty: int = Field(default=100, gt=0)
        slices: int = Field(default=10, gt=0)
        interval_ms: float = Field(default=1_000.0, gt=0)
        max_cross_ticks: int = Field(default=5, ge=0)

    def __init__(self, config: SliceTaker.Config | None = None) -> None:
        self.config = config or SliceTaker.Config()
        self.sent = 0
        self.filled = 0

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer(ctx.now, "slice")

    def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
        cfg = self.config
        remaining = cfg.total_qty - self.filled
        if remaining <= 0 or self.sent >= cfg.slices:
            return
        book = ctx.book()
        touch = book.best_ask() if cfg.side is Side.BUY else book.best_bid()
        if touch is not None:
            size = min(remaining, -(-cfg.total_qty // cfg.slices))
            limit = touch[0] + cfg.max_cross_ticks if cfg.side is Side.BUY else touch[0] - cfg.max_cross_ticks
            ctx.submit(cfg.side, size, limit, order_type=OrderType.LIMIT, tif=TimeInForce.IOC, tag="slice")
            self.sent += 1
        ctx.set_timer(ctx.now + int(cfg.interval_ms * NS_PER_MS), "slice")

    def on_fill(self, ctx: StrategyContext, fill: FillInfo) -> None:
        self.filled += fill.qty
