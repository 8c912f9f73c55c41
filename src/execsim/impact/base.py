"""The impact plug-in interface: an estimator (:class:`ImpactModel`) and its per-run state.

An impact model has two lives, kept apart so one fitted model can drive many runs:

* the **estimator**, :class:`ImpactModel`, follows the scikit-learn contract: ``__init__``
  stores its parameters unchanged and does nothing else; :meth:`~ImpactModel.get_params` /
  :meth:`~ImpactModel.set_params` read and write them; :meth:`~ImpactModel.fit` learns from
  market data and returns ``self``; everything it learns ends in ``_``. Parameters are checked
  declaratively (``_parameter_constraints``) when the model is fitted or started, and a bad
  one raises :class:`~execsim.core.errors.ConfigError` naming it.
* the **state**, :class:`ImpactState`, is what a venue holds during one run: it is made fresh
  by :meth:`ImpactModel.start`, told of our fills (:meth:`ImpactState.on_fill`) and asked for
  the integer price shift of the replayed book at a time (:meth:`ImpactState.shift_ticks`,
  :meth:`ImpactState.shifts_at` for a batch). How a venue applies that shift is in
  ``docs/impact.md``.

Rounding: a state computes its impact as a float number of ticks and rounds it to the nearest
integer with halves away from zero (``2.5 → 3``, ``−2.5 → −3``), so a buy and a sell of the
same size shift the book by exactly opposite amounts. The float goes through one compiled
kernel on every path, so the scalar and batch methods agree bit for bit.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar, Self

import numpy as np

from execsim.core.errors import ConfigError, DataError, TimeOrderError
from execsim.data.schema import EVENT_DTYPE, K_CLEAR, K_HALT
from execsim.impact import _kernels as _k
from execsim.model.enums import Side

__all__ = [
    "ImpactModel",
    "ImpactState",
    "Interval",
    "Options",
    "round_half_away",
    "shift_events",
]


# ---------------------------------------------------------------------------- constraints
@dataclass(frozen=True, slots=True)
class Interval:
    """A numeric parameter constraint: a real (or integer) number in an interval.

    ``low`` / ``high`` of ``None`` mean unbounded; ``closed`` is ``"both"``, ``"left"``,
    ``"right"`` or ``"neither"``. Booleans are never numbers here.
    """

    kind: type
    low: float | None
    high: float | None
    closed: str = "both"

    def accepts(self, value: object) -> bool:
        """Whether ``value`` satisfies the constraint."""
        if isinstance(value, bool) or not isinstance(value, self.kind):
            return False
        v = float(value)  # type: ignore[arg-type]
        if math.isnan(v):
            return False
        lo_ok = self.low is None or (v >= self.low if self.closed in ("both", "left") else v > self.low)
        hi_ok = self.high is None or (v <= self.high if self.closed in ("both", "right") else v < self.high)
        return lo_ok and hi_ok

    def describe(self) -> str:
        """The constraint in words, e.g. ``a number in (0, 1]``."""
        what = "an integer" if self.kind is Integral else "a number"
        if self.low is None and self.high is None:
            return what
        lb = "[" if self.closed in ("both", "left") else "("
        rb = "]" if self.closed in ("both", "right") else ")"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{what} in {lb}{lo}, {hi}{rb}"


@dataclass(frozen=True, slots=True)
class Options:
    """A parameter constraint: one of a fixed set of values (strings, booleans)."""

    values: tuple[object, ...]

    def accepts(self, value: object) -> bool:
        """Whether ``value`` is one of the options (booleans only match booleans)."""
        return any(type(value) is type(o) and value == o for o in self.values)

    def describe(self) -> str:
        """The constraint in words."""
        return "one of " + ", ".join(repr(v) for v in self.values)


Constraint = Interval | Options | None
"""One accepted form of a parameter; ``None`` in a constraint list means "or None"."""


def _accepts(c: Constraint, value: object) -> bool:
    return value is None if c is None else c.accepts(value)


def _describe(c: Constraint) -> str:
    return "None" if c is None else c.describe()


# ---------------------------------------------------------------------------- rounding
def round_half_away(x: np.ndarray | float) -> np.ndarray:
    """Round to the nearest integer, halves away from zero, as ``int64``.

    Antisymmetric: ``round_half_away(−x) == −round_half_away(x)``, so opposite trades of the same
    size shift the book by opposite amounts.
    """
    arr = np.atleast_1d(np.asarray(x, dtype=np.float64))
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"cannot round a non-finite impact to ticks: {arr[~np.isfinite(arr)][:3]}")
    out = np.empty(arr.shape[0], dtype=np.int64)
    _k.round_half_away(arr, out)
    return out


# ---------------------------------------------------------------------------- shift_events
_PRICE_LESS = (K_CLEAR, K_HALT)


def shift_events(events: np.ndarray, shifts: np.ndarray | int) -> np.ndarray:
    """Return a copy of canonical ``events`` with ``shifts`` ticks added to each price.

    Every kind whose ``price`` is a price (ADD, CANCEL, DELETE, EXECUTE, TRADE, SET_LEVEL) is
    shifted; CLEAR and HALT carry no price and are returned untouched. This is how a venue
    *presents* replayed market data under impact (``docs/impact.md``): the book itself stays in
    replay coordinates.

    Parameters
    ----------
    events
        A 1-d array of :data:`~execsim.data.schema.EVENT_DTYPE`.
    shifts
        One integer shift (ticks) per event (``int64`` array of the same length), or one integer
        for all of them — typically :meth:`ImpactState.shifts_at` of the events' ``ts_event``.

    Returns
    -------
    numpy.ndarray
        A new event array; ``events`` is not modified.
    """
    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE or events.ndim != 1:
        got = (
            f"dtype {events.dtype}, shape {events.shape}"
            if isinstance(events, np.ndarray)
            else type(events).__name__
        )
        raise TypeError(f"shift_events expects a 1-d EVENT_DTYPE array, got {got}")
    sh = np.asarray(shifts)
    if sh.dtype.kind not in "iu":
        raise TypeError(f"shifts must be integers (ticks), got dtype {sh.dtype}")
    if sh.ndim == 0:
        sh = np.full(events.shape[0], int(sh), dtype=np.int64)
    elif sh.shape != events.shape:
        raise ValueError(f"shifts has shape {sh.shape}, events has shape {events.shape}")
    out = events.copy()
    kind = events["kind"]
    priced = (kind != _PRICE_LESS[0]) & (kind != _PRICE_LESS[1])
    out["price"] = np.where(priced, events["price"] + sh.astype(np.int64), events["price"])
    return out


# ---------------------------------------------------------------------------- the state
def _side_code(side: int | Side) -> int:
    if isinstance(side, Side):
        if side is Side.NONE:
            raise DataError("an impact fill needs side BUY or SELL", value=side)
        return side.code
    if isinstance(side, bool) or not isinstance(side, int | np.integer) or int(side) not in (1, -1):
        raise DataError("side must be +1 (buy) or -1 (sell)", value=side)
    return int(side)


def _qty(qty_lots: int) -> int:
    if isinstance(qty_lots, bool) or not isinstance(qty_lots, int | np.integer) or qty_lots <= 0:
        raise DataError("qty_lots must be a positive integer number of lots", value=qty_lots)
    return int(qty_lots)


class ImpactState(ABC):
    """What a venue holds during one run: the impact of our fills so far.

    Between two of our fills every built-in state has the form
    ``impact(t) = perm + Σ_k amp_k · exp(−(t − t0) · rate_k)`` (ticks, float): a permanent part and
    a sum of exponentially relaxing transient parts. A fill updates ``perm``/``amp``/``t0`` in
    O(number of terms); the shift at any later time is one evaluation of that sum.

    All methods share one clock: each call's time must be ``>=`` the latest time seen by any
    call (fills and queries interleave in time order), else :class:`TimeOrderError`. A fill at
    ``t`` is included in ``shift_ticks(t)``.
    """

    def __init__(self) -> None:
        self._clock = np.iinfo(np.int64).min
        self._t0 = 0
        self._perm = 0.0
        self._amp: np.ndarray = np.zeros(0, dtype=np.float64)
        self._rate: np.ndarray = np.zeros(0, dtype=np.float64)
        self._one_t = np.zeros(1, dtype=np.int64)
        self._one_x = np.zeros(1, dtype=np.float64)
        self.n_fills = 0

    # -- clock -----------------------------------------------------------------------------
    def _tick(self, ts_ns: int, what: str) -> int:
        if isinstance(ts_ns, bool) or not isinstance(ts_ns, int | np.integer):
            raise DataError(f"{what}: ts_ns must be an integer number of nanoseconds", value=ts_ns)
        t = int(ts_ns)
        if t < self._clock:
            raise TimeOrderError(
                f"{type(self).__name__}.{what}: time went backwards, last time seen was "
                f"{self._clock} ns; impact is queried and updated in non-decreasing time",
                value=t,
            )
        self._clock = t
        return t

    @property
    def now_ns(self) -> int | None:
        """The latest time seen (``None`` before the first call)."""
        return None if self._clock == np.iinfo(np.int64).min else self._clock

    # -- updates ---------------------------------------------------------------------------
    def on_fill(self, ts_ns: int, side: int | Side, qty_lots: int, price_ticks: int) -> None:
        """Record one of our fills: ``side`` +1 (we bought) or −1 (we sold) ``qty_lots`` at ``price_ticks``.

        Raises
        ------
        TimeOrderError
            ``ts_ns`` is before a time already seen.
        DataError
            ``side`` is not ±1 or ``qty_lots`` is not a positive integer.
        """
        s = _side_code(side)
        q = _qty(qty_lots)
        t = self._tick(ts_ns, "on_fill")
        self._apply_fill(t, s, q, int(price_ticks))
        self.n_fills += 1

    @abstractmethod
    def _apply_fill(self, ts_ns: int, sign: int, qty: int, price: int) -> None:
        """Update ``_perm``, ``_amp``, ``_rate`` and ``_t0`` for one fill at ``ts_ns``."""

    # -- queries ---------------------------------------------------------------------------
    def impact_ticks(self, ts_ns: int) -> float:
        """The impact at ``ts_ns`` as a float number of ticks (before rounding)."""
        t = self._tick(ts_ns, "impact_ticks")
        self._one_t[0] = t
        _k.exp_sum_eval(self._one_t, self._t0, self._perm, self._amp, self._rate, self._one_x)
        return float(self._one_x[0])

    def shift_ticks(self, ts_ns: int) -> int:
        """The integer price shift (ticks) of the whole replayed book at ``ts_ns``.

        ``round_half_away(impact_ticks(ts_ns))``: positive after our buys, negative after our
        sells. ``ts_ns`` must not be before a time already seen.
        """
        x = self.impact_ticks(ts_ns)
        if not math.isfinite(x):
            raise ValueError(f"cannot round a non-finite impact to ticks: {x}")
        # the same IEEE operations as the compiled round_half_away, so both paths agree exactly
        return math.floor(x + 0.5) if x >= 0.0 else -math.floor(-x + 0.5)

    def impacts_at(self, ts_ns: np.ndarray) -> np.ndarray:
        """Float impact (ticks) at each of a batch of non-decreasing times (no fills in between)."""
        ts = np.ascontiguousarray(ts_ns, dtype=np.int64)
        if ts.ndim != 1:
            raise ValueError(f"expected a 1-d array of times, got shape {ts.shape}")
        out = np.empty(ts.shape[0], dtype=np.float64)
        if ts.shape[0] == 0:
            return out
        if ts.shape[0] > 1 and np.any(np.diff(ts) < 0):
            i = int(np.flatnonzero(np.diff(ts) < 0)[0]) + 1
            raise TimeOrderError(
                f"{type(self).__name__}.shifts_at: times must be non-decreasing; "
                f"element {i} goes back from {int(ts[i - 1])}",
                value=int(ts[i]),
            )
        self._tick(int(ts[0]), "shifts_at")
        self._tick(int(ts[-1]), "shifts_at")
        _k.exp_sum_eval(ts, self._t0, self._perm, self._amp, self._rate, out)
        return out

    def shifts_at(self, ts_ns: np.ndarray) -> np.ndarray:
        """Integer shifts (ticks, ``int64``) at a batch of non-decreasing times, in one compiled call.

        Valid for times up to our next fill: a venue evaluates the events between two of our
        fills in one batch, then calls :meth:`on_fill` and continues.
        """
        return round_half_away(self.impacts_at(ts_ns))

    def temporary_cost_ticks(self, side: int | Side, qty_lots: int) -> float:
        """Instantaneous price concession (ticks, ≥ 0) of a fill of ``qty_lots`` on ``side``.

        A per-trade cost (Almgren–Chriss temporary impact), not a book shift: a venue that uses
        it fills a buy at ``price + cost`` and a sell at ``price − cost``. 0 unless the model
        has a temporary component.
        """
        _side_code(side)
        _qty(qty_lots)
        return 0.0

    @property
    def permanent_ticks(self) -> float:
        """The permanent part of the impact so far (what the impact relaxes to), in ticks."""
        return self._perm

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(fills={self.n_fills}, permanent={self._perm:.4g}, "
            f"transient_terms={self._amp.shape[0]})"
        )


# ---------------------------------------------------------------------------- the estimator
class ImpactModel(ABC):
    """Base class of impact models: a scikit-learn style estimator that starts run states.

    Subclasses declare their parameters as keyword arguments of ``__init__`` (stored unchanged
    under the same names) and their accepted values in ``_parameter_constraints``: a mapping
    from each parameter name to a list of :class:`Interval`, :class:`Options` or ``None``
    ("or None"). Learned attributes end in ``_`` and exist only after :meth:`fit`.
    """

    name: ClassVar[str] = ""
    """Registry name used by :class:`~execsim.impact.ImpactConfig` (e.g. ``"square_root"``)."""

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}

    # price-valued parameters (in ticks): rescaled by start() when the model's tick differs
    _price_params: ClassVar[tuple[str, ...]] = ()
    # parameters with a learned counterpart ``name_`` set by fit()
    _learned_params: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        names = []
        for p in sig.parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ may not take *args or **kwargs")
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters as a dict (``deep`` is accepted for scikit-learn parity)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set constructor parameters by name; an unknown name raises :class:`ConfigError`."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ConfigError(
                    f"{type(self).__name__} has no parameter {key!r}; valid: {', '.join(valid) or 'none'}"
                )
            setattr(self, key, value)
        return self

    def _validate_params(self) -> None:
        """Check every parameter against ``_parameter_constraints``; raise ConfigError naming a bad one."""
        for key in self._param_names():
            constraints = self._parameter_constraints.get(key)
            if constraints is None:
                raise TypeError(f"{type(self).__name__}: parameter {key!r} has no declared constraint")
            value = getattr(self, key)
            if not any(_accepts(c, value) for c in constraints):
                allowed = " or ".join(_describe(c) for c in constraints)
                raise ConfigError(
                    f"{type(self).__name__}: parameter {key!r} must be {allowed}; got {value!r}"
                )

    # -- fitting ---------------------------------------------------------------------------
    @abstractmethod
    def fit(self, X: Any, y: None = None, **fit_params: Any) -> Self:
        """Learn from market data; return ``self``.

        ``X`` is a :class:`~execsim.impact.TradeTape`, a canonical event array, an iterable of
        event batches, or a feed handler; ``y`` is ignored (scikit-learn parity).
        """

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has run (any public attribute ending in ``_`` exists)."""
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def fitted_params(self) -> dict[str, Any]:
        """The parameters a run uses: learned values (``name_``) where fitted, else the given ones.

        The result is a plain parameter dict: ``type(model)(**model.fitted_params())`` is an
        unfitted model that behaves like this one, and
        :meth:`ImpactConfig.from_model <execsim.impact.ImpactConfig.from_model>` stores it in a config.
        """
        params = self.get_params()
        if self.is_fitted:
            for key in self._learned_params:
                if hasattr(self, key + "_"):
                    params[key] = getattr(self, key + "_")
            if "tick_size" in params and hasattr(self, "tick_size_"):
                params["tick_size"] = self.tick_size_
        return params

    # -- running ---------------------------------------------------------------------------
    def start(self, *, tick_size_price: float, rng: np.random.Generator | None) -> ImpactState:
        """Return a fresh :class:`ImpactState` for one run.

        Parameters
        ----------
        tick_size_price
            The run instrument's tick size as a price (``float(instrument.tick_size)``). When the
            model's price-valued parameters are in other ticks (parameter or learned
            ``tick_size``), they are rescaled by ``tick_size / tick_size_price``.
        rng
            A generator spawned from the run's seed sequence, for stochastic models; the
            built-in models are deterministic and do not draw from it.

        Raises
        ------
        ConfigError
            A parameter is invalid, or a value the model needs is neither given nor fitted.
        """
        self._validate_params()
        if (
            isinstance(tick_size_price, bool)
            or not isinstance(tick_size_price, Real)
            or not math.isfinite(float(tick_size_price))
            or float(tick_size_price) <= 0
        ):
            raise ConfigError(
                f"{type(self).__name__}.start: tick_size_price must be a positive number, "
                f"got {tick_size_price!r}"
            )
        params = self.fitted_params()
        missing = [k for k in self._learned_params if params.get(k) is None]
        if missing:
            raise ConfigError(
                f"{type(self).__name__} needs {', '.join(repr(m) for m in missing)}: "
                "pass it as a parameter or call fit() first"
            )
        unit = params.get("tick_size")
        scale = 1.0 if unit is None else float(unit) / float(tick_size_price)
        for key in self._price_params:
            if params.get(key) is not None:
                params[key] = float(params[key]) * scale
        return self._start(params, rng)

    @abstractmethod
    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        """Build the state from resolved parameters (price-valued ones already in run ticks)."""

    def has_decay(self) -> bool:
        """Whether states of this model (with its current parameters) have a relaxing transient part."""
        return False

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        parts = []
        for name in self._param_names():
            default = sig.parameters[name].default
            value = getattr(self, name)
            if default is inspect.Parameter.empty or (value is not default and value != default):
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"
