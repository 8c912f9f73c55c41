"""Domain model: enums and instruments."""

from execsim.model.enums import (
    EventKind,
    LiquiditySide,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingStatus,
)
from execsim.model.instrument import Instrument

__all__ = [
    "EventKind",
    "Instrument",
    "LiquiditySide",
    "OrderStatus",
    "OrderType",
    "Side",
    "TimeInForce",
    "TradingStatus",
]
