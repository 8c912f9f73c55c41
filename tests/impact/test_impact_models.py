"""Impact models on hand-computed cases: what the book shift is after given fills."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from execsim.core.errors import ConfigError, DataError, TimeOrderError
from execsim.impact import (
    AlmgrenChrissImpact,
    NoImpact,
    PropagatorImpact,
    SquareRootImpact,
    power_law_as_exponentials,
    round_half_away,
)
from execsim.model.enums import Side

S = 1_000_000_000  # one second in ns
T0 = 1_340_285_400 * S  # 2012-06-21 13:30 UTC, any epoch time works
RNG = np.random.default_rng(0)


def start(model, tick=0.01):
    return model.start(tick_size_price=tick, rng=RNG)


# ---------------------------------------------------------------------------- rounding
def test_rounding_is_half_away_from_zero_and_antisymmetric() -> None:
    x = np.array([0.0, 0.49, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, -0.49, 3.7])
    assert round_half_away(x).tolist() == [0, 0, 1, 2, 3, -1, -2, -3, 0, 4]
    assert (round_half_away(-x) == -round_half_away(x)).all()


def test_rounding_refuses_a_non_finite_impact() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        round_half_away(np.array([1.0, np.nan]))


# ---------------------------------------------------------------------------- none
def test_no_impact_never_shifts_whatever_we_trade() -> None:
    st = start(NoImpact())
    st.on_fill(T0, 1, 1_000_000, 100)
    st.on_fill(T0 + S, -1, 5, 100)
    assert st.shift_ticks(T0 + S) == 0
    assert st.shifts_at(np.array([T0 + 2 * S, T0 + 10 * S])).tolist() == [0, 0]
    assert st.temporary_cost_ticks(1, 1_000) == 0.0
    assert st.n_fills == 2


# ---------------------------------------------------------------------------- Almgren–Chriss
def test_almgren_chriss_permanent_shift_of_three_fills() -> None:
    # γ = 0.5 tick per lot: +10, −4, +3 lots → 5.0, 3.0, 4.5 ticks → shifts 5, 3, 5 (4.5 rounds up)
    st = start(AlmgrenChrissImpact(permanent=0.5, temporary=0.0))
    st.on_fill(T0, 1, 10, 100)
    assert st.shift_ticks(T0) == 5
    st.on_fill(T0 + S, -1, 4, 100)
    assert st.shift_ticks(T0 + 2 * S) == 3
    st.on_fill(T0 + 3 * S, 1, 3, 100)
    assert st.impact_ticks(T0 + 3 * S) == pytest.approx(4.5)
    assert st.shift_ticks(T0 + 3 * S) == 5
    # permanent: an hour later nothing has decayed
    assert st.shift_ticks(T0 + 3_600 * S) == 5
    assert st.permanent_ticks == pytest.approx(4.5)


def test_almgren_chriss_sells_mirror_buys_including_the_half_tick() -> None:
    st = start(AlmgrenChrissImpact(permanent=0.5, temporary=0.0))
    st.on_fill(T0, -1, 9, 100)
    assert st.shift_ticks(T0) == -5  # −4.5 rounds away from zero


def test_almgren_chriss_temporary_cost_is_fixed_plus_linear_and_side_free() -> None:
    st = start(AlmgrenChrissImpact(permanent=0.0, temporary=0.25, fixed_cost=1.0))
    assert st.temporary_cost_ticks(1, 8) == pytest.approx(3.0)
    assert st.temporary_cost_ticks(Side.SELL, 8) == pytest.approx(3.0)
    st.on_fill(T0, 1, 8, 100)
    assert st.shift_ticks(T0) == 0  # the temporary part never moves the book


def test_parameters_in_other_ticks_are_rescaled_to_the_run_tick() -> None:
    # γ = 1 tick of $0.0001 per lot = 0.01 tick of $0.01: 250 lots → 2.5 → 3 ticks of $0.01
    model = AlmgrenChrissImpact(permanent=1.0, temporary=0.0, tick_size=0.0001)
    st = start(model, tick=0.01)
    st.on_fill(T0, 1, 250, 100)
    assert st.impact_ticks(T0) == pytest.approx(2.5)
    assert st.shift_ticks(T0) == 3
    st2 = start(model, tick=0.0001)
    st2.on_fill(T0, 1, 250, 100)
    assert st2.shift_ticks(T0) == 250


# ---------------------------------------------------------------------------- square-root law
def sqrt_model(**kw):
    params = {
        "Y": 1.0,
        "sigma_ticks_per_sqrt_day": 100.0,
        "daily_volume_lots": 10_000.0,
        "delta": 0.5,
        "decay_s": 100.0,
        "permanent_fraction": 0.5,
        "metaorder_gap_s": 60.0,
    }
    params.update(kw)
    return SquareRootImpact(**params)


def test_square_root_peak_and_relaxation_of_one_fill() -> None:
    # I = Y σ sqrt(Q/V) = 100 · sqrt(100/10000) = 10 ticks; relaxes to 5 with τ = 100 s
    st = start(sqrt_model())
    st.on_fill(T0, 1, 100, 100)
    assert st.impact_ticks(T0) == pytest.approx(10.0)
    assert st.impact_ticks(T0 + 100 * S) == pytest.approx(5 + 5 * math.exp(-1))
    assert st.shift_ticks(T0 + 100 * S) == 7  # 6.84
    assert st.impact_ticks(T0 + 100_000 * S) == pytest.approx(5.0)


def test_square_root_is_concave_in_the_cumulative_metaorder() -> None:
    # 100 then 300 lots 30 s apart (one metaorder): Q = 400 → 100 · sqrt(0.04) = 20 ticks, not 10 + 17.3
    st = start(sqrt_model())
    st.on_fill(T0, 1, 100, 100)
    st.on_fill(T0 + 30 * S, 1, 300, 100)
    assert st.impact_ticks(T0 + 30 * S) == pytest.approx(20.0)
    assert st.impact_ticks(T0 + 130 * S) == pytest.approx(10 + 10 * math.exp(-1))


def test_square_root_opposite_fill_starts_a_new_metaorder() -> None:
    st = start(sqrt_model())
    st.on_fill(T0, 1, 100, 100)
    st.on_fill(T0 + 30 * S, 1, 300, 100)  # buy metaorder peaks at 20 at 30 s
    st.on_fill(T0 + 200 * S, -1, 100, 100)  # a sell: the buy closes, relaxing since 30 s
    assert st.impact_ticks(T0 + 200 * S) == pytest.approx(10 + 10 * math.exp(-1.7) - 10)
    expected = 10 + 10 * math.exp(-9.7) - 5 - 5 * math.exp(-8.0)
    assert st.impact_ticks(T0 + 1_000 * S) == pytest.approx(expected)


def test_square_root_gap_longer_than_metaorder_gap_starts_afresh() -> None:
    # 100 lots, then 100 more 100 s later (> 60 s gap): 5 + 5e^-1 + 10, not 100 · sqrt(0.02) = 14.1
    st = start(sqrt_model())
    st.on_fill(T0, 1, 100, 100)
    st.on_fill(T0 + 100 * S, 1, 100, 100)
    assert st.impact_ticks(T0 + 100 * S) == pytest.approx(15 + 5 * math.exp(-1))


def test_square_root_without_decay_keeps_the_whole_peak() -> None:
    st = start(sqrt_model(decay_s=None))
    st.on_fill(T0, 1, 100, 100)
    st.on_fill(T0 + 500 * S, -1, 100, 100)  # a new metaorder, the buy's 10 stays
    assert st.impact_ticks(T0 + 500 * S) == pytest.approx(0.0)
    assert st.impact_ticks(T0 + 10_000 * S) == pytest.approx(0.0)
    st2 = start(sqrt_model(decay_s=None))
    st2.on_fill(T0, 1, 100, 100)
    assert st2.impact_ticks(T0 + 10_000 * S) == pytest.approx(10.0)
    assert not sqrt_model(decay_s=None).has_decay()


def test_square_root_delta_changes_the_size_law() -> None:
    st = start(sqrt_model(delta=1.0, decay_s=None))
    st.on_fill(T0, 1, 2_500, 100)
    assert st.impact_ticks(T0) == pytest.approx(25.0)  # 100 · 2500/10000


# ---------------------------------------------------------------------------- propagator
def test_exponential_propagator_by_hand() -> None:
    # G(t) = 1 + 10 e^{−t/10 s}: buy at 0, sell at 10 s; at 20 s: (1 + 10e^-2) − (1 + 10e^-1)
    model = PropagatorImpact(G0=10.0, kernel="exponential", tau_s=10.0, permanent=1.0)
    st = start(model)
    st.on_fill(T0, 1, 7, 100)
    assert st.impact_ticks(T0) == pytest.approx(11.0)
    st.on_fill(T0 + 10 * S, -1, 7, 100)
    expected = 10 * (math.exp(-2) - math.exp(-1))
    assert st.impact_ticks(T0 + 20 * S) == pytest.approx(expected, abs=1e-9)
    assert st.shift_ticks(T0 + 20 * S) == -2  # −2.33
    assert st.impact_ticks(T0 + 10_000 * S) == pytest.approx(0.0, abs=1e-9)


def test_propagator_volume_factor() -> None:
    # f(v) = (v/100)^0.5: 400 lots count twice, 25 lots half
    model = PropagatorImpact(
        G0=4.0, kernel="exponential", tau_s=10.0, permanent=1.0, volume_exponent=0.5, volume_scale_lots=100.0
    )
    st = start(model)
    st.on_fill(T0, 1, 400, 100)
    assert st.impact_ticks(T0) == pytest.approx(10.0)
    st.on_fill(T0, -1, 25, 100)
    assert st.impact_ticks(T0) == pytest.approx(10.0 - 2.5)


def test_power_law_propagator_follows_the_power_law_within_one_percent() -> None:
    model = PropagatorImpact(G0=10.0, kernel="power_law", tau_s=5.0, beta=0.5, permanent=0.0)
    st = start(model)
    st.on_fill(T0, 1, 1, 100)
    for t_s in (0.0, 1.0, 5.0, 60.0, 600.0, 3_600.0, 23_400.0):
        exact = 10.0 * (1 + t_s / 5.0) ** -0.5
        assert st.impact_ticks(T0 + int(t_s * S)) == pytest.approx(exact, rel=0.01)


@pytest.mark.parametrize(
    ("beta", "tol"), [(0.05, 0.02), (0.2, 0.01), (0.5, 0.01), (1.0, 0.01), (2.0, 0.01), (3.0, 0.01)]
)
@pytest.mark.parametrize("horizon", [10.0, 1e5, 1e7])
def test_power_law_as_exponentials_error_bound(beta: float, tol: float, horizon: float) -> None:
    w, r = power_law_as_exponentials(beta, horizon)
    assert (w > 0).all()
    assert (r > 0).all()
    x = np.concatenate([[0.0], np.geomspace(1e-3, horizon, 3_000)])
    approx = (w[None, :] * np.exp(-np.outer(x, r))).sum(1)
    exact = (1 + x) ** -beta
    matters = exact > 1e-4
    assert np.max(np.abs(approx / exact - 1)[matters]) < tol
    assert np.max(np.abs(approx - exact)) < 0.02
    assert len(w) <= 30  # O(number of terms) per fill stays small


def test_power_law_as_exponentials_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="beta"):
        power_law_as_exponentials(0.0, 10.0)
    with pytest.raises(ValueError, match="horizon"):
        power_law_as_exponentials(0.5, -1.0)


# ---------------------------------------------------------------------------- the state contract
def test_shifts_at_matches_shift_ticks_and_returns_int64() -> None:
    a = start(PropagatorImpact(G0=10.0, kernel="exponential", tau_s=10.0))
    b = start(PropagatorImpact(G0=10.0, kernel="exponential", tau_s=10.0))
    for st in (a, b):
        st.on_fill(T0, 1, 1, 100)
    ts = T0 + np.arange(0, 60 * S, S // 3, dtype=np.int64)
    batch = a.shifts_at(ts)
    assert batch.dtype == np.int64
    assert batch.tolist() == [b.shift_ticks(int(t)) for t in ts]
    assert batch[0] == 10
    assert batch[-1] == 0


def test_time_must_not_go_back() -> None:
    st = start(AlmgrenChrissImpact(permanent=1.0, temporary=0.0))
    st.on_fill(T0, 1, 1, 100)
    assert st.shift_ticks(T0) == 1  # the same time is fine, and includes the fill
    with pytest.raises(TimeOrderError, match=str(T0 - 1)):
        st.shift_ticks(T0 - 1)
    with pytest.raises(TimeOrderError):
        st.on_fill(T0 - 5, 1, 1, 100)
    with pytest.raises(TimeOrderError, match="non-decreasing"):
        st.shifts_at(np.array([T0 + 2, T0 + 1], dtype=np.int64))
    assert st.now_ns == T0


def test_bad_fills_are_rejected_with_the_value() -> None:
    st = start(AlmgrenChrissImpact(permanent=1.0, temporary=0.0))
    with pytest.raises(DataError, match="side"):
        st.on_fill(T0, 0, 1, 100)
    with pytest.raises(DataError, match="side"):
        st.on_fill(T0, Side.NONE, 1, 100)
    with pytest.raises(DataError, match="qty_lots"):
        st.on_fill(T0, 1, 0, 100)
    with pytest.raises(DataError, match="qty_lots"):
        st.on_fill(T0, 1, 1.5, 100)
    st.on_fill(T0, Side.BUY, 2, 100)
    assert st.shift_ticks(T0) == 2


# ---------------------------------------------------------------------------- the estimator contract
def test_missing_values_name_what_to_pass_or_fit() -> None:
    with pytest.raises(ConfigError, match=r"'Y'.*fit"):
        SquareRootImpact(sigma_ticks_per_sqrt_day=1.0, daily_volume_lots=1.0).start(
            tick_size_price=0.01, rng=RNG
        )
    with pytest.raises(ConfigError, match="'G0'"):
        PropagatorImpact(tau_s=1.0).start(tick_size_price=0.01, rng=RNG)


@pytest.mark.parametrize(
    ("model", "name"),
    [
        (SquareRootImpact(Y=1, sigma_ticks_per_sqrt_day=1, daily_volume_lots=1, delta=-1), "delta"),
        (
            SquareRootImpact(Y=1, sigma_ticks_per_sqrt_day=1, daily_volume_lots=1, fit_delta="yes"),
            "fit_delta",
        ),
        (PropagatorImpact(G0=1, tau_s=1, kernel="gaussian"), "kernel"),
        (PropagatorImpact(G0=1, tau_s=0), "tau_s"),
        (AlmgrenChrissImpact(permanent=-1, temporary=0), "permanent"),
        (AlmgrenChrissImpact(permanent=1, temporary=0, tick_size=float("nan")), "tick_size"),
    ],
)
def test_invalid_parameters_are_named_when_started(model, name: str) -> None:
    with pytest.raises(ConfigError, match=f"parameter '{name}'"):
        model.start(tick_size_price=0.01, rng=RNG)


def test_start_needs_a_positive_tick() -> None:
    with pytest.raises(ConfigError, match="tick_size_price"):
        NoImpact().start(tick_size_price=0, rng=RNG)


def test_init_stores_parameters_and_set_params_rejects_unknown_names() -> None:
    m = SquareRootImpact(Y=0.7, delta=0.6)
    assert m.get_params()["Y"] == 0.7
    assert m.get_params()["delta"] == 0.6
    assert m.set_params(delta=0.4) is m
    assert m.delta == 0.4
    with pytest.raises(ConfigError, match="no parameter 'gamma'"):
        m.set_params(gamma=1.0)
    assert not m.is_fitted
    assert repr(m) == "SquareRootImpact(Y=0.7, delta=0.4)"


def test_one_fitted_model_drives_independent_runs() -> None:
    model = AlmgrenChrissImpact(permanent=1.0, temporary=0.0)
    a, b = start(model), start(model)
    a.on_fill(T0, 1, 3, 100)
    assert a.shift_ticks(T0) == 3
    assert b.shift_ticks(T0) == 0  # a fresh state per run


# ---------------------------------------------------------------------------- recursive = direct sum
fills_strategy = hst.lists(
    hst.tuples(hst.integers(0, 30 * S), hst.sampled_from([1, -1]), hst.integers(1, 5_000)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(fills=fills_strategy, probe=hst.integers(0, 120 * S))
def test_propagator_recursion_equals_the_direct_sum_over_fills(
    fills: list[tuple[int, int, int]], probe: int
) -> None:
    G0, G_inf, tau, alpha, v_ref = 7.0, 0.5, 3.0, 0.4, 100.0
    model = PropagatorImpact(
        G0=G0,
        kernel="exponential",
        tau_s=tau,
        permanent=G_inf,
        volume_exponent=alpha,
        volume_scale_lots=v_ref,
    )
    fills = sorted(fills)
    st_ = start(model)
    for t, side, q in fills:
        st_.on_fill(T0 + t, side, q, 100)
    t_probe = T0 + fills[-1][0] + probe
    direct = sum(
        side * (q / v_ref) ** alpha * (G_inf + G0 * math.exp(-(t_probe - T0 - t) / (tau * S)))
        for t, side, q in fills
    )
    assert st_.impact_ticks(t_probe) == pytest.approx(direct, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(fills=fills_strategy)
def test_almgren_chriss_shift_is_the_rounded_signed_volume(fills: list[tuple[int, int, int]]) -> None:
    # γ = 1/4 tick per lot: exact in binary, so halves are exact halves
    st_ = start(AlmgrenChrissImpact(permanent=0.25, temporary=0.0))
    for t, side, q in sorted(fills):
        st_.on_fill(T0 + t, side, q, 100)
    net = sum(side * q for _, side, q in fills)
    expected = int(math.copysign(math.floor(abs(net) / 4 + 0.5), net))
    assert st_.shift_ticks(T0 + 31 * S) == expected


@pytest.mark.parametrize(("side", "expected"), [(1, 5), (-1, -5)])
def test_scalar_and_batch_round_exact_halves_the_same_way(side: int, expected: int) -> None:
    a = start(AlmgrenChrissImpact(permanent=0.5, temporary=0.0))
    b = start(AlmgrenChrissImpact(permanent=0.5, temporary=0.0))
    for st in (a, b):
        st.on_fill(T0, side, 9, 100)  # ±4.5 ticks
    assert a.shift_ticks(T0) == expected
    assert b.shifts_at(np.array([T0], dtype=np.int64)).tolist() == [expected]
