"""Sessions over replayed data with the replay venues, queue models and market impact."""

from __future__ import annotations

from typing import Any

import pytest

from execsim.backtest import RunConfig, run_session

SYN = {"kind": "synthetic", "n_events": 100_000, "minutes": 5}
TAKER = {
    "class": "execsim.backtest.strategies:SliceTaker",
    "params": {"total_qty": 200, "slices": 4, "interval_ms": 30_000, "max_cross_ticks": 5},
}


def _cfg(**over: Any) -> RunConfig:
    base: dict[str, Any] = {"data": SYN, "strategy": TAKER, "venues": [{"kind": "replay"}]}
    base.update(over)
    return RunConfig.from_dict(base)


def test_slice_taker_fills_against_the_replayed_book_within_its_limits() -> None:
    res = run_session(_cfg())
    fills = res.fills.to_pylist()
    orders = {o["order_id"]: o for o in res.orders.to_pylist()}
    assert sum(f["qty"] for f in fills) == 200
    assert res.manifest["session"]["venues"] == {"LIT": "L2ReplayVenue"}
    for f in fills:
        o = orders[f["order_id"]]
        assert f["liquidity"] == "taker"
        assert f["price"] <= o["price"]  # a buy never pays above its limit
        assert f["price"] >= o["arrival_ask_px"]  # and takes the book from the touch upwards


def test_permanent_impact_moves_the_whole_book_by_gamma_times_our_volume() -> None:
    gamma = 0.05
    impact = {"model": "almgren_chriss", "params": {"permanent": gamma, "temporary": 0.0, "tick_size": 0.01}}
    res = run_session(_cfg(impact=impact, counterfactual=True))
    bought = sum(f["qty"] for f in res.fills.to_pylist())
    assert bought == 200
    actual = res.market.to_pylist()[-1]
    cf = res.counterfactual_market.to_pylist()[-1]
    shift = round(gamma * bought)
    assert actual["bid_px"] - cf["bid_px"] == shift
    assert actual["ask_px"] - cf["ask_px"] == shift
    assert res.manifest["session"]["impact"] == "almgren_chriss"


def test_without_impact_the_counterfactual_market_is_the_replayed_tape() -> None:
    res = run_session(_cfg(counterfactual=True))
    assert res.counterfactual_market.to_pylist() == res.market.to_pylist()


@pytest.mark.parametrize("model", ["risk_averse", "prob_power", "prob_log"])
def test_every_queue_model_runs_a_quoting_session_deterministically(model: str) -> None:
    cfg = _cfg(
        strategy={
            "class": "execsim.backtest.strategies:TouchQuoter",
            "params": {"qty": 5, "interval_ms": 500},
        },
        venues=[{"kind": "replay", "queue_model": {"model": model}}],
        data={"kind": "synthetic", "n_events": 40_000, "minutes": 2},
    )
    a, b = run_session(cfg), run_session(cfg)
    assert a.fills.to_pylist() == b.fills.to_pylist()
    assert a.fills.num_rows > 0
    assert {f["liquidity"] for f in a.fills.to_pylist()} == {"maker"}


def test_a_parents_arrival_quote_includes_the_impact_shift() -> None:
    from execsim.execution.strategy import Strategy, StrategyContext
    from execsim.model import Side

    class TwoParents(Strategy):
        def on_start(self, ctx: StrategyContext) -> None:
            ctx.set_timer(ctx.now + 10**9, 1)
            ctx.set_timer(ctx.now + 60 * 10**9, 2)

        def on_timer(self, ctx: StrategyContext, payload: object) -> None:
            p = ctx.new_parent(Side.BUY, 100)
            self.seen = ctx.book().best_ask()
            ask = self.seen[0] if self.seen else 0
            ctx.submit(Side.BUY, 100, ask + 10, parent_id=p.parent_id)

    impact = {"model": "almgren_chriss", "params": {"permanent": 0.05, "temporary": 0.0, "tick_size": 0.01}}
    s = TwoParents()
    res = run_session(_cfg(impact=impact), strategy=s)
    second = res.parents.to_pylist()[1]
    assert second["arrival_ask"] == s.seen[0]  # the shifted book the strategy saw, not the raw tape


def test_market_trades_on_order_by_order_data_include_executions_with_the_aggressor_side(
    lobster_goog: tuple[Any, Any],
) -> None:
    import numpy as np

    from execsim.data.feeds.lobster import LobsterFeed
    from execsim.data.schema import K_EXECUTE, K_TRADE

    msg, ob = lobster_goog
    ev = np.concatenate(list(LobsterFeed(msg, ob).batches()))
    start = int(ev["ts_event"][0])
    end = start + 5 * 60 * 10**9
    cfg = _cfg(
        data={"kind": "lobster", "messages": str(msg), "orderbook": str(ob)},
        strategy={"class": "execsim.backtest.strategies:SliceTaker", "params": {"total_qty": 1}},
        end_ns=end,
    )
    res = run_session(cfg)
    window = ev[(ev["ts_event"] <= end) & np.isin(ev["kind"], [K_EXECUTE, K_TRADE])]
    trades = res.market_trades.to_pylist()
    assert len(trades) == len(window)
    first_exec = window[window["kind"] == K_EXECUTE][0]
    row = next(t for t in trades if t["ts_event"] == first_exec["ts_event"])
    assert row["side"] == -int(first_exec["side"])
