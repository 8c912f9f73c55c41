"""TWAP: equal slices over the horizon (docs/algorithms.md, "TWAP")."""

from __future__ import annotations

from pydantic import Field

from execsim.execution.algos.base import ScheduleAlgo, ScheduleConfig
from execsim.execution.schedules import Schedule, twap_schedule
from execsim.execution.strategy import StrategyContext

__all__ = ["TwapAlgo"]


class TwapAlgo(ScheduleAlgo):
    """Time-weighted average price: ``n_slices`` equal slices (±1 lot) over the horizon.

    Each slice rests at the near touch (``placement="passive"``, the default) for one slice
    interval, then whatever is left of it is crossed; with ``placement="aggressive"`` each
    slice is one marketable IOC at its start.

    Examples
    --------
    >>> algo = TwapAlgo(TwapAlgo.Config(side="sell", qty=500, duration_s=300, n_slices=10))
    >>> algo.config.n_slices
    10
    """

    algo_name = "twap"

    class Config(ScheduleConfig):
        """Parameters of :class:`TwapAlgo` (and those of :class:`AlgoConfig`)."""

        n_slices: int = Field(default=10, gt=0, description="number of equal slices")

    config: Config

    def __init__(self, config: TwapAlgo.Config | None = None) -> None:
        super().__init__(config if config is not None else TwapAlgo.Config())

    def build_schedule(self, ctx: StrategyContext) -> Schedule:
        return twap_schedule(self.qty, self.start_ns, self.end_ns, self.config.n_slices)
