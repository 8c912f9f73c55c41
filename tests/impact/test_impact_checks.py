"""check_impact_model: every built-in model passes it, and it catches each kind of breach."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from execsim.impact import (
    AlmgrenChrissImpact,
    ImpactConformanceError,
    ImpactModel,
    ImpactState,
    Interval,
    NoImpact,
    PropagatorImpact,
    SquareRootImpact,
    check_impact_model,
)
from execsim.impact.base import Constraint

SQRT = {"Y": 0.7, "sigma_ticks_per_sqrt_day": 300.0, "daily_volume_lots": 1e6}


@pytest.mark.parametrize(
    "model",
    [
        NoImpact(),
        AlmgrenChrissImpact(permanent=0.01, temporary=0.02, fixed_cost=0.5),
        AlmgrenChrissImpact(),
        SquareRootImpact(**SQRT),
        SquareRootImpact(**SQRT, decay_s=None),
        SquareRootImpact(**SQRT, delta=1.0, permanent_fraction=0.0, metaorder_gap_s=0.0),
        SquareRootImpact(),
        PropagatorImpact(G0=2.0, tau_s=30.0),
        PropagatorImpact(G0=2.0, tau_s=30.0, beta=2.5, permanent=0.1, tick_size=0.0001),
        PropagatorImpact(
            G0=2.0,
            kernel="exponential",
            tau_s=30.0,
            permanent=0.5,
            volume_exponent=0.5,
            volume_scale_lots=100,
        ),
        PropagatorImpact(),
        PropagatorImpact(kernel="exponential"),
    ],
    ids=repr,
)
def test_every_builtin_model_passes_the_conformance_checks(model: ImpactModel) -> None:
    before = model.get_params()
    check_impact_model(model)
    assert model.get_params() == before
    assert not model.is_fitted


# ---------------------------------------------------------------------------- broken models
class _LinState(ImpactState):
    def __init__(self, gamma: float, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self._g = gamma
        self._rng = rng

    def _apply_fill(self, ts_ns: int, sign: int, qty: int, price: int) -> None:
        self._perm += self._g * sign * qty
        self._t0 = ts_ns


class Linear(ImpactModel):
    """A minimal correct model to break in one way at a time."""

    name: ClassVar[str] = "test_linear"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "gamma": [Interval(float, 0, None, closed="left")]
    }

    def __init__(self, gamma: float = 0.1) -> None:
        self.gamma = gamma

    def fit(self, X: Any, y: None = None, **fit_params: Any) -> Linear:
        self.gamma_ = 0.1
        return self

    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        return _LinState(float(params["gamma"]), rng)


def test_the_minimal_correct_model_passes() -> None:
    check_impact_model(Linear())


class ChangesParams(Linear):
    def __init__(self, gamma: float = 0.1) -> None:
        self.gamma = gamma * 1.0 + 0.0


class LearnsInInit(Linear):
    def __init__(self, gamma: float = 0.1) -> None:
        self.gamma = gamma
        self.coef_ = 1.0


class UnconstrainedParam(Linear):
    def __init__(self, gamma: float = 0.1, extra: int = 1) -> None:
        self.gamma = gamma
        self.extra = extra


class FitReturnsNone(Linear):
    def fit(self, X: Any, y: None = None, **fit_params: Any) -> Any:  # type: ignore[override]
        self.gamma_ = 0.1
        return None


class _WrongSign(_LinState):
    def _apply_fill(self, ts_ns: int, sign: int, qty: int, price: int) -> None:
        self._perm -= self._g * sign * qty


class WrongSign(Linear):
    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        return _WrongSign(float(params["gamma"]))


class _Asymmetric(_LinState):
    def _apply_fill(self, ts_ns: int, sign: int, qty: int, price: int) -> None:
        self._perm += self._g * qty * (1.0 if sign > 0 else 0.5) * sign


class Asymmetric(Linear):
    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        return _Asymmetric(float(params["gamma"]))


class _Shrinking(_LinState):
    def _apply_fill(self, ts_ns: int, sign: int, qty: int, price: int) -> None:
        self._perm += sign * 100.0 / qty


class ShrinksWithSize(Linear):
    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        return _Shrinking(float(params["gamma"]))


class ClaimsDecay(Linear):
    def has_decay(self) -> bool:
        return True


class _Noisy(_LinState):
    def _apply_fill(self, ts_ns: int, sign: int, qty: int, price: int) -> None:
        assert self._rng is not None
        self._perm += self._g * sign * qty * (1.0 + 0.1 * self._rng.random())


class UsesTheRng(Linear):
    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        return _Noisy(float(params["gamma"]), rng)


class _NoClock(_LinState):
    def shift_ticks(self, ts_ns: int) -> int:
        return round(self._perm)


class IgnoresTimeOrder(Linear):
    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        return _NoClock(float(params["gamma"]))


class _NegativeCost(_LinState):
    def temporary_cost_ticks(self, side: Any, qty_lots: int) -> float:
        return -1.0


class NegativeTemporaryCost(Linear):
    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        return _NegativeCost(float(params["gamma"]))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (ChangesParams(), "changed parameter 'gamma'"),
        (LearnsInInit(), "learned attributes exist before fit"),
        (UnconstrainedParam(), "'extra' has no declared constraint"),
        (FitReturnsNone(), "must return self"),
        (WrongSign(), "buy must shift up"),
        (Asymmetric(), "antisymmetric"),
        (ShrinksWithSize(), "must not decrease with size"),
        (ClaimsDecay(), "must decay"),
        (UsesTheRng(), "must not depend on the run's random generator"),
        (IgnoresTimeOrder(), "TimeOrderError"),
        (NegativeTemporaryCost(), "temporary cost"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, ImpactModel) else "",
)
def test_the_checks_catch_each_breach(model: ImpactModel, message: str) -> None:
    with pytest.raises(ImpactConformanceError, match=message):
        check_impact_model(model)


def test_a_param_whose_invalid_value_passes_is_caught() -> None:
    class AcceptsAnything(Linear):
        _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {"gamma": [Interval(float, 0, None)]}

        def _validate_params(self) -> None:
            return None

    with pytest.raises(ImpactConformanceError, match="invalid value of parameter 'gamma' was accepted"):
        check_impact_model(AcceptsAnything())
