"""Backtests: deterministic sessions from a config, and their results folders."""

from execsim.backtest.compiled import CompiledRunResult, run_compiled_quoter, touch_quoter_decide
from execsim.backtest.config import LatencyPaths, RunConfig, StrategyConfig, VenueConfig
from execsim.backtest.results import RunResult
from execsim.backtest.session import Session, counterfactual_key, load_strategy, run_session
from execsim.backtest.sources import (
    BinanceSource,
    LobsterSource,
    ParquetSource,
    RepositorySource,
    SyntheticSource,
)

__all__ = [
    "BinanceSource",
    "CompiledRunResult",
    "LatencyPaths",
    "LobsterSource",
    "ParquetSource",
    "RepositorySource",
    "RunConfig",
    "RunResult",
    "Session",
    "StrategyConfig",
    "SyntheticSource",
    "VenueConfig",
    "counterfactual_key",
    "load_strategy",
    "run_compiled_quoter",
    "run_session",
    "touch_quoter_decide",
]
