"""VWAP: slices in proportion to an intraday volume curve (docs/algorithms.md, "VWAP")."""

from __future__ import annotations

from pathlib import Path
from typing import Self

import numpy as np
import pyarrow.parquet as pq
from pydantic import Field, model_validator

from execsim.core.errors import DataError, DataNotFoundError
from execsim.core.timeutil import NS_PER_S
from execsim.execution.algos.base import ScheduleAlgo, ScheduleConfig
from execsim.execution.schedules import (
    NS_PER_DAY,
    Schedule,
    VolumeCurve,
    estimate_volume_curve,
    vwap_schedule,
)
from execsim.execution.strategy import StrategyContext

__all__ = ["VwapAlgo", "curve_from_trade_files"]


def curve_from_trade_files(
    paths: list[str] | list[Path], *, bucket_ns: int, smoothing: int = 0
) -> VolumeCurve:
    """Estimate a time-of-day volume curve from trade-print Parquet files.

    Each file needs ``ts_event`` (ns) and ``qty`` (lots) columns, e.g. the
    ``market_trades.parquet`` of earlier runs' results folders. The session window is the
    first to the last print over all files, folded by time of day (so several days add up).
    """
    times, sizes = [], []
    for p in map(Path, paths):
        if not p.is_file():
            raise DataNotFoundError(f"trade history file not found: {p}")
        t = pq.read_table(p)
        missing = [c for c in ("ts_event", "qty") if c not in t.column_names]
        if missing:
            raise DataError(f"trade history lacks column(s) {missing}", source=str(p))
        times.append(t.column("ts_event").to_numpy().astype(np.int64))
        sizes.append(t.column("qty").to_numpy().astype(np.float64))
    if not times or sum(len(t) for t in times) == 0:
        raise DataError(f"no trade prints in {', '.join(map(str, paths)) or 'no files'}")
    all_t = np.concatenate(times)
    tod = np.mod(all_t, NS_PER_DAY)
    day0 = int(all_t.min()) - int(np.mod(all_t.min(), NS_PER_DAY))
    start = day0 + int(tod.min())
    end = day0 + int(tod.max()) + 1
    return estimate_volume_curve(
        all_t,
        np.concatenate(sizes),
        bucket_ns=bucket_ns,
        session_start_ns=start,
        session_end_ns=end,
        period_ns=NS_PER_DAY,
        smoothing=smoothing,
    )


class VwapAlgo(ScheduleAlgo):
    """Volume-weighted average price: slices proportional to the expected volume.

    The volume curve comes from (first that is set):

    * ``volume_curve``: fractions over equal buckets spanning the algorithm's horizon;
    * ``curve_file``: a :class:`~execsim.execution.schedules.VolumeCurve` saved as JSON
      (absolute times, optionally folded by day);
    * ``history_files``: trade prints (``market_trades.parquet`` of past runs), estimated with
      :func:`curve_from_trade_files` in ``history_bucket_s`` buckets;
    * otherwise a flat curve (VWAP is then TWAP), noted in the strategy log.

    Slices are the curve's buckets inside the horizon, or ``n_slices`` equal slices.
    """

    algo_name = "vwap"

    class Config(ScheduleConfig):
        """Parameters of :class:`VwapAlgo` (and those of :class:`AlgoConfig`)."""

        volume_curve: list[float] | None = Field(default=None, description="fractions over the horizon")
        curve_file: str | None = None
        history_files: list[str] | None = None
        history_bucket_s: float = Field(default=60.0, gt=0)
        history_smoothing: int = Field(default=0, ge=0)
        n_slices: int | None = Field(default=None, gt=0)

        @model_validator(mode="after")
        def _one_source(self) -> Self:
            given = [self.volume_curve, self.curve_file, self.history_files]
            if sum(x is not None for x in given) > 1:
                raise ValueError("give at most one of volume_curve, curve_file, history_files")
            if self.volume_curve is not None and (
                not self.volume_curve or min(self.volume_curve) < 0 or sum(self.volume_curve) <= 0
            ):
                raise ValueError(
                    f"volume_curve must be non-negative and not all zero, got {self.volume_curve}"
                )
            return self

    config: Config

    def __init__(self, config: VwapAlgo.Config | None = None) -> None:
        super().__init__(config if config is not None else VwapAlgo.Config())
        self.curve: VolumeCurve | None = None

    def volume_curve(self, ctx: StrategyContext) -> VolumeCurve:
        """The curve this run uses."""
        cfg = self.config
        span = self.end_ns - self.start_ns
        if cfg.volume_curve is not None:
            n = len(cfg.volume_curve)
            return VolumeCurve(
                fractions=np.asarray(cfg.volume_curve),
                bucket_ns=max(1, -(-span // n)),
                origin_ns=self.start_ns,
            )
        if cfg.curve_file is not None:
            return VolumeCurve.load(cfg.curve_file)
        if cfg.history_files is not None:
            return curve_from_trade_files(
                cfg.history_files,
                bucket_ns=round(cfg.history_bucket_s * NS_PER_S),
                smoothing=cfg.history_smoothing,
            )
        ctx.log("vwap: no volume curve given, using a flat one (TWAP)")
        return VolumeCurve.uniform(1, span, origin_ns=self.start_ns)

    def build_schedule(self, ctx: StrategyContext) -> Schedule:
        self.curve = self.volume_curve(ctx)
        return vwap_schedule(self.qty, self.start_ns, self.end_ns, self.curve, n_slices=self.config.n_slices)
