"""Calibrating impact on the real LOBSTER GOOG day (2012-06-21): sane ranges, populated diagnostics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from execsim.data.feeds.lobster import LobsterFeed
from execsim.impact import (
    ImpactConfig,
    PropagatorImpact,
    SquareRootImpact,
    TradeTape,
    calibrate_linear_impact,
    calibrate_propagator,
    calibrate_square_root,
    check_impact_model,
    trade_tape,
)

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def goog_tape(lobster_goog: tuple[Path, Path]) -> TradeTape:
    return trade_tape(LobsterFeed(*lobster_goog))


def test_goog_tape_counts_every_execution(goog_tape: TradeTape) -> None:
    # PROVENANCE.md: 7,765 visible (type 4) and 3,913 hidden (type 5) executions, no crosses
    assert goog_tape.n_executions == 7_765 + 3_913
    assert goog_tape.skipped == {}
    assert 5_000 < goog_tape.n_trades < goog_tape.n_executions  # sweeps merge into one trade
    assert goog_tape.tick_size == 0.0001  # LOBSTER's own price unit, from the feed
    # GOOG traded between $563.49 and $580.94: mids in that range, in $0.0001 ticks
    assert 5_634_900 <= goog_tape.mid_before.min()
    assert goog_tape.mid_before.max() <= 5_809_400
    assert goog_tape.span_s == pytest.approx(23_400, abs=1)


def test_goog_square_root_law(goog_tape: TradeTape) -> None:
    cal = calibrate_square_root(goog_tape, n_bootstrap=100)
    assert 0.2 < cal.delta < 1.0
    assert cal.delta_ci[0] < cal.delta < cal.delta_ci[1]
    assert 0 < cal.Y_ci[0] < cal.Y < cal.Y_ci[1]
    assert cal.r2 > 0.5
    assert cal.n_buckets > 600
    assert len(cal.bins) == 12
    assert len(cal.intervals) == 6
    # the net flow of a bucket moves the mid its way more often than not
    assert all(r.frac_with_flow > 0.5 for r in cal.intervals if r.interval_s <= 600)
    # σ: GOOG moved ~$5–6 over the day, i.e. tens of thousands of $0.0001 ticks
    assert 2e4 < cal.sigma_ticks_per_sqrt_day < 2e5
    assert cal.daily_volume_lots == pytest.approx(float(goog_tape.qty.sum()), rel=1e-3)
    md = cal.to_markdown()
    assert "| Y |" in md
    assert "Binned means" in md


def test_goog_propagator(goog_tape: TradeTape) -> None:
    cal = calibrate_propagator(goog_tape)
    assert cal.response[1] > 0  # a buy is followed by a higher mid
    assert cal.sign_autocorr[1] > 0.2  # order splitting: signs are persistent
    assert cal.pairs[1] == goog_tape.n_trades - 1
    for fit in cal.fits:
        assert fit.r2 > 0.5
        assert fit.G0 + fit.G_inf > 0
        assert fit.ell0 > 0
    assert 1.0 < cal.mean_intertrade_s < 5.0
    assert "Kernel fits" in cal.to_markdown()


def test_goog_linear_impact(goog_tape: TradeTape) -> None:
    cal = calibrate_linear_impact(goog_tape, n_bootstrap=50)
    assert cal.permanent > 0
    assert cal.permanent_ci[0] > 0
    # a small market order pays about the half-spread (spread ~ 10–30 cents on this day)
    assert 300 < cal.fixed_cost < 1_500


def test_goog_fitted_models_run_and_pass_the_checks(goog_tape: TradeTape) -> None:
    sq = SquareRootImpact().fit(goog_tape, n_bootstrap=20)
    pr = PropagatorImpact(kernel="exponential").fit(goog_tape)
    for model in (sq, pr):
        cfg = ImpactConfig.from_model(model)
        check_impact_model(cfg.build())
        st = model.start(tick_size_price=0.01, rng=np.random.default_rng(0))
        st.on_fill(0, 1, 1_000, 58_000)
        # buying 1,000 GOOG shares moves the price by a few cents at most, not dollars
        assert 0 < st.impact_ticks(0) < 100
