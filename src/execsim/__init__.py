"""execsim: a market simulator for training, backtesting, validating and evidencing ML
execution models.

The public API is curated here; each sub-package has its own ``__all__``.
"""

from execsim.core import (
    BookError,
    ConfigError,
    CrossedBookError,
    DataError,
    DataNotFoundError,
    ExecsimError,
    FrozenConfig,
    InstrumentError,
    OptionalDependencyError,
    ParseError,
    SequenceGapError,
    TimeOrderError,
)
from execsim.core.version import __version__
from execsim.data import ARROW_SCHEMA, EVENT_DTYPE, FeedReport
from execsim.model import (
    EventKind,
    Instrument,
    LiquiditySide,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingStatus,
)

__all__ = [
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
]
