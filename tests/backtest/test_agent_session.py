"""Sessions on the live, reactive agent market: our orders change the market itself."""

from __future__ import annotations

from typing import Any

from execsim.backtest import RunConfig, run_session
from execsim.execution.strategy import Strategy, StrategyContext
from execsim.model import Side


def _cfg(**over: Any) -> RunConfig:
    base: dict[str, Any] = {
        "data": {"kind": "agents", "minutes": 2},
        "venues": [{"kind": "replay"}],
        "strategy": {
            "class": "execsim.backtest.strategies:SliceTaker",
            "params": {"total_qty": 1500, "slices": 5, "interval_ms": 15_000, "max_cross_ticks": 50},
        },
    }
    base.update(over)
    return RunConfig.from_dict(base)


def _mid(row: dict[str, int]) -> float:
    return (row["bid_px"] + row["ask_px"]) / 2


def test_a_large_buy_moves_the_agent_market_up_against_its_counterfactual() -> None:
    res = run_session(_cfg(counterfactual=True))
    assert res.manifest["session"]["venues"] == {"LIT": "AgentMarketVenue"}
    assert sum(f["qty"] for f in res.fills.to_pylist()) >= 500
    actual, cf = res.market.to_pylist(), res.counterfactual_market.to_pylist()
    assert actual[0] == cf[0]  # same seed: the same market until we trade
    assert _mid(actual[-1]) > _mid(cf[-1])  # endogenous impact: the agents reacted to our buying
    assert res.market_trades.num_rows > 0
    assert res.manifest["end_ns"] - res.manifest["start_ns"] == 2 * 60 * 10**9


def test_agent_sessions_are_deterministic() -> None:
    a, b = run_session(_cfg()), run_session(_cfg())
    assert a.fills.to_pylist() == b.fills.to_pylist()
    assert a.market.to_pylist() == b.market.to_pylist()
    c = run_session(_cfg(seed=1))
    assert c.market.to_pylist() != a.market.to_pylist()


def test_trade_callbacks_on_the_live_market_arrive_in_order_and_never_late() -> None:
    from execsim.execution.strategy import TradeInfo

    class Trades(Strategy):
        def __init__(self) -> None:
            self.seen: list[tuple[int, TradeInfo]] = []

        def on_start(self, ctx: StrategyContext) -> None:
            ctx.subscribe_trades()
            ctx.set_timer(ctx.now + 30 * 10**9, None)

        def on_timer(self, ctx: StrategyContext, payload: object) -> None:
            ctx.submit(Side.BUY, 300, 10**9)  # a marketable buy: its own prints come back to us too

        def on_trade(self, ctx: StrategyContext, trade: TradeInfo) -> None:
            self.seen.append((ctx.now, trade))

    s = Trades()
    res = run_session(_cfg(), strategy=s)
    prints = res.market_trades.to_pylist()
    assert len(s.seen) == len(prints) > 0
    assert all(now == t.ts_recv for now, t in s.seen)  # delivered exactly at receive time
    assert [t.ts_event for _, t in s.seen] == [p["ts_event"] for p in prints]
    assert [now for now, _ in s.seen] == sorted(now for now, _ in s.seen)


def test_traded_volume_counts_the_prints_the_strategy_has_seen() -> None:
    class Poll(Strategy):
        def __init__(self) -> None:
            self.seen: list[int] = []

        def on_start(self, ctx: StrategyContext) -> None:
            ctx.subscribe_book(10 * 10**9)

        def on_book(self, ctx: StrategyContext) -> None:
            self.seen.append(ctx.traded_volume())

    s = Poll()
    res = run_session(_cfg(), strategy=s)
    assert s.seen == sorted(s.seen)
    assert 0 < s.seen[-1] <= sum(t["qty"] for t in res.market_trades.to_pylist())


def test_an_impact_model_on_the_agent_market_is_refused_with_the_reason() -> None:
    import pytest

    from execsim.core.errors import ConfigError

    with pytest.raises(ConfigError, match="impact is endogenous"):
        run_session(_cfg(impact={"model": "almgren_chriss", "params": {"permanent": 0.1, "temporary": 0.0}}))


def test_a_shared_twin_cache_runs_each_distinct_counterfactual_once() -> None:
    twins: dict[str, Any] = {}
    slicer = run_session(_cfg(name="slicer", counterfactual=True), twins=twins)
    assert len(twins) == 1
    idle = run_session(_cfg(name="idle", counterfactual=True), strategy=Strategy(), twins=twins)
    assert len(twins) == 1  # same market, other name and strategy: the twin is reused
    alone = run_session(_cfg(name="slicer", counterfactual=True))
    assert slicer.counterfactual_market.to_pylist() == alone.counterfactual_market.to_pylist()
    assert idle.counterfactual_market.to_pylist() == idle.market.to_pylist()  # no orders: no impact
    other_seed = run_session(_cfg(seed=3, counterfactual=True), twins=twins)
    assert len(twins) == 2
    assert other_seed.counterfactual_market.to_pylist() != slicer.counterfactual_market.to_pylist()


def test_the_twin_key_ignores_name_strategy_and_flag_but_not_the_market() -> None:
    from execsim.backtest import counterfactual_key

    base = counterfactual_key(_cfg())
    assert counterfactual_key(_cfg(name="other", counterfactual=True)) == base
    assert counterfactual_key(_cfg(strategy={"class": "execsim.execution:Strategy"})) == base
    assert counterfactual_key(_cfg(seed=9)) != base
    assert counterfactual_key(_cfg(data={"kind": "agents", "minutes": 3})) != base
