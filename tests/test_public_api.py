"""The public API is deliberate: changing it means changing this list."""

from __future__ import annotations

import importlib

import execsim

EXPECTED_ROOT = {
    "ARROW_SCHEMA",
    "EVENT_DTYPE",
    "BookError",
    "ConfigError",
    "CrossedBookError",
    "DataError",
    "DataNotFoundError",
    "EventKind",
    "ExecsimError",
    "FeedReport",
    "FrozenConfig",
    "Instrument",
    "InstrumentError",
    "LiquiditySide",
    "OptionalDependencyError",
    "OrderStatus",
    "OrderType",
    "ParseError",
    "SequenceGapError",
    "Side",
    "TimeInForce",
    "TimeOrderError",
    "TradingStatus",
    "__version__",
}


def test_root_exports_exactly_the_curated_names() -> None:
    assert set(execsim.__all__) == EXPECTED_ROOT


def test_every_exported_name_exists_in_every_package() -> None:
    for pkg in [
        "execsim",
        "execsim.core",
        "execsim.model",
        "execsim.data",
        "execsim.data.feeds",
        "execsim.data.feeds.lobster",
        "execsim.book",
        "execsim.book.replay",
        "execsim.cli",
        "execsim.cli.lobster",
        "execsim.kernel",
        "execsim.venues",
        "execsim.impact",
        "execsim.agents",
        "execsim.execution",
        "execsim.studies",
        "execsim.ml",
        "execsim.execution.algos",
        "execsim.backtest",
        "execsim.tca",
        "execsim.reporting",
    ]:
        mod = importlib.import_module(pkg)
        missing = [n for n in mod.__all__ if not hasattr(mod, n)]
        assert not missing, f"{pkg}.__all__ names missing attributes: {missing}"
