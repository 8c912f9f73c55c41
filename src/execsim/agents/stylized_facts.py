"""Stylised facts of a limit order book market, computed the same way on real and synthetic data.

One pipeline serves both: a canonical event stream (:mod:`execsim.data.schema`) is replayed
through the L3 book (:meth:`execsim.book.L3Book.replay_top`), the top of the book is sampled on a
regular time grid (the state as of each grid time, i.e. *time-weighted* statistics), and trades
are read from the stream (``EXECUTE``: aggressor = the opposite of the passive side; ``TRADE``:
its side is the aggressor, prints with side 0 are ignored). The facts:

* **spread distribution**, in ticks: mean, median, 5/25/75/95th percentiles of the grid samples;
* **depth profile**: mean visible quantity at occupied levels 1..L (average of bid and ask);
* **return kurtosis**: excess kurtosis of non-overlapping log-mid returns at 1 s, 10 s, 1 min;
* **volatility clustering**: autocorrelation of absolute 1-min log returns at lags 1..10;
* **impact exponent**: time windows (default 1 min) of aggressor-signed volume ``Q`` and mid
  change ``Δ`` (ticks); windows are grouped into equal-count bins of ``|Q|`` and the exponent is
  the slope of ``log E[sign(Q) Δ]`` on ``log E[|Q|]`` over the bins (a square-root law gives 0.5).
  Net volume per window is a *proxy* for metaorders (public data do not say who traded).

The array functions (:func:`spread_stats`, :func:`depth_profile`, :func:`excess_kurtosis`,
:func:`log_returns`, :func:`autocorrelation`, :func:`impact_exponent`) take plain numpy arrays
so they can be checked on hand-made series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np

from execsim.book.l3 import L3Book
from execsim.core.errors import DataError
from execsim.data.schema import EVENT_DTYPE, F_LAST, K_EXECUTE, K_TRADE

__all__ = [
    "ImpactFit",
    "MarketSeries",
    "SpreadStats",
    "StylizedFacts",
    "autocorrelation",
    "depth_profile",
    "excess_kurtosis",
    "impact_exponent",
    "log_returns",
    "market_series",
    "spread_stats",
    "stylized_facts",
    "window_impact",
]

NS_PER_S: Final = 1_000_000_000
RETURN_HORIZONS_S: Final = (1, 10, 60)
_CHUNK: Final = 1 << 16


# ============================================================================ array statistics
@dataclass(frozen=True, slots=True, kw_only=True)
class SpreadStats:
    """Distribution of the bid-ask spread in ticks."""

    mean: float
    median: float
    p5: float
    p25: float
    p75: float
    p95: float


def spread_stats(spread_ticks: np.ndarray) -> SpreadStats:
    """Summarise spread samples (ticks): mean, median and the 5/25/75/95th percentiles."""
    s = np.asarray(spread_ticks, dtype=np.float64)
    if s.size == 0:
        raise ValueError("spread_stats needs at least one spread sample, got none")
    p5, p25, p50, p75, p95 = np.percentile(s, [5, 25, 50, 75, 95])
    return SpreadStats(
        mean=float(s.mean()),
        median=float(p50),
        p5=float(p5),
        p25=float(p25),
        p75=float(p75),
        p95=float(p95),
    )


def depth_profile(bid_qty: np.ndarray, ask_qty: np.ndarray) -> np.ndarray:
    """Mean visible quantity at each occupied level, averaged over samples and both sides.

    Parameters
    ----------
    bid_qty, ask_qty
        ``(n_samples, n_levels)`` quantities, best level first.
    """
    b = np.asarray(bid_qty, dtype=np.float64)
    a = np.asarray(ask_qty, dtype=np.float64)
    if b.shape != a.shape or b.ndim != 2 or b.shape[0] == 0:
        raise ValueError(f"depth_profile needs two equal (n, L) arrays with n > 0, got {b.shape}, {a.shape}")
    return np.asarray((b.mean(axis=0) + a.mean(axis=0)) / 2.0)


def excess_kurtosis(x: np.ndarray) -> float:
    """Excess (Fisher) kurtosis ``E[(x-μ)^4]/σ^4 − 3``; NaN for fewer than 4 values or σ = 0."""
    v = np.asarray(x, dtype=np.float64)
    if v.size < 4:
        return float("nan")
    d = v - v.mean()
    m2 = float(np.mean(d * d))
    if m2 <= 0.0:
        return float("nan")
    return float(np.mean(d**4) / (m2 * m2) - 3.0)


def log_returns(mid: np.ndarray, step: int) -> np.ndarray:
    """Non-overlapping log returns of a regularly sampled mid price over ``step`` samples."""
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    m = np.asarray(mid, dtype=np.float64)[::step]
    if m.size < 2:
        return np.zeros(0)
    if np.any(m <= 0):
        raise ValueError("log_returns needs positive prices")
    return np.asarray(np.diff(np.log(m)))


def autocorrelation(x: np.ndarray, lags: np.ndarray | list[int] | tuple[int, ...]) -> np.ndarray:
    """Sample autocorrelation of ``x`` at each lag (the usual biased estimator; NaN if σ = 0)."""
    v = np.asarray(x, dtype=np.float64)
    d = v - v.mean()
    den = float(np.dot(d, d))
    out = np.full(len(lags), np.nan)
    if den <= 0.0:
        return out
    for i, lag in enumerate(lags):
        if lag < 1:
            raise ValueError(f"lags must be >= 1, got {lag}")
        if lag < v.size:
            out[i] = float(np.dot(d[:-lag], d[lag:]) / den)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ImpactFit:
    """Result of :func:`impact_exponent`.

    ``exponent`` and ``coefficient`` fit ``E[sign(Q) Δ] = coefficient · E[|Q|]^exponent`` over
    the bins (``bin_volume``, ``bin_impact``); bins with a non-positive mean impact cannot enter
    a log-log fit and are left out (``n_used`` counts the others). NaN when fewer than 3 bins
    are usable.
    """

    exponent: float
    coefficient: float
    n_windows: int
    n_used: int
    bin_volume: tuple[float, ...] = field(default=())
    bin_impact: tuple[float, ...] = field(default=())


def impact_exponent(signed_volume: np.ndarray, price_change: np.ndarray, *, n_bins: int = 8) -> ImpactFit:
    """Fit the exponent of the mean price response to signed volume, in log-log over bins.

    Parameters
    ----------
    signed_volume
        Net aggressor-signed volume ``Q`` of each window (buys positive).
    price_change
        Mid change ``Δ`` over the same windows.
    n_bins
        Number of equal-count bins of ``|Q|`` (windows with ``Q = 0`` are dropped).
    """
    q = np.asarray(signed_volume, dtype=np.float64)
    d = np.asarray(price_change, dtype=np.float64)
    if q.shape != d.shape:
        raise ValueError(f"signed_volume and price_change differ in shape: {q.shape} vs {d.shape}")
    keep = q != 0
    q, d = q[keep], d[keep]
    n = q.size
    nan = float("nan")
    if n < n_bins or n_bins < 3:
        return ImpactFit(exponent=nan, coefficient=nan, n_windows=n, n_used=0)
    order = np.argsort(np.abs(q), kind="stable")
    vols, imps = [], []
    for chunk in np.array_split(order, n_bins):
        vols.append(float(np.mean(np.abs(q[chunk]))))
        imps.append(float(np.mean(np.sign(q[chunk]) * d[chunk])))
    v = np.array(vols)
    i = np.array(imps)
    ok = (v > 0) & (i > 0)
    if ok.sum() < 3:
        return ImpactFit(
            exponent=nan, coefficient=nan, n_windows=n, n_used=int(ok.sum()),
            bin_volume=tuple(vols), bin_impact=tuple(imps),
        )  # fmt: skip
    slope, intercept = np.polyfit(np.log(v[ok]), np.log(i[ok]), 1)
    return ImpactFit(
        exponent=float(slope),
        coefficient=float(np.exp(intercept)),
        n_windows=n,
        n_used=int(ok.sum()),
        bin_volume=tuple(vols),
        bin_impact=tuple(imps),
    )


# ============================================================================ from events
@dataclass(frozen=True, slots=True, kw_only=True)
class MarketSeries:
    """The top of the book sampled on a regular grid, and the trades of a stream.

    Prices are in ticks of the market (event prices divided by ``price_per_tick``); samples
    where a side is empty or the book is crossed are dropped (``valid`` marks the kept ones
    among the grid times).
    """

    grid_ns: np.ndarray
    valid: np.ndarray
    bid_px: np.ndarray
    bid_qty: np.ndarray
    ask_px: np.ndarray
    ask_qty: np.ndarray
    trade_ts: np.ndarray
    trade_sign: np.ndarray
    trade_qty: np.ndarray

    @property
    def spread(self) -> np.ndarray:
        """Spread in ticks at the valid samples."""
        return np.asarray((self.ask_px[:, 0] - self.bid_px[:, 0]).astype(np.float64))

    @property
    def mid(self) -> np.ndarray:
        """Mid price in ticks at every grid time (forward-filled over invalid samples)."""
        m = np.full(self.grid_ns.size, np.nan)
        m[self.valid] = (self.ask_px[:, 0] + self.bid_px[:, 0]) / 2.0
        # forward fill (the first valid value backward-fills the head)
        idx = np.where(self.valid, np.arange(m.size), -1)
        np.maximum.accumulate(idx, out=idx)
        first = int(np.argmax(self.valid)) if self.valid.any() else 0
        idx[idx < 0] = first
        return np.asarray(m[idx])


def market_series(
    events: np.ndarray | list[np.ndarray],
    *,
    price_per_tick: int = 1,
    n_levels: int = 10,
    step_ns: int = NS_PER_S,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> MarketSeries:
    """Replay a canonical stream and sample its top of book every ``step_ns``.

    Parameters
    ----------
    events
        An ``EVENT_DTYPE`` array or a list of them (batches, in stream order).
    price_per_tick
        Event price units per market tick (100 for LOBSTER prices in $0.0001 with a $0.01 tick).
    n_levels
        Occupied levels per side to record.
    step_ns
        Grid step (default 1 s).
    start_ns, end_ns
        Grid range; default from the first to the last event time. The book state at a grid
        time ``g`` is the one after the last complete message (``F_LAST``) with ``ts_event <= g``.
    """
    batches = [events] if isinstance(events, np.ndarray) else list(events)
    batches = [b for b in batches if len(b)]
    for b in batches:
        if b.dtype != EVENT_DTYPE:
            raise DataError(f"market_series needs EVENT_DTYPE arrays, got {b.dtype}")
    if not batches:
        raise DataError("market_series needs at least one event")
    t0 = int(batches[0]["ts_event"][0]) if start_ns is None else int(start_ns)
    t1 = int(batches[-1]["ts_event"][-1]) if end_ns is None else int(end_ns)
    grid = t0 + step_ns * np.arange((t1 - t0) // step_ns + 1, dtype=np.int64)
    book = L3Book()
    rows: list[np.ndarray] = []  # (k, 4, L) sampled rows
    carry_ts = np.iinfo(np.int64).min
    carry = np.zeros((4, n_levels), dtype=np.int64)
    gi = 0
    tr_ts, tr_sign, tr_qty = [], [], []
    for batch in batches:
        for s in range(0, len(batch), _CHUNK):
            ev = batch[s : s + _CHUNK]
            bp, bq, ap, aq = book.replay_top(ev, n_levels)
            last = (ev["flags"] & F_LAST) != 0
            ts = np.concatenate(([carry_ts], ev["ts_event"][last]))
            top = np.concatenate((carry[None], np.stack((bp[last], bq[last], ap[last], aq[last]), axis=1)))
            # grid points strictly before this chunk's last message time are final
            hi = int(np.searchsorted(grid, ts[-1], side="left"))
            if hi > gi:
                k = np.searchsorted(ts, grid[gi:hi], side="right") - 1
                rows.append(top[k])
                gi = hi
            carry_ts, carry = int(ts[-1]), top[-1]
            k_ex = ev["kind"] == K_EXECUTE
            k_tr = (ev["kind"] == K_TRADE) & (ev["side"] != 0)
            sel = k_ex | k_tr
            tr_ts.append(ev["ts_event"][sel])
            sign = np.where(k_ex[sel], -ev["side"][sel].astype(np.int64), ev["side"][sel].astype(np.int64))
            tr_sign.append(sign)
            tr_qty.append(ev["qty"][sel])
    if gi < grid.size:
        rows.append(np.repeat(carry[None], grid.size - gi, axis=0))
    sampled = np.concatenate(rows) if rows else np.zeros((0, 4, n_levels), dtype=np.int64)
    bp, bq, ap, aq = (sampled[:, i, :] for i in range(4))
    # prices in event units: drop empty sides and crossed books, then convert to ticks
    valid = (bq[:, 0] > 0) & (aq[:, 0] > 0) & (ap[:, 0] > bp[:, 0])
    return MarketSeries(
        grid_ns=grid,
        valid=valid,
        bid_px=bp[valid] / price_per_tick,
        bid_qty=bq[valid],
        ask_px=ap[valid] / price_per_tick,
        ask_qty=aq[valid],
        trade_ts=np.concatenate(tr_ts) if tr_ts else np.zeros(0, np.int64),
        trade_sign=np.concatenate(tr_sign) if tr_sign else np.zeros(0, np.int64),
        trade_qty=np.concatenate(tr_qty) if tr_qty else np.zeros(0, np.int64),
    )


def window_impact(series: MarketSeries, window_ns: int) -> tuple[np.ndarray, np.ndarray]:
    """Net signed volume and mid change (ticks) of each complete window of ``window_ns``."""
    step = int(series.grid_ns[1] - series.grid_ns[0]) if series.grid_ns.size > 1 else window_ns
    if window_ns % step:
        raise ValueError(f"window_ns {window_ns} must be a multiple of the grid step {step}")
    per = window_ns // step
    mid = series.mid
    n = (mid.size - 1) // per
    if n < 1:
        return np.zeros(0), np.zeros(0)
    edges = series.grid_ns[0] + window_ns * np.arange(n + 1, dtype=np.int64)
    # a trade at exactly an edge time is in the book state at that edge: count it in the window it ends
    idx = np.searchsorted(edges, series.trade_ts, side="left") - 1
    inside = (idx >= 0) & (idx < n)
    q = np.bincount(idx[inside], weights=(series.trade_sign * series.trade_qty)[inside], minlength=n)
    dm = mid[per * np.arange(1, n + 1)] - mid[per * np.arange(n)]
    return q.astype(np.float64), dm


@dataclass(frozen=True, slots=True, kw_only=True)
class StylizedFacts:
    """The stylised facts of one market (see the module docstring for definitions)."""

    duration_s: float
    n_trades: int
    traded_volume: int
    spread: SpreadStats
    depth: tuple[float, ...]
    kurtosis: dict[int, float]
    return_std_ticks: dict[int, float]
    abs_return_acf: tuple[float, ...]
    impact: ImpactFit

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict of the facts."""
        return {
            "duration_s": self.duration_s,
            "n_trades": self.n_trades,
            "traded_volume": self.traded_volume,
            "spread": {k: getattr(self.spread, k) for k in ("mean", "median", "p5", "p25", "p75", "p95")},
            "depth": list(self.depth),
            "kurtosis": {str(k): v for k, v in self.kurtosis.items()},
            "return_std_ticks": {str(k): v for k, v in self.return_std_ticks.items()},
            "abs_return_acf": list(self.abs_return_acf),
            "impact_exponent": self.impact.exponent,
            "impact_coefficient": self.impact.coefficient,
        }


def stylized_facts(
    events: np.ndarray | list[np.ndarray],
    *,
    price_per_tick: int = 1,
    n_levels: int = 10,
    start_ns: int | None = None,
    end_ns: int | None = None,
    impact_window_s: int = 60,
    impact_bins: int = 8,
    acf_lags: int = 10,
) -> StylizedFacts:
    """Compute the stylised facts of a canonical event stream.

    Parameters
    ----------
    events
        The stream (an ``EVENT_DTYPE`` array or a list of batches).
    price_per_tick
        Event price units per tick (100 for LOBSTER GOOG read in $0.0001 units).
    n_levels
        Levels of the depth profile.
    start_ns, end_ns
        Time range of the grid (default: the whole stream); e.g. skip a warm-up.
    impact_window_s, impact_bins
        Window length and number of ``|Q|`` bins of the impact exponent.
    acf_lags
        Lags (in minutes) of the absolute-return autocorrelation.
    """
    s = market_series(
        events, price_per_tick=price_per_tick, n_levels=n_levels, start_ns=start_ns, end_ns=end_ns
    )
    if not s.valid.any():
        raise DataError("the stream never has both sides of the book quoted")
    mid = s.mid
    kurt, std = {}, {}
    for h in RETURN_HORIZONS_S:
        r = log_returns(mid, h)
        kurt[h] = excess_kurtosis(r)
        # typical move in ticks at the mean price level (returns are log)
        std[h] = float(np.std(r) * np.mean(mid)) if r.size > 1 else float("nan")
    r60 = log_returns(mid, 60)
    acf = autocorrelation(np.abs(r60), list(range(1, acf_lags + 1)))
    q, dm = window_impact(s, impact_window_s * NS_PER_S)
    t_lo, t_hi = s.grid_ns[0], s.grid_ns[-1]
    in_range = (s.trade_ts >= t_lo) & (s.trade_ts <= t_hi)
    return StylizedFacts(
        duration_s=float((t_hi - t_lo) / NS_PER_S),
        n_trades=int(in_range.sum()),
        traded_volume=int(s.trade_qty[in_range].sum()),
        spread=spread_stats(s.spread),
        depth=tuple(float(x) for x in depth_profile(s.bid_qty, s.ask_qty)),
        kurtosis=kurt,
        return_std_ticks=std,
        abs_return_acf=tuple(float(x) for x in acf),
        impact=impact_exponent(q, dm, n_bins=impact_bins),
    )
