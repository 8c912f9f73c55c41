from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from execsim.agents.calibration import order_flow_stats, size_table
from execsim.core.errors import DataError
from execsim.data.schema import F_LAST, F_SNAPSHOT, K_ADD, K_CLEAR, K_DELETE, K_EXECUTE, empty_events

S = 1_000_000_000


def _events(rows: list[tuple[int, int, int, int, int, int, int]]) -> np.ndarray:
    ev = empty_events(len(rows))
    for i, (ts, kind, side, price, qty, oid, flags) in enumerate(rows):
        ev[i] = (ts, ts, i, kind, side, price, qty, oid, flags | F_LAST)
    return ev


def test_size_table_keeps_point_masses_and_merges_equal_quantiles() -> None:
    sizes = np.array([100] * 50 + [10] * 25 + [1] * 25)
    v, w = size_table(sizes, n=4)  # quantile midpoints 12.5 %, 37.5 %, 62.5 %, 87.5 %
    assert v == (1, 10, 100)
    assert w == (0.25, 0.25, 0.5)
    with pytest.raises(ValueError, match="at least one"):
        size_table(np.zeros(0, np.int64))


def test_order_flow_stats_on_a_hand_made_stream() -> None:
    snap = F_SNAPSHOT
    ev = _events(
        [
            (0, K_CLEAR, 0, 0, 0, 0, snap),
            (0, K_ADD, 1, 100, 10, 1, snap),
            (0, K_ADD, -1, 110, 10, 2, snap),
            (1 * S, K_ADD, 1, 104, 5, 3, 0),  # inside the spread by 4 ticks
            (2 * S, K_ADD, -1, 110, 5, 4, 0),  # at the best ask
            (3 * S, K_ADD, 1, 97, 5, 5, 0),  # behind the best bid (104) by 7 ticks
            (4 * S, K_EXECUTE, -1, 110, 10, 2, 0),  # one market buy of 15: two executions, same time
            (4 * S, K_EXECUTE, -1, 110, 5, 4, 0),
            (5 * S, K_DELETE, 1, 104, 5, 3, 0),  # order 3 lived 4 s
            (9 * S, K_EXECUTE, 1, 100, 2, 1, 0),  # a market sell of 2
        ]
    )
    s = order_flow_stats(ev)
    assert s.duration_s == 9.0  # the snapshot at t = 0 counts for the time span only
    assert s.limit_rate == pytest.approx(3 / 9)
    assert s.cancel_rate == pytest.approx(1 / 9)
    assert s.market_order_rate == pytest.approx(2 / 9)
    assert s.mean_market_size == pytest.approx(8.5)
    assert (s.p_inside, s.p_at_best, s.p_behind) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert s.inside_improvement_median == 4.0
    assert s.behind_distance_quantiles[1] == 7.0
    assert s.median_life_s["inside"] == 4.0
    assert s.median_life_s["at_best"] == 2.0  # order 4: added at 2 s, executed at 4 s
    assert np.isnan(s.median_life_s["behind"])  # order 5 still rests


def test_order_flow_stats_refuses_what_is_not_an_event_array() -> None:
    with pytest.raises(DataError):
        order_flow_stats(np.zeros(3))


def test_goog_order_flow_matches_counts_read_from_the_message_file(lobster_goog: tuple[Path, Path]) -> None:
    from execsim.data.feeds.lobster import LobsterFeed

    msg, book = lobster_goog
    ev = np.concatenate(list(LobsterFeed(msg, book).batches(1 << 16)))
    s = order_flow_stats(ev, price_per_tick=100)
    with gzip.open(msg, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", usecols=(0, 1, 3))
    span = rows[-1, 0] - rows[0, 0]
    kinds = rows[:, 1]
    assert s.limit_rate == pytest.approx(np.sum(kinds == 1) / span, rel=1e-4)
    assert s.cancel_rate == pytest.approx(np.sum((kinds == 2) | (kinds == 3)) / span, rel=1e-4)
    assert s.mean_limit_size == pytest.approx(rows[kinds == 1, 2].mean())
    assert s.hidden_trade_rate == pytest.approx(np.sum(kinds == 5) / span, rel=1e-4)
    # the placement shares behind the defaults of NoiseTraderConfig
    assert s.p_inside == pytest.approx(0.18, abs=0.01)
    assert s.p_at_best == pytest.approx(0.16, abs=0.01)
