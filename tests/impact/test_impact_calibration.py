"""Trade tapes from canonical events, and calibrations that recover known laws from synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from execsim.core.errors import DataError, TimeOrderError
from execsim.data.schema import (
    F_LAST,
    F_SNAPSHOT,
    K_ADD,
    K_CLEAR,
    K_EXECUTE,
    K_SET_LEVEL,
    K_TRADE,
    empty_events,
)
from execsim.impact import (
    AlmgrenChrissImpact,
    PropagatorImpact,
    SquareRootImpact,
    TradeTape,
    calibrate_linear_impact,
    calibrate_propagator,
    calibrate_square_root,
    propagator_kernel,
    simulate_propagator_tape,
    simulate_square_root_tape,
    trade_tape,
)

S = 1_000_000_000


def events(rows: list[tuple[int, int, int, int, int, int, int]]) -> np.ndarray:
    """rows of (ts, kind, side, price, qty, order_id, flags)."""
    ev = empty_events(len(rows))
    for i, (ts, kind, side, price, qty, oid, flags) in enumerate(rows):
        ev[i] = (ts, ts, i, kind, side, price, qty, oid, flags)
    return ev


def l3_day() -> np.ndarray:
    return events(
        [
            (1 * S, K_CLEAR, 0, 0, 0, 0, F_SNAPSHOT),
            (1 * S, K_ADD, 1, 99, 10, 1, F_LAST),
            (1 * S, K_ADD, -1, 101, 10, 2, F_LAST),  # mid 100
            (2 * S, K_EXECUTE, -1, 101, 3, 2, F_LAST),  # a buyer lifts the ask...
            (2 * S, K_EXECUTE, -1, 101, 7, 2, F_LAST),  # ...sweeping it (same time): one trade of 10
            (3 * S, K_ADD, -1, 103, 5, 3, F_LAST),  # mid 101
            (4 * S, K_TRADE, -1, 100, 4, 0, F_LAST),  # a hidden execution, seller-initiated
            (5 * S, K_TRADE, 0, 100, 9, 0, F_LAST),  # a cross: no aggressor
            (6 * S, K_EXECUTE, 1, 99, 2, 1, F_LAST),  # a seller hits the bid
        ]
    )


# ---------------------------------------------------------------------------- the tape
def test_tape_signs_aggregation_and_mid_before_from_l3_events() -> None:
    tape = trade_tape(l3_day(), tick_size=0.01)
    assert tape.ts_ns.tolist() == [2 * S, 4 * S, 6 * S]
    assert tape.sign.tolist() == [1, -1, -1]
    assert tape.qty.tolist() == [10, 4, 2]
    assert tape.vwap.tolist() == [101.0, 100.0, 99.0]
    assert tape.mid_before.tolist() == [100.0, 101.0, 101.0]
    assert tape.n_executions == 5
    assert tape.skipped == {"trade_side_unknown": 1}
    assert (tape.t_start_ns, tape.t_end_ns, tape.tick_size) == (S, 6 * S, 0.01)
    assert "3 trades from 5 executions" in tape.summary()


def test_tape_without_aggregation_keeps_each_execution() -> None:
    tape = trade_tape(l3_day(), aggregate=False)
    assert tape.qty.tolist() == [3, 7, 4, 2]
    assert tape.mid_before.tolist() == [100.0, 100.0, 101.0, 101.0]  # 2nd: book before the sweep


def test_mid_series_holds_changes_and_is_nan_when_a_side_is_empty() -> None:
    tape = trade_tape(l3_day())
    assert np.isnan(tape.mid_at(1 * S)[0])  # nothing strictly before the first event
    assert tape.mid_at(2 * S)[0] == 100.0
    assert np.isnan(tape.mid_at(2 * S + 1)[0])  # the sweep emptied the ask
    assert tape.mid_at(np.array([3 * S + 1, 10 * S])).tolist() == [101.0, 101.0]


def test_tape_streams_batches_and_matches_one_array() -> None:
    ev = l3_day()
    whole = trade_tape(ev)
    parts = trade_tape([ev[:4], ev[4:7], ev[7:]])
    for name in ("ts_ns", "sign", "qty", "notional", "mid_before", "quote_ts", "quote_mid"):
        assert np.array_equal(getattr(whole, name), getattr(parts, name), equal_nan=True), name


def test_tape_from_an_l2_stream() -> None:
    ev = events(
        [
            (1 * S, K_SET_LEVEL, 1, 99, 5, 0, 0),
            (1 * S, K_SET_LEVEL, -1, 101, 5, 0, F_LAST),
            (2 * S, K_TRADE, 1, 101, 5, 0, F_LAST),
            (2 * S, K_SET_LEVEL, -1, 101, 0, 0, 0),
            (2 * S, K_SET_LEVEL, -1, 102, 3, 0, F_LAST),
            (3 * S, K_TRADE, -1, 99, 1, 0, F_LAST),
        ]
    )
    tape = trade_tape(ev)
    assert tape.sign.tolist() == [1, -1]
    assert tape.mid_before.tolist() == [100.0, 100.5]


def test_a_trade_before_any_quote_is_skipped_and_counted() -> None:
    ev = events([(1 * S, K_TRADE, 1, 100, 1, 0, F_LAST), (2 * S, K_SET_LEVEL, 1, 99, 1, 0, F_LAST)])
    tape = trade_tape(ev)
    assert tape.n_trades == 0
    assert tape.skipped == {"no_mid_before": 1}


def test_tape_rejects_time_going_back_naming_the_row() -> None:
    ev = l3_day()
    ev["ts_event"][5] = 1
    with pytest.raises(TimeOrderError, match="row 6"):
        trade_tape(ev)
    with pytest.raises(TimeOrderError, match="row 5"):
        trade_tape([l3_day()[:4], l3_day()[:2]])


def test_tape_rejects_l3_events_after_an_l2_start_and_non_events() -> None:
    l2 = events([(1 * S, K_SET_LEVEL, 1, 99, 5, 0, F_LAST)])
    with pytest.raises(DataError, match="mixes L2 and L3"):
        trade_tape([l2, l3_day()[1:]])
    with pytest.raises(DataError, match="EVENT_DTYPE"):
        trade_tape([np.zeros(3)])
    with pytest.raises(DataError, match="no events"):
        trade_tape([])


def test_tape_validates_arrays() -> None:
    with pytest.raises(DataError, match="sign"):
        TradeTape.from_arrays(ts_ns=[1, 2], sign=[1, 0], qty=[1, 1], mid_before=[1.0, 1.0])
    with pytest.raises(DataError, match="qty"):
        TradeTape.from_arrays(ts_ns=[1, 2], sign=[1, 1], qty=[1, -1], mid_before=[1.0, 1.0])
    with pytest.raises(TimeOrderError):
        TradeTape.from_arrays(ts_ns=[2, 1], sign=[1, 1], qty=[1, 1], mid_before=[1.0, 1.0])


# ---------------------------------------------------------------------------- square-root law
@pytest.mark.parametrize("delta", [0.3, 0.5, 0.8])
def test_square_root_fit_recovers_a_known_law(delta: float) -> None:
    A = 20_000.0
    tape = simulate_square_root_tape(3_000, amplitude_ticks=A, delta=delta, noise_ticks=10.0, seed=2)
    cal = calibrate_square_root(tape, intervals_s=(60.0,), sigma_interval_s=60.0, n_bootstrap=50)
    assert cal.delta == pytest.approx(delta, abs=0.02)
    assert cal.Y * cal.sigma_ticks_per_sqrt_day == pytest.approx(A, rel=0.05)
    assert cal.delta_ci[0] <= cal.delta <= cal.delta_ci[1]
    assert cal.delta_ci[0] < delta + 0.02
    assert cal.delta_ci[1] > delta - 0.02
    assert cal.r2 > 0.99
    assert cal.n_buckets == 3_000
    assert cal.daily_volume_lots == pytest.approx(float(tape.qty.sum()))


def test_square_root_fit_with_a_fixed_exponent_fits_only_y() -> None:
    tape = simulate_square_root_tape(2_000, amplitude_ticks=5_000.0, delta=0.5, noise_ticks=50.0, seed=5)
    cal = calibrate_square_root(tape, intervals_s=(60.0,), delta=0.5, n_bootstrap=20)
    assert cal.delta == 0.5
    assert cal.delta_fixed
    assert cal.Y * cal.sigma_ticks_per_sqrt_day == pytest.approx(5_000.0, rel=0.05)
    assert "fixed" in cal.to_markdown()


def test_square_root_bootstrap_is_seeded() -> None:
    tape = simulate_square_root_tape(600, amplitude_ticks=5_000.0, noise_ticks=200.0, seed=1)
    a = calibrate_square_root(tape, intervals_s=(60.0,), n_bootstrap=30, seed=4)
    b = calibrate_square_root(tape, intervals_s=(60.0,), n_bootstrap=30, seed=4)
    c = calibrate_square_root(tape, intervals_s=(60.0,), n_bootstrap=30, seed=5)
    assert a.delta_ci == b.delta_ci
    assert a.Y_ci == b.Y_ci
    assert a.delta_ci != c.delta_ci
    assert a.delta == c.delta  # the point estimate does not depend on the seed


def test_square_root_diagnostics_render_to_markdown() -> None:
    tape = simulate_square_root_tape(600, amplitude_ticks=5_000.0, noise_ticks=100.0, seed=1, tick_size=0.01)
    cal = calibrate_square_root(tape, intervals_s=(60.0, 120.0), n_bins=6, n_bootstrap=10)
    md = cal.to_markdown()
    assert f"{cal.delta:.3g}" in md
    assert f"{cal.Y:.4g}" in md
    assert "| 60 s | 600 | 0 |" in md
    r120 = cal.intervals[1]
    assert r120.interval_s == 120.0
    assert r120.n_buckets + r120.n_zero_volume == 300
    assert len(cal.bins) == 6
    assert sum(b.count for b in cal.bins) == cal.n_buckets == 600 + r120.n_buckets
    assert "tick = 0.01" in md


def test_square_root_needs_enough_buckets() -> None:
    tape = simulate_square_root_tape(20, amplitude_ticks=5_000.0, seed=1)
    with pytest.raises(DataError, match="too few"):
        calibrate_square_root(tape, intervals_s=(60.0,), n_bins=12)


# ---------------------------------------------------------------------------- propagator
def test_propagator_fit_recovers_an_exponential_kernel_under_correlated_signs() -> None:
    tape = simulate_propagator_tape(
        20_000,
        G0=40.0,
        G_inf=5.0,
        ell0=8.0,
        kernel="exponential",
        sign_persistence=0.8,
        noise_ticks=10.0,
        seed=3,
    )
    cal = calibrate_propagator(tape, kernel="exponential")
    fit = cal.fit
    assert fit.kernel == "exponential"
    assert fit.G0 == pytest.approx(40.0, rel=0.05)
    assert fit.G_inf == pytest.approx(5.0, abs=1.0)
    assert fit.ell0 == pytest.approx(8.0, rel=0.08)
    assert fit.r2 > 0.99
    assert cal.sign_autocorr[1] == pytest.approx(0.6, abs=0.02)  # 2p − 1
    assert cal.sign_autocorr[2] == pytest.approx(0.36, abs=0.03)
    assert cal.mean_intertrade_s == pytest.approx(1.0)


def test_propagator_fit_recovers_a_power_law_kernel() -> None:
    tape = simulate_propagator_tape(
        20_000,
        G0=40.0,
        ell0=8.0,
        beta=0.6,
        kernel="power_law",
        sign_persistence=0.5,
        noise_ticks=10.0,
        seed=3,
    )
    cal = calibrate_propagator(tape, kernel="power_law", fit_permanent=False)
    fit = cal.fit
    assert fit.G_inf == 0.0
    assert fit.G0 == pytest.approx(40.0, rel=0.05)
    assert fit.beta == pytest.approx(0.6, abs=0.06)
    assert fit.ell0 == pytest.approx(8.0, rel=0.15)


def test_propagator_fit_with_a_permanent_level_recovers_the_kernel_curve() -> None:
    tape = simulate_propagator_tape(
        20_000,
        G0=40.0,
        G_inf=5.0,
        ell0=8.0,
        beta=0.6,
        kernel="power_law",
        sign_persistence=0.8,
        noise_ticks=10.0,
    )
    fit = calibrate_propagator(tape, kernel="power_law").fit
    lags = np.arange(1, 101)
    true = 5.0 + 40.0 * propagator_kernel(lags, kernel="power_law", ell0=8.0, beta=0.6)
    est = fit.G_inf + fit.G0 * propagator_kernel(lags, kernel="power_law", ell0=fit.ell0, beta=fit.beta)
    assert np.max(np.abs(est / true - 1)) < 0.06


def test_propagator_fit_measures_the_volume_exponent() -> None:
    tape = simulate_propagator_tape(
        20_000, G0=40.0, ell0=8.0, kernel="exponential", volume_exponent=0.4, noise_ticks=5.0, seed=4
    )
    cal = calibrate_propagator(tape, kernel="exponential")
    assert cal.volume_exponent == pytest.approx(0.4, abs=0.05)
    assert cal.fit.G0 == pytest.approx(40.0, rel=0.05)  # per trade of the median size
    assert cal.volume_scale_lots == float(np.median(tape.qty))


def test_propagator_fit_rejects_bad_input() -> None:
    tape = simulate_propagator_tape(300, G0=1.0, ell0=2.0, seed=1)
    with pytest.raises(DataError, match="too few"):
        calibrate_propagator(tape, max_lag=100)
    with pytest.raises(ValueError, match="kernel"):
        calibrate_propagator(tape, kernel="gauss", max_lag=10)


# ---------------------------------------------------------------------------- Almgren–Chriss
def test_linear_fit_recovers_permanent_and_temporary_coefficients() -> None:
    # δ = 1: Δm = A · Q / V, so γ = A / V ticks per lot
    tape = simulate_square_root_tape(2_000, amplitude_ticks=30_000.0, delta=1.0, noise_ticks=1.0, seed=6)
    cal = calibrate_linear_impact(tape, interval_s=60.0, n_bootstrap=20)
    assert cal.permanent == pytest.approx(30_000.0 / tape.qty.sum(), rel=0.02)
    assert cal.permanent_ci[0] <= cal.permanent <= cal.permanent_ci[1]
    # each trade pays a = 2 ticks plus η = 0.01 tick per lot over the mid
    rng = np.random.default_rng(0)
    q = rng.integers(1, 1_000, 500)
    s = np.where(rng.random(500) < 0.5, -1, 1)
    mid = 1_000.0 + np.zeros(500)
    tape2 = TradeTape.from_arrays(
        ts_ns=np.arange(500) * S, sign=s, qty=q, mid_before=mid, price=mid + s * (2.0 + 0.01 * q)
    )
    cal2 = calibrate_linear_impact(tape2, interval_s=10.0, n_bootstrap=0)
    assert cal2.temporary == pytest.approx(0.01)
    assert cal2.fixed_cost == pytest.approx(2.0)
    assert cal2.temporary_r2 == pytest.approx(1.0)
    assert "permanent γ" in cal2.to_markdown()


# ---------------------------------------------------------------------------- fit() of the models
def test_square_root_model_fit_sets_learned_attributes() -> None:
    tape = simulate_square_root_tape(1_000, amplitude_ticks=5_000.0, noise_ticks=20.0, seed=1, tick_size=0.01)
    m = SquareRootImpact()
    assert m.fit(tape, intervals_s=(60.0,), n_bootstrap=10) is m
    assert m.delta_ == pytest.approx(0.5, abs=0.03)
    assert m.Y_ * m.sigma_ticks_per_sqrt_day_ == pytest.approx(5_000.0, rel=0.05)
    assert m.daily_volume_lots_ == float(tape.qty.sum())
    assert m.tick_size_ == 0.01
    assert m.n_trades_ == 1_000
    assert m.calibration_.n_buckets == 1_000
    assert m.Y is None  # parameters untouched
    fixed = SquareRootImpact(fit_delta=False, delta=0.5).fit(tape, intervals_s=(60.0,), n_bootstrap=0)
    assert not hasattr(fixed, "delta_")
    assert fixed.fitted_params()["delta"] == 0.5


def test_propagator_and_almgren_chriss_models_fit() -> None:
    tape = simulate_propagator_tape(
        5_000, G0=20.0, G_inf=2.0, ell0=4.0, kernel="exponential", dt_s=2.0, seed=9
    )
    p = PropagatorImpact(kernel="exponential").fit(tape, max_lag=50)
    assert p.G0_ == pytest.approx(20.0, rel=0.1)
    assert p.tau_s_ == pytest.approx(8.0, rel=0.15)  # ℓ0 = 4 trades of 2 s
    assert not hasattr(p, "beta_")
    ac = AlmgrenChrissImpact().fit(tape, interval_s=60.0, n_bootstrap=0)
    assert ac.permanent_ > 0
    assert ac.temporary_ >= 0
    assert ac.fixed_cost_ >= 0
