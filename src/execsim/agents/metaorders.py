"""How the agent market responds to a metaorder: impact against size, by counterfactual runs.

Public data do not say who traded, so the square-root law is measured on real data through
proxies (net signed volume per time bucket, :func:`execsim.impact.calibrate_square_root`). In
the agent market the metaorder can be sent for real: :func:`metaorder_impact` executes one, as
equal market orders spread evenly over ``duration_s``, in a market seeded like a twin that runs
without it, and reads the impact as the difference of the two mids. The twin takes the
market's own drift out, so a few dozen seeds pin the mean impact down to a few ticks.

A buy metaorder is sent on even seeds and a sell on odd ones; impacts are signed so that a
price moved *with* the metaorder is positive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from execsim.agents.config import AgentMarketConfig
from execsim.agents.market import AgentMarketVenue
from execsim.core.errors import ConfigError
from execsim.model.enums import OrderType, Side, TimeInForce
from execsim.venues.base import SubmitOrder

__all__ = ["MetaorderImpact", "MetaorderImpactPoint", "metaorder_impact"]

_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class MetaorderImpactPoint:
    """Mean impact of metaorders of one size (ticks, signed with the metaorder)."""

    qty: int
    n_runs: int
    impact_ticks: float
    """At the end of the execution."""
    stderr_ticks: float
    after_ticks: tuple[float, ...]
    """At each of ``MetaorderImpact.horizons_s`` after the end."""


@dataclass(frozen=True, slots=True)
class MetaorderImpact:
    """Impact against metaorder size, and the exponent of ``impact ∝ qty^δ`` fitted to it."""

    duration_s: float
    n_children: int
    horizons_s: tuple[float, ...]
    points: tuple[MetaorderImpactPoint, ...]
    exponent: float
    """Least-squares slope of log mean impact on log size (sizes with a positive mean impact)."""
    exponent_ci: tuple[float, float]
    """95 % interval of the exponent, from resampling the seeds."""


def _mid(venue: AgentMarketVenue, last: float) -> float:
    """The mid in ticks, or ``last`` while a side of the book is empty."""
    m2 = venue.quote().mid2
    return last if m2 is None else 0.5 * m2


def _path(
    config: AgentMarketConfig,
    seed: int,
    qty: int,
    side: Side,
    duration_ns: int,
    n_children: int,
    horizons_ns: Sequence[int],
) -> np.ndarray:
    """Mid change from the start (ticks) at the end of the execution and at each horizon after it."""
    v = AgentMarketVenue(
        name="ABM", instrument=config.instrument(), config=config, seed=np.random.SeedSequence(seed)
    )
    t0 = v.now
    m0 = last = _mid(v, float(config.start_ticks))
    sent = 0
    for i in range(n_children if qty else 0):
        t = t0 + duration_ns * i // n_children
        v.advance(t)
        q = qty * (i + 1) // n_children - sent
        if q > 0:
            sent += q
            v.handle(
                SubmitOrder(
                    ts_ns=t,
                    order_id=i + 1,
                    side=side,
                    qty=q,
                    order_type=OrderType.MARKET,
                    tif=TimeInForce.IOC,
                )
            )
    out = np.empty(1 + len(horizons_ns))
    for k, h in enumerate((0, *horizons_ns)):
        v.advance(t0 + duration_ns + h)
        last = _mid(v, last)
        out[k] = last - m0
    return out


def _fit(qty: np.ndarray, impact: np.ndarray) -> float:
    ok = impact > 0
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(qty[ok]), np.log(impact[ok]), 1)[0])


def metaorder_impact(
    config: AgentMarketConfig,
    sizes: Iterable[int],
    *,
    duration_s: float = 600.0,
    n_children: int = 60,
    seeds: Iterable[int] = range(32),
    horizons_s: Iterable[float] = (300.0, 600.0),
    n_bootstrap: int = 200,
) -> MetaorderImpact:
    """Execute metaorders of each size in ``sizes`` (lots) and measure their impact.

    For every seed the market runs twice per size, with and without the metaorder, from the same
    seed (the twin without it is shared by the sizes). The metaorder is ``n_children`` equal
    market orders at even intervals over ``duration_s``; the impact is read at its end and
    ``horizons_s`` after it. ``exponent`` fits ``impact ∝ qty^δ`` to the mean impacts; its
    interval comes from ``n_bootstrap`` resamples of the seeds.
    """
    qtys = sorted({int(q) for q in sizes})
    seed_list = [int(s) for s in seeds]
    hz = tuple(float(h) for h in horizons_s)
    if not qtys or qtys[0] <= 0:
        raise ConfigError(f"metaorder_impact: sizes must be positive lots, got {qtys}")
    if duration_s <= 0 or n_children < 1:
        raise ConfigError(
            f"metaorder_impact: duration_s must be > 0 and n_children >= 1, got {duration_s}, {n_children}"
        )
    if not seed_list:
        raise ConfigError("metaorder_impact: at least one seed is needed")
    if any(h < 0 for h in hz):
        raise ConfigError(f"metaorder_impact: horizons_s must be >= 0, got {hz}")
    if n_bootstrap < 0:
        raise ConfigError(f"metaorder_impact: n_bootstrap must be >= 0, got {n_bootstrap}")
    dur = round(duration_s * _S)
    hns = [round(h * _S) for h in hz]
    # imp[i, j, k]: size i, seed j, time k (0: end of the execution, then the horizons)
    imp = np.empty((len(qtys), len(seed_list), 1 + len(hz)))
    for j, seed in enumerate(seed_list):
        side, sign = (Side.BUY, 1.0) if seed % 2 == 0 else (Side.SELL, -1.0)
        twin = _path(config, seed, 0, side, dur, n_children, hns)
        for i, q in enumerate(qtys):
            imp[i, j] = sign * (_path(config, seed, q, side, dur, n_children, hns) - twin)
    mean = imp.mean(axis=1)
    n = len(seed_list)
    se = imp[:, :, 0].std(axis=1, ddof=1) / np.sqrt(n) if n > 1 else np.full(len(qtys), np.nan)
    q_arr = np.asarray(qtys, np.float64)
    rng = np.random.default_rng(0)
    boots = [_fit(q_arr, imp[:, rng.integers(0, n, n), 0].mean(axis=1)) for _ in range(n_bootstrap)]
    boots = [b for b in boots if np.isfinite(b)]
    ci = (float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))) if boots else (np.nan, np.nan)
    points = tuple(
        MetaorderImpactPoint(
            qty=q,
            n_runs=n,
            impact_ticks=float(mean[i, 0]),
            stderr_ticks=float(se[i]),
            after_ticks=tuple(float(x) for x in mean[i, 1:]),
        )
        for i, q in enumerate(qtys)
    )
    return MetaorderImpact(
        duration_s=float(duration_s),
        n_children=int(n_children),
        horizons_s=hz,
        points=points,
        exponent=_fit(q_arr, mean[:, 0]),
        exponent_ci=ci,
    )
