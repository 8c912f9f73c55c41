"""Execution algorithms over a parent order: TWAP, VWAP, POV, IS, passive-then-aggressive, a
smart order router, and the ML-policy adapter (``docs/algorithms.md``)."""

from execsim.execution.algos.base import (
    AlgoConfig,
    AlgoState,
    ChildRole,
    ExecutionAlgo,
    Placement,
    ScheduleAlgo,
    ScheduleConfig,
)
from execsim.execution.algos.implementation_shortfall import ImplementationShortfallAlgo
from execsim.execution.algos.passive_aggressive import PassiveAggressiveAlgo
from execsim.execution.algos.policy import (
    ACTION_ORDER_TYPE_CODES,
    OBSERVATION_FIELDS,
    Action,
    ActionOrderType,
    CallablePolicy,
    EstimatorPolicy,
    LinearPolicy,
    Observation,
    Policy,
    PolicyAlgo,
    PolicyConformanceError,
    PolicyError,
    TwapPolicy,
    as_policy,
    check_policy,
    to_action,
)
from execsim.execution.algos.pov import PovAlgo
from execsim.execution.algos.sor import SmartOrderRouter
from execsim.execution.algos.twap import TwapAlgo
from execsim.execution.algos.vwap import VwapAlgo, curve_from_trade_files

__all__ = [
    "ACTION_ORDER_TYPE_CODES",
    "OBSERVATION_FIELDS",
    "Action",
    "ActionOrderType",
    "AlgoConfig",
    "AlgoState",
    "CallablePolicy",
    "ChildRole",
    "EstimatorPolicy",
    "ExecutionAlgo",
    "ImplementationShortfallAlgo",
    "LinearPolicy",
    "Observation",
    "PassiveAggressiveAlgo",
    "Placement",
    "Policy",
    "PolicyAlgo",
    "PolicyConformanceError",
    "PolicyError",
    "PovAlgo",
    "ScheduleAlgo",
    "ScheduleConfig",
    "SmartOrderRouter",
    "TwapAlgo",
    "TwapPolicy",
    "VwapAlgo",
    "as_policy",
    "check_policy",
    "curve_from_trade_files",
    "to_action",
]
