# mypy: allow-untyped-defs
# (numba types the kernels from their arguments; annotations would only restate the docstrings)
"""Compiled kernels of the impact package. Private: use :mod:`execsim.impact`.

* :func:`exp_sum_eval` evaluates the impact of every built-in model between two of our fills,
  ``perm + Σ_k amp_k · exp(−(t − t0) · rate_k)``, for a batch of times (the per-market-event path
  of a venue); the scalar :meth:`ImpactState.shift_ticks` goes through the same kernel so both
  paths give bit-identical values.
* :func:`response_and_autocorr` computes the trade-time response function and the sign
  autocorrelation of a trade tape.
* :func:`propagator_response` is the response a propagator kernel implies given the sign
  autocorrelation (Bouchaud, Gefen, Potters & Wyart 2004), used by the least-squares fit.
"""

from __future__ import annotations

import numpy as np

from execsim.core.jit import njit


@njit(cache=True)
def exp_sum_eval(ts, t0, perm, amp, rate, out):  # pragma: no cover - compiled
    """``out[i] = perm + Σ_k amp[k] · exp(−(ts[i] − t0) · rate[k])`` (``rate`` per ns)."""
    n = ts.shape[0]
    k_n = amp.shape[0]
    for i in range(n):
        dt = float(ts[i] - t0)
        acc = perm
        for k in range(k_n):
            acc += amp[k] * np.exp(-dt * rate[k])
        out[i] = acc


@njit(cache=True)
def round_half_away(x, out):  # pragma: no cover - compiled
    """Round each ``x[i]`` to the nearest integer, halves away from zero (so ``r(−x) = −r(x)``)."""
    for i in range(x.shape[0]):
        v = x[i]
        if v >= 0.0:
            out[i] = np.int64(np.floor(v + 0.5))
        else:
            out[i] = -np.int64(np.floor(-v + 0.5))


@njit(cache=True)
def response_and_autocorr(mid, sign, f, max_lag, R, C, Cp, Cm, n_r):  # pragma: no cover - compiled
    """Trade-time response and sign correlations for lags ``l = 0..max_lag``.

    ``R[l] = mean_n (mid[n+l] − mid[n]) sign[n]``, ``C[l] = mean_n sign[n] sign[n+l]``,
    ``Cp[l] = mean_n sign[n] sign[n+l] f[n+l]`` and ``Cm[l] = mean_n sign[n] f[n] sign[n+l]`` (the
    later and the earlier trade's volume factor); ``n_r[l]`` is the number of pairs at lag ``l``.
    ``mid[n]`` is the mid just before trade ``n``.
    """
    n = mid.shape[0]
    for lag in range(max_lag + 1):
        sr = 0.0
        sc = 0.0
        sp = 0.0
        sm = 0.0
        cnt = 0
        for i in range(n - lag):
            ss = sign[i] * sign[i + lag]
            sr += (mid[i + lag] - mid[i]) * sign[i]
            sc += ss
            sp += ss * f[i + lag]
            sm += ss * f[i]
            cnt += 1
        n_r[lag] = cnt
        if cnt > 0:
            R[lag] = sr / cnt
            C[lag] = sc / cnt
            Cp[lag] = sp / cnt
            Cm[lag] = sm / cnt
        else:
            R[lag] = np.nan
            C[lag] = np.nan
            Cp[lag] = np.nan
            Cm[lag] = np.nan


@njit(cache=True)
def propagator_response(G, Cp, Cm, max_lag, tail_lags, out):  # pragma: no cover - compiled
    """Response ``R(l), l = 1..max_lag`` implied by kernel ``G`` and the sign correlations.

    ``R(l) = Σ_{0≤j<l} G(l−j) Cp(j) + Σ_{1≤j≤tail_lags} [G(l+j) − G(j)] Cm(j)``, where ``G[k]`` is
    the kernel at lag ``k ≥ 1`` (``G[0]`` unused), ``Cp``/``Cm`` the volume-weighted sign
    correlations of :func:`response_and_autocorr` (both ``C`` when the volume factor is 1).
    ``G`` must hold lags up to ``max_lag + tail_lags``, ``Cp`` and ``Cm`` up to ``tail_lags``.
    ``out[l]`` receives ``R(l)``.
    """
    base = 0.0
    for j in range(1, tail_lags + 1):
        base += G[j] * Cm[j]
    for lag in range(1, max_lag + 1):
        acc = 0.0
        for j in range(lag):
            acc += G[lag - j] * Cp[j]
        tail = 0.0
        for j in range(1, tail_lags + 1):
            tail += G[lag + j] * Cm[j]
        out[lag] = acc + tail - base
