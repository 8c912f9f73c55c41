"""Foundation shared by every layer: errors, configs, time helpers."""

from execsim.core.config import FrozenConfig, canonical_json
from execsim.core.errors import (
    BookError,
    ConfigError,
    CrossedBookError,
    DataError,
    DataNotFoundError,
    ExecsimError,
    InstrumentError,
    OptionalDependencyError,
    ParseError,
    SequenceGapError,
    TimeOrderError,
)
from execsim.core.timeutil import NS_PER_MS, NS_PER_S, NS_PER_US, local_seconds_to_utc_ns

__all__ = [
    "NS_PER_MS",
    "NS_PER_S",
    "NS_PER_US",
    "BookError",
    "ConfigError",
    "CrossedBookError",
    "DataError",
    "DataNotFoundError",
    "ExecsimError",
    "FrozenConfig",
    "InstrumentError",
    "OptionalDependencyError",
    "ParseError",
    "SequenceGapError",
    "TimeOrderError",
    "canonical_json",
    "local_seconds_to_utc_ns",
]
