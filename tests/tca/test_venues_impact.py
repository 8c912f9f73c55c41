"""Venue analysis and our impact versus market drift from the counterfactual run."""

from __future__ import annotations

import math
from typing import Any

import pytest

from execsim.tca import TcaConfig, analyze


def _venues_case(b: Any) -> Any:
    b.quote(0, 100, 102, venue="LIT").quote(0, 0, 0, venue="DARK", bid_qty=0, ask_qty=0)
    b.quote(10, 100, 101, venue="LIT").quote(10, 0, 0, venue="DARK", bid_qty=0, ask_qty=0)
    p = b.parent("buy", 100, 0, 100, 102)
    o1 = b.order(p, "buy", 50, 1, venue="LIT", arrival=(100, 102))
    b.fill(o1, 1, 102, 20).fill(o1, 3, 100, 10, maker=True)
    b.order(p, "buy", 20, 2, venue="LIT", arrival=(100, 102), done_s=4)
    o3 = b.order(p, "buy", 30, 5, venue="DARK", arrival=(0, 0))
    b.fill(o3, 5, 101, 25)  # at the lit mid 101
    b.fill(o3, 12, 100, 5)  # mid is 100.5 (a half tick): not a midpoint fill
    o4 = b.order(0, "buy", 10, 6, venue="LIT", arrival=(100, 102))  # no parent
    b.fill(o4, 6, 102, 10)
    return b


def test_venue_table_of_a_parent(builder: Any) -> None:
    rep = analyze(_venues_case(builder).build())
    lit = rep.parents[0].metrics["venues"]["by_venue"]["LIT"]
    dark = rep.parents[0].metrics["venues"]["by_venue"]["DARK"]
    assert (lit["n_orders"], lit["routed_qty"], lit["filled_qty"], lit["n_fills"]) == (2, 70, 30, 2)
    assert lit["fill_rate"] == pytest.approx(30 / 70)
    assert lit["passive_share"] == pytest.approx(1 / 3)
    assert lit["aggressive_share"] == pytest.approx(2 / 3)
    assert lit["midpoint_share"] == 0.0
    assert (dark["routed_qty"], dark["filled_qty"]) == (30, 30)
    assert dark["fill_rate"] == 1.0
    assert dark["midpoint_share"] == pytest.approx(25 / 30)
    assert lit["routed_share"] == pytest.approx(0.7)
    assert dark["filled_share"] == pytest.approx(0.5)


def test_run_venue_table_includes_orders_without_a_parent(builder: Any) -> None:
    rep = analyze(_venues_case(builder).build())
    lit = rep.venues["by_venue"]["LIT"]
    assert (lit["n_orders"], lit["routed_qty"], lit["filled_qty"]) == (3, 80, 40)
    assert rep.unattributed["n_orders"] == 1
    assert rep.unattributed["filled_qty"] == 10


def _cf_case(b: Any, side: str) -> Any:
    def px(x: int) -> int:
        return x if side == "buy" else 2000 - x

    for t, m, c in [(0, 1000, 1000), (10, 1006, 1002), (20, 1008, 1003)]:
        b.quote(t, px(m) - 1, px(m) + 1)
        b.cf_quote(t, px(c) - 1, px(c) + 1)
    p = b.parent(side, 10, 0, 999, 1001)
    o = b.order(p, side, 10, 10, arrival=(px(1006) - 1, px(1006) + 1))
    b.fill(o, 10, px(1007), 10)
    return b


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_counterfactual_splits_the_mid_move_into_our_impact_and_drift(builder: Any, side: str) -> None:
    cfg = TcaConfig(reversion_horizons_s=(10.0, 60.0))
    rep = analyze(_cf_case(builder, side).build(), config=cfg)
    assert rep.counterfactual_available
    cf = rep.parents[0].metrics["counterfactual"]
    # over [0, 10] s: the mid moved 6 ticks against us; without us it would have moved 2
    assert cf["mid_move_ticks"] == pytest.approx(6.0)
    assert cf["impact_ticks"] == pytest.approx(4.0)
    assert cf["drift_ticks"] == pytest.approx(2.0)
    assert cf["impact_bps"] == pytest.approx(40.0)
    assert cf["impact_ccy"] == pytest.approx(4 * 10 * 0.01)
    assert cf["mid_move_ccy"] == pytest.approx(cf["impact_ccy"] + cf["drift_ccy"])
    assert cf["impact_after_10s_ticks"] == pytest.approx(5.0)  # 1008 vs 1003 at 20 s
    assert math.isnan(cf["impact_after_60s_ticks"])  # past the data


def test_counterfactual_says_not_available_without_the_table(builder: Any) -> None:
    b = builder.quote(0, 99, 101)
    b.parent("buy", 10, 0, 99, 101)
    rep = analyze(b.build())
    cf = rep.parents[0].metrics["counterfactual"]
    assert not rep.counterfactual_available
    assert cf["available"] is False
    assert cf["reason"].startswith("not available")


def test_a_later_parent_is_charged_only_with_the_change_of_the_gap_our_orders_opened(builder: Any) -> None:
    b = builder
    for t, m, c in [(0, 1000, 1000), (10, 1006, 1002), (20, 1008, 1003), (30, 1009, 1003)]:
        b.quote(t, m - 1, m + 1)
        b.cf_quote(t, c - 1, c + 1)
    p1 = b.parent("buy", 10, 0, 999, 1001)
    b.fill(b.order(p1, "buy", 10, 10, arrival=(1005, 1007)), 10, 1007, 10)
    p2 = b.parent("buy", 10, 20, 1007, 1009)
    b.fill(b.order(p2, "buy", 10, 30, arrival=(1008, 1010)), 30, 1010, 10)
    cf = analyze(b.build()).parents[1].metrics["counterfactual"]
    # [20, 30] s: the mid rose 1 tick, the counterfactual 0; our earlier buying had opened a 5-tick gap
    assert cf["gap_at_start_ticks"] == pytest.approx(5.0)
    assert cf["mid_move_ticks"] == pytest.approx(1.0)
    assert cf["drift_ticks"] == pytest.approx(0.0)
    assert cf["impact_ticks"] == pytest.approx(1.0)
