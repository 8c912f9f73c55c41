"""Implementation shortfall and its decomposition on hand-computed cases, and the identity."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execsim.tca import TcaConfig, analyze

COMPONENTS = ("delay_cost", "timing_cost", "trading_cost", "opportunity_cost", "fees")


def _market(b: Any, mids: list[tuple[float, int]]) -> None:
    for t, m in mids:
        b.quote(t, m - 1, m + 1)


def _buy_case(b: Any) -> Any:
    """Buy 100 decided at mid 1000; 60 filled by two children; close mid 1006; tick 0.01."""
    _market(b, [(0, 1000), (1, 1002), (5, 1004), (10, 1006)])
    p = b.parent("buy", 100, 0, 999, 1001)
    c1 = b.order(p, "buy", 30, 2, arrival=(1001, 1003))
    b.fill(c1, 2, 1003, 30, fee=0.5)
    c2 = b.order(p, "buy", 40, 6, arrival=(1003, 1005))
    b.fill(c2, 6, 1005, 20).fill(c2, 8, 1004, 10, maker=True, fee=-0.1)
    return b


def _sell_case(b: Any) -> Any:
    """The buy case mirrored around 1000: a sell of 100 whose costs are the same numbers."""
    _market(b, [(0, 1000), (1, 998), (5, 996), (10, 994)])
    p = b.parent("sell", 100, 0, 999, 1001)
    c1 = b.order(p, "sell", 30, 2, arrival=(997, 999))
    b.fill(c1, 2, 997, 30, fee=0.5)
    c2 = b.order(p, "sell", 40, 6, arrival=(995, 997))
    b.fill(c2, 6, 995, 20).fill(c2, 8, 996, 10, maker=True, fee=-0.1)
    return b


@pytest.mark.parametrize("case", [_buy_case, _sell_case], ids=["buy", "sell"])
def test_shortfall_of_a_partially_filled_parent_matches_the_hand_computation(case: Any, builder: Any) -> None:
    sf = analyze(case(builder).build()).parents[0].metrics["shortfall"]
    # ticks × lots: delay 60·2 = 120, timing 20·2 + 10·2 = 60, trading 30·1 + 20·1 + 10·0 = 50,
    # opportunity 40·(1006 − 1000) = 240; × 0.01 USD; fees 0.5 − 0.1
    expected = {
        "delay_cost": 1.2,
        "timing_cost": 0.6,
        "trading_cost": 0.5,
        "opportunity_cost": 2.4,
        "fees": 0.4,
    }
    for k, v in expected.items():
        assert sf[f"{k}_ccy"] == pytest.approx(v, abs=1e-12), k
        assert sf[f"{k}_bps"] == pytest.approx(v / 1000 * 1e4, abs=1e-9), k  # paper notional 100·1000·0.01
    assert sf["implementation_shortfall_ccy"] == pytest.approx(5.1, abs=1e-12)
    assert sf["implementation_shortfall_bps"] == pytest.approx(51.0, abs=1e-9)
    assert (sf["filled_qty"], sf["unfilled_qty"]) == (60, 40)
    assert sf["decision_mid_ticks"] == 1000.0
    assert sf["decision_mid_source"] == "arrival quote"


def test_opportunity_cost_can_use_the_mid_when_the_parent_ended(builder: Any) -> None:
    cfg = TcaConfig(opportunity_price="end")
    sf = analyze(_buy_case(builder).build(), config=cfg).parents[0].metrics["shortfall"]
    # the last child was done at its last fill (8 s), when the mid was 1004
    assert sf["opportunity_price_ticks"] == 1004.0
    assert sf["opportunity_cost_ccy"] == pytest.approx(40 * 4 * 0.01)


def test_a_parent_with_no_fills_costs_only_its_opportunity(builder: Any) -> None:
    b = builder
    _market(b, [(0, 1000), (10, 995)])
    b.parent("sell", 50, 0, 999, 1001)
    sf = analyze(b.build()).parents[0].metrics["shortfall"]
    # a sell whose price fell 5 ticks while nothing was sold: 50 · 5 · 0.01 lost
    assert sf["opportunity_cost_ccy"] == pytest.approx(2.5)
    assert sf["implementation_shortfall_ccy"] == pytest.approx(2.5)
    assert sf["delay_cost_ccy"] == sf["timing_cost_ccy"] == sf["trading_cost_ccy"] == 0.0


def test_a_favourable_execution_is_a_negative_cost(builder: Any) -> None:
    b = builder
    _market(b, [(0, 1000), (10, 990)])
    p = b.parent("buy", 10, 0, 999, 1001)
    c = b.order(p, "buy", 10, 5, arrival=(994, 996))
    b.fill(c, 5, 995, 10, maker=True)
    sf = analyze(b.build()).parents[0].metrics["shortfall"]
    # bought 10 at 995 against a decision mid of 1000: −50 ticks·lots; the mid had fallen by 5
    assert sf["implementation_shortfall_ccy"] == pytest.approx(-0.5)
    assert sf["timing_cost_ccy"] == 0.0
    assert sf["delay_cost_ccy"] == pytest.approx(-0.5)
    assert sf["trading_cost_ccy"] == pytest.approx(0.0)


def test_decision_mid_falls_back_to_the_market_when_the_arrival_quote_was_one_sided(builder: Any) -> None:
    b = builder
    _market(b, [(0, 1000), (10, 1000)])
    b.parent("buy", 10, 1, 999, 0)
    sf = analyze(b.build()).parents[0].metrics["shortfall"]
    assert sf["decision_mid_ticks"] == 1000.0
    assert sf["decision_mid_source"] == "market sample"


def test_child_arrival_mid_falls_back_to_the_sample_before_its_arrival(builder: Any) -> None:
    b = builder
    _market(b, [(0, 1000), (3, 1004), (10, 1004)])
    p = b.parent("buy", 10, 0, 999, 1001)
    c = b.order(p, "buy", 10, 3, arrival=None)  # arrives exactly at the 3 s sample: use the one before
    b.fill(c, 3, 1001, 10)
    sf = analyze(b.build()).parents[0].metrics["shortfall"]
    assert sf["first_arrival_mid_ticks"] == 1000.0
    assert sf["trading_cost_ccy"] == pytest.approx(10 * 1 * 0.01)


@st.composite
def _runs(draw: st.DrawFn) -> Any:
    """A random market path, parent, children and fills, as calls on a builder."""
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    b = _Recorder(calls)
    units = {
        "tick_size": draw(st.sampled_from(["0.01", "0.5", "1"])),
        "lot_size": draw(st.sampled_from(["1", "0.001"])),
    }
    n = draw(st.integers(1, 12))
    mid = 10_000
    for i in range(n):
        mid += draw(st.integers(-5, 5))
        half = draw(st.integers(1, 3))
        b.quote(i * 2.0, mid - half, mid + half)
    side = draw(st.sampled_from(["buy", "sell"]))
    qty = draw(st.integers(1, 500))
    bid = draw(st.integers(9_980, 10_000))
    p = b.parent(side, qty, draw(st.floats(0, 2 * n)), bid, bid + draw(st.integers(1, 4)))
    for _ in range(draw(st.integers(0, 4))):
        t = draw(st.floats(0, 2 * n))
        m = draw(st.integers(9_950, 10_050))
        arrival = draw(st.one_of(st.none(), st.just((m - 1, m + 1))))
        c = b.order(p, side, 100, t, arrival=arrival, venue=draw(st.sampled_from(["A", "B"])))
        for _ in range(draw(st.integers(0, 3))):
            b.fill(c, t + draw(st.floats(0, 5)), m + draw(st.integers(-3, 3)), draw(st.integers(1, 80)),
                   maker=draw(st.booleans()), fee=draw(st.floats(-1, 1)))  # fmt: skip
    return units, calls


class _Recorder:
    """Records builder calls (Hypothesis draws data; the test replays it on a real builder)."""

    def __init__(self, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
        self.calls = calls
        self.n_orders = 0

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kw: Any) -> Any:
            self.calls.append((name, args, kw))
            if name in ("order", "parent"):
                self.n_orders += name == "order"
                return self.n_orders if name == "order" else 1
            return self

        return call


@settings(max_examples=60, deadline=None)
@given(_runs(), st.sampled_from(["close", "end"]))
def test_shortfall_equals_the_sum_of_its_components(make_run: Any, spec: Any, opp: str) -> None:
    units, calls = spec
    b = make_run(**units)
    for name, args, kw in calls:
        getattr(b, name)(*args, **kw)
    cfg = TcaConfig(opportunity_price=opp)  # type: ignore[arg-type]
    sf = analyze(b.build(), config=cfg).parents[0].metrics["shortfall"]
    for unit in ("ccy", "bps"):
        total = sf[f"implementation_shortfall_{unit}"]
        parts = [sf[f"{k}_{unit}"] for k in COMPONENTS]
        assert math.isfinite(total)
        assert total == pytest.approx(sum(parts), rel=1e-9, abs=1e-9)
    # and the total is the definition: s Σ q (p − P_d) + s U (P_opp − P_d), in currency, plus fees
    p = b.parents[0]
    s = 1 if p["side"] == "buy" else -1
    pd = (p["arrival_bid"] + p["arrival_ask"]) / 2
    f = float(b.instrument.tick_size * b.instrument.lot_size)
    filled = sum(x["qty"] for x in b.fills)
    unfilled = max(p["qty"] - filled, 0)
    direct = s * sum(x["qty"] * (x["price"] - pd) for x in b.fills) * f + sum(x["fee"] for x in b.fills)
    direct += s * unfilled * (sf["opportunity_price_ticks"] - pd) * f if unfilled else 0.0
    assert sf["implementation_shortfall_ccy"] == pytest.approx(direct, rel=1e-9, abs=1e-9)
