"""The TCA report: several parents, aggregates, serialisation, metric selection and plug-ins."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from execsim.core.errors import ConfigError, DataNotFoundError
from execsim.tca import (
    FillsView,
    MarketState,
    TcaContext,
    TcaMetric,
    TcaReport,
    analyze,
    read_tca,
    write_tca,
)


def _two_parents(b: Any) -> Any:
    """Buy 100 (60 filled) and sell 50 (all filled) over one market; tick 0.01."""
    for t, m in [(0, 1000), (1, 1002), (5, 1004), (10, 1006), (20, 1006)]:
        b.quote(t, m - 1, m + 1)
    b.trade(3, 1003, 100).trade(7, 1005, 100)
    p1 = b.parent("buy", 100, 0, 999, 1001, algo="twap")
    c = b.order(p1, "buy", 60, 2, arrival=(1001, 1003))
    b.fill(c, 2, 1003, 60, fee=0.3)
    p2 = b.parent("sell", 50, 6, 1003, 1005, algo="pov")
    c = b.order(p2, "sell", 50, 8, arrival=(1003, 1005), venue="B")
    b.fill(c, 8, 1003, 50)
    return b


def test_each_parent_is_analysed_on_its_own_fills(builder: Any) -> None:
    rep = analyze(_two_parents(builder).build())
    assert [(p.parent_id, p.side, p.qty, p.algo) for p in rep.parents] == [
        (1, "buy", 100, "twap"),
        (2, "sell", 50, "pov"),
    ]
    s1, s2 = rep.parents[0].metrics["shortfall"], rep.parents[1].metrics["shortfall"]
    # buy: 60 × (1003 − 1000) + 40 × (1006 − 1000) ticks·lots, + 0.3 fees
    assert s1["implementation_shortfall_ccy"] == pytest.approx((180 + 240) * 0.01 + 0.3)
    # sell decided at mid 1004, sold 50 at 1003: 1 tick each
    assert s2["implementation_shortfall_ccy"] == pytest.approx(50 * 0.01)
    assert rep.parents[1].metrics["venues"]["by_venue"].keys() == {"B"}


def test_aggregate_sums_currency_and_weights_bps_by_paper_notional(builder: Any) -> None:
    rep = analyze(_two_parents(builder).build())
    s1, s2 = rep.parents[0].metrics["shortfall"], rep.parents[1].metrics["shortfall"]
    agg = rep.aggregate["shortfall"]
    total = s1["implementation_shortfall_ccy"] + s2["implementation_shortfall_ccy"]
    assert agg["implementation_shortfall_ccy"] == pytest.approx(total)
    notional = 100 * 1000 * 0.01 + 50 * 1004 * 0.01
    assert agg["implementation_shortfall_bps"] == pytest.approx(total / notional * 1e4)
    assert agg["paper_notional_ccy"] == pytest.approx(notional)
    assert rep.aggregate["fill"]["filled_qty"] == 110
    assert rep.aggregate["fill"]["fill_rate_by_quantity"] == pytest.approx(
        (0.6 * 1000 + 1.0 * 50 * 1004 / 100) / (1000 + 502)
    )
    assert rep.aggregate["parents"]["n_parents"] == 2
    assert "decision_mid_ticks" not in agg  # price levels are per parent only
    assert agg["opportunity_reference"] == "close"


def test_report_is_strict_json_and_round_trips_through_tca_json(builder: Any, tmp_path: Path) -> None:
    res = _two_parents(builder).build()
    rep = analyze(res)
    text = rep.to_json()
    d = json.loads(text)  # strict: no NaN literal
    assert "NaN" not in text
    assert d["schema"] == "execsim.tca/1"
    assert d["currency"] == "USD"
    assert d["parents"][0]["metrics"]["markouts"]["markout_300s_bps"] is None  # past the data
    path = write_tca(res, tmp_path / "run")
    assert path.name == "tca.json"
    back = read_tca(path.parent)
    assert back.to_dict() == rep.to_dict()
    assert back.parents[0].value("implementation_shortfall_ccy") == rep.parents[0].value(
        "implementation_shortfall_ccy"
    )
    with pytest.raises(DataNotFoundError):
        read_tca(tmp_path / "nowhere")


def test_report_is_frozen(builder: Any) -> None:
    rep = analyze(_two_parents(builder).build())
    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.run_id = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rep.parents[0].metrics["shortfall"]["fees_ccy"] = 0.0  # type: ignore[index]


def test_values_by_key(builder: Any) -> None:
    p = analyze(_two_parents(builder).build()).parents[1]
    assert p.value("implementation_shortfall_bps") == p.metrics["shortfall"]["implementation_shortfall_bps"]
    assert p.value("fill.filled_qty") == 50
    with pytest.raises(KeyError, match="ambiguous"):
        p.value("filled_qty")
    with pytest.raises(KeyError, match="unknown"):
        p.value("nope")


class _Notional:
    """A user metric: notional filled, in currency."""

    name = "notional"

    def compute(self, fills: FillsView, market: MarketState, context: TcaContext) -> Mapping[str, Any]:
        return {"filled_notional_ccy": fills.notional_ticks * context.ccy_per_tick_lot}


def test_metrics_can_be_chosen_by_name_and_extended_with_plug_ins(builder: Any) -> None:
    assert isinstance(_Notional(), TcaMetric)
    rep = analyze(_two_parents(builder).build(), metrics=["shortfall", _Notional()])
    assert rep.metrics == ("shortfall", "notional")
    assert rep.parents[0].metrics["notional"]["filled_notional_ccy"] == pytest.approx(60 * 1003 * 0.01)
    assert rep.aggregate["notional"]["filled_notional_ccy"] == pytest.approx((60 * 1003 + 50 * 1003) * 0.01)
    assert rep.venues == {}  # the venue table is one of the metrics
    with pytest.raises(ConfigError, match="unknown TCA metric 'vwapp'"):
        analyze(_two_parents(builder).build(), metrics=["vwapp"])
    with pytest.raises(ConfigError, match="repeated"):
        analyze(_two_parents(builder).build(), metrics=["fill", "fill"])


def test_a_run_without_parents_has_an_empty_report(builder: Any) -> None:
    b = builder.quote(0, 99, 101)
    o = b.order(0, "buy", 5, 1, arrival=(99, 101))
    b.fill(o, 1, 101, 5)
    rep = analyze(b.build())
    assert rep.parents == ()
    assert rep.unattributed["n_fills"] == 1
    assert rep.venues["by_venue"]["LIT"]["filled_qty"] == 5
    assert json.loads(rep.to_json())["aggregate"] == {"parents": {"n_parents": 0}}


def test_sell_is_the_mirror_of_a_buy_for_every_currency_cost(make_run: Any) -> None:
    def run(side: str) -> TcaReport:
        def px(x: int) -> int:
            return x if side == "buy" else 2000 - x

        b = make_run()
        for t, (lo, hi) in [(0, (999, 1001)), (3, (1001, 1004)), (9, (1002, 1004)), (400, (1003, 1007))]:
            a, c = sorted((px(lo), px(hi)))
            b.quote(t, a, c)
        b.trade(2, px(1001), 30).trade(4, px(1004), 10)
        p = b.parent(side, 50, 0, 999, 1001)
        o = b.order(p, side, 20, 1, arrival=tuple(sorted((px(999), px(1001)))))
        b.fill(o, 1, px(1001), 20, fee=0.1)
        o = b.order(p, side, 20, 4, arrival=tuple(sorted((px(1001), px(1004)))))
        b.fill(o, 5, px(1002), 15, maker=True, fee=-0.02)
        return analyze(b.build())

    buy, sell = run("buy").parents[0].metrics, run("sell").parents[0].metrics
    compared: list[str] = []

    def same(a: Mapping[str, Any], b: Mapping[str, Any], where: str) -> None:
        for k, v in a.items():
            if isinstance(v, Mapping):
                same(v, b[k], f"{where}.{k}")
            elif k.endswith(("_ccy", "_bps")) and isinstance(v, float) and math.isfinite(v):
                # both parents were decided at mid 1000, so bps compare as well as currency
                assert b[k] == pytest.approx(v, abs=1e-9), f"{where}.{k}"
                compared.append(f"{where}.{k}")

    same(buy, sell, "")
    assert len(compared) >= 40
    assert any(c.startswith(".spreads.price_impact") for c in compared)
