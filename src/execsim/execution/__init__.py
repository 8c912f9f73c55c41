"""Execution: the strategy API, the OMS and execution algorithms."""

from execsim.execution.strategy import (
    BookView,
    FillInfo,
    OrderInfo,
    ParentInfo,
    Strategy,
    StrategyContext,
    TradeInfo,
)

__all__ = ["BookView", "FillInfo", "OrderInfo", "ParentInfo", "Strategy", "StrategyContext", "TradeInfo"]
