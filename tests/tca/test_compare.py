"""Paired comparison of two algorithms: bootstrap CI, permutation p-value, small-sample warning."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from execsim.core.errors import ConfigError
from execsim.tca import analyze, compare_runs, paired_comparison


def _pairs(
    rng: np.random.Generator, n: int, diff: float, noise: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Costs of the same n parents under B, and under A = B + diff + noise (common random numbers)."""
    b = rng.normal(5.0, 10.0, n)  # the market's contribution, shared by both
    a = b + diff + rng.normal(0.0, noise, n)
    return a, b


def test_known_difference_is_covered_by_the_interval_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(1)
    covered = 0
    reps = 100
    for i in range(reps):
        a, b = _pairs(rng, 40, 2.0)
        c = paired_comparison(a, b, n_boot=2_000, seed=i)
        covered += c.ci_low <= 2.0 <= c.ci_high
    assert 0.88 <= covered / reps <= 1.0


def test_a_clear_difference_has_a_small_p_value_and_no_warning() -> None:
    a, b = _pairs(np.random.default_rng(2), 100, 2.0)
    c = paired_comparison(a, b)
    assert c.mean_diff == pytest.approx(float(np.mean(a - b)))
    assert c.ci_low < c.mean_diff < c.ci_high
    assert c.ci_low <= 2.0 <= c.ci_high
    assert c.p_value < 1e-3
    assert "Monte Carlo (10000 patterns)" in c.p_method
    assert not c.warning
    assert c.warning_text == ""
    assert c.power > 0.99


def test_no_difference_gives_p_values_that_are_not_tiny() -> None:
    rng = np.random.default_rng(3)
    ps = [paired_comparison(*_pairs(rng, 30, 0.0), n_boot=1_000, seed=i).p_value for i in range(60)]
    # under the null p is about uniform: rarely below 5 %, never vanishing
    assert min(ps) > 1e-3
    assert np.mean(np.array(ps) < 0.05) <= 0.15
    c = paired_comparison(*_pairs(np.random.default_rng(4), 30, 0.0))
    assert c.p_value > 0.01
    assert c.warning  # nothing to detect: the interval straddles zero


def test_a_small_noisy_sample_draws_the_warning() -> None:
    a, b = _pairs(np.random.default_rng(5), 8, 0.5, noise=5.0)
    c = paired_comparison(a, b)
    assert c.warning
    assert "only 8 pairs" in c.warning_text
    assert "80% power" in c.warning_text
    assert c.n_required > 8


def test_exact_sign_flip_p_value_for_a_few_pairs() -> None:
    # d = 1, 2, 3: of the 8 sign patterns only (+,+,+) and (−,−,−) reach |mean| = 2
    c = paired_comparison([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert c.p_value == pytest.approx(2 / 8)
    assert "exact (8 patterns)" in c.p_method
    same = paired_comparison([2.0] * 5, [1.0] * 5)
    assert (same.ci_low, same.ci_high, same.sd_diff) == (1.0, 1.0, 0.0)
    assert same.p_value == pytest.approx(2 / 32)


def test_the_comparison_is_a_pure_function_of_its_seed() -> None:
    a, b = _pairs(np.random.default_rng(6), 50, 1.0, noise=3.0)
    assert paired_comparison(a, b, seed=7) == paired_comparison(a, b, seed=7)
    assert paired_comparison(a, b, seed=7).ci_low != paired_comparison(a, b, seed=8).ci_low
    d = paired_comparison(a, b).to_dict()
    assert d["ci_method"].startswith("BCa")
    assert isinstance(d["p_value"], float)


def test_bad_samples_are_refused() -> None:
    with pytest.raises(ConfigError, match="equal length"):
        paired_comparison([1.0, 2.0], [1.0])
    with pytest.raises(ConfigError, match="at least 2 pairs"):
        paired_comparison([1.0], [1.0])
    with pytest.raises(ConfigError, match="pair 2 is not finite"):
        paired_comparison([1.0, math.nan], [1.0, 2.0])


def _run(make_run: Any, seed: int, fill_px: int) -> Any:
    b = make_run(seed=seed)
    b.quote(0, 999, 1001).quote(10, 999, 1001)
    p = b.parent("buy", 10, 0, 999, 1001)
    o = b.order(p, "buy", 10, 1, arrival=(999, 1001))
    b.fill(o, 1, fill_px, 10)
    return b.build()


def test_compare_runs_pairs_parents_by_seed_and_index(make_run: Any) -> None:
    # A pays 1000 + 2 + k % 3 on seed k, B pays 1000 + k % 3: A costs 20 bps more on every pair
    runs_a = [_run(make_run, k, 1002 + k % 3) for k in range(6)]
    runs_b = [analyze(_run(make_run, k, 1000 + k % 3)) for k in reversed(range(6))]  # reports, any order
    c = compare_runs(runs_a, runs_b)
    assert c.metric == "implementation_shortfall_bps"
    assert c.n == 6
    assert c.n_unpaired == 0
    assert c.mean_diff == pytest.approx(20.0)
    assert c.sd_diff == pytest.approx(0.0, abs=1e-9)
    # a seed only A has is left out and said so
    c = compare_runs([*runs_a, _run(make_run, 99, 1005)], runs_b, metric="slippage.slippage_arrival_bps")
    assert c.n == 6
    assert c.n_unpaired == 1
    assert "1 parents had no counterpart" in c.warning_text
    with pytest.raises(ConfigError, match="seed 0 both have parent #0"):
        compare_runs([runs_a[0], runs_a[0]], runs_b)
