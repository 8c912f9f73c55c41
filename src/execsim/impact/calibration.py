"""Calibrating impact models from a trade tape, with diagnostics.

Three calibrations, each returning a frozen result that renders to markdown:

* :func:`calibrate_square_root` — the square-root law ``I/σ = Y (Q/V)^δ`` from time buckets of
  signed traded volume (a *proxy* for metaorders: public data do not say who traded, so the
  net volume of a bucket stands in for one trader's order; see ``docs/impact.md``).
* :func:`calibrate_propagator` — the trade-time response function ``R(ℓ)`` and sign
  autocorrelation ``C(ℓ)``, and a least-squares fit of a decaying propagator kernel ``G(ℓ)``
  through the relation ``R = G ⋆ C`` of Bouchaud, Gefen, Potters & Wyart (2004).
* :func:`calibrate_linear_impact` — Almgren–Chriss: a linear permanent coefficient from bucket
  regressions and a linear temporary cost from each trade's price concession.

Conventions: prices in ticks of the tape, quantities in lots, times in seconds in the results.
No fit draws hidden randomness: bootstraps take a ``seed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from execsim.core.errors import DataError
from execsim.impact import _kernels as _k
from execsim.impact.tape import TradeTape

__all__ = [
    "KernelFit",
    "LinearImpactCalibration",
    "PropagatorCalibration",
    "SquareRootBin",
    "SquareRootCalibration",
    "SquareRootInterval",
    "calibrate_linear_impact",
    "calibrate_propagator",
    "calibrate_square_root",
    "propagator_kernel",
]

DEFAULT_INTERVALS_S: tuple[float, ...] = (60.0, 120.0, 300.0, 600.0, 900.0, 1800.0)


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:.{digits}g}"


# ============================================================================ buckets
def _buckets(tape: TradeTape, interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Signed volume and mid change of each complete bucket of ``interval_s`` seconds."""
    step = round(interval_s * 1e9)
    n = (tape.t_end_ns - tape.t_start_ns) // step
    if n < 1:
        return np.zeros(0), np.zeros(0)
    edges = tape.t_start_ns + step * np.arange(n + 1, dtype=np.int64)
    idx = np.searchsorted(edges, tape.ts_ns, side="right") - 1
    inside = (idx >= 0) & (idx < n)
    signed = (tape.sign.astype(np.float64) * tape.qty)[inside]
    Q = np.bincount(idx[inside], weights=signed, minlength=n)[:n]
    m = tape.mid_at(edges)
    if np.isnan(m[0]):
        # nothing before the first edge: take the opening book (after the events at t_start)
        m[0] = tape.mid_at(edges[0] + 1)[0]
    return Q, m[1:] - m[:-1]


def _daily_sigma(tape: TradeTape, interval_s: float, day_s: float) -> tuple[float, int]:
    """Daily volatility (ticks) from the realized variance of ``interval_s`` mid changes."""
    _, dm = _buckets(tape, interval_s)
    dm = dm[np.isfinite(dm)]
    if dm.size < 2:
        raise DataError(
            f"too little data for a volatility estimate: {dm.size} complete {interval_s:g} s interval(s)"
        )
    return math.sqrt(float(np.mean(dm**2)) * day_s / interval_s), int(dm.size)


# ============================================================================ square-root law
@dataclass(frozen=True, slots=True, kw_only=True)
class SquareRootBin:
    """One bin of buckets by relative size ``x = |Q|/V``.

    ``mean_x``, ``mean_impact`` (of ``I/σ``) and its standard error; ``fitted`` is the law's
    prediction for the bin, ``Y · mean(x^δ)`` over its buckets.
    """

    count: int
    x_low: float
    x_high: float
    mean_x: float
    mean_impact: float
    stderr: float
    fitted: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SquareRootInterval:
    """Buckets of one length: how many, their mean ``|Q|/V`` and mean ``I/σ``."""

    interval_s: float
    n_buckets: int
    n_zero_volume: int
    mean_x: float
    mean_impact: float
    frac_with_flow: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SquareRootCalibration:
    """Result of :func:`calibrate_square_root`.

    Attributes
    ----------
    Y, delta
        Weighted nonlinear least-squares fit of the bin means: ``mean I/σ = Y · mean(x^δ)``.
    Y_ci, delta_ci
        95 % bootstrap percentile intervals (buckets resampled with replacement).
    r2
        Weighted R² of that fit over the bins.
    Y_loglog, delta_loglog, r2_loglog
        The log-log regression over bins with a positive mean (a cross-check).
    sigma_ticks_per_sqrt_day, daily_volume_lots
        σ (realized, from ``sigma_interval_s`` mid changes) and V used to normalise.
    n_buckets
        Buckets used (non-zero signed volume, mid defined at both ends), over all lengths.
    bins, intervals
        The binned means table and the per-length summary.
    """

    Y: float
    delta: float
    Y_ci: tuple[float, float]
    delta_ci: tuple[float, float]
    r2: float
    Y_loglog: float
    delta_loglog: float
    r2_loglog: float
    sigma_ticks_per_sqrt_day: float
    daily_volume_lots: float
    sigma_interval_s: float
    day_s: float
    n_buckets: int
    n_bootstrap: int
    seed: int
    delta_fixed: bool
    tick_size: float | None
    bins: tuple[SquareRootBin, ...]
    intervals: tuple[SquareRootInterval, ...]

    def impact_ticks(self, qty_lots: float) -> float:
        """Predicted peak impact (ticks) of a metaorder of ``qty_lots``: ``Y σ (Q/V)^δ``."""
        return self.Y * self.sigma_ticks_per_sqrt_day * (qty_lots / self.daily_volume_lots) ** self.delta

    def to_markdown(self) -> str:
        """The result as a markdown section (numbers, fit quality, tables)."""
        unit = f" (tick = {self.tick_size:g})" if self.tick_size else ""
        d_ci = "fixed" if self.delta_fixed else f"[{_fmt(self.delta_ci[0], 3)}, {_fmt(self.delta_ci[1], 3)}]"
        lines = [
            "| quantity | value |",
            "|---|---|",
            f"| Y | {_fmt(self.Y)} (95 % CI [{_fmt(self.Y_ci[0])}, {_fmt(self.Y_ci[1])}]) |",
            f"| δ | {_fmt(self.delta, 3)} (95 % CI {d_ci}) |",
            f"| weighted R² of the bin means | {_fmt(self.r2, 3)} |",
            f"| log-log cross-check: Y, δ, R² | {_fmt(self.Y_loglog)}, {_fmt(self.delta_loglog, 3)}, "
            f"{_fmt(self.r2_loglog, 3)} |",
            f"| σ, ticks per √day{unit} | {_fmt(self.sigma_ticks_per_sqrt_day)} "
            f"(from {self.sigma_interval_s:g} s mid changes) |",
            f"| V, lots per day | {_fmt(self.daily_volume_lots)} |",
            f"| day length | {self.day_s:g} s |",
            f"| buckets used | {self.n_buckets} |",
            f"| bootstrap | {self.n_bootstrap} resamples, seed {self.seed} |",
            "",
            "Buckets by length (`x = |Q|/V`, `I = Δmid · sign(Q) / σ`; *with flow*: the mid moved in "
            "the direction of the net volume):",
            "",
            "| interval | buckets | zero volume | mean x | mean I | with flow |",
            "|---|---|---|---|---|---|",
        ]
        for r in self.intervals:
            lines.append(
                f"| {r.interval_s:g} s | {r.n_buckets} | {r.n_zero_volume} | {_fmt(r.mean_x, 3)} | "
                f"{_fmt(r.mean_impact, 3)} | {r.frac_with_flow:.1%} |"
            )
        lines += [
            "",
            "Binned means (all lengths pooled, equal-count bins of `x`), with the fitted law:",
            "",
            "| bin | buckets | x range | mean x | mean I | ± s.e. | fit Y·mean(x^δ) |",
            "|---|---|---|---|---|---|---|",
        ]
        for i, b in enumerate(self.bins, 1):
            lines.append(
                f"| {i} | {b.count} | {_fmt(b.x_low, 3)} – {_fmt(b.x_high, 3)} | {_fmt(b.mean_x, 3)} | "
                f"{_fmt(b.mean_impact, 3)} | {_fmt(b.stderr, 2)} | {_fmt(b.fitted, 3)} |"
            )
        return "\n".join(lines) + "\n"


def _bin_stats(
    x: np.ndarray, imp: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per bin of ``x``: count, mean x, mean imp, s.e. of the mean imp; and each point's bin."""
    nb = edges.shape[0] - 1
    b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, nb - 1)
    cnt = np.bincount(b, minlength=nb).astype(np.float64)
    sx = np.bincount(b, weights=x, minlength=nb)
    si = np.bincount(b, weights=imp, minlength=nb)
    si2 = np.bincount(b, weights=imp * imp, minlength=nb)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = sx / cnt
        mi = si / cnt
        var = (si2 - cnt * mi * mi) / (cnt - 1)
        se = np.sqrt(np.maximum(var, 0.0) / cnt)
    return cnt, mx, mi, se, b


def _power_fit(
    x: np.ndarray, b: np.ndarray, cnt: np.ndarray, mi: np.ndarray, se: np.ndarray, delta: float | None
) -> tuple[float, float, float, np.ndarray]:
    """Fit bin means ``mi[k] ≈ Y · mean_{i in bin k} x_i^δ`` by weighted least squares.

    The model of each bin mean is the mean of ``x^δ`` over the bin's own points (not the power of
    the bin's mean ``x``, which Jensen's inequality would bias for wide bins). Weights are
    ``1/s.e.²``; bins with fewer than 2 points are left out. For a fixed δ, Y is linear (closed
    form), so δ is found by a grid search refined twice. Returns ``(Y, δ, weighted R², model)``
    with ``model[k] = mean x^δ`` of each bin.
    """
    nb = cnt.shape[0]
    use = (cnt >= 2) & np.isfinite(se)
    pos_se = se[use & (se > 0)]
    floor = float(np.min(pos_se)) if pos_se.size else 1.0
    w = 1.0 / np.maximum(se[use], floor) ** 2
    onehot = np.zeros((x.shape[0], nb))
    onehot[np.arange(x.shape[0]), b] = 1.0
    logx = np.log(x)
    m_use = mi[use]

    def bin_powers(deltas: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (np.exp(np.outer(deltas, logx)) @ onehot) / cnt

    def solve(deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = bin_powers(deltas)[:, use]
        Y = (w * m_use * X).sum(1) / (w * X * X).sum(1)
        ssr = (w * (m_use - Y[:, None] * X) ** 2).sum(1)
        return Y, ssr

    if delta is None:
        grid = np.linspace(0.02, 2.0, 100)
        best = 0.5
        for width in (None, 0.02, 0.001):
            if width is not None:
                grid = np.linspace(max(best - width, 1e-4), best + width, 21 if width < 0.01 else 41)
            _, ssr = solve(grid)
            best = float(grid[int(np.argmin(ssr))])
        d = best
    else:
        d = float(delta)
    Ys, ssr = solve(np.array([d]))
    mean_w = (w * m_use).sum() / w.sum()
    sst = (w * (m_use - mean_w) ** 2).sum()
    r2 = 1.0 - float(ssr[0]) / float(sst) if sst > 0 else float("nan")
    return float(Ys[0]), d, r2, bin_powers(np.array([d]))[0]


def calibrate_square_root(
    tape: TradeTape,
    *,
    intervals_s: tuple[float, ...] = DEFAULT_INTERVALS_S,
    n_bins: int = 12,
    n_bootstrap: int = 200,
    seed: int = 0,
    sigma_interval_s: float = 60.0,
    day_s: float | None = None,
    delta: float | None = None,
) -> SquareRootCalibration:
    """Fit the square-root law ``E[Δmid · sign(Q)] / σ = Y (|Q|/V)^δ`` on time buckets.

    For each length in ``intervals_s`` the session is cut into complete, non-overlapping
    buckets; each gives its net signed volume ``Q`` (aggressor-signed) and mid change. With
    ``x = |Q|/V`` and ``I = Δmid · sign(Q) / σ``, the pooled buckets are grouped into ``n_bins``
    equal-count bins of ``x`` and ``Y``, ``δ`` fitted to the bin means by weighted least
    squares (weights ``1/s.e.²``). Buckets with ``Q = 0`` or an undefined mid are left out (and
    counted). σ is the realized daily volatility of ``sigma_interval_s`` mid changes and V the
    traded volume per day; ``day_s`` (default: the tape's span) is the length of one day.

    Parameters
    ----------
    delta
        Fix δ (fit only ``Y``); ``None`` fits both.
    n_bootstrap, seed
        Bootstrap resamples of buckets (within each length) for the confidence intervals; σ and V
        are held fixed.
    """
    span_s = tape.span_s
    day = float(day_s) if day_s is not None else span_s
    if tape.n_trades < 2 or span_s <= 0:
        raise DataError(f"calibrate_square_root needs trades over a time span; got {tape.n_trades} trade(s)")
    sigma, _ = _daily_sigma(tape, sigma_interval_s, day)
    V = float(tape.qty.sum()) * day / span_s
    if sigma <= 0:
        raise DataError("the mid-price never moves: cannot normalise impact by volatility")
    xs: list[np.ndarray] = []
    imps: list[np.ndarray] = []
    rows: list[SquareRootInterval] = []
    for T in intervals_s:
        Q, dm = _buckets(tape, T)
        ok = np.isfinite(dm) & (Q != 0)
        x = np.abs(Q[ok]) / V
        imp = np.sign(Q[ok]) * dm[ok] / sigma
        xs.append(x)
        imps.append(imp)
        rows.append(
            SquareRootInterval(
                interval_s=float(T),
                n_buckets=int(ok.sum()),
                n_zero_volume=int(np.count_nonzero(np.isfinite(dm) & (Q == 0))),
                mean_x=float(x.mean()) if x.size else float("nan"),
                mean_impact=float(imp.mean()) if imp.size else float("nan"),
                frac_with_flow=float(np.mean(imp > 0)) if imp.size else float("nan"),
            )
        )
    x_all = np.concatenate(xs)
    i_all = np.concatenate(imps)
    if x_all.size < 2 * n_bins:
        raise DataError(
            f"calibrate_square_root: {x_all.size} buckets are too few for {n_bins} bins; "
            "use shorter intervals or fewer bins"
        )
    edges = np.unique(np.quantile(x_all, np.linspace(0.0, 1.0, n_bins + 1)))
    cnt, mx, mi, se, b_all = _bin_stats(x_all, i_all, edges)
    Y, d, r2, model = _power_fit(x_all, b_all, cnt, mi, se, delta)
    # log-log cross-check over bins with a positive mean, weighted by count
    pos = (mi > 0) & (cnt >= 2)
    if pos.sum() >= 2:
        A = np.vstack([np.ones(pos.sum()), np.log(mx[pos])]).T
        sw = np.sqrt(cnt[pos])
        coef, *_ = np.linalg.lstsq(A * sw[:, None], np.log(mi[pos]) * sw, rcond=None)
        pred = A @ coef
        yl = np.log(mi[pos])
        ybar = np.average(yl, weights=cnt[pos])
        r2_ll = 1 - np.sum(cnt[pos] * (yl - pred) ** 2) / np.sum(cnt[pos] * (yl - ybar) ** 2)
        Y_ll, d_ll = float(np.exp(coef[0])), float(coef[1])
    else:
        Y_ll = d_ll = r2_ll = float("nan")
    rng = np.random.default_rng(seed)
    boots = np.empty((n_bootstrap, 2))
    for b in range(n_bootstrap):
        picks = [rng.integers(0, x.size, x.size) for x in xs]
        xb = np.concatenate([x[p] for x, p in zip(xs, picks, strict=True)])
        ib = np.concatenate([v[p] for v, p in zip(imps, picks, strict=True)])
        cb, _, mb, sb, bb = _bin_stats(xb, ib, edges)
        boots[b, 0], boots[b, 1], _, _ = _power_fit(xb, bb, cb, mb, sb, delta)
    if n_bootstrap:
        Y_ci = (float(np.percentile(boots[:, 0], 2.5)), float(np.percentile(boots[:, 0], 97.5)))
        d_ci = (float(np.percentile(boots[:, 1], 2.5)), float(np.percentile(boots[:, 1], 97.5)))
    else:
        Y_ci = d_ci = (float("nan"), float("nan"))
    bins = tuple(
        SquareRootBin(
            count=int(cnt[i]),
            x_low=float(edges[i]),
            x_high=float(edges[i + 1]),
            mean_x=float(mx[i]),
            mean_impact=float(mi[i]),
            stderr=float(se[i]),
            fitted=float(Y * model[i]),
        )
        for i in range(cnt.shape[0])
        if cnt[i] > 0
    )
    return SquareRootCalibration(
        Y=Y,
        delta=d,
        Y_ci=Y_ci,
        delta_ci=d_ci,
        r2=r2,
        Y_loglog=Y_ll,
        delta_loglog=d_ll,
        r2_loglog=float(r2_ll),
        sigma_ticks_per_sqrt_day=sigma,
        daily_volume_lots=V,
        sigma_interval_s=float(sigma_interval_s),
        day_s=day,
        n_buckets=int(x_all.size),
        n_bootstrap=int(n_bootstrap),
        seed=int(seed),
        delta_fixed=delta is not None,
        tick_size=tape.tick_size,
        bins=bins,
        intervals=tuple(rows),
    )


# ============================================================================ propagator
def propagator_kernel(lags: np.ndarray, *, kernel: str, ell0: float, beta: float = 1.0) -> np.ndarray:
    """Unit-amplitude kernel ``G(ℓ)/G0``: ``(1 + ℓ/ℓ0)^−β`` (``"power_law"``) or ``exp(−ℓ/ℓ0)``."""
    lags = np.asarray(lags, dtype=np.float64)
    if kernel == "power_law":
        return (1.0 + lags / ell0) ** (-beta)
    if kernel == "exponential":
        return np.exp(-lags / ell0)
    raise ValueError(f"unknown propagator kernel {kernel!r}; expected 'power_law' or 'exponential'")


@dataclass(frozen=True, slots=True, kw_only=True)
class KernelFit:
    """A least-squares fit of one kernel family to the response function.

    ``G(ℓ) = G_inf + G0 · (1 + ℓ/ℓ0)^−β`` (power law) or ``G_inf + G0 · exp(−ℓ/ℓ0)``
    (exponential), ℓ ≥ 1 in trades, ``G0`` (transient) and ``G_inf`` (permanent) in ticks, both
    ≥ 0; ``r2`` and ``rmse`` (ticks) compare the implied and the measured ``R(ℓ)``.
    """

    kernel: str
    G0: float
    G_inf: float
    ell0: float
    beta: float
    r2: float
    rmse: float
    response: tuple[float, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PropagatorCalibration:
    """Result of :func:`calibrate_propagator`.

    Attributes
    ----------
    kernel
        The chosen family; its fit is :attr:`fit`, every family's is in :attr:`fits`.
    lags, response, sign_autocorr, pairs
        ``ℓ = 0..max_lag``, the measured ``R(ℓ)`` (ticks), ``C(ℓ)`` and pairs per lag.
    sign_corr_exponent, sign_corr_amplitude
        Power-law fit ``C(ℓ) ≈ c ℓ^−γ`` on lags ≥ 1 (extends C beyond ``max_lag``).
    volume_exponent, volume_scale_lots, volume_chi2_gain
        The lag-1 response by trade size, ``E[(m_{n+1} − m_n) ε_n | v] = a + b (v / v_ref)^α``
        (``b ≥ 0``), fitted on volume bins (``v_ref``: the median trade). α is kept only when it
        lowers the χ² of the bin means by at least :data:`VOLUME_CHI2_GAIN` over a constant
        (``volume_chi2_gain``), else 0; NaN when sizes vary too little to tell. The kernel is
        then fitted with each trade weighted by ``f(v) = (v/v_ref)^α`` (0 when NaN), so ``G0`` is
        per trade of the reference size.
    fit_permanent
        Whether the fits include a permanent level ``G_inf``.
    mean_intertrade_s
        Mean time between trades, converting trade time to seconds (``tau_s = ℓ0 · this``).
    """

    kernel: str
    fits: tuple[KernelFit, ...]
    lags: tuple[int, ...]
    response: tuple[float, ...]
    sign_autocorr: tuple[float, ...]
    pairs: tuple[int, ...]
    sign_corr_exponent: float
    sign_corr_amplitude: float
    volume_exponent: float
    volume_scale_lots: float
    volume_chi2_gain: float
    fit_permanent: bool
    mean_intertrade_s: float
    n_trades: int
    tail_lags: int
    tick_size: float | None

    @property
    def fit(self) -> KernelFit:
        """The fit of the chosen kernel family."""
        return next(f for f in self.fits if f.kernel == self.kernel)

    @property
    def tau_s(self) -> float:
        """The chosen kernel's ℓ0 in seconds."""
        return self.fit.ell0 * self.mean_intertrade_s

    def _alpha_text(self) -> str:
        if not np.isfinite(self.volume_exponent):
            return "not measurable (trade sizes vary too little)"
        if self.volume_exponent == 0:
            return (
                f"0 (no significant size dependence at lag 1: χ² gain {_fmt(self.volume_chi2_gain, 3)} "
                f"< {VOLUME_CHI2_GAIN:g})"
            )
        gain = _fmt(self.volume_chi2_gain, 3)
        return f"{_fmt(self.volume_exponent, 3)} (χ² gain over no size dependence: {gain})"

    def to_markdown(self, lags_shown: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500)) -> str:
        """The result as a markdown section."""
        unit = f" (tick = {self.tick_size:g})" if self.tick_size else ""
        lines = [
            "| quantity | value |",
            "|---|---|",
            f"| trades | {self.n_trades} (mean {self.mean_intertrade_s:.3g} s apart) |",
            f"| sign autocorrelation C(ℓ) ≈ c ℓ^−γ | c = {_fmt(self.sign_corr_amplitude, 3)}, "
            f"γ = {_fmt(self.sign_corr_exponent, 3)} |",
            f"| volume dependence α (v_ref = {self.volume_scale_lots:g} lots) | {self._alpha_text()} |",
            "",
            f"Kernel fits (G0 in ticks{unit}, ℓ0 in trades; R² and RMSE of the implied R(ℓ), "
            f"ℓ = 1..{self.lags[-1]}; chosen: **{self.kernel}**):",
            "",
            "| kernel | G0 | G_inf | ℓ0 (trades) | ℓ0 (s) | β | R² | RMSE (ticks) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in self.fits:
            beta = _fmt(f.beta, 3) if f.kernel == "power_law" else "–"
            lines.append(
                f"| {f.kernel} | {_fmt(f.G0)} | {_fmt(f.G_inf)} | {_fmt(f.ell0)} | "
                f"{_fmt(f.ell0 * self.mean_intertrade_s)} | {beta} | {_fmt(f.r2, 3)} | {_fmt(f.rmse, 3)} |"
            )
        lines += [
            "",
            "| ℓ | pairs | R(ℓ) measured | "
            + " | ".join(f"R(ℓ) {f.kernel}" for f in self.fits)
            + " | C(ℓ) |",
            "|---|---|---|" + "---|" * len(self.fits) + "---|",
        ]
        for lag in lags_shown:
            if lag >= len(self.lags):
                continue
            fitted = " | ".join(_fmt(f.response[lag], 4) for f in self.fits)
            lines.append(
                f"| {lag} | {self.pairs[lag]} | {_fmt(self.response[lag], 4)} | {fitted} | "
                f"{_fmt(self.sign_autocorr[lag], 3)} |"
            )
        return "\n".join(lines) + "\n"


def _implied_response(G: np.ndarray, Cp: np.ndarray, Cm: np.ndarray, max_lag: int, tail: int) -> np.ndarray:
    out = np.zeros(max_lag + 1)
    _k.propagator_response(G, Cp, Cm, max_lag, tail, out)
    return out


def _nonneg_lsq2(r: np.ndarray, u: np.ndarray, p: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """Weighted least squares ``r ≈ a u + b p`` with ``a, b ≥ 0``; returns ``(a, b, ssr)``."""

    def one(x: np.ndarray) -> float:
        den = float((w * x * x).sum())
        return max(float((w * r * x).sum()) / den, 0.0) if den > 0 else 0.0

    cands = [(one(u), 0.0), (0.0, one(p))]
    M = np.array([[(w * u * u).sum(), (w * u * p).sum()], [(w * u * p).sum(), (w * p * p).sum()]])
    rhs = np.array([(w * r * u).sum(), (w * r * p).sum()])
    if abs(np.linalg.det(M)) > 1e-12 * float(np.abs(M).max()) ** 2:
        a, b = np.linalg.solve(M, rhs)
        if a >= 0 and b >= 0:
            cands.append((float(a), float(b)))
    best = min(cands, key=lambda ab: float((w * (r - ab[0] * u - ab[1] * p) ** 2).sum()))
    return best[0], best[1], float((w * (r - best[0] * u - best[1] * p) ** 2).sum())


def _fit_kernel(
    kernel: str, R: np.ndarray, Cp: np.ndarray, Cm: np.ndarray, max_lag: int, tail: int, fit_permanent: bool
) -> KernelFit:
    lags_all = np.arange(max_lag + tail + 1, dtype=np.float64)
    lag = np.arange(1, max_lag + 1, dtype=np.float64)
    r = R[1:]
    w = 1.0 / lag  # Var[m_{n+ℓ} − m_n] grows ~ ℓ: weight lags by 1/ℓ
    # the response of a permanent (constant) kernel: the sum of C up to each lag
    perm = _implied_response(np.ones(max_lag + tail + 1), Cp, Cm, max_lag, tail)[1:]
    if not fit_permanent:
        perm = np.zeros_like(perm)

    def score(ell0: float, beta: float) -> tuple[float, float, float, np.ndarray]:
        G = propagator_kernel(lags_all, kernel=kernel, ell0=ell0, beta=beta)
        unit = _implied_response(G, Cp, Cm, max_lag, tail)[1:]
        g0, ginf, ssr = _nonneg_lsq2(r, unit, perm, w)
        return ssr, g0, ginf, unit

    ell_grid = np.geomspace(0.05, 10.0 * max_lag, 28)
    beta_grid = np.linspace(0.05, 3.0, 24) if kernel == "power_law" else np.array([1.0])
    best = (math.inf, 1.0, 1.0)
    for rnd in range(3):
        for e in ell_grid:
            for b in beta_grid:
                s = score(float(e), float(b))[0]
                if s < best[0]:
                    best = (s, float(e), float(b))
        # refine around the best point
        e0, b0 = best[1], best[2]
        f = 1.4 if rnd == 0 else 1.06
        ell_grid = np.geomspace(e0 / f, e0 * f, 11)
        if kernel == "power_law":
            hw = 0.15 if rnd == 0 else 0.02
            beta_grid = np.linspace(max(b0 - hw, 0.01), min(b0 + hw, 3.0), 11)
    _, ell0, beta = best
    _, g0, ginf, unit = score(ell0, beta)
    pred = g0 * unit + ginf * perm
    ssr = float(((r - pred) ** 2).sum())
    sst = float(((r - r.mean()) ** 2).sum())
    return KernelFit(
        kernel=kernel,
        G0=g0,
        G_inf=ginf,
        ell0=ell0,
        beta=beta if kernel == "power_law" else float("nan"),
        r2=1.0 - ssr / sst if sst > 0 else float("nan"),
        rmse=math.sqrt(ssr / r.size),
        response=(0.0, *(float(v) for v in pred)),
    )


VOLUME_CHI2_GAIN = 6.0
"""How much a size dependence must lower the χ² of the volume-bin means to be accepted (two
extra parameters, ``b`` and ``α``, at about two standard deviations)."""


def _volume_response(tape: TradeTape, r1: np.ndarray, n_bins: int) -> tuple[float, float, float]:
    """Fit ``E[r1 | v] = a + b (v/v_ref)^α`` (``b ≥ 0``) on volume bins.

    Returns ``(α, v_ref, χ² gain)``: the χ² of the bin means (weights ``1/s.e.²``) of a constant
    minus that of the best ``(a, b, α)``. α is 0 when the gain is below :data:`VOLUME_CHI2_GAIN`
    (no significant size dependence) and NaN when sizes vary too little to tell.
    """
    v = tape.qty[:-1].astype(np.float64)
    v_ref = float(np.median(tape.qty))
    edges = np.unique(np.quantile(v, np.linspace(0, 1, n_bins + 1)))
    if edges.size < 4:
        return float("nan"), v_ref, float("nan")
    cnt, _, mr, se, b = _bin_stats(v, r1, edges)
    ok = (cnt >= 10) & (se > 0)
    if ok.sum() < 3:
        return float("nan"), v_ref, float("nan")
    onehot = np.zeros((v.shape[0], cnt.shape[0]))
    onehot[np.arange(v.shape[0]), b] = 1.0
    alphas = np.linspace(0.01, 2.0, 200)
    X = (np.exp(np.outer(alphas, np.log(v / v_ref))) @ onehot)[:, ok] / cnt[ok]
    w, y = 1.0 / se[ok] ** 2, mr[ok]
    ybar = float(np.average(y, weights=w))
    chi2_const = float((w * (y - ybar) ** 2).sum())
    best = (chi2_const, 0.0)
    sw = np.sqrt(w)
    for i, a in enumerate(alphas):
        A = np.vstack([np.ones_like(y), X[i]]).T
        coef, *_ = np.linalg.lstsq(A * sw[:, None], y * sw, rcond=None)
        if coef[1] <= 0:
            continue  # bigger trades must not move the price less
        chi2 = float((w * (y - A @ coef) ** 2).sum())
        if chi2 < best[0]:
            best = (chi2, float(a))
    gain = chi2_const - best[0]
    return (best[1] if gain >= VOLUME_CHI2_GAIN else 0.0), v_ref, gain


def _extend(C: np.ndarray, max_lag: int, tail: int) -> tuple[np.ndarray, float, float]:
    """``C`` up to ``tail`` lags: measured to ``max_lag``, a power-law fit ``c ℓ^−γ`` beyond."""
    lag = np.arange(1, max_lag + 1, dtype=np.float64)
    pos = C[1:] > 0
    gamma, amp = float("nan"), 0.0
    if pos.sum() >= 3:
        coef = np.polyfit(np.log(lag[pos]), np.log(C[1:][pos]), 1)
        gamma, amp = float(-coef[0]), float(np.exp(coef[1]))
    out = np.zeros(tail + 1)
    out[: max_lag + 1] = C
    if amp > 0 and np.isfinite(gamma) and gamma > 0:
        far = np.arange(max_lag + 1, tail + 1, dtype=np.float64)
        out[max_lag + 1 :] = amp * far ** (-gamma)
    return out, gamma, amp


def calibrate_propagator(
    tape: TradeTape,
    *,
    kernel: str = "power_law",
    max_lag: int = 100,
    tail_factor: int = 10,
    volume_bins: int = 8,
    fit_permanent: bool = True,
) -> PropagatorCalibration:
    """Measure ``R(ℓ)`` and ``C(ℓ)`` in trade time and fit a propagator kernel by least squares.

    ``R(ℓ) = E[(m_{n+ℓ} − m_n) ε_n]`` with ``m_n`` the mid just before trade ``n`` and ``ε_n`` its
    sign; ``C(ℓ) = E[ε_n ε_{n+ℓ}]``. The model ``m_n = Σ_{k<n} G(n−k) ε_k f(v_k) + noise`` implies
    ``R(ℓ) = Σ_{0≤j<ℓ} G(ℓ−j) C₊(j) + Σ_{j≥1} [G(ℓ+j) − G(j)] C₋(j)`` (Bouchaud, Gefen, Potters &
    Wyart 2004, with ``C₊(j) = E[ε_n ε_{n+j} f_{n+j}]`` and ``C₋(j) = E[ε_n f_n ε_{n+j}]``; both are
    ``C`` when ``f = 1``). The volume factor ``f(v) = (v/v_ref)^α`` is measured first from the
    lag-1 response by trade size. Both kernel families (power law and exponential, each plus a
    permanent level ``G_inf`` unless ``fit_permanent=False``) are then fitted to the measured
    ``R(ℓ), ℓ = 1..max_lag`` by weighted least squares (weights ``1/ℓ``): ``G0`` and ``G_inf``
    (both ≥ 0) in closed form, the shape by a refined grid search. The infinite sum uses the
    measured correlations up to ``max_lag`` and power-law fits of them up to
    ``tail_factor · max_lag``. ``kernel`` chooses which fit the result (and a model) uses.
    """
    if kernel not in ("power_law", "exponential"):
        raise ValueError(f"unknown propagator kernel {kernel!r}; expected 'power_law' or 'exponential'")
    n = tape.n_trades
    if n < 4 * max_lag:
        raise DataError(
            f"calibrate_propagator: {n} trades are too few for max_lag={max_lag} (need {4 * max_lag})"
        )
    m = np.ascontiguousarray(tape.mid_before, dtype=np.float64)
    eps = np.ascontiguousarray(tape.sign, dtype=np.float64)
    alpha, v_ref, chi2_gain = _volume_response(tape, (m[1:] - m[:-1]) * eps[:-1], volume_bins)
    a_used = alpha if np.isfinite(alpha) else 0.0
    f = (tape.qty / v_ref) ** a_used
    R = np.zeros(max_lag + 1)
    C = np.zeros(max_lag + 1)
    Cp = np.zeros(max_lag + 1)
    Cm = np.zeros(max_lag + 1)
    pairs = np.zeros(max_lag + 1, dtype=np.int64)
    _k.response_and_autocorr(m, eps, np.ascontiguousarray(f, dtype=np.float64), max_lag, R, C, Cp, Cm, pairs)
    tail = tail_factor * max_lag
    _, gamma, c_amp = _extend(C, max_lag, tail)
    Cp_full = _extend(Cp, max_lag, tail)[0]
    Cm_full = _extend(Cm, max_lag, tail)[0]
    fits = tuple(
        _fit_kernel(k, R, Cp_full, Cm_full, max_lag, tail, fit_permanent)
        for k in ("power_law", "exponential")
    )
    span = (int(tape.ts_ns[-1]) - int(tape.ts_ns[0])) / 1e9
    return PropagatorCalibration(
        kernel=kernel,
        fits=fits,
        lags=tuple(range(max_lag + 1)),
        response=tuple(float(x) for x in R),
        sign_autocorr=tuple(float(x) for x in C),
        pairs=tuple(int(x) for x in pairs),
        sign_corr_exponent=gamma,
        sign_corr_amplitude=c_amp,
        volume_exponent=alpha,
        volume_scale_lots=v_ref,
        volume_chi2_gain=chi2_gain,
        fit_permanent=fit_permanent,
        mean_intertrade_s=span / (n - 1),
        n_trades=n,
        tail_lags=tail,
        tick_size=tape.tick_size,
    )


# ============================================================================ Almgren–Chriss
@dataclass(frozen=True, slots=True, kw_only=True)
class LinearImpactCalibration:
    """Result of :func:`calibrate_linear_impact` (Almgren–Chriss linear impact).

    Attributes
    ----------
    permanent, permanent_ci, permanent_r2, n_buckets, interval_s
        ``Δmid = γ Q`` over buckets of ``interval_s`` (least squares through the origin), ticks
        per lot; bootstrap 95 % interval; uncentred R².
    temporary, fixed_cost, temporary_r2, n_trades
        Per trade concession ``sign · (VWAP − mid before) = a + η q`` (ordinary least squares):
        ``η`` ticks per lot, ``a`` ticks (the half-spread paid by a small order).
    """

    permanent: float
    permanent_ci: tuple[float, float]
    permanent_r2: float
    n_buckets: int
    interval_s: float
    temporary: float
    fixed_cost: float
    temporary_r2: float
    n_trades: int
    n_bootstrap: int
    seed: int
    tick_size: float | None

    def to_markdown(self) -> str:
        """The result as a markdown section."""
        unit = f"ticks of {self.tick_size:g}" if self.tick_size else "ticks"
        return (
            "\n".join(
                [
                    "| quantity | value |",
                    "|---|---|",
                    f"| permanent γ ({unit} per lot) | {_fmt(self.permanent)} (95 % CI "
                    f"[{_fmt(self.permanent_ci[0])}, {_fmt(self.permanent_ci[1])}]) |",
                    f"| permanent fit: buckets, R² | {self.n_buckets} × {self.interval_s:g} s, "
                    f"{_fmt(self.permanent_r2, 3)} |",
                    f"| temporary η ({unit} per lot) | {_fmt(self.temporary)} |",
                    f"| fixed cost a ({unit}) | {_fmt(self.fixed_cost)} |",
                    f"| temporary fit: trades, R² | {self.n_trades}, {_fmt(self.temporary_r2, 3)} |",
                ]
            )
            + "\n"
        )


def calibrate_linear_impact(
    tape: TradeTape, *, interval_s: float = 300.0, n_bootstrap: int = 200, seed: int = 0
) -> LinearImpactCalibration:
    """Fit Almgren–Chriss linear impact: permanent ``γ`` from buckets, temporary ``η`` from trades.

    ``γ`` is the least-squares slope through the origin of each bucket's mid change on its net
    signed volume. ``η`` and ``a`` are the OLS slope and intercept of each trade's price concession
    ``sign · (VWAP − mid before)`` on its size: what walking the book cost the trade.
    """
    if tape.n_trades < 3:
        raise DataError(f"calibrate_linear_impact needs trades; got {tape.n_trades}")
    Q, dm = _buckets(tape, interval_s)
    ok = np.isfinite(dm)
    Q, dm = Q[ok], dm[ok]
    if Q.size < 3 or not np.any(Q != 0):
        raise DataError(f"calibrate_linear_impact: too few {interval_s:g} s buckets with volume ({Q.size})")

    def slope(Qb: np.ndarray, db: np.ndarray) -> float:
        den = float((Qb * Qb).sum())
        return float((Qb * db).sum()) / den if den > 0 else 0.0

    gamma = slope(Q, dm)
    r2p = 1.0 - float(((dm - gamma * Q) ** 2).sum()) / float((dm * dm).sum()) if np.any(dm) else float("nan")
    rng = np.random.default_rng(seed)
    boots = np.array(
        [slope(Q[p], dm[p]) for p in (rng.integers(0, Q.size, Q.size) for _ in range(n_bootstrap))]
    )
    ci = (
        (float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5)))
        if n_bootstrap
        else (float("nan"), float("nan"))
    )
    conc = tape.sign * (tape.vwap - tape.mid_before)
    q = tape.qty.astype(np.float64)
    A = np.vstack([np.ones_like(q), q]).T
    (a, eta), *_ = np.linalg.lstsq(A, conc, rcond=None)
    res = conc - A @ np.array([a, eta])
    sst = float(((conc - conc.mean()) ** 2).sum())
    return LinearImpactCalibration(
        permanent=gamma,
        permanent_ci=ci,
        permanent_r2=r2p,
        n_buckets=int(Q.size),
        interval_s=float(interval_s),
        temporary=float(eta),
        fixed_cost=float(a),
        temporary_r2=1.0 - float((res**2).sum()) / sst if sst > 0 else float("nan"),
        n_trades=tape.n_trades,
        n_bootstrap=int(n_bootstrap),
        seed=int(seed),
        tick_size=tape.tick_size,
    )
