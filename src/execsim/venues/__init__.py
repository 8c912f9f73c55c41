"""Venues and the realism plug-ins around them: latency, fees, queue position."""

from execsim.venues.fees import FeeConfig, FeeModel, MakerTakerFees, NoFees
from execsim.venues.latency import (
    ConstantLatency,
    DataLatency,
    EmpiricalLatency,
    LatencyConfig,
    LatencyModel,
    StateDependentLatency,
    latency_from_config,
)

__all__ = [
    "ConstantLatency",
    "DataLatency",
    "EmpiricalLatency",
    "FeeConfig",
    "FeeModel",
    "LatencyConfig",
    "LatencyModel",
    "MakerTakerFees",
    "NoFees",
    "StateDependentLatency",
    "latency_from_config",
]
