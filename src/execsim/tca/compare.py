"""Algorithm A versus B: a paired comparison of costs with common random numbers.

Run both algorithms on the same parent orders and the same seeds (the same simulated markets),
so each pair ``(a_i, b_i)`` differs only by the algorithm, and analyse the differences
``d_i = a_i − b_i`` (for a cost, positive = A is worse):

- the mean difference and a BCa bootstrap confidence interval (seeded, reproducible);
- a two-sided p-value from the paired sign-flip permutation test (under "no difference" each
  ``d_i`` is as likely to be ``−d_i``): exact over all ``2^n`` sign patterns for ``n ≤ 16``,
  otherwise Monte Carlo with ``n_boot`` random patterns, ``p = (1 + hits) / (1 + n_boot)``;
- a warning when the sample is too small for the variance seen. It fires when any of these
  holds: fewer than 20 pairs; the CI half-width exceeds ``|mean difference|`` (the sign of the
  difference is not established); the pairs needed for 80 % power to detect a difference as
  large as the one observed, ``n_80 = ((z₁₋α/₂ + z₀.₈) · sd / |d̄|)²`` (normal approximation),
  exceed the pairs there are. ``power`` is that normal-approximation power at the observed
  difference — a planning number, a monotone function of the p-value, not extra evidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from execsim.core.errors import ConfigError

if TYPE_CHECKING:
    from execsim.backtest.results import RunResult
    from execsim.tca.base import TcaConfig
    from execsim.tca.report import TcaReport

__all__ = ["MIN_PAIRS", "Comparison", "compare_runs", "paired_comparison"]

MIN_PAIRS = 20
"""Fewer pairs than this always draws the small-sample warning."""

_EXACT_MAX_N = 16
_N = NormalDist()


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """The outcome of a paired comparison of A and B (differences are A − B)."""

    metric: str
    n: int
    mean_a: float
    mean_b: float
    mean_diff: float
    sd_diff: float
    se_diff: float
    ci_low: float
    ci_high: float
    ci_level: float
    ci_method: str
    p_value: float
    p_method: str
    power: float
    n_required: float
    warning: bool
    warning_text: str
    n_boot: int
    seed: int
    n_unpaired: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN and infinity → None)."""
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()
        }


def _check(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y):
        raise ConfigError(
            f"paired samples must be two sequences of equal length, got {x.shape} and {y.shape}"
        )
    if len(x) < 2:
        raise ConfigError(f"a paired comparison needs at least 2 pairs, got {len(x)}")
    bad = np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))
    if len(bad):
        i = int(bad[0])
        raise ConfigError(f"pair {i + 1} is not finite: a={x[i]!r}, b={y[i]!r}")
    return x - y


def _bca(d: np.ndarray, boot: np.ndarray, alpha: float) -> tuple[float, float]:
    n, obs = len(d), float(d.mean())
    b = len(boot)
    frac = (np.sum(boot < obs) + 0.5 * np.sum(boot == obs)) / b
    z0 = _N.inv_cdf(min(max(frac, 0.5 / b), 1 - 0.5 / b))
    jack = (d.sum() - d) / (n - 1)
    dev = jack.mean() - jack
    den = float(np.sum(dev**2)) ** 1.5
    acc = float(np.sum(dev**3)) / (6.0 * den) if den > 0 else 0.0
    qs = []
    for z in (_N.inv_cdf(alpha / 2), _N.inv_cdf(1 - alpha / 2)):
        qs.append(_N.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z))))
    lo, hi = np.quantile(boot, qs)
    return float(lo), float(hi)


def _sign_flip_p(d: np.ndarray, n_perm: int, rng: np.random.Generator) -> tuple[float, str]:
    n = len(d)
    obs = abs(float(d.mean()))
    tol = 1e-12 * max(1.0, obs)
    if n <= _EXACT_MAX_N:
        codes = np.arange(2**n, dtype=np.int64)[:, None]
        signs = 1.0 - 2.0 * ((codes >> np.arange(n)) & 1)
        stats = np.abs(signs @ d) / n
        return float(
            np.mean(stats >= obs - tol)
        ), f"paired sign-flip permutation, two-sided, exact ({2**n} patterns)"
    hits = 0
    done = 0
    chunk = max(1, min(n_perm, 2_000_000 // n))
    while done < n_perm:
        k = min(chunk, n_perm - done)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(k, n))
        hits += int(np.sum(np.abs(signs @ d) / n >= obs - tol))
        done += k
    return (1 + hits) / (
        1 + n_perm
    ), f"paired sign-flip permutation, two-sided, Monte Carlo ({n_perm} patterns)"


def paired_comparison(
    a: Sequence[float],
    b: Sequence[float],
    *,
    n_boot: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
    metric: str = "",
) -> Comparison:
    """Compare paired costs of A and B (same parents, same seeds) — see the module docstring.

    Parameters
    ----------
    a, b
        Costs of the same parent orders under algorithms A and B (pair i is ``(a[i], b[i])``).
    n_boot
        Bootstrap resamples, and random sign patterns for the p-value when ``n > 16``.
    seed
        Seed of the resampling (the result is a pure function of the inputs and the seed).
    alpha
        1 − confidence level of the interval; also the test level of the power estimate.
    metric
        Name of what was compared (kept in the result).

    Returns
    -------
    Comparison
        Mean difference (A − B), its BCa interval, the p-value, the power estimate and the
        small-sample warning.
    """
    if n_boot < 100:
        raise ConfigError(f"n_boot must be at least 100, got {n_boot}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must lie in (0, 1), got {alpha}")
    d = _check(a, b)
    n = len(d)
    mean = float(d.mean())
    sd = float(d.std(ddof=1))
    se = sd / math.sqrt(n)
    rng = np.random.default_rng(seed)
    if sd == 0.0:
        lo = hi = mean
    else:
        boot = np.empty(n_boot)
        chunk = max(1, min(n_boot, 2_000_000 // n))
        for s in range(0, n_boot, chunk):
            k = min(chunk, n_boot - s)
            boot[s : s + k] = d[rng.integers(0, n, size=(k, n))].mean(axis=1)
        lo, hi = _bca(d, boot, alpha)
    p, p_method = _sign_flip_p(d, n_boot, rng)
    z_a = _N.inv_cdf(1 - alpha / 2)
    if se > 0:
        z = abs(mean) / se
        power = _N.cdf(z - z_a) + _N.cdf(-z - z_a)
    else:
        power = 1.0 if mean != 0 else float(alpha)
    if mean != 0:
        n_req = float(math.ceil(((z_a + _N.inv_cdf(0.8)) * sd / abs(mean)) ** 2)) if sd > 0 else 2.0
    else:
        n_req = math.inf
    reasons = []
    if n < MIN_PAIRS:
        reasons.append(f"only {n} pairs (fewer than {MIN_PAIRS})")
    half = (hi - lo) / 2
    if half > abs(mean):
        reasons.append(
            f"the {1 - alpha:.0%} CI half-width {half:.4g} exceeds the mean difference {abs(mean):.4g}: "
            "the sign of the difference is not established"
        )
    if n_req > n:
        need = "an unbounded number of" if math.isinf(n_req) else f"about {int(n_req)}"
        reasons.append(
            f"with this variance (sd {sd:.4g}) detecting a difference of {abs(mean):.4g} with 80% power "
            f"needs {need} pairs; there are {n} (estimated power {power:.0%})"
        )
    return Comparison(
        metric=metric,
        n=n,
        mean_a=float(np.mean(a)),
        mean_b=float(np.mean(b)),
        mean_diff=mean,
        sd_diff=sd,
        se_diff=se,
        ci_low=lo,
        ci_high=hi,
        ci_level=1 - alpha,
        ci_method="BCa bootstrap of the mean difference",
        p_value=p,
        p_method=p_method,
        power=float(power),
        n_required=n_req,
        warning=bool(reasons),
        warning_text="; ".join(reasons),
        n_boot=n_boot,
        seed=seed,
    )


def _report(x: RunResult | TcaReport, config: TcaConfig | None) -> TcaReport:
    from execsim.tca.report import TcaReport, analyze

    return x if isinstance(x, TcaReport) else analyze(x, config=config)


def _values(
    items: Sequence[RunResult | TcaReport], metric: str, config: TcaConfig | None, label: str
) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = {}
    for r in items:
        rep = _report(r, config)
        if rep.seed is None:
            raise ConfigError(f"{label}: run {rep.run_id[:12]} has no seed in its manifest; cannot pair it")
        for p in rep.parents:
            key = (int(rep.seed), p.index)
            if key in out:
                raise ConfigError(
                    f"{label}: two runs with seed {rep.seed} both have parent #{p.index}; pairing by "
                    "(seed, parent index) needs one run per seed"
                )
            v = p.value(metric)
            out[key] = float("nan") if v is None else float(v)
    return out


def compare_runs(
    results_a: Sequence[RunResult | TcaReport],
    results_b: Sequence[RunResult | TcaReport],
    metric: str = "implementation_shortfall_bps",
    *,
    config: TcaConfig | None = None,
    n_boot: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
) -> Comparison:
    """Compare a TCA metric of two sets of runs, pairing parents by (run seed, parent index).

    Runs may be given as results (analysed with ``config``) or as TCA reports. Parents present
    in only one set, or whose metric is not available, are left out and counted in
    ``n_unpaired`` (and named in the warning).

    Raises
    ------
    ConfigError
        When a seed repeats within one set, or fewer than 2 pairs remain.
    """
    va = _values(results_a, metric, config, "A")
    vb = _values(results_b, metric, config, "B")
    keys = sorted(k for k in set(va) & set(vb) if math.isfinite(va[k]) and math.isfinite(vb[k]))
    unpaired = len(set(va) | set(vb)) - len(keys)
    if len(keys) < 2:
        raise ConfigError(
            f"only {len(keys)} (seed, parent) pairs have {metric!r} in both A and B; need at least 2"
        )
    c = paired_comparison(
        [va[k] for k in keys], [vb[k] for k in keys], n_boot=n_boot, seed=seed, alpha=alpha, metric=metric
    )
    if not unpaired:
        return c
    text = f"{unpaired} parents had no counterpart or no value and were left out"
    return replace(
        c,
        n_unpaired=unpaired,
        warning=True,
        warning_text=f"{c.warning_text}; {text}" if c.warning_text else text,
    )
