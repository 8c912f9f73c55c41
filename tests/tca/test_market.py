"""Market state helpers: as-of quotes (venue and consolidated), VWAP, TWAP, close, marks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from execsim.core.errors import TimeOrderError
from execsim.tca import MarketState


def _state(b: Any) -> MarketState:
    r = b.build()
    return MarketState(r.market, r.market_trades, r.tables.get("counterfactual_market"))


def test_quote_as_of_is_the_last_sample_at_or_before_and_strict_excludes_the_instant(
    builder: Any, at: Any
) -> None:
    b = builder.quote(1, 99, 101).quote(2, 100, 104)
    m = _state(b)
    assert math.isnan(m.mid_at(at(0.5)))  # before the first sample
    assert m.mid_at(at(1)) == 100.0
    assert m.mid_at(at(1.9)) == 100.0
    assert m.mid_at(at(2)) == 102.0
    assert m.mid_at(at(2), strict=True) == 100.0
    assert m.mid_at(at(50)) == 102.0  # as-of carries the last sample forward...
    assert math.isnan(float(m.mark(np.array([at(2)]), 1.0)[0]))  # ...but a mark past the data is unknown
    assert float(m.mark(np.array([at(1)]), 1.0)[0]) == 102.0


def test_consolidated_quote_takes_the_best_side_of_each_venue_and_skips_empty_sides(
    builder: Any, at: Any
) -> None:
    b = builder.quote(1, 99, 103, venue="A").quote(1, 100, 104, venue="B")
    b.quote(2, 0, 0, venue="DARK", bid_qty=0, ask_qty=0)
    b.quote(3, 98, 102, venue="A")
    m = _state(b)
    assert m.venues == ("A", "B", "DARK")
    bid, ask = m.quote(at(1.5))
    assert (bid[0], ask[0]) == (100.0, 103.0)  # B's bid, A's ask
    bid, ask = m.quote(at(3))
    assert (bid[0], ask[0]) == (100.0, 102.0)  # B's bid still stands; A's new ask
    assert m.mid_at(at(3), "A") == 100.0
    assert math.isnan(m.mid_at(at(3), "DARK"))


def test_one_sided_quote_has_no_mid(builder: Any, at: Any) -> None:
    m = _state(builder.quote(1, 99, 0, ask_qty=0))
    bid, ask = m.quote(at(1))
    assert bid[0] == 99.0
    assert math.isnan(ask[0])
    assert math.isnan(m.mid_at(at(1)))


def test_twap_weights_each_mid_by_how_long_it_stood(builder: Any, at: Any) -> None:
    m = _state(builder.quote(0, 99, 101).quote(2, 101, 103).quote(3, 103, 105))
    # over [1, 4]: mid 100 for 1 s, 102 for 1 s, 104 for 1 s
    assert m.twap(at(1), at(4)) == pytest.approx(102.0)
    # over [0, 3]: 100 for 2 s, 102 for 1 s
    assert m.twap(at(0), at(3)) == pytest.approx((2 * 100 + 102) / 3)
    assert m.twap(at(2.5), at(2.5)) == 102.0


def test_vwap_of_the_tape_with_and_without_our_fills(builder: Any, at: Any) -> None:
    b = builder.quote(0, 99, 101).trade(1, 100, 10).trade(2, 102, 30).trade(9, 200, 5)
    m = _state(b)
    ours = (np.array([at(1.5), at(20)]), np.array([110, 300]), np.array([10, 50]))
    # replayed tape: our fills are not on it
    assert m.vwap(at(0), at(5)) == pytest.approx((100 * 10 + 102 * 30) / 40)
    assert m.vwap(at(0), at(5), ours=ours, with_ours=True) == pytest.approx(
        (100 * 10 + 102 * 30 + 110 * 10) / 50
    )
    assert m.vwap(at(0), at(5), ours=ours, with_ours=False) == pytest.approx((100 * 10 + 102 * 30) / 40)
    # a tape that printed our fill: "without" takes it out
    assert m.vwap(at(0), at(5), ours=ours, with_ours=False, our_fills_in_tape=True) == pytest.approx(
        (100 * 10 + 102 * 30 - 110 * 10) / 30
    )
    assert m.volume(at(0), at(9)) == 45.0
    assert math.isnan(m.vwap(at(3), at(4)))


def test_close_is_the_last_mid_or_the_last_trade(builder: Any) -> None:
    m = _state(builder.quote(0, 99, 101).quote(5, 104, 106).trade(3, 103, 1).trade(4, 107, 2))
    assert m.close("mid") == 105.0
    assert m.close("trade") == 107.0


def test_samples_that_go_back_in_time_fail_with_the_row() -> None:
    t = pa.table({
        "ts": pa.array([5, 3], pa.int64()), "venue": ["A", "A"], "bid_px": pa.array([1, 1], pa.int64()),
        "bid_qty": pa.array([1, 1], pa.int64()), "ask_px": pa.array([2, 2], pa.int64()),
        "ask_qty": pa.array([1, 1], pa.int64()),
    })  # fmt: skip
    with pytest.raises(
        TimeOrderError, match=r"market, row 2: samples of venue 'A' go back in time \(got 3\)"
    ):
        MarketState(t)
