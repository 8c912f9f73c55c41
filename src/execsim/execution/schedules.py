"""Execution schedules as pure functions: TWAP, VWAP and the Almgren–Chriss trajectory.

A :class:`Schedule` says how many lots to trade in each slice of a horizon and when each slice
starts. Every schedule here is made of integer lots that add up *exactly* to the parent
quantity: the ideal (real-valued) cumulative quantity is rounded half-up at every slice
boundary, so each slice is within one lot of its ideal size and rounding never creates or
loses a lot.

* :func:`twap_schedule` — equal slices (each ``total // n`` or one more).
* :func:`vwap_schedule` — slices proportional to a :class:`VolumeCurve`, the intraday volume
  profile that :func:`estimate_volume_curve` estimates from past trade prints (one run or
  several days folded onto one day).
* :func:`almgren_chriss_trajectory` — the risk-averse optimal liquidation trajectory of Almgren
  and Chriss (2000) in closed form, holdings ``x_j = X sinh(κ(T − t_j)) / sinh(κT)``, with the
  discrete-time κ. It is front-loaded for positive risk aversion and is exactly TWAP at zero.

Units of the Almgren–Chriss model (any consistent set works; this is the one the algorithms
use): prices in ticks, quantities in lots, time in seconds. ``sigma`` is the price volatility
in ticks per √s, ``eta`` the temporary impact in ticks per (lot/s), ``gamma`` the permanent
impact in ticks per lot, ``risk_aversion`` λ in 1/(tick·lot), ``tau`` the slice length in s.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from execsim.core.errors import ConfigError, DataError, DataNotFoundError

__all__ = [
    "NS_PER_DAY",
    "Schedule",
    "VolumeCurve",
    "almgren_chriss_holdings",
    "almgren_chriss_kappa",
    "almgren_chriss_trajectory",
    "estimate_volume_curve",
    "round_cumulative",
    "twap_schedule",
    "vwap_schedule",
]

NS_PER_DAY = 86_400 * 1_000_000_000


def _frozen(a: np.ndarray, dtype: Any) -> np.ndarray:
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Schedule:
    """Integer lots per slice and the time each slice starts.

    Attributes
    ----------
    times_ns
        Start time of each slice (ns, non-decreasing, before ``end_ns``).
    qty
        Lots to trade in each slice (non-negative integers).
    end_ns
        End of the horizon (the last slice ends here).
    """

    times_ns: np.ndarray
    qty: np.ndarray
    end_ns: int

    def __post_init__(self) -> None:
        times = _frozen(self.times_ns, np.int64)
        qty = _frozen(self.qty, np.int64)
        if times.ndim != 1 or times.shape != qty.shape or len(times) == 0:
            raise ConfigError(
                f"a schedule needs as many slice times as slice sizes (at least one), "
                f"got {times.shape} and {qty.shape}"
            )
        if (qty < 0).any():
            raise ConfigError(f"slice sizes must be non-negative, got {qty.tolist()}")
        if (np.diff(times) < 0).any() or int(times[-1]) > int(self.end_ns) or int(times[0]) >= self.end_ns:
            raise ConfigError(
                f"slice times must be non-decreasing and start before the end {self.end_ns}, "
                f"got {times.tolist()}"
            )
        object.__setattr__(self, "times_ns", times)
        object.__setattr__(self, "qty", qty)
        object.__setattr__(self, "end_ns", int(self.end_ns))

    @property
    def total(self) -> int:
        """Total lots of the schedule."""
        return int(self.qty.sum())

    @property
    def n_slices(self) -> int:
        """Number of slices."""
        return len(self.qty)

    @property
    def start_ns(self) -> int:
        """Start of the first slice."""
        return int(self.times_ns[0])

    @property
    def ends_ns(self) -> np.ndarray:
        """End time of each slice (the next slice's start; ``end_ns`` for the last)."""
        return np.append(self.times_ns[1:], self.end_ns)

    @property
    def cumulative(self) -> np.ndarray:
        """Lots traded by the end of each slice."""
        return np.cumsum(self.qty)

    @property
    def holdings(self) -> np.ndarray:
        """Lots left to trade before each slice and after the last (``n_slices + 1`` values)."""
        return self.total - np.concatenate(([0], self.cumulative))

    def due(self, t_ns: int) -> int:
        """Lots of the slices that have started at or before ``t_ns``."""
        k = int(np.searchsorted(self.times_ns, t_ns, side="right"))
        return int(self.qty[:k].sum())

    def completed(self, t_ns: int) -> int:
        """Lots of the slices that have ended at or before ``t_ns``."""
        k = int(np.searchsorted(self.ends_ns, t_ns, side="right"))
        return int(self.qty[:k].sum())

    def linear_due(self, t_ns: int) -> float:
        """Lots due at ``t_ns`` if each slice were traded evenly over its interval."""
        ends = self.ends_ns
        span = np.maximum(ends - self.times_ns, 1)
        frac = np.clip((t_ns - self.times_ns) / span, 0.0, 1.0)
        return float((frac * self.qty).sum())


def round_cumulative(total_qty: int, cum_fraction: np.ndarray) -> np.ndarray:
    """Integer slice sizes from cumulative fractions, preserving the total exactly.

    The ideal cumulative quantity ``total_qty * cum_fraction[j]`` is rounded half-up at every
    slice boundary (the last boundary is the total itself), so each slice differs from its
    ideal size by less than one lot and the slices add up to ``total_qty``.

    Parameters
    ----------
    total_qty
        Lots to split (>= 0).
    cum_fraction
        Cumulative fraction traded by the end of each slice, non-decreasing in [0, 1] (the
        last value is taken as 1).
    """
    cf = np.asarray(cum_fraction, dtype=np.float64)
    if cf.ndim != 1 or len(cf) == 0 or not np.isfinite(cf).all():
        raise ConfigError(f"cumulative fractions must be a non-empty finite vector, got {cf!r}")
    cum = np.floor(total_qty * np.clip(cf, 0.0, 1.0) + 0.5).astype(np.int64)
    cum[-1] = total_qty
    cum = np.minimum(np.maximum.accumulate(cum), total_qty)
    return np.diff(cum, prepend=0)


def _check_total(total_qty: int) -> int:
    if int(total_qty) != total_qty or total_qty < 0:
        raise ConfigError(f"total quantity must be a non-negative integer number of lots, got {total_qty!r}")
    return int(total_qty)


def _check_window(start_ns: int, end_ns: int) -> None:
    if end_ns <= start_ns:
        raise ConfigError(f"the schedule must end after it starts, got start {start_ns} and end {end_ns}")


def _even_times(start_ns: int, end_ns: int, n: int) -> np.ndarray:
    j = np.arange(n, dtype=np.int64)
    # integer arithmetic (Python ints do not overflow) keeps slice times exact
    return np.array([start_ns + (end_ns - start_ns) * int(k) // n for k in j], dtype=np.int64)


def twap_schedule(total_qty: int, start_ns: int, end_ns: int, n_slices: int) -> Schedule:
    """Split ``total_qty`` lots into ``n_slices`` equal slices over ``[start_ns, end_ns)``.

    Slice ``j`` starts at ``start_ns + j (end_ns − start_ns) / n_slices`` (rounded down to the
    ns) and holds ``round(X (j+1)/n) − round(X j/n)`` lots (half-up): every slice is
    ``X // n`` or ``X // n + 1`` lots and the total is exact.

    Examples
    --------
    >>> twap_schedule(10, 0, 4_000, 4).qty.tolist()
    [3, 2, 3, 2]
    """
    total = _check_total(total_qty)
    _check_window(start_ns, end_ns)
    if n_slices < 1:
        raise ConfigError(f"a TWAP needs at least one slice, got n_slices={n_slices}")
    n = int(n_slices)
    j = np.arange(1, n + 1, dtype=object)
    cum = np.array([(2 * total * int(k) + n) // (2 * n) for k in j], dtype=np.int64)  # exact half-up
    return Schedule(times_ns=_even_times(start_ns, end_ns, n), qty=np.diff(cum, prepend=0), end_ns=end_ns)


# -- VWAP ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class VolumeCurve:
    """An intraday volume profile: the fraction of a session's volume in each time bucket.

    Bucket ``k`` covers ``[origin_ns + k·bucket_ns, origin_ns + (k+1)·bucket_ns)``; volume is
    taken as uniform inside a bucket. With ``period_ns`` (e.g. :data:`NS_PER_DAY`) times are
    folded modulo the period first, so a curve estimated on past days applies to any day at the
    same time of day.

    Attributes
    ----------
    fractions
        Non-negative, summing to 1.
    bucket_ns
        Width of a bucket.
    origin_ns
        Start of the first bucket.
    period_ns
        Folding period, or None to use absolute times.
    """

    fractions: np.ndarray
    bucket_ns: int
    origin_ns: int = 0
    period_ns: int | None = None

    def __post_init__(self) -> None:
        f = _frozen(self.fractions, np.float64)
        if f.ndim != 1 or len(f) == 0 or not np.isfinite(f).all() or (f < 0).any() or f.sum() <= 0:
            raise ConfigError(f"volume fractions must be finite, non-negative and not all zero, got {f!r}")
        if self.bucket_ns <= 0:
            raise ConfigError(f"bucket_ns must be positive, got {self.bucket_ns}")
        if self.period_ns is not None and self.period_ns < self.bucket_ns * len(f):
            raise ConfigError(
                f"period_ns {self.period_ns} is shorter than the curve ({len(f)} × {self.bucket_ns} ns)"
            )
        object.__setattr__(self, "fractions", _frozen(f / f.sum(), np.float64))

    @classmethod
    def uniform(cls, n_buckets: int, bucket_ns: int, origin_ns: int = 0) -> VolumeCurve:
        """A flat curve (VWAP on it is TWAP)."""
        return cls(fractions=np.ones(n_buckets), bucket_ns=bucket_ns, origin_ns=origin_ns)

    @property
    def span_ns(self) -> int:
        """Length of the session the curve covers."""
        return self.bucket_ns * len(self.fractions)

    def _offset(self, t_ns: int) -> int:
        off = int(t_ns) - self.origin_ns
        return off % self.period_ns if self.period_ns is not None else off

    def cumulative(self, offset_ns: float) -> float:
        """Fraction of the session volume before ``offset_ns`` (from the origin)."""
        x = min(max(offset_ns / self.bucket_ns, 0.0), float(len(self.fractions)))
        k = int(x)
        done = float(self.fractions[:k].sum())
        return done + (float(self.fractions[k]) * (x - k) if k < len(self.fractions) else 0.0)

    def weight(self, t0_ns: int, t1_ns: int) -> float:
        """Expected fraction of the session volume in ``[t0_ns, t1_ns)`` (absolute times)."""
        o0 = self._offset(t0_ns)
        return self.cumulative(o0 + (t1_ns - t0_ns)) - self.cumulative(o0)

    def edges_between(self, t0_ns: int, t1_ns: int) -> list[int]:
        """Absolute bucket boundaries strictly inside ``(t0_ns, t1_ns)``."""
        o0 = self._offset(t0_ns)
        out: list[int] = []
        for k in range(max(o0 // self.bucket_ns + 1, 0), len(self.fractions) + 1):
            t = t0_ns + k * self.bucket_ns - o0
            if t >= t1_ns:
                break
            out.append(int(t))
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (see :meth:`from_dict`)."""
        return {
            "fractions": self.fractions.tolist(),
            "bucket_ns": self.bucket_ns,
            "origin_ns": self.origin_ns,
            "period_ns": self.period_ns,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str | None = None) -> VolumeCurve:
        """Rebuild a curve written by :meth:`to_dict`."""
        try:
            return cls(
                fractions=np.asarray(data["fractions"], dtype=np.float64),
                bucket_ns=int(data["bucket_ns"]),
                origin_ns=int(data.get("origin_ns", 0)),
                period_ns=None if data.get("period_ns") is None else int(data["period_ns"]),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(f"not a volume curve: {err}", source=source) from None

    def save(self, path: str | Path) -> None:
        """Write the curve as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> VolumeCurve:
        """Read a curve written by :meth:`save`."""
        p = Path(path)
        if not p.is_file():
            raise DataNotFoundError(f"volume curve file not found: {p}")
        try:
            data = json.loads(p.read_text())
        except json.JSONDecodeError as err:
            raise DataError(f"not valid JSON: {err}", source=str(p)) from None
        if not isinstance(data, dict):
            raise DataError("expected a JSON object", source=str(p), value=type(data).__name__)
        return cls.from_dict(data, source=str(p))


def estimate_volume_curve(
    trade_times_ns: np.ndarray,
    trade_qty: np.ndarray,
    *,
    bucket_ns: int,
    session_start_ns: int,
    session_end_ns: int,
    period_ns: int | None = None,
    smoothing: int = 0,
) -> VolumeCurve:
    """Estimate the intraday volume profile from past trade prints.

    Trade quantities are summed per bucket of ``[session_start_ns, session_end_ns)`` and
    normalised to fractions. Prints of several runs or days can be passed together with
    ``period_ns`` (e.g. :data:`NS_PER_DAY`): each time is folded modulo the period relative to
    ``session_start_ns``, so days add up by time of day. Prints outside the session (after
    folding) are ignored.

    Parameters
    ----------
    trade_times_ns, trade_qty
        Print times (ns) and sizes (lots), e.g. ``result.market_trades`` columns ``ts_event``
        and ``qty``.
    bucket_ns
        Bucket width; the last bucket may be cut short by the session end.
    session_start_ns, session_end_ns
        The session window on the reference day.
    period_ns
        Folding period (None: absolute times).
    smoothing
        Width in buckets of a centred moving average applied before normalising (0 or 1: none).

    Raises
    ------
    DataError
        No trade volume falls in the session window, or inputs are malformed.
    """
    t = np.asarray(trade_times_ns, dtype=np.int64)
    q = np.asarray(trade_qty, dtype=np.float64)
    if t.shape != q.shape or t.ndim != 1:
        raise DataError(f"trade times and sizes must be vectors of one length, got {t.shape} and {q.shape}")
    if (q < 0).any() or not np.isfinite(q).all():
        bad = int(np.flatnonzero((q < 0) | ~np.isfinite(q))[0])
        raise DataError("trade sizes must be finite and non-negative", row=bad + 1, value=float(q[bad]))
    if bucket_ns <= 0:
        raise ConfigError(f"bucket_ns must be positive, got {bucket_ns}")
    if smoothing < 0:
        raise ConfigError(f"smoothing must be >= 0 buckets, got {smoothing}")
    _check_window(session_start_ns, session_end_ns)
    span = session_end_ns - session_start_ns
    n = -(-span // bucket_ns)
    off = t - session_start_ns
    if period_ns is not None:
        if period_ns < span:
            raise ConfigError(f"period_ns {period_ns} is shorter than the session ({span} ns)")
        off = np.mod(off, period_ns)
    inside = (off >= 0) & (off < span)
    vol = np.bincount((off[inside] // bucket_ns).astype(np.int64), weights=q[inside], minlength=n)[:n]
    if vol.sum() <= 0:
        raise DataError(
            f"no trade volume in the session window [{session_start_ns}, {session_end_ns}) "
            f"({int(inside.sum())} of {len(t)} prints inside)"
        )
    if smoothing > 1:
        kernel = np.ones(smoothing)
        # divide by the number of buckets actually averaged, so the edges are not damped
        vol = np.convolve(vol, kernel, mode="same") / np.convolve(np.ones(n), kernel, mode="same")
    if n * bucket_ns > span:  # the last bucket is cut short: scale it up to a full bucket's rate
        vol = vol.copy()
        vol[-1] *= bucket_ns / (span - (n - 1) * bucket_ns)
    return VolumeCurve(fractions=vol, bucket_ns=bucket_ns, origin_ns=session_start_ns, period_ns=period_ns)


def vwap_schedule(
    total_qty: int, start_ns: int, end_ns: int, volume_curve: VolumeCurve, *, n_slices: int | None = None
) -> Schedule:
    """Split ``total_qty`` lots over ``[start_ns, end_ns)`` in proportion to expected volume.

    Slices are the curve's buckets cut to the window (or ``n_slices`` equal slices when
    given); each slice's weight is the curve's expected volume fraction in it. When the curve
    expects no volume in the whole window, the schedule is TWAP over the same slices.
    Each slice is within one lot of ``total_qty × weight / total weight``.
    """
    total = _check_total(total_qty)
    _check_window(start_ns, end_ns)
    if n_slices is not None:
        if n_slices < 1:
            raise ConfigError(f"n_slices must be at least 1, got {n_slices}")
        times = _even_times(start_ns, end_ns, int(n_slices))
    else:
        times = np.array([start_ns, *volume_curve.edges_between(start_ns, end_ns)], dtype=np.int64)
    ends = np.append(times[1:], end_ns)
    w = np.array([volume_curve.weight(int(a), int(b)) for a, b in zip(times, ends, strict=True)])
    w = np.where(ends > times, np.maximum(w, 0.0), 0.0)
    if w.sum() <= 0:
        w = (ends - times).astype(np.float64)
    return Schedule(times_ns=times, qty=round_cumulative(total, np.cumsum(w) / w.sum()), end_ns=end_ns)


# -- Almgren–Chriss -------------------------------------------------------------------------------
def almgren_chriss_kappa(
    *, sigma: float, eta: float, gamma: float = 0.0, risk_aversion: float, tau: float
) -> float:
    """κ of the discrete Almgren–Chriss model (urgency, per unit time).

    With ``η̃ = η − γτ/2`` and ``κ̃² = λσ²/η̃``, κ solves ``2(cosh(κτ) − 1)/τ² = κ̃²``, i.e.
    ``κ = arccosh(1 + κ̃²τ²/2) / τ`` (κ → κ̃ as τ → 0).

    Raises
    ------
    ConfigError
        A parameter is negative or non-finite, τ or η is not positive, or ``η̃ <= 0`` (the
        permanent impact term makes the problem ill-posed for this slice length).
    """
    vals = {"sigma": sigma, "eta": eta, "gamma": gamma, "risk_aversion": risk_aversion, "tau": tau}
    for k, v in vals.items():
        if not math.isfinite(v) or v < 0:
            raise ConfigError(f"Almgren–Chriss {k} must be finite and >= 0, got {v!r}")
    if tau <= 0 or eta <= 0:
        raise ConfigError(f"Almgren–Chriss needs tau > 0 and eta > 0, got tau={tau!r}, eta={eta!r}")
    eta_t = eta - gamma * tau / 2.0
    if eta_t <= 0:
        raise ConfigError(
            f"Almgren–Chriss needs eta − gamma·tau/2 > 0, got eta={eta!r}, gamma={gamma!r}, tau={tau!r}"
        )
    kt2 = risk_aversion * sigma * sigma / eta_t
    return math.acosh(1.0 + kt2 * tau * tau / 2.0) / tau


def almgren_chriss_holdings(n_slices: int, kappa_tau: float) -> np.ndarray:
    """Fraction of the order still held at ``t_j = jτ``, ``j = 0..n``: ``sinh(κ(T−t_j))/sinh(κT)``.

    ``kappa_tau`` is κτ (dimensionless). At 0 the holdings fall linearly (TWAP).
    """
    if n_slices < 1:
        raise ConfigError(f"n_slices must be at least 1, got {n_slices}")
    if not math.isfinite(kappa_tau) or kappa_tau < 0:
        raise ConfigError(f"kappa·tau must be finite and >= 0, got {kappa_tau!r}")
    n = int(n_slices)
    j = np.arange(n + 1, dtype=np.float64)
    if kappa_tau == 0.0:
        return (n - j) / n
    u = kappa_tau * (n - j)
    v = kappa_tau * n
    # sinh(u)/sinh(v) = e^(u−v) · (1 − e^(−2u)) / (1 − e^(−2v)), stable for large and small κT
    return np.exp(u - v) * np.expm1(-2.0 * u) / math.expm1(-2.0 * v)


def almgren_chriss_trajectory(
    total_qty: int,
    n_slices: int,
    *,
    sigma: float,
    eta: float,
    gamma: float = 0.0,
    risk_aversion: float,
    tau: float,
    start_ns: int = 0,
    end_ns: int | None = None,
) -> Schedule:
    """The Almgren–Chriss optimal trajectory for ``total_qty`` lots over ``n_slices`` slices.

    Holdings ``x_j = X sinh(κ(T − t_j)) / sinh(κT)`` with ``T = n τ`` and κ from
    :func:`almgren_chriss_kappa`; slice ``j`` trades ``x_j − x_{j+1}``, rounded so that the
    slices are integers adding up to ``X``. Positive risk aversion front-loads the trades;
    ``risk_aversion = 0`` gives exactly :func:`twap_schedule`.

    Parameters
    ----------
    total_qty, n_slices
        Lots to trade and number of slices.
    sigma, eta, gamma, risk_aversion, tau
        Model parameters (see the module docstring for units); ``tau`` is the slice length.
    start_ns, end_ns
        Slice times: ``n_slices`` equal slices over ``[start_ns, end_ns)``; without ``end_ns``
        the horizon is ``n_slices × tau`` seconds.
    """
    total = _check_total(total_qty)
    kappa = almgren_chriss_kappa(sigma=sigma, eta=eta, gamma=gamma, risk_aversion=risk_aversion, tau=tau)
    end = int(end_ns) if end_ns is not None else start_ns + round(n_slices * tau * 1e9)
    if kappa == 0.0:
        return twap_schedule(total, start_ns, end, n_slices)
    x = almgren_chriss_holdings(n_slices, kappa * tau)
    _check_window(start_ns, end)
    return Schedule(
        times_ns=_even_times(start_ns, end, int(n_slices)),
        qty=round_cumulative(total, 1.0 - x[1:]),
        end_ns=end,
    )
