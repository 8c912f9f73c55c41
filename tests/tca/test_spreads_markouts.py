"""Quoted / effective / realized spread, price impact, spread capture, markouts, reversion."""

from __future__ import annotations

import math
from typing import Any

import pytest

from execsim.tca import TcaConfig, analyze, build_context


def _case(b: Any, side: str) -> Any:
    """One aggressive fill (venue X) and one passive fill (venue Y); mirrored around 1000 for a sell.

    Mids: 1000 from 0 s, 1002 from 10 s, 1004 from 11 s, 1006 from 25 s, 1003 from 70 s, 1001
    from 400 s (the last sample). Fill A: 10 @ 1003 at 10.5 s on arrival (quote 1001/1003).
    Fill B: 30 @ 1005 at 30 s, resting since 12 s (last sample before it 1005/1007).
    """

    def px(x: int) -> int:
        return x if side == "buy" else 2000 - x

    def q(lo: int, hi: int) -> tuple[int, int]:
        a, c = sorted((px(lo), px(hi)))
        return a, c

    for t, (lo, hi) in [(0, (999, 1001)), (10, (1001, 1003)), (11, (1003, 1005)), (25, (1005, 1007)),
                        (70, (1001, 1005)), (400, (1000, 1002))]:  # fmt: skip
        b.quote(t, *q(lo, hi))
    p = b.parent(side, 40, 0, 999, 1001)
    a = b.order(p, side, 10, 10.4, arrival_s=10.5, arrival=q(1001, 1003), venue="X")
    b.fill(a, 10.5, px(1003), 10)
    r = b.order(p, side, 30, 12, arrival=q(1003, 1005), venue="Y")
    b.fill(r, 30, px(1005), 30, maker=True)
    return b


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_spreads_and_price_impact_match_the_hand_computation(builder: Any, side: str) -> None:
    sp = analyze(_case(builder, side).build()).parents[0].metrics["spreads"]
    # per fill (ticks): A: mid 1002, effective 2, impact +2/+4/+1/+1 at 1/15/60/300 s;
    #                   B: mid 1006, effective −2, impact 0/0/−3/−3; weights 10 and 30
    expected = {
        "quoted_spread": 2.0,
        "effective_spread": (10 * 2 + 30 * -2) / 40,
        "passive_effective_spread": -2.0,
        "aggressive_effective_spread": 2.0,
        "price_impact_1s": (10 * 2 + 30 * 0) / 40,
        "price_impact_15s": (10 * 4 + 30 * 0) / 40,
        "price_impact_60s": (10 * 1 + 30 * -3) / 40,
        "price_impact_300s": (10 * 1 + 30 * -3) / 40,
        "realized_spread_1s": (10 * -2 + 30 * -2) / 40,
        "realized_spread_15s": (10 * -6 + 30 * -2) / 40,
        "realized_spread_60s": (10 * 0 + 30 * 4) / 40,
        "realized_spread_300s": (10 * 0 + 30 * 4) / 40,
    }
    for k, v in expected.items():
        assert sp[f"{k}_ticks"] == pytest.approx(v), k
        assert sp[f"{k}_bps"] == pytest.approx(v / 1000 * 1e4), k
    for h in ("1s", "15s", "60s", "300s"):  # effective = realized + 2 × impact
        assert sp["effective_spread_ticks"] == pytest.approx(
            sp[f"realized_spread_{h}_ticks"] + 2 * sp[f"price_impact_{h}_ticks"]
        )
    assert sp["spread_capture"] == pytest.approx(1.0)  # B filled at its own touch: the whole half spread
    assert (sp["passive_qty"], sp["aggressive_qty"]) == (30, 10)


@pytest.mark.parametrize("side", ["buy", "sell"])
def test_markouts_split_passive_aggressive_and_by_venue(builder: Any, side: str) -> None:
    mk = analyze(_case(builder, side).build()).parents[0].metrics["markouts"]
    # s (p − m_h): A (aggressive, X): −1, −1, 0, 0 at 1/10/60/300 s; B (passive, Y): −1, −1, 2, 2
    expected = {
        "1s": (-1.0, -1.0, -1.0),
        "10s": (-1.0, -1.0, -1.0),
        "60s": ((10 * 0 + 30 * 2) / 40, 2.0, 0.0),
        "300s": ((10 * 0 + 30 * 2) / 40, 2.0, 0.0),
    }
    for h, (all_, passive, aggressive) in expected.items():
        assert mk[f"markout_{h}_ticks"] == pytest.approx(all_), h
        assert mk[f"markout_{h}_bps"] == pytest.approx(all_ * 10), h
        assert mk[f"markout_{h}_passive_ticks"] == pytest.approx(passive), h
        assert mk[f"markout_{h}_aggressive_ticks"] == pytest.approx(aggressive), h
    x, y = mk["by_venue"]["X"], mk["by_venue"]["Y"]
    assert (x["filled_qty"], y["filled_qty"]) == (10, 30)
    assert x["markout_60s_ticks"] == pytest.approx(0.0)
    assert y["markout_60s_ticks"] == pytest.approx(2.0)
    assert math.isnan(x["markout_60s_passive_ticks"])  # X had no passive fill
    # the parent ended at B's fill (30 s, mid 1006); 60 s later the mid is 1003: 3 ticks came back
    assert mk["reversion_60s_ticks"] == pytest.approx(3.0)
    assert mk["reversion_300s_bps"] == pytest.approx(30.0)


def test_marks_beyond_the_last_sample_are_not_available(builder: Any) -> None:
    cfg = TcaConfig(
        markout_horizons_s=(1.0, 500.0), impact_horizons_s=(500.0,), reversion_horizons_s=(400.0,)
    )
    m = analyze(_case(builder, "buy").build(), config=cfg).parents[0].metrics
    assert math.isnan(m["markouts"]["markout_500s_ticks"])
    assert math.isnan(m["spreads"]["price_impact_500s_ticks"])
    assert math.isnan(m["markouts"]["reversion_400s_ticks"])
    assert m["markouts"]["markout_1s_ticks"] == pytest.approx(-1.0)


def test_pre_trade_reference_is_the_arrival_quote_when_it_is_newer_than_the_last_sample(builder: Any) -> None:
    b = builder.quote(0, 99, 101).quote(1, 100, 102).quote(5, 104, 106)
    p = b.parent("buy", 30, 0, 99, 101)
    a = b.order(p, "buy", 10, 1.5, arrival=(101, 103))  # met 101/103 at 1.5 s (after the 1 s sample)
    b.fill(a, 1.5, 103, 10)
    r = b.order(p, "buy", 10, 0.5, arrival=(99, 101))  # rested from 0.5 s, filled at 6 s
    b.fill(r, 6, 104, 10, maker=True)
    c = b.order(p, "buy", 10, 5, arrival=None)  # quote unknown: the sample strictly before 5 s
    b.fill(c, 5, 106, 10)
    _, _, fills, _ = build_context(b.build())
    assert fills.ref_mid.tolist() == [102.0, 105.0, 101.0]
