"""POV: a target share of the market volume printed since the start (docs/algorithms.md, "POV")."""

from __future__ import annotations

import math

from pydantic import Field

from execsim.execution.algos.base import AlgoConfig, ExecutionAlgo
from execsim.execution.strategy import StrategyContext, TradeInfo

__all__ = ["PovAlgo"]


class PovAlgo(ExecutionAlgo):
    """Percentage of volume: keep our filled quantity at ``participation`` × market volume.

    The algorithm subscribes to trade prints at its start and counts the market volume ``V``
    printed since then (on replayed data the tape does not contain our own fills, so this is
    participation in the *other* volume, the same measure as ``filled / market_trades`` in
    TCA). Its target is ``floor(participation × V)`` lots, capped at the parent quantity.

    * Soft target: target + ``post_ahead_lots`` (rests passively at the near touch, so passive
      fills can keep pace); hard target: target − ``catch_up_lots``. Catch-up rule: when the
      filled quantity falls more than ``catch_up_lots`` behind the target, the gap is crossed
      at once with an IOC (at most ``max_child_qty``); with ``placement="aggressive"`` every gap
      is crossed.
    * Children are at least ``min_child_qty`` (so a POV does not send one-lot orders after
      every print) and at most ``max_child_qty``.
    * Decisions: at every trade print and every ``requote_ms``.
    """

    algo_name = "pov"

    class Config(AlgoConfig):
        """Parameters of :class:`PovAlgo` (and those of :class:`AlgoConfig`)."""

        participation: float = Field(default=0.1, gt=0, lt=1, description="target share of market volume")
        catch_up_lots: int = Field(default=0, ge=0, description="cross when behind the target by more")
        post_ahead_lots: int = Field(default=0, ge=0, description="rest this much beyond the target")

    config: Config

    def __init__(self, config: PovAlgo.Config | None = None) -> None:
        super().__init__(config if config is not None else PovAlgo.Config())
        self.market_volume = 0

    def prepare(self, ctx: StrategyContext) -> None:
        ctx.subscribe_trades()

    def target(self) -> int:
        """Lots we should have filled by now (participation × market volume, capped)."""
        return min(self.qty, math.floor(self.config.participation * self.market_volume + 1e-9))

    def targets(self, ctx: StrategyContext) -> tuple[int, int]:
        t = self.target()
        return min(self.qty, t + self.config.post_ahead_lots), t - self.config.catch_up_lots

    def on_trade(self, ctx: StrategyContext, trade: TradeInfo) -> None:
        if ctx.now < self.start_ns or ctx.now >= self.end_ns:
            return
        self.market_volume += trade.qty
        self.decide(ctx)
