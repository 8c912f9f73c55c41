"""Conformance checks every impact model must pass (public API, like scikit-learn's estimator checks).

:func:`check_impact_model` runs them all on a model instance and raises
:class:`ImpactConformanceError` at the first breach, naming the model and the check.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from execsim.core.errors import ConfigError, ExecsimError, TimeOrderError
from execsim.impact.base import ImpactModel, ImpactState
from execsim.impact.synthetic import simulate_propagator_tape
from execsim.impact.tape import TradeTape

__all__ = ["ImpactConformanceError", "check_impact_model"]

_S = 1_000_000_000
_T0 = 1_700_000_000 * _S  # an arbitrary epoch time in ns
_TICK = 0.01
_SIZES = (1, 10, 100, 1_000, 10_000)
_AFTER_S = (0.0, 0.5, 5.0, 60.0, 600.0, 3_600.0, 6 * 3_600.0)


class ImpactConformanceError(ExecsimError, AssertionError):
    """An impact model breaks the impact-model contract."""


class _Bad:
    """A value no parameter constraint accepts."""

    def __repr__(self) -> str:
        return "<invalid>"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b) and type(a) is type(b)


def _check_tape(seed: int = 7) -> TradeTape:
    """A small tape from a known propagator (3,000 trades, 8 s apart), for fitting in checks."""
    return simulate_propagator_tape(
        3_000, G0=40.0, G_inf=10.0, ell0=5.0, kernel="exponential", sign_persistence=0.7,
        noise_ticks=20.0, dt_s=8.0, seed=seed, tick_size=_TICK,
    )  # fmt: skip


def _learned(model: ImpactModel) -> list[str]:
    return sorted(k for k in vars(model) if k.endswith("_") and not k.startswith("_"))


def check_impact_model(model: ImpactModel, *, tape: TradeTape | None = None) -> None:
    """Run the impact-model contract checks on ``model``; raise :class:`ImpactConformanceError`.

    Checks, in order: ``__init__`` stores every parameter unchanged under its own name;
    ``get_params`` round-trips through the constructor; every parameter has a declared
    constraint and a value none accepts raises :class:`ConfigError` naming it; no learned
    attributes before ``fit``; ``fit`` returns ``self`` and sets learned attributes; then, on a
    started state: no trading gives a zero shift; a buy shifts up and a sell of the same size
    shifts down by exactly as much; impact never decreases with size; the transient part decays
    (models with decay); runs are deterministic; the batch and scalar queries agree; times may
    repeat but never go back (:class:`TimeOrderError`). ``model`` itself is never modified;
    fitting happens on a fresh copy, on ``tape`` (default: a small synthetic tape).
    """
    cls = type(model)
    name = cls.__name__

    def fail(msg: str) -> None:
        raise ImpactConformanceError(f"{name}: {msg}")

    # -- parameters ------------------------------------------------------------------------
    sig = inspect.signature(cls.__init__)
    init_names = sorted(p for p in sig.parameters if p != "self")
    params = model.get_params()
    if sorted(params) != init_names:
        fail(f"get_params() keys {sorted(params)} differ from __init__ parameters {init_names}")
    for key in init_names:
        if not hasattr(model, key):
            fail(f"__init__ does not store parameter {key!r} as an attribute of that name")
    rebuilt = cls(**params)
    for key, value in params.items():
        if getattr(rebuilt, key) is not value:
            fail(f"__init__ changed parameter {key!r}: passed {value!r}, stored {getattr(rebuilt, key)!r}")
    if not all(_same(rebuilt.get_params()[k], v) for k, v in params.items()):
        fail("get_params() does not round-trip through the constructor")
    if _learned(rebuilt):
        fail(f"learned attributes exist before fit: {_learned(rebuilt)}")
    for key in init_names:
        if key not in cls._parameter_constraints:
            fail(f"parameter {key!r} has no declared constraint in _parameter_constraints")
    try:
        rebuilt._validate_params()
    except ConfigError as err:
        fail(f"its own parameters do not validate: {err}")
    for key in init_names:
        bad = cls(**params).set_params(**{key: _Bad()})
        try:
            bad._validate_params()
        except ConfigError as err:
            if repr(key) not in str(err):
                fail(f"the error for an invalid {key!r} does not name it: {err}")
        else:
            fail(f"an invalid value of parameter {key!r} was accepted")

    # -- fit -------------------------------------------------------------------------------
    fresh = cls(**params)
    returned = fresh.fit(tape if tape is not None else _check_tape())
    if returned is not fresh:
        fail("fit() must return self")
    if not _learned(fresh) or not fresh.is_fitted:
        fail("fit() set no learned attribute (names ending in '_')")

    # -- run-time behaviour ----------------------------------------------------------------
    runner: ImpactModel = model
    try:
        model.start(tick_size_price=_TICK, rng=np.random.default_rng(0))
    except ConfigError:
        runner = fresh  # needs fitted values
    _check_states(runner, fail)


def _state(model: ImpactModel, seed: int = 0) -> ImpactState:
    return model.start(tick_size_price=_TICK, rng=np.random.default_rng(seed))


def _path(model: ImpactModel, side: int, qty: int, seed: int = 0) -> np.ndarray:
    """Float impact after one fill at _T0, at the times of _AFTER_S."""
    st = _state(model, seed)
    st.on_fill(_T0, side, qty, 10_000)
    return np.array([st.impact_ticks(_T0 + int(a * _S)) for a in _AFTER_S])


def _check_states(model: ImpactModel, fail: Any) -> None:
    st = _state(model)
    zero = [st.shift_ticks(_T0 + int(a * _S)) for a in _AFTER_S]
    if any(zero) or st.impact_ticks(_T0 + 7 * 3_600 * _S) != 0.0:
        fail(f"no trading must give zero shift, got {zero}")
    prev = np.zeros(len(_AFTER_S))
    for q in _SIZES:
        up, down = _path(model, +1, q), _path(model, -1, q)
        if np.any(up < 0) or np.any(down > 0):
            fail(f"a buy must shift up and a sell down (size {q}): buy {up}, sell {down}")
        if not np.array_equal(up, -down):
            fail(f"impact must be antisymmetric (size {q}): buy {up}, sell {down}")
        if np.any(up < prev):
            fail(f"impact must not decrease with size: size {q} gives {up}, a smaller one {prev}")
        prev = up
        st_b, st_s = _state(model), _state(model)
        st_b.on_fill(_T0, 1, q, 10_000)
        st_s.on_fill(_T0, -1, q, 10_000)
        sb = [st_b.shift_ticks(_T0 + int(a * _S)) for a in _AFTER_S]
        ss = [st_s.shift_ticks(_T0 + int(a * _S)) for a in _AFTER_S]
        if sb != [-x for x in ss]:
            fail(f"rounded shifts must be antisymmetric (size {q}): buy {sb}, sell {ss}")
        cost_b = st_b.temporary_cost_ticks(1, q)
        if cost_b < 0 or cost_b != st_b.temporary_cost_ticks(-1, q):
            fail(f"temporary cost must be >= 0 and the same for both sides, got {cost_b}")
        if q > 1 and cost_b < st_b.temporary_cost_ticks(1, q // 10):
            fail("temporary cost must not decrease with size")
    if model.has_decay():
        big = _path(model, +1, _SIZES[-1])
        if np.any(np.diff(big) > 1e-12 * max(1.0, abs(big[0]))) or not big[-1] < big[0]:
            fail(f"the transient part must decay after a fill, got {big}")
    # determinism: the same fills give the same impacts, whatever the seed
    fills = [(_T0 + i * 7 * _S, 1 if i % 3 else -1, 10 * (i + 1), 10_000 + i) for i in range(12)]
    times = _T0 + np.arange(0, 200 * _S, _S // 4, dtype=np.int64)
    runs = []
    for seed in (0, 0, 1):
        st = _state(model, seed)
        out = []
        for t_fill, side, q, px in fills:
            st.on_fill(t_fill, side, q, px)
            out.append(st.impact_ticks(t_fill + _S))
        batch = st.shifts_at(times[times >= fills[-1][0] + _S])
        runs.append((out, batch))
    if runs[0][0] != runs[1][0] or not np.array_equal(runs[0][1], runs[1][1]):
        fail("two runs with the same fills and seed differ")
    if runs[0][0] != runs[2][0]:
        fail("a deterministic model must not depend on the run's random generator")
    # scalar and batch queries agree
    st1, st2 = _state(model), _state(model)
    for st in (st1, st2):
        st.on_fill(_T0, 1, 1_000, 10_000)
    ts = _T0 + np.array([0, 1, _S, 10 * _S, 10 * _S, 1_000 * _S], dtype=np.int64)
    batch = st1.shifts_at(ts)
    scalar = np.array([st2.shift_ticks(int(t)) for t in ts])
    if not np.array_equal(batch, scalar) or batch.dtype != np.int64:
        fail(f"shifts_at {batch} differs from shift_ticks {scalar}")
    # time order
    st = _state(model)
    st.shift_ticks(_T0)
    st.shift_ticks(_T0)  # equal times are fine
    for call in (lambda: st.shift_ticks(_T0 - 1), lambda: st.on_fill(_T0 - 1, 1, 1, 1)):
        try:
            call()
        except TimeOrderError as err:
            if str(_T0 - 1) not in str(err):
                fail(f"the time-order error does not name the time: {err}")
        else:
            fail("a time before the last one seen must raise TimeOrderError")
