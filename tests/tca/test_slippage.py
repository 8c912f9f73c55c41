"""Slippage against arrival, VWAP, TWAP and close; participation; fill rates; time to fill."""

from __future__ import annotations

import math
from typing import Any

import pytest

from execsim.tca import TcaConfig, analyze


def _case(b: Any, side: str) -> Any:
    """Buy (or, mirrored around 1000, sell) 100 from t = 0; 80 filled; interval [0, 90] s."""

    def px(x: int) -> int:
        return x if side == "buy" else 2000 - x

    def quote(t: float, bid: int, ask: int) -> None:
        lo, hi = sorted((px(bid), px(ask)))
        b.quote(t, lo, hi)

    quote(0, 999, 1001)
    quote(10, 1003, 1005)
    quote(100, 1009, 1011)
    b.trade(5, px(1002), 100).trade(15, px(1006), 100).trade(70, px(1007), 40).trade(200, px(1010), 50)
    p = b.parent(side, 100, 0, 999, 1001)
    c1 = b.order(p, side, 40, 5, arrival=(999, 1001))
    b.fill(c1, 5, px(1003), 40)
    c2 = b.order(p, side, 40, 60, arrival=(999, 1001))
    b.fill(c2, 65, px(1005), 40, maker=True)
    b.order(p, side, 20, 80, arrival=(999, 1001), done_s=90)
    return b


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_slippage_against_each_benchmark(builder: Any, side: str) -> None:
    sl = analyze(_case(builder, side).build()).parents[0].metrics["slippage"]
    # average fill 1004 (mirrored: 996); 80 filled; bps of the decision mid 1000; 0.01 USD a tick
    expected_ticks = {
        "arrival": 4.0,  # 1004 − 1000
        "vwap": -0.5,  # tape in [0, 90]: (100·1002 + 100·1006 + 40·1007) / 240 = 1004.5
        "vwap_with_ours": -0.375,  # with our 40@1003 and 40@1005: 321400 / 320 = 1004.375
        "twap": 1004 - (10 * 1000 + 80 * 1004) / 90,  # mid 1000 for 10 s then 1004 for 80 s
        "close": -6.0,  # last mid 1010
    }
    for name, ticks in expected_ticks.items():
        assert sl[f"slippage_{name}_bps"] == pytest.approx(ticks / 1000 * 1e4), name
        assert sl[f"slippage_{name}_ccy"] == pytest.approx(ticks * 80 * 0.01), name
    assert (sl["interval_start_ns"], sl["interval_end_ns"]) == (
        builder.parents[0]["ts_decision"],
        builder.parents[0]["ts_decision"] + 90 * 10**9,
    )


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_participation_overall_and_per_minute(builder: Any, side: str) -> None:
    pa_ = analyze(_case(builder, side).build()).parents[0].metrics["participation"]
    # [0, 60): tape 200 + ours 40 → 40/240; [60, 90]: tape 40 + ours 40 → 1/2; overall 80/320
    assert pa_["participation_rate"] == pytest.approx(0.25)
    assert pa_["participation_mean_bucket"] == pytest.approx((1 / 6 + 1 / 2) / 2)
    assert pa_["participation_max_bucket"] == pytest.approx(0.5)
    assert pa_["n_buckets"] == 2
    assert (pa_["market_qty"], pa_["market_with_ours_qty"], pa_["our_qty"]) == (240.0, 320.0, 80)


def test_participation_when_the_tape_already_has_our_fills(builder: Any) -> None:
    cfg = TcaConfig(our_fills_in_tape=True)
    pa_ = analyze(_case(builder, "buy").build(), config=cfg).parents[0].metrics["participation"]
    assert pa_["participation_rate"] == pytest.approx(80 / 240)
    assert pa_["participation_max_bucket"] == pytest.approx(1.0)  # [60, 90]: 40 of a tape of 40


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_fill_rates_and_time_to_fill(builder: Any, side: str) -> None:
    fr = analyze(_case(builder, side).build()).parents[0].metrics["fill"]
    assert fr["fill_rate_by_quantity"] == pytest.approx(0.8)
    assert fr["fill_rate_by_count"] == pytest.approx(2 / 3)
    assert (fr["n_children"], fr["n_children_filled"], fr["n_children_complete"], fr["n_fills"]) == (
        3,
        2,
        2,
        2,
    )
    assert fr["time_to_first_fill_s"] == pytest.approx(5.0)
    assert fr["time_to_last_fill_s"] == pytest.approx(65.0)
    assert fr["complete"] is False


def test_a_parent_without_fills_has_no_slippage_but_a_zero_fill_rate(builder: Any) -> None:
    builder.quote(0, 99, 101).quote(9, 99, 101)
    builder.parent("buy", 10, 0, 99, 101)
    m = analyze(builder.build()).parents[0].metrics
    assert math.isnan(m["slippage"]["slippage_arrival_bps"])
    assert m["fill"]["fill_rate_by_quantity"] == 0.0
    assert math.isnan(m["fill"]["fill_rate_by_count"])  # no children
