"""Passive, then aggressive: rest at the touch, cross when out of time (docs/algorithms.md)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from execsim.core.timeutil import NS_PER_S
from execsim.execution.algos.base import AlgoConfig, ExecutionAlgo, Placement
from execsim.execution.strategy import StrategyContext

__all__ = ["PassiveAggressiveAlgo"]


class PassiveAggressiveAlgo(ExecutionAlgo):
    """Post the whole order at the near touch (pegged), then cross for what is left.

    * From the start the remaining quantity rests passively at the near touch plus
      ``offset_ticks`` (post-only, cut into children of at most ``max_child_qty``), re-pegged
      every ``requote_ms``; a post-only rejection is re-posted after ``repost_delay_ms``.
    * After ``timeout_s`` the remainder is crossed (IOC at the far touch + ``cross_ticks``,
      repeated at each re-quote while anything is left).
    * Before that, with ``behind_fraction`` set, the order also crosses when it falls behind a
      linear (TWAP) schedule over the horizon by more than ``behind_fraction`` of the parent:
      it crosses just the part beyond that tolerance.
    """

    algo_name = "passive_aggressive"

    class Config(AlgoConfig):
        """Parameters of :class:`PassiveAggressiveAlgo` (and those of :class:`AlgoConfig`)."""

        placement: Placement = Placement.PASSIVE
        timeout_s: float = Field(default=30.0, ge=0, description="cross the remainder after this long")
        behind_fraction: float | None = Field(
            default=None, gt=0, le=1, description="cross when behind a linear schedule by more than this"
        )

    config: Config

    def __init__(self, config: PassiveAggressiveAlgo.Config | None = None) -> None:
        super().__init__(config if config is not None else PassiveAggressiveAlgo.Config())

    @property
    def timeout_ns(self) -> int:
        """When the passive phase ends."""
        return self.start_ns + round(self.config.timeout_s * NS_PER_S)

    def decision_times(self) -> Sequence[int]:
        return [self.timeout_ns]

    def targets(self, ctx: StrategyContext) -> tuple[int, int]:
        if ctx.now >= self.timeout_ns:
            return self.qty, self.qty
        hard = 0
        frac = self.config.behind_fraction
        if frac is not None:
            elapsed = (ctx.now - self.start_ns) / max(1, self.end_ns - self.start_ns)
            hard = int(self.qty * elapsed - frac * self.qty)
        return self.qty, hard
