from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from execsim.agents.stylized_facts import (
    autocorrelation,
    depth_profile,
    excess_kurtosis,
    impact_exponent,
    log_returns,
    market_series,
    spread_stats,
    stylized_facts,
    window_impact,
)
from execsim.data.schema import F_LAST, K_ADD, K_DELETE, K_EXECUTE, K_TRADE, empty_events

S = 1_000_000_000


def _events(rows: list[tuple[int, int, int, int, int, int]]) -> np.ndarray:
    """(ts, kind, side, price, qty, order_id) rows, each its own message."""
    ev = empty_events(len(rows))
    for i, (ts, kind, side, price, qty, oid) in enumerate(rows):
        ev[i] = (ts, ts, i, kind, side, price, qty, oid, F_LAST)
    return ev


def test_spread_stats_of_a_known_sample() -> None:
    s = spread_stats(np.arange(1, 101, dtype=float))  # 1..100
    assert s.mean == pytest.approx(50.5)
    assert s.median == pytest.approx(50.5)
    assert s.p5 == pytest.approx(5.95)  # numpy's linear interpolation: 1 + 0.05 × 99
    assert s.p95 == pytest.approx(95.05)


def test_spread_stats_refuses_an_empty_sample() -> None:
    with pytest.raises(ValueError, match="at least one"):
        spread_stats(np.zeros(0))


def test_depth_profile_averages_samples_and_sides() -> None:
    bid = np.array([[10, 20], [30, 40]])
    ask = np.array([[50, 0], [70, 0]])
    assert depth_profile(bid, ask).tolist() == [40.0, 15.0]  # ((10+30)/2 + (50+70)/2) / 2, ...


def test_excess_kurtosis_of_hand_made_distributions() -> None:
    assert excess_kurtosis(np.array([-1.0, 1.0] * 50)) == pytest.approx(-2.0)  # two-point: 1 − 3
    # one spike among n zeros: deviations (n−1)/n once and −1/n n−1 times, so
    # m2 = (n−1)/n², m4 = (n−1)((n−1)³+1)/n⁵ and m4/m2² = ((n−1)³+1) / (n(n−1))
    n = 100
    x = np.zeros(n)
    x[0] = 1.0
    assert excess_kurtosis(x) == pytest.approx(((n - 1) ** 3 + 1) / (n * (n - 1)) - 3.0)
    assert np.isnan(excess_kurtosis(np.ones(10)))


def test_log_returns_take_every_step_th_sample() -> None:
    mid = np.array([100.0, 110.0, 121.0, 133.1, 146.41])
    assert log_returns(mid, 2) == pytest.approx(np.log([1.21, 1.21]))
    assert log_returns(mid, 1) == pytest.approx(np.log([1.1] * 4))


def test_autocorrelation_of_an_alternating_series() -> None:
    x = np.array([1.0, -1.0] * 50)
    acf = autocorrelation(x, [1, 2])
    assert acf[0] == pytest.approx(-0.99)  # biased estimator: (n − 1) / n
    assert acf[1] == pytest.approx(0.98)


def test_impact_exponent_recovers_a_square_root_law() -> None:
    rng = np.random.default_rng(1)
    q = rng.choice([-1, 1], 400) * rng.uniform(10, 10_000, 400)
    d = 0.3 * np.sign(q) * np.abs(q) ** 0.5
    fit = impact_exponent(q, d, n_bins=8)
    assert fit.exponent == pytest.approx(0.5, abs=0.02)
    assert fit.n_used == 8


def test_impact_exponent_recovers_a_linear_law_and_ignores_empty_windows() -> None:
    q = np.concatenate((np.linspace(-500, 500, 201), np.zeros(50)))
    fit = impact_exponent(q, 0.01 * q, n_bins=5)
    assert fit.exponent == pytest.approx(1.0, abs=0.01)
    assert fit.n_windows == 200  # q = 0 dropped (201 points, one is 0)


def test_impact_exponent_is_nan_without_enough_bins() -> None:
    assert np.isnan(impact_exponent(np.array([1.0, 2.0]), np.array([1.0, 1.0])).exponent)


def test_market_series_samples_the_book_as_of_each_grid_time() -> None:
    ev = _events(
        [
            (0, K_ADD, 1, 100, 5, 1),
            (0, K_ADD, -1, 110, 7, 2),
            (int(1.5 * S), K_ADD, 1, 104, 3, 3),  # bid improves between grid points 1 and 2
            (2 * S, K_EXECUTE, -1, 110, 7, 2),  # ask emptied exactly at t = 2 s: no valid quote then
            (int(2.5 * S), K_ADD, -1, 108, 1, 4),
            (3 * S, K_TRADE, 1, 108, 2, 0),
        ]
    )
    s = market_series(ev, n_levels=2)
    assert s.grid_ns.tolist() == [0, S, 2 * S, 3 * S]
    assert s.valid.tolist() == [True, True, False, True]
    assert s.spread.tolist() == [10.0, 10.0, 4.0]
    assert s.mid.tolist() == [105.0, 105.0, 105.0, 106.0]  # t = 2 s forward-filled
    assert s.bid_qty[:, 0].tolist() == [5, 5, 3]
    assert s.bid_qty[:, 1].tolist() == [0, 0, 5]
    # EXECUTE of a resting ask: the aggressor bought (+1); TRADE carries the aggressor side
    assert s.trade_sign.tolist() == [1, 1]
    assert s.trade_qty.tolist() == [7, 2]


def test_market_series_scales_prices_and_reads_batches() -> None:
    ev = _events([(0, K_ADD, 1, 10_000, 5, 1), (0, K_ADD, -1, 10_300, 5, 2), (S, K_DELETE, 1, 10_000, 5, 1)])
    s = market_series([ev[:2], ev[2:]], price_per_tick=100, end_ns=S)
    assert s.spread.tolist() == [3.0]
    assert s.valid.tolist() == [True, False]


def test_window_impact_sums_signed_volume_per_window() -> None:
    ev = _events(
        [
            (0, K_ADD, 1, 100, 50, 1),
            (0, K_ADD, -1, 102, 50, 2),
            (S // 2, K_EXECUTE, -1, 102, 10, 2),  # buy 10 in window 0
            (S, K_ADD, -1, 101, 5, 3),  # mid 101 -> 100.5 at t = 1 s
            (int(1.5 * S), K_EXECUTE, 1, 100, 20, 1),  # sell 20 in window 1
            (2 * S, K_DELETE, 1, 100, 30, 1),
            (2 * S, K_ADD, 1, 99, 1, 4),  # mid 100 at t = 2 s
        ]
    )
    q, d = window_impact(market_series(ev), S)
    assert q.tolist() == [10.0, -20.0]
    assert d.tolist() == [-0.5, -0.5]


def test_real_spread_samples_match_lobsters_own_orderbook_file(lobster_goog: tuple[Path, Path]) -> None:
    from execsim.data.feeds.lobster import LobsterFeed

    msg, book = lobster_goog
    ev = np.concatenate(list(LobsterFeed(msg, book).batches(1 << 16)))
    s = market_series(ev, price_per_tick=100, n_levels=1)
    # independently: LOBSTER's orderbook row k is the book after message k; times from the message file
    with gzip.open(msg, "rt") as f:
        times = np.loadtxt(f, delimiter=",", usecols=0)
    with gzip.open(book, "rt") as f:
        top = np.loadtxt(f, delimiter=",", usecols=(0, 2))
    t_ns = ev["ts_event"][0] + np.round((times - times[0]) * 1e9).astype(np.int64)
    k = np.searchsorted(t_ns, s.grid_ns, side="right") - 1
    spread = (top[k, 0] - top[k, 1]) / 100
    assert spread.size == s.spread.size
    assert np.mean(spread == s.spread) > 0.999
    facts = stylized_facts(ev, price_per_tick=100)
    assert facts.spread.median == float(np.median(spread))
    assert facts.n_trades == 7765 + 3913  # LOBSTER types 4 and 5 (PROVENANCE.md counts)
