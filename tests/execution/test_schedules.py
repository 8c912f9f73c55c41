"""Schedules: TWAP, VWAP and Almgren–Chriss as pure functions (property tests and hand cases)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execsim.core.errors import ConfigError, DataError, DataNotFoundError
from execsim.execution.schedules import (
    NS_PER_DAY,
    Schedule,
    VolumeCurve,
    almgren_chriss_holdings,
    almgren_chriss_kappa,
    almgren_chriss_trajectory,
    estimate_volume_curve,
    round_cumulative,
    twap_schedule,
    vwap_schedule,
)

S = 1_000_000_000
PROPS = settings(max_examples=60, deadline=None)

totals = st.integers(min_value=0, max_value=1_000_000)
slices = st.integers(min_value=1, max_value=60)
starts = st.integers(min_value=0, max_value=2 * 10**18)
spans = st.integers(min_value=60, max_value=10**13)


def _check_schedule(s: Schedule, total: int) -> None:
    assert s.total == total
    assert (s.qty >= 0).all()
    h = s.holdings
    assert h[0] == total
    assert h[-1] == 0
    assert (np.diff(h) <= 0).all()  # holdings never go up
    assert (np.diff(s.times_ns) >= 0).all()
    assert s.times_ns[-1] < s.end_ns


# -- TWAP ---------------------------------------------------------------------------------------
def test_twap_hand_case_puts_the_odd_lots_where_rounding_half_up_falls() -> None:
    # cumulative ideal 2.5, 5, 7.5, 10 -> 3, 5, 8, 10
    s = twap_schedule(10, 1_000, 5_000, 4)
    assert s.qty.tolist() == [3, 2, 3, 2]
    assert s.times_ns.tolist() == [1_000, 2_000, 3_000, 4_000]
    assert s.end_ns == 5_000


@PROPS
@given(total=totals, n=slices, start=starts, span=spans)
def test_twap_sums_to_total_in_equal_slices_within_one_lot(total: int, n: int, start: int, span: int) -> None:
    s = twap_schedule(total, start, start + span, n)
    _check_schedule(s, total)
    assert s.n_slices == n
    assert set(s.qty.tolist()) <= {total // n, -(-total // n)}
    # slices start evenly: gaps differ by at most 1 ns
    gaps = np.diff(np.append(s.times_ns, s.end_ns))
    assert gaps.max() - gaps.min() <= 1


def test_twap_rejects_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="at least one slice"):
        twap_schedule(10, 0, 100, 0)
    with pytest.raises(ConfigError, match="end after it starts"):
        twap_schedule(10, 100, 100, 2)
    with pytest.raises(ConfigError, match="non-negative integer"):
        twap_schedule(-1, 0, 100, 2)


def test_schedule_due_and_completed_count_started_and_finished_slices() -> None:
    s = twap_schedule(100, 0, 400, 4)  # slices at 0, 100, 200, 300; 25 lots each
    assert [s.due(t) for t in (-1, 0, 99, 100, 399)] == [0, 25, 25, 50, 100]
    assert [s.completed(t) for t in (0, 99, 100, 250, 400)] == [0, 0, 25, 50, 100]
    assert s.linear_due(150) == pytest.approx(37.5)


# -- rounding -------------------------------------------------------------------------------------
@PROPS
@given(
    total=totals,
    weights=st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50),
)
def test_rounding_cumulative_keeps_total_and_each_slice_within_one_lot(
    total: int, weights: list[float]
) -> None:
    w = np.asarray(weights)
    if w.sum() <= 0:
        w = np.ones_like(w)
    q = round_cumulative(total, np.cumsum(w) / w.sum())
    assert q.sum() == total
    assert (q >= 0).all()
    assert np.abs(q - total * w / w.sum()).max() <= 1 + 1e-6


# -- VWAP -------------------------------------------------------------------------------------------
def test_vwap_hand_case_follows_a_u_shaped_curve_and_cuts_buckets_at_the_window() -> None:
    curve = VolumeCurve(fractions=np.array([3.0, 1.0, 1.0, 3.0]), bucket_ns=100)
    assert vwap_schedule(80, 0, 400, curve).qty.tolist() == [30, 10, 10, 30]
    # [50, 350): half of the first and last buckets -> weights 1.5, 1, 1, 1.5 of 5
    s = vwap_schedule(80, 50, 350, curve)
    assert s.times_ns.tolist() == [50, 100, 200, 300]
    assert s.qty.tolist() == [24, 16, 16, 24]
    assert vwap_schedule(80, 0, 400, curve, n_slices=2).qty.tolist() == [40, 40]


def test_vwap_outside_the_curve_falls_back_to_twap() -> None:
    curve = VolumeCurve(fractions=np.array([1.0, 2.0]), bucket_ns=100)
    s = vwap_schedule(9, 1_000, 1_300, curve, n_slices=3)
    assert s.qty.tolist() == [3, 3, 3]


@PROPS
@given(
    total=totals,
    weights=st.lists(st.floats(min_value=0.0, max_value=100.0, allow_nan=False), min_size=1, max_size=30),
    bucket=st.integers(min_value=1, max_value=10**9),
)
def test_vwap_over_the_whole_curve_is_proportional_within_one_lot(
    total: int, weights: list[float], bucket: int
) -> None:
    w = np.asarray(weights)
    if w.sum() <= 0:
        w = w + 1.0
    curve = VolumeCurve(fractions=w, bucket_ns=bucket, origin_ns=5 * S)
    s = vwap_schedule(total, 5 * S, 5 * S + bucket * len(w), curve)
    _check_schedule(s, total)
    assert s.n_slices == len(w)
    assert np.abs(s.qty - total * w / w.sum()).max() <= 1 + 1e-6


def test_volume_curve_estimate_sums_prints_per_bucket_and_folds_days() -> None:
    t0 = 10 * NS_PER_DAY + 3_600 * S
    # day 1: 10 lots in bucket 0, 30 in bucket 1; day 2 (one day later): 20 lots in bucket 0
    times = np.array([t0 + 1, t0 + 60 * S + 5, NS_PER_DAY + t0 + 30 * S])
    qty = np.array([10, 30, 20])
    c = estimate_volume_curve(
        times, qty, bucket_ns=60 * S, session_start_ns=t0, session_end_ns=t0 + 120 * S, period_ns=NS_PER_DAY
    )
    assert c.fractions.tolist() == pytest.approx([0.5, 0.5])
    # without folding the second day falls outside the session
    c2 = estimate_volume_curve(times, qty, bucket_ns=60 * S, session_start_ns=t0, session_end_ns=t0 + 120 * S)
    assert c2.fractions.tolist() == pytest.approx([0.25, 0.75])


def test_volume_curve_smoothing_averages_neighbours_without_damping_the_edges() -> None:
    times = np.array([0, 100, 200]) + 5
    qty = np.array([6, 0, 6])
    c = estimate_volume_curve(times, qty, bucket_ns=100, session_start_ns=0, session_end_ns=300, smoothing=3)
    # edge buckets average two buckets (3, 3), the middle averages three (4)
    assert c.fractions.tolist() == pytest.approx([3 / 10, 4 / 10, 3 / 10])


def test_volume_curve_estimate_rejects_empty_windows_and_negative_sizes() -> None:
    with pytest.raises(DataError, match="no trade volume"):
        estimate_volume_curve(
            np.array([5_000]), np.array([3]), bucket_ns=10, session_start_ns=0, session_end_ns=100
        )
    with pytest.raises(DataError, match="row 2"):
        estimate_volume_curve(
            np.array([1, 2]), np.array([3, -1]), bucket_ns=10, session_start_ns=0, session_end_ns=100
        )


def test_volume_curve_round_trips_through_json(tmp_path: object) -> None:
    from pathlib import Path

    p = Path(str(tmp_path)) / "curve.json"
    c = VolumeCurve(fractions=np.array([1.0, 3.0]), bucket_ns=60 * S, origin_ns=7, period_ns=NS_PER_DAY)
    c.save(p)
    back = VolumeCurve.load(p)
    assert back.fractions.tolist() == [0.25, 0.75]
    assert (back.bucket_ns, back.origin_ns, back.period_ns) == (60 * S, 7, NS_PER_DAY)
    with pytest.raises(DataNotFoundError):
        VolumeCurve.load(p.with_name("missing.json"))
    p.write_text("[1, 2]")
    with pytest.raises(DataError, match="JSON object"):
        VolumeCurve.load(p)


# -- Almgren–Chriss ---------------------------------------------------------------------------------
def test_almgren_chriss_kappa_hand_case_with_discrete_correction() -> None:
    # eta~ = 1 - 0.5*1/2 = 0.75; k~^2 = 0.3*4/0.75 = 1.6; kappa = acosh(1 + 1.6/2) = acosh(1.8)
    k = almgren_chriss_kappa(sigma=2.0, eta=1.0, gamma=0.5, risk_aversion=0.3, tau=1.0)
    assert k == pytest.approx(math.acosh(1.8))
    # small tau: the discrete kappa tends to the continuous sqrt(lambda sigma^2 / eta)
    k_small = almgren_chriss_kappa(sigma=2.0, eta=1.0, risk_aversion=0.3, tau=1e-4)
    assert k_small == pytest.approx(math.sqrt(1.2), rel=1e-6)


def test_almgren_chriss_holdings_match_the_sinh_formula() -> None:
    x = almgren_chriss_holdings(4, 0.5)
    expected = [math.sinh(0.5 * (4 - j)) / math.sinh(0.5 * 4) for j in range(5)]
    assert x.tolist() == pytest.approx(expected, rel=1e-12)
    assert almgren_chriss_holdings(4, 0.0).tolist() == [1.0, 0.75, 0.5, 0.25, 0.0]
    # large kappa*T does not overflow: nearly everything goes in the first slice
    big = almgren_chriss_holdings(10, 500.0)
    assert np.isfinite(big).all()
    assert big[0] == 1.0
    assert big[1] < 1e-100


def test_almgren_chriss_rejects_ill_posed_parameters() -> None:
    with pytest.raises(ConfigError, match="eta − gamma"):
        almgren_chriss_kappa(sigma=1, eta=1, gamma=4, risk_aversion=1, tau=1)
    with pytest.raises(ConfigError, match="risk_aversion"):
        almgren_chriss_kappa(sigma=1, eta=1, risk_aversion=-1, tau=1)
    with pytest.raises(ConfigError, match="tau > 0"):
        almgren_chriss_kappa(sigma=1, eta=1, risk_aversion=1, tau=0)


def test_almgren_chriss_with_zero_risk_aversion_is_exactly_twap() -> None:
    ac = almgren_chriss_trajectory(1_003, 7, sigma=1.0, eta=0.1, risk_aversion=0.0, tau=2.0, start_ns=S)
    tw = twap_schedule(1_003, S, S + 14 * S, 7)
    assert ac.qty.tolist() == tw.qty.tolist()
    assert ac.times_ns.tolist() == tw.times_ns.tolist()


ac_params = {
    "total": st.integers(min_value=1, max_value=200_000),
    "n": st.integers(min_value=1, max_value=40),
    "sigma": st.floats(min_value=0.01, max_value=10.0),
    "eta": st.floats(min_value=0.01, max_value=10.0),
    "tau": st.floats(min_value=0.01, max_value=60.0),
}


@PROPS
@given(**ac_params, lam=st.floats(min_value=1e-9, max_value=10.0))
def test_almgren_chriss_is_a_valid_front_loaded_schedule(
    total: int, n: int, sigma: float, eta: float, tau: float, lam: float
) -> None:
    s = almgren_chriss_trajectory(total, n, sigma=sigma, eta=eta, risk_aversion=lam, tau=tau)
    _check_schedule(s, total)
    tw = twap_schedule(total, s.start_ns, s.end_ns, n)
    # front-loaded: never behind TWAP (in cumulative lots)
    assert (s.cumulative >= tw.cumulative).all()


@PROPS
@given(**ac_params)
def test_almgren_chriss_tends_to_twap_as_risk_aversion_vanishes(
    total: int, n: int, sigma: float, eta: float, tau: float
) -> None:
    twap_frac = (n - np.arange(n + 1)) / n
    errs = []
    for lam in (1e-2, 1e-5, 1e-8, 1e-12, 1e-16):
        k = almgren_chriss_kappa(sigma=sigma, eta=eta, risk_aversion=lam, tau=tau)
        err = np.abs(almgren_chriss_holdings(n, k * tau) - twap_frac).max()
        # sinh(a(1-s))/sinh(a) - (1-s) is O(a^2): below a^2/6 with a = kappa T
        assert err <= (k * tau * n) ** 2 / 6 + 1e-12
        errs.append(err)
    assert all(b <= a + 1e-15 for a, b in itertools.pairwise(errs))  # shrinking
    assert errs[-1] < 1e-6
    s = almgren_chriss_trajectory(total, n, sigma=sigma, eta=eta, risk_aversion=1e-14, tau=tau)
    tw = twap_schedule(total, s.start_ns, s.end_ns, n)
    assert np.abs(s.qty - tw.qty).max() <= 1
    assert np.abs(s.cumulative - tw.cumulative).max() <= 1


@PROPS
@given(
    **ac_params,
    lam=st.floats(min_value=1e-6, max_value=1.0),
    factor=st.floats(min_value=1.5, max_value=100.0),
)
def test_almgren_chriss_front_loading_grows_with_risk_aversion(
    total: int, n: int, sigma: float, eta: float, tau: float, lam: float, factor: float
) -> None:
    lo = almgren_chriss_trajectory(total, n, sigma=sigma, eta=eta, risk_aversion=lam, tau=tau)
    hi = almgren_chriss_trajectory(total, n, sigma=sigma, eta=eta, risk_aversion=lam * factor, tau=tau)
    assert (hi.cumulative >= lo.cumulative).all()
    k_lo = almgren_chriss_kappa(sigma=sigma, eta=eta, risk_aversion=lam, tau=tau)
    k_hi = almgren_chriss_kappa(sigma=sigma, eta=eta, risk_aversion=lam * factor, tau=tau)
    x_lo, x_hi = almgren_chriss_holdings(n, k_lo * tau), almgren_chriss_holdings(n, k_hi * tau)
    assert (x_hi[1:-1] < x_lo[1:-1]).all()  # strictly less held at every interior time


def test_almgren_chriss_hand_case_in_lots() -> None:
    # kappa*tau = acosh(1 + 1*1/2) = acosh(1.5); holdings X sinh(k(3-j))/sinh(3k)
    s = almgren_chriss_trajectory(1_000, 3, sigma=1.0, eta=1.0, risk_aversion=1.0, tau=1.0)
    a = math.acosh(1.5)
    x = [1_000 * math.sinh(a * (3 - j)) / math.sinh(3 * a) for j in range(4)]
    cum = [math.floor(1_000 - xj + 0.5) for xj in x[1:]]
    assert s.cumulative.tolist() == cum
    assert s.qty[0] > s.qty[1] > s.qty[2]
    assert s.end_ns == 3 * S
