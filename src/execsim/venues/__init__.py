"""Venues and the realism plug-ins around them: latency, fees, queue position."""

from execsim.venues.base import (
    CancelOrder,
    ExecutionReport,
    MockVenue,
    ModifyOrder,
    Quote,
    ReportKind,
    SubmitOrder,
    Venue,
    VenueCommand,
    VenueConformanceError,
    check_venue,
    consolidated_quote,
)
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
    "CancelOrder",
    "ConstantLatency",
    "DataLatency",
    "EmpiricalLatency",
    "ExecutionReport",
    "FeeConfig",
    "FeeModel",
    "LatencyConfig",
    "LatencyModel",
    "MakerTakerFees",
    "MockVenue",
    "ModifyOrder",
    "NoFees",
    "Quote",
    "ReportKind",
    "StateDependentLatency",
    "SubmitOrder",
    "Venue",
    "VenueCommand",
    "VenueConformanceError",
    "check_venue",
    "consolidated_quote",
    "latency_from_config",
]
