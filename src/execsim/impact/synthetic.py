"""Synthetic trade tapes from a known impact law, for testing that the calibrations recover it.

Both generators are deterministic given ``seed`` and independent of the fitting code: they
write a tape whose mid-price follows the stated law exactly (plus optional noise), rounded to
the half-tick grid a real mid lives on.
"""

from __future__ import annotations

import numpy as np

from execsim.impact.calibration import propagator_kernel
from execsim.impact.tape import TradeTape

__all__ = ["simulate_propagator_tape", "simulate_square_root_tape"]

_NS = 1_000_000_000


def _half_ticks(x: np.ndarray) -> np.ndarray:
    return np.round(2.0 * x) / 2.0


def simulate_propagator_tape(
    n_trades: int,
    *,
    G0: float,
    ell0: float,
    kernel: str = "exponential",
    beta: float = 1.0,
    G_inf: float = 0.0,
    sign_persistence: float = 0.5,
    volume_exponent: float = 0.0,
    noise_ticks: float = 0.0,
    dt_s: float = 1.0,
    start_price: float = 10_000.0,
    seed: int = 0,
    tick_size: float | None = None,
) -> TradeTape:
    """A tape whose mid follows a propagator: ``m_n = Σ_{k<n} G(n−k) ε_k f(v_k) + noise``.

    ``G(ℓ) = G_inf + G0 · g(ℓ/ℓ0)`` for lags ``ℓ ≥ 1`` (``g`` as in
    :func:`~execsim.impact.propagator_kernel`). Signs are a Markov chain that repeats the previous
    sign with probability ``sign_persistence`` (0.5: independent signs; then
    ``C(ℓ) = (2p − 1)^ℓ``). Sizes are log-uniform integers 1..1000 lots; ``f(v) = (v/v_med)^α``
    with ``v_med`` their median. Noise is a Gaussian random walk of ``noise_ticks`` per trade.
    Trades are ``dt_s`` apart.
    """
    rng = np.random.default_rng(seed)
    flips = rng.random(n_trades) >= sign_persistence
    eps = np.empty(n_trades)
    eps[0] = 1.0 if rng.random() < 0.5 else -1.0
    # ε_n = ε_{n−1} · (−1)^{flip_n}: a cumulative product of ±1
    eps[1:] = eps[0] * np.cumprod(np.where(flips[1:], -1.0, 1.0))
    qty = np.floor(np.exp(rng.uniform(0.0, np.log(1000.0), n_trades))).astype(np.int64)
    v_med = float(np.median(qty))
    flow = eps * (qty / v_med) ** volume_exponent
    lags = np.arange(n_trades + 1, dtype=np.float64)
    G = G_inf + G0 * propagator_kernel(lags, kernel=kernel, ell0=ell0, beta=beta)
    G[0] = 0.0  # a trade moves the mids *after* it
    size = 1 << int(np.ceil(np.log2(2 * n_trades + 1)))
    conv = np.fft.irfft(np.fft.rfft(flow, size) * np.fft.rfft(G, size), size)[:n_trades]
    noise = np.concatenate([[0.0], np.cumsum(rng.normal(0.0, noise_ticks, n_trades - 1))])
    mid = _half_ticks(start_price + conv + noise)
    ts = np.arange(n_trades, dtype=np.int64) * round(dt_s * _NS)
    return TradeTape.from_arrays(
        ts_ns=ts,
        sign=eps.astype(np.int8),
        qty=qty,
        mid_before=mid,
        t_start_ns=0,
        t_end_ns=int(ts[-1]),
        tick_size=tick_size,
    )


def simulate_square_root_tape(
    n_buckets: int,
    *,
    amplitude_ticks: float,
    delta: float = 0.5,
    interval_s: float = 60.0,
    noise_ticks: float = 0.0,
    start_price: float = 1_000_000.0,
    seed: int = 0,
    tick_size: float | None = None,
) -> TradeTape:
    """A tape of buckets whose mid change follows ``Δm = A · sign(Q) · (|Q|/V)^δ + noise``.

    Each bucket of ``interval_s`` holds one trade (sign ±1 at random, size log-uniform 1..10⁵
    lots) a quarter into the bucket, and the mid moves half-way through it. V is the total
    volume, so with the tape's span as one day a fit should find ``Y · σ = A`` and the given δ.
    """
    rng = np.random.default_rng(seed)
    step = round(interval_s * _NS)
    sign = np.where(rng.random(n_buckets) < 0.5, -1, 1).astype(np.int8)
    qty = np.floor(np.exp(rng.uniform(0.0, np.log(1e5), n_buckets))).astype(np.int64)
    V = float(qty.sum())
    dm = amplitude_ticks * sign * (qty / V) ** delta + rng.normal(0.0, noise_ticks, n_buckets)
    mids = _half_ticks(start_price + np.concatenate([[0.0], np.cumsum(dm)]))
    starts = np.arange(n_buckets, dtype=np.int64) * step
    quote_ts = np.concatenate([[0], starts + step // 2])
    return TradeTape.from_arrays(
        ts_ns=starts + step // 4,
        sign=sign,
        qty=qty,
        mid_before=mids[:-1],
        quote_ts=quote_ts,
        quote_mid=mids,
        t_start_ns=0,
        t_end_ns=n_buckets * step,
        tick_size=tick_size,
    )
