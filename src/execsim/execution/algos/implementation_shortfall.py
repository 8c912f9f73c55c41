"""Implementation shortfall: the Almgren–Chriss trajectory (docs/algorithms.md, "IS")."""

from __future__ import annotations

from pydantic import Field

from execsim.core.timeutil import NS_PER_S
from execsim.execution.algos.base import ScheduleAlgo, ScheduleConfig
from execsim.execution.schedules import Schedule, almgren_chriss_trajectory
from execsim.execution.strategy import StrategyContext

__all__ = ["ImplementationShortfallAlgo"]


class ImplementationShortfallAlgo(ScheduleAlgo):
    """Implementation shortfall: trade along the Almgren–Chriss optimal trajectory.

    The trajectory (:func:`~execsim.execution.schedules.almgren_chriss_trajectory`) trades
    off expected impact cost against timing risk: higher ``risk_aversion`` (or volatility, or
    lower impact) front-loads the order; ``risk_aversion = 0`` is TWAP. Units: ticks, lots,
    seconds (``sigma`` ticks/√s, ``eta`` ticks per lot/s, ``gamma`` ticks per lot,
    ``risk_aversion`` 1/(tick·lot)); the slice length τ is the horizon over ``n_slices``.
    The defaults are placeholders of the right order for the synthetic market: calibrate
    ``eta``/``gamma`` with :mod:`execsim.impact` and ``sigma`` from the data for real use.
    """

    algo_name = "is"

    class Config(ScheduleConfig):
        """Parameters of :class:`ImplementationShortfallAlgo` (and those of :class:`AlgoConfig`)."""

        n_slices: int = Field(default=10, gt=0)
        sigma: float = Field(default=1.0, ge=0, description="volatility, ticks per sqrt(second)")
        eta: float = Field(default=1.0, gt=0, description="temporary impact, ticks per (lot/second)")
        gamma: float = Field(default=0.0, ge=0, description="permanent impact, ticks per lot")
        risk_aversion: float = Field(default=1e-3, ge=0, description="lambda, 1/(tick·lot)")

    config: Config

    def __init__(self, config: ImplementationShortfallAlgo.Config | None = None) -> None:
        super().__init__(config if config is not None else ImplementationShortfallAlgo.Config())

    def build_schedule(self, ctx: StrategyContext) -> Schedule:
        cfg = self.config
        tau = (self.end_ns - self.start_ns) / NS_PER_S / cfg.n_slices
        return almgren_chriss_trajectory(
            self.qty,
            cfg.n_slices,
            sigma=cfg.sigma,
            eta=cfg.eta,
            gamma=cfg.gamma,
            risk_aversion=cfg.risk_aversion,
            tau=tau,
            start_ns=self.start_ns,
            end_ns=self.end_ns,
        )
