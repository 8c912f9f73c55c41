"""TCA of real backtest sessions: two parents over two replay venues with permanent impact."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from execsim.backtest import RunConfig, RunResult, run_session
from execsim.execution.strategy import Strategy, StrategyContext
from execsim.model.enums import Side, TimeInForce
from execsim.tca import TcaConfig, analyze, read_tca, write_tca

S = 1_000_000_000
GAMMA = 0.05  # permanent impact, ticks per lot


class TwoParents(Strategy):
    """Buy 60 in six marketable IOC slices alternating venues A and B (from 5 s), then sell 40
    (from 90 s): 20 resting at the ask on A, 20 marketable IOC on B. One unparented order."""

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer(ctx.now + 5 * S, "buy")
        ctx.set_timer(ctx.now + 90 * S, "sell")
        ctx.set_timer(ctx.now + 150 * S, "stray")
        self.k = 0

    def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
        book = ctx.book()
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is not None
        assert ask is not None
        if payload == "buy":
            self.buy = ctx.new_parent(Side.BUY, 60, algo="slices")
            ctx.set_timer(ctx.now, "slice")
        elif payload == "slice" and self.k < 6:
            venue = ("A", "B")[self.k % 2]
            ctx.submit(
                Side.BUY, 10, ask[0] + 5, tif=TimeInForce.IOC, venue=venue, parent_id=self.buy.parent_id
            )
            self.k += 1
            ctx.set_timer(ctx.now + 5 * S, "slice")
        elif payload == "sell":
            p = ctx.new_parent(Side.SELL, 40, algo="mixed")
            ctx.submit(Side.SELL, 20, ask[0], venue="A", parent_id=p.parent_id)
            ctx.submit(Side.SELL, 20, bid[0] - 5, tif=TimeInForce.IOC, venue="B", parent_id=p.parent_id)
        elif payload == "stray":
            ctx.submit(Side.BUY, 1, ask[0] + 5, tif=TimeInForce.IOC, venue="B")


@pytest.fixture(scope="module")
def result() -> RunResult:
    cfg = RunConfig.from_dict({
        "name": "tca-e2e", "seed": 3,
        "data": {"kind": "synthetic", "n_events": 100_000, "minutes": 5},
        "venues": [{"name": "A", "kind": "replay"}, {"name": "B", "kind": "replay"}],
        "impact": {
            "model": "almgren_chriss", "params": {"permanent": GAMMA, "temporary": 0.0, "tick_size": 0.01}
        },
        "strategy": {"class": "execsim.backtest.strategies:SliceTaker"},  # names the run; TwoParents runs
        "counterfactual": True,
    })  # fmt: skip
    return run_session(cfg, strategy=TwoParents())


def test_builder_tables_have_the_schema_of_real_results(result: RunResult, builder: Any) -> None:
    builder.quote(0, 99, 101).cf_quote(0, 99, 101)
    p = builder.parent("buy", 1, 0, 99, 101)
    builder.fill(builder.order(p, "buy", 1, 0, arrival=(99, 101)), 0, 101, 1)
    made = builder.build()
    for name, table in result.tables.items():
        assert made.tables[name].schema.names == table.schema.names, name
        assert made.tables[name].schema.types == table.schema.types, name


def test_report_of_a_real_session_satisfies_the_identities(result: RunResult) -> None:
    rep = analyze(result, config=TcaConfig(reversion_horizons_s=(1.0, 60.0)))
    assert [(p.side, p.qty, p.algo) for p in rep.parents] == [("buy", 60, "slices"), ("sell", 40, "mixed")]
    fills = result.fills.to_pylist()
    for p in rep.parents:
        sf = p.metrics["shortfall"]
        parts = ("delay_cost", "timing_cost", "trading_cost", "opportunity_cost", "fees")
        for unit in ("ccy", "bps"):
            total = sf[f"implementation_shortfall_{unit}"]
            assert math.isfinite(total)
            assert total == pytest.approx(sum(sf[f"{k}_{unit}"] for k in parts), rel=1e-9, abs=1e-9)
        mine = [f for f in fills if f["parent_id"] == p.parent_id]
        assert sf["filled_qty"] == sum(f["qty"] for f in mine) > 0
        if sf["unfilled_qty"] == 0:  # fully filled and no fees: shortfall is the arrival slippage
            assert sf["implementation_shortfall_ccy"] == pytest.approx(
                p.metrics["slippage"]["slippage_arrival_ccy"]
            )
        sp = p.metrics["spreads"]
        assert sp["effective_spread_ticks"] == pytest.approx(
            sp["realized_spread_1s_ticks"] + 2 * sp["price_impact_1s_ticks"]
        )
        cf = p.metrics["counterfactual"]
        assert cf["mid_move_ticks"] == pytest.approx(cf["impact_ticks"] + cf["drift_ticks"])
    buy = rep.parents[0].metrics
    assert buy["fill"]["fill_rate_by_quantity"] == 1.0
    assert buy["venues"]["by_venue"]["A"]["routed_qty"] == buy["venues"]["by_venue"]["B"]["routed_qty"] == 30
    # one second after the buy parent ends, the book sits GAMMA × 60 = 3 ticks above the twin's
    assert buy["counterfactual"]["gap_at_start_ticks"] == 0.0
    assert buy["counterfactual"]["impact_after_1s_ticks"] == pytest.approx(GAMMA * 60)
    # the run's venue table counts the unparented order too
    orders = result.orders.to_pylist()
    for v in ("A", "B"):
        assert rep.venues["by_venue"][v]["routed_qty"] == sum(o["qty"] for o in orders if o["venue"] == v)
        assert rep.venues["by_venue"][v]["filled_qty"] == sum(f["qty"] for f in fills if f["venue"] == v)
    assert rep.unattributed["n_orders"] == 1


def test_tca_json_of_a_real_session_is_reproducible_from_the_results_folder(
    result: RunResult, tmp_path: Path
) -> None:
    folder = result.write(tmp_path)
    path = write_tca(result, folder)
    again = analyze(RunResult.load(folder))
    assert json.loads(path.read_text()) == again.to_dict()
    assert read_tca(folder).to_json() == again.to_json()
