"""Market impact: how the market reacts to our trades.

Plug-in models (:class:`NoImpact` — the default, :class:`AlmgrenChrissImpact`,
:class:`SquareRootImpact`, :class:`PropagatorImpact`) follow the scikit-learn contract and start
one :class:`ImpactState` per run, which a venue asks for the integer price shift of the
replayed book (``docs/impact.md``). Calibrations from data return frozen results with
diagnostics; :func:`check_impact_model` is the conformance suite every model passes.
"""

from execsim.impact.base import ImpactModel, ImpactState, Interval, Options, round_half_away, shift_events
from execsim.impact.calibration import (
    KernelFit,
    LinearImpactCalibration,
    PropagatorCalibration,
    SquareRootBin,
    SquareRootCalibration,
    SquareRootInterval,
    calibrate_linear_impact,
    calibrate_propagator,
    calibrate_square_root,
    propagator_kernel,
)
from execsim.impact.checks import ImpactConformanceError, check_impact_model
from execsim.impact.config import ImpactConfig
from execsim.impact.models import (
    MODELS,
    AlmgrenChrissImpact,
    NoImpact,
    PropagatorImpact,
    SquareRootImpact,
    power_law_as_exponentials,
)
from execsim.impact.synthetic import simulate_propagator_tape, simulate_square_root_tape
from execsim.impact.tape import TradeTape, as_trade_tape, trade_tape

__all__ = [
    "MODELS",
    "AlmgrenChrissImpact",
    "ImpactConfig",
    "ImpactConformanceError",
    "ImpactModel",
    "ImpactState",
    "Interval",
    "KernelFit",
    "LinearImpactCalibration",
    "NoImpact",
    "Options",
    "PropagatorCalibration",
    "PropagatorImpact",
    "SquareRootBin",
    "SquareRootCalibration",
    "SquareRootImpact",
    "SquareRootInterval",
    "TradeTape",
    "as_trade_tape",
    "calibrate_linear_impact",
    "calibrate_propagator",
    "calibrate_square_root",
    "check_impact_model",
    "power_law_as_exponentials",
    "propagator_kernel",
    "round_half_away",
    "shift_events",
    "simulate_propagator_tape",
    "simulate_square_root_tape",
    "trade_tape",
]
