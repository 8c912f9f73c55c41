"""The built-in impact models: none (pure replay), Almgren–Chriss, square-root law, propagator.

Each is an :class:`~execsim.impact.ImpactModel` (scikit-learn contract, ``fit`` on a trade tape
or canonical events) whose :meth:`~execsim.impact.ImpactModel.start` returns a run state with
O(1) (or O(number of exponential terms)) work per fill. Units: impact in ticks of the run's
instrument, sizes in lots, times in seconds in parameters and nanoseconds at run time.
"""

from __future__ import annotations

import math
from functools import lru_cache
from numbers import Real
from typing import Any, ClassVar, Self

import numpy as np

from execsim.impact.base import Constraint, ImpactModel, ImpactState, Interval, Options, _qty, _side_code
from execsim.impact.calibration import (
    LinearImpactCalibration,
    PropagatorCalibration,
    SquareRootCalibration,
    calibrate_linear_impact,
    calibrate_propagator,
    calibrate_square_root,
)
from execsim.impact.tape import as_trade_tape
from execsim.model.enums import Side

__all__ = [
    "AlmgrenChrissImpact",
    "NoImpact",
    "PropagatorImpact",
    "SquareRootImpact",
    "power_law_as_exponentials",
]

_NS = 1e9
_POS: list[Constraint] = [Interval(Real, 0, None, closed="neither")]
_NONNEG: list[Constraint] = [Interval(Real, 0, None, closed="left")]
_TICK: list[Constraint] = [Interval(Real, 0, None, closed="neither"), None]


# ============================================================================ none
class _ZeroState(ImpactState):
    def _apply_fill(self, ts_ns: int, sign: int, qty: int, price: int) -> None:
        return None


class NoImpact(ImpactModel):
    """Pure replay: our trades never move the market (shift always 0). The default.

    Fills still consume the liquidity they matched against in the venue's book; nothing else
    reacts. ``fit`` learns nothing but the size of the tape it saw.
    """

    name: ClassVar[str] = "none"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}

    def __init__(self) -> None:
        pass

    def fit(self, X: Any, y: None = None, **fit_params: Any) -> Self:
        """Read ``X`` (a tape, events or a feed) and record ``n_trades_``; return ``self``."""
        self._validate_params()
        if fit_params:
            raise TypeError(f"NoImpact.fit got unexpected keyword(s): {sorted(fit_params)}")
        self.n_trades_ = as_trade_tape(X).n_trades
        return self

    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        return _ZeroState()


# ============================================================================ Almgren–Chriss
class _LinearState(ImpactState):
    def __init__(self, gamma: float, eta: float, fixed: float) -> None:
        super().__init__()
        self._gamma = gamma
        self._eta = eta
        self._fixed = fixed

    def _apply_fill(self, ts_ns: int, sign: int, qty: int, price: int) -> None:
        self._perm += self._gamma * sign * qty
        self._t0 = ts_ns

    def temporary_cost_ticks(self, side: int | Side, qty_lots: int) -> float:
        _side_code(side)
        return self._fixed + self._eta * _qty(qty_lots)


class AlmgrenChrissImpact(ImpactModel):
    """Almgren–Chriss linear impact: a permanent book shift plus a temporary per-trade cost.

    After fills ``(ε_i, q_i)`` the book is shifted by ``γ Σ ε_i q_i`` ticks for the rest of the
    session (permanent, never decays). Each fill also pays a temporary concession
    ``a + η q`` ticks (:meth:`ImpactState.temporary_cost_ticks`), which does not move the book.
    On replayed depth the book walk already charges a market order for its size, so a lit
    replay venue would normally use ``temporary=0``; the temporary part is for venues without
    depth (a synthetic or dark venue, a cost model).

    Parameters
    ----------
    permanent
        γ, ticks per lot (≥ 0); ``None`` to learn it with :meth:`fit`.
    temporary
        η, ticks per lot (≥ 0); ``None`` to learn it.
    fixed_cost
        ``a``, ticks per trade (≥ 0): the size-independent part of the concession.
    tick_size
        The price of one tick in which the three are expressed (``None``: the run's tick).
    """

    name: ClassVar[str] = "almgren_chriss"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "permanent": [*_NONNEG, None],
        "temporary": [*_NONNEG, None],
        "fixed_cost": _NONNEG,
        "tick_size": _TICK,
    }
    _price_params = ("permanent", "temporary", "fixed_cost")
    _learned_params = ("permanent", "temporary", "fixed_cost")

    def __init__(
        self,
        permanent: float | None = None,
        temporary: float | None = None,
        fixed_cost: float = 0.0,
        tick_size: float | None = None,
    ) -> None:
        self.permanent = permanent
        self.temporary = temporary
        self.fixed_cost = fixed_cost
        self.tick_size = tick_size

    def fit(self, X: Any, y: None = None, *, tick_size: float | None = None, **calibration: Any) -> Self:
        """Fit γ, η and ``a`` (:func:`~execsim.impact.calibrate_linear_impact`); return ``self``.

        ``calibration`` keywords (``interval_s``, ``n_bootstrap``, ``seed``) go to the
        calibration. Learned: ``permanent_``, ``temporary_``, ``fixed_cost_`` (negative estimates are clipped
        to 0; the raw ones are in ``calibration_``), ``tick_size_``, ``n_trades_``.
        """
        self._validate_params()
        tape = as_trade_tape(X, tick_size=tick_size)
        cal: LinearImpactCalibration = calibrate_linear_impact(tape, **calibration)
        self.permanent_ = max(cal.permanent, 0.0)
        self.temporary_ = max(cal.temporary, 0.0)
        self.fixed_cost_ = max(cal.fixed_cost, 0.0)
        self.tick_size_ = tape.tick_size
        self.n_trades_ = tape.n_trades
        self.calibration_ = cal
        return self

    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        return _LinearState(
            float(params["permanent"]), float(params["temporary"]), float(params["fixed_cost"])
        )


# ============================================================================ square-root law
class _SquareRootState(ImpactState):
    def __init__(self, *, coef: float, V: float, delta: float, rate: float, p: float, gap_ns: int) -> None:
        super().__init__()
        self._coef = coef  # Y·σ (ticks)
        self._V = V
        self._delta = delta
        # without relaxation the whole impact stays: it is all permanent
        self._p = p if rate > 0 else 1.0
        self._gap = gap_ns
        self._closed_perm = 0.0  # permanent part of finished metaorders
        self._closed_tr = 0.0  # their transient part at _t0
        self._cur_sign = 0
        self._cur_q = 0
        self._cur_i = 0.0  # signed peak impact of the current metaorder
        self._last = 0
        self._rate = np.array([rate]) if rate > 0 else np.zeros(0)
        self._amp = np.zeros(self._rate.shape[0])

    def _apply_fill(self, ts_ns: int, sign: int, qty: int, price: int) -> None:
        decay = math.exp(-(ts_ns - self._t0) * self._rate[0]) if self._rate.shape[0] else 1.0
        tr_closed = self._closed_tr * decay
        same = self._cur_sign == sign and ts_ns - self._last <= self._gap
        if not same:
            if self._cur_sign != 0:
                # close the current metaorder: its transient part relaxes from its last fill
                self._closed_perm += self._p * self._cur_i
                tr_closed += (1.0 - self._p) * self._cur_i * decay
            self._cur_sign = sign
            self._cur_q = 0
        self._cur_q += qty
        self._cur_i = sign * self._coef * (self._cur_q / self._V) ** self._delta
        self._closed_tr = tr_closed
        self._last = ts_ns
        self._t0 = ts_ns
        self._perm = self._closed_perm + self._p * self._cur_i
        if self._rate.shape[0]:
            self._amp[0] = self._closed_tr + (1.0 - self._p) * self._cur_i


class SquareRootImpact(ImpactModel):
    """The square-root law: a metaorder of Q lots moves the price by ``Y σ (Q/V)^δ``.

    Applied fill by fill (``docs/impact.md``): our fills form *metaorders* — runs of fills on the
    same side, each within ``metaorder_gap_s`` of the previous one. Right after a fill, the
    current metaorder's impact is ``ε Y σ (Q/V)^δ`` with ``Q`` its cumulative size so far (so
    impact is concave in what was executed). Between fills, and after the metaorder ends, the
    impact relaxes exponentially with time scale ``decay_s`` toward ``permanent_fraction`` of
    that peak; the next fill of the same metaorder brings it back to the square-root curve at the
    new cumulative size. A fill on the other side, or after a longer gap, starts a new metaorder;
    finished metaorders keep relaxing and their permanent parts add up.

    Parameters
    ----------
    Y
        Dimensionless prefactor (≈ 0.5–1 in studies of real metaorders); ``None`` to fit.
    sigma_ticks_per_sqrt_day
        Daily volatility, ticks; ``None`` to fit (realized volatility of the data).
    daily_volume_lots
        Daily traded volume V, lots; ``None`` to fit.
    delta
        Exponent δ (0.5 for the square-root law), in (0, 2].
    decay_s
        Relaxation time of the transient part, seconds; ``None``: no relaxation (the whole
        impact stays).
    permanent_fraction
        What the impact relaxes to, as a fraction of the peak (≈ 2/3 in metaorder studies).
    metaorder_gap_s
        Fills further apart than this (seconds) belong to different metaorders.
    fit_delta
        Whether :meth:`fit` estimates δ (else it keeps ``delta``).
    tick_size
        The price of one tick in which σ is expressed (``None``: the run's tick).
    """

    name: ClassVar[str] = "square_root"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "Y": [*_NONNEG, None],
        "sigma_ticks_per_sqrt_day": [*_POS, None],
        "daily_volume_lots": [*_POS, None],
        "delta": [Interval(Real, 0, 2, closed="right")],
        "decay_s": [*_POS, None],
        "permanent_fraction": [Interval(Real, 0, 1, closed="both")],
        "metaorder_gap_s": _NONNEG,
        "fit_delta": [Options((True, False))],
        "tick_size": _TICK,
    }
    _price_params = ("sigma_ticks_per_sqrt_day",)
    _learned_params = ("Y", "sigma_ticks_per_sqrt_day", "daily_volume_lots", "delta")

    def __init__(
        self,
        Y: float | None = None,
        sigma_ticks_per_sqrt_day: float | None = None,
        daily_volume_lots: float | None = None,
        delta: float = 0.5,
        decay_s: float | None = 900.0,
        permanent_fraction: float = 2.0 / 3.0,
        metaorder_gap_s: float = 300.0,
        fit_delta: bool = True,
        tick_size: float | None = None,
    ) -> None:
        self.Y = Y
        self.sigma_ticks_per_sqrt_day = sigma_ticks_per_sqrt_day
        self.daily_volume_lots = daily_volume_lots
        self.delta = delta
        self.decay_s = decay_s
        self.permanent_fraction = permanent_fraction
        self.metaorder_gap_s = metaorder_gap_s
        self.fit_delta = fit_delta
        self.tick_size = tick_size

    def fit(self, X: Any, y: None = None, *, tick_size: float | None = None, **calibration: Any) -> Self:
        """Fit Y, σ, V (and δ when ``fit_delta``) with :func:`~execsim.impact.calibrate_square_root`.

        ``calibration`` keywords (``intervals_s``, ``n_bins``, ``n_bootstrap``, ``seed``,
        ``sigma_interval_s``, ``day_s``) go to the calibration. Learned: ``Y_``,
        ``sigma_ticks_per_sqrt_day_``, ``daily_volume_lots_``, ``delta_`` (when fitted),
        ``tick_size_``, ``n_trades_``, ``calibration_`` (diagnostics). Returns ``self``.
        """
        self._validate_params()
        tape = as_trade_tape(X, tick_size=tick_size)
        cal: SquareRootCalibration = calibrate_square_root(
            tape, delta=None if self.fit_delta else float(self.delta), **calibration
        )
        self.Y_ = max(cal.Y, 0.0)
        self.sigma_ticks_per_sqrt_day_ = cal.sigma_ticks_per_sqrt_day
        self.daily_volume_lots_ = cal.daily_volume_lots
        if self.fit_delta:
            self.delta_ = cal.delta
        self.tick_size_ = tape.tick_size
        self.n_trades_ = tape.n_trades
        self.calibration_ = cal
        return self

    def has_decay(self) -> bool:
        """True when ``decay_s`` is set and the permanent fraction is below 1."""
        return self.decay_s is not None and self.permanent_fraction < 1

    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        decay = params["decay_s"]
        return _SquareRootState(
            coef=float(params["Y"]) * float(params["sigma_ticks_per_sqrt_day"]),
            V=float(params["daily_volume_lots"]),
            delta=float(params["delta"]),
            rate=0.0 if decay is None else 1.0 / (float(decay) * _NS),
            p=float(params["permanent_fraction"]),
            gap_ns=round(float(params["metaorder_gap_s"]) * _NS),
        )


# ============================================================================ propagator
def _nnls(A: np.ndarray, b: np.ndarray, max_iter: int = 200) -> np.ndarray:
    """Non-negative least squares (Lawson–Hanson active set): ``min ‖Ax − b‖, x ≥ 0``."""
    n = A.shape[1]
    passive = np.zeros(n, dtype=bool)
    x = np.zeros(n)
    for _ in range(max_iter):
        grad = A.T @ (b - A @ x)
        if passive.all() or np.max(np.where(passive, -np.inf, grad)) <= 1e-12:
            break
        passive[int(np.argmax(np.where(passive, -np.inf, grad)))] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(A[:, passive], b, rcond=None)[0]
            if np.all(z[passive] > 0):
                x = z
                break
            neg = passive & (z <= 0)
            step = float(np.min(x[neg] / (x[neg] - z[neg])))
            x = x + step * (z - x)
            passive &= x > 1e-15
            x[~passive] = 0.0
    return x


@lru_cache(maxsize=64)
def power_law_as_exponentials(beta: float, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Approximate ``(1 + x)^−β`` on ``0 ≤ x ≤ horizon`` by ``Σ_k w_k exp(−r_k x)``, ``w_k ≥ 0``.

    The rates ``r_k`` are log-spaced from ``1/(10·horizon)`` to 5 (two per decade, three when
    β > 1); the weights minimise the error relative to ``(1 + x)^−β + 10⁻⁶`` on a log-spaced grid
    of ``x`` (non-negative least squares): relative where the kernel matters, absolute (10⁻⁶ of
    ``G0``) where it is negligible. The error stays below 1 % of the kernel for 0.2 ≤ β ≤ 3 and
    2 % for smaller β, wherever the kernel exceeds 10⁻⁴ (tested); beyond the horizon the sum
    decays faster than the power law. Results are cached.

    Returns
    -------
    weights, rates
        ``float64`` arrays (rates per unit of ``x``).
    """
    if not (0 < beta <= 3):
        raise ValueError(f"beta must be in (0, 3], got {beta!r}")
    if not horizon > 0:
        raise ValueError(f"horizon must be positive, got {horizon!r}")
    per_decade = 2.0 if beta <= 1 else 3.0
    n = math.ceil(math.log10(50.0 * horizon) * per_decade) + 1
    rates = np.geomspace(1.0 / (10.0 * horizon), 5.0, n)
    x = np.concatenate([[0.0], np.geomspace(min(1e-3, horizon / 10), horizon, 400)])
    target = (1.0 + x) ** (-beta)
    # relative error where the kernel matters, absolute (1e-6 of G0) where it is negligible
    scale = target + 1e-6
    A = np.exp(-np.outer(x, rates)) / scale[:, None]
    w = _nnls(A, target / scale)
    keep = w > 0
    w, rates = w[keep], rates[keep]
    w.setflags(write=False)
    rates.setflags(write=False)
    return w, rates


class _PropagatorState(ImpactState):
    def __init__(
        self,
        *,
        G0: float,
        G_inf: float,
        weights: np.ndarray,
        rates_ns: np.ndarray,
        alpha: float,
        v_ref: float,
    ) -> None:
        super().__init__()
        self._rate = np.ascontiguousarray(rates_ns, dtype=np.float64)
        self._amp = np.zeros(self._rate.shape[0])
        self._w = G0 * np.asarray(weights, dtype=np.float64)
        self._G_inf = G_inf
        self._alpha = alpha
        self._v_ref = v_ref

    def _apply_fill(self, ts_ns: int, sign: int, qty: int, price: int) -> None:
        f = sign * (qty / self._v_ref) ** self._alpha
        if self._amp.shape[0]:
            self._amp *= np.exp(-(ts_ns - self._t0) * self._rate)
            self._amp += f * self._w
        self._perm += f * self._G_inf
        self._t0 = ts_ns


class PropagatorImpact(ImpactModel):
    """Transient impact (propagator): ``impact(t) = Σ_i ε_i f(v_i) [G_inf + G0 g((t − t_i)/τ)]``.

    Each of our fills ``i`` (sign ε, size v lots, time t_i) adds a kernel that starts at
    ``G0 + G_inf`` ticks and decays toward the permanent level ``G_inf``:
    ``g(u) = (1 + u)^−β`` (``kernel="power_law"``) or ``exp(−u)`` (``"exponential"``). The size
    enters through ``f(v) = (v / volume_scale_lots)^volume_exponent`` (0: signs only, as in
    Bouchaud et al. 2004). The exponential kernel is updated recursively in O(1) per fill; the
    power law is replaced by a sum of exponentials (:func:`power_law_as_exponentials`, accurate
    to 1–2 % up to ``horizon_s``) so that it too costs O(number of terms) per fill.

    Parameters
    ----------
    G0
        Transient amplitude, ticks per (reference-size) trade; ``None`` to fit.
    kernel
        ``"power_law"`` or ``"exponential"``.
    tau_s
        Kernel time scale τ, seconds; ``None`` to fit (trade-time ℓ0 × mean inter-trade time).
    beta
        Power-law exponent, in (0, 3] (unused by the exponential kernel).
    permanent
        ``G_inf``, ticks per trade (≥ 0).
    volume_exponent, volume_scale_lots
        ``f(v) = (v / volume_scale_lots)^volume_exponent``.
    horizon_s
        Time over which the power-law kernel is approximated.
    tick_size
        The price of one tick in which G0 and ``permanent`` are expressed (``None``: the run's).
    """

    name: ClassVar[str] = "propagator"
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "G0": [*_NONNEG, None],
        "kernel": [Options(("power_law", "exponential"))],
        "tau_s": [*_POS, None],
        "beta": [Interval(Real, 0, 3, closed="right")],
        "permanent": [*_NONNEG, None],
        "volume_exponent": [Interval(Real, 0, 2, closed="both")],
        "volume_scale_lots": _POS,
        "horizon_s": _POS,
        "tick_size": _TICK,
    }
    _price_params = ("G0", "permanent")
    _learned_params = ("G0", "tau_s", "beta", "permanent", "volume_exponent", "volume_scale_lots")

    def __init__(
        self,
        G0: float | None = None,
        kernel: str = "power_law",
        tau_s: float | None = None,
        beta: float = 0.5,
        permanent: float | None = 0.0,
        volume_exponent: float = 0.0,
        volume_scale_lots: float = 1.0,
        horizon_s: float = 86_400.0,
        tick_size: float | None = None,
    ) -> None:
        self.G0 = G0
        self.kernel = kernel
        self.tau_s = tau_s
        self.beta = beta
        self.permanent = permanent
        self.volume_exponent = volume_exponent
        self.volume_scale_lots = volume_scale_lots
        self.horizon_s = horizon_s
        self.tick_size = tick_size

    def fit(self, X: Any, y: None = None, *, tick_size: float | None = None, **calibration: Any) -> Self:
        """Fit the kernel with :func:`~execsim.impact.calibrate_propagator`; return ``self``.

        ``calibration`` keywords (``max_lag``, ``tail_factor``, ``volume_bins``) go to the
        calibration, which fits the family named by ``kernel``. Learned: ``G0_``, ``permanent_``,
        ``tau_s_``, ``beta_`` (power law), ``volume_exponent_`` (the measured exponent clipped to
        [0, 2]; 0 when it cannot be measured), ``volume_scale_lots_`` (the median trade),
        ``tick_size_``, ``n_trades_``, ``calibration_``.
        """
        self._validate_params()
        tape = as_trade_tape(X, tick_size=tick_size)
        cal: PropagatorCalibration = calibrate_propagator(tape, kernel=str(self.kernel), **calibration)
        fit = cal.fit
        self.G0_ = fit.G0
        self.permanent_ = fit.G_inf
        self.tau_s_ = fit.ell0 * cal.mean_intertrade_s
        if self.kernel == "power_law":
            self.beta_ = min(max(fit.beta, 1e-3), 3.0)
        alpha = cal.volume_exponent
        self.volume_exponent_ = float(min(max(alpha, 0.0), 2.0)) if np.isfinite(alpha) else 0.0
        self.volume_scale_lots_ = cal.volume_scale_lots
        self.tick_size_ = tape.tick_size
        self.n_trades_ = tape.n_trades
        self.calibration_ = cal
        return self

    def has_decay(self) -> bool:
        """Always true: the transient part ``G0 g(·)`` decays."""
        return True

    def _start(self, params: dict[str, Any], rng: np.random.Generator | None) -> ImpactState:
        tau_ns = float(params["tau_s"]) * _NS
        if params["kernel"] == "exponential":
            weights, rates = np.ones(1), np.ones(1)
        else:
            weights, rates = power_law_as_exponentials(
                float(params["beta"]), float(params["horizon_s"]) / float(params["tau_s"])
            )
        return _PropagatorState(
            G0=float(params["G0"]),
            G_inf=float(params["permanent"]),
            weights=weights,
            rates_ns=np.asarray(rates) / tau_ns,
            alpha=float(params["volume_exponent"]),
            v_ref=float(params["volume_scale_lots"]),
        )


MODELS: dict[str, type[ImpactModel]] = {
    m.name: m for m in (NoImpact, AlmgrenChrissImpact, SquareRootImpact, PropagatorImpact)
}
"""The built-in models by registry name."""
