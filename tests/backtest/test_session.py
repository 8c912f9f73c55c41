"""Backtest sessions over the synthetic market with the mock venue: timing, ledger, results."""

from __future__ import annotations

import filecmp
from pathlib import Path
from typing import Any

import pytest

from execsim.backtest import RunConfig, RunResult, run_session
from execsim.backtest.strategies import SliceTaker
from execsim.core.errors import ConfigError, DataNotFoundError
from execsim.data.synthetic import default_instrument
from execsim.execution.strategy import FillInfo, OrderInfo, Strategy, StrategyContext, TradeInfo
from execsim.model import OrderStatus, Side, TimeInForce
from execsim.venues.base import ExecutionReport, MockVenue, Quote

SYN = {"kind": "synthetic", "n_events": 30_000, "minutes": 2}


def _cfg(**over: Any) -> RunConfig:
    base: dict[str, Any] = {
        "data": SYN,
        "strategy": {"class": "execsim.backtest.strategies:SliceTaker"},
        "venues": [{"kind": "mock"}],
    }
    base.update(over)
    return RunConfig.from_dict(base)


def _mock(bid: int = 99_990, ask: int = 100_010) -> MockVenue:
    return MockVenue(name="LIT", instrument=default_instrument(), book=Quote(bid, 50, ask, 50))


class Recorder(Strategy):
    """Sends one marketable buy at a fixed time and records what it learns, when."""

    def __init__(self, at_offset_ns: int = 1_000_000_000, price: int = 100_010, qty: int = 30) -> None:
        self.at_offset_ns, self.price, self.qty = at_offset_ns, price, qty
        self.seen: list[tuple[str, int, Any]] = []
        self.order_id: int | None = None

    def on_start(self, ctx: StrategyContext) -> None:
        self.seen.append(("start", ctx.now, None))
        ctx.set_timer(ctx.now + self.at_offset_ns, "go")

    def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
        self.order_id = ctx.submit(Side.BUY, self.qty, self.price)
        self.seen.append(("submit", ctx.now, self.order_id))
        ctx.log(f"sent {self.order_id}")

    def on_order_update(self, ctx: StrategyContext, order: OrderInfo, report: ExecutionReport) -> None:
        self.seen.append(("update", ctx.now, (order.status, report.kind.value)))

    def on_fill(self, ctx: StrategyContext, fill: FillInfo) -> None:
        self.seen.append(("fill", ctx.now, (fill.price, fill.qty, ctx.position)))

    def on_stop(self, ctx: StrategyContext) -> None:
        self.seen.append(("stop", ctx.now, None))


def test_orders_reach_the_venue_after_entry_latency_and_reports_return_after_response_latency() -> None:
    cfg = _cfg(
        latency={
            "order_entry": {"model": "constant", "latency_ns": 300_000},
            "response": {"model": "constant", "latency_ns": 700_000},
        }
    )
    strat = Recorder()
    res = run_session(cfg, strategy=strat, venues=[_mock()])
    start = res.manifest["start_ns"]
    sent = start + 1_000_000_000
    kinds = [(k, t) for k, t, _ in strat.seen]
    assert kinds[0] == ("start", start)
    assert ("submit", sent) in kinds
    # accepted and filled at the venue at sent + 300 µs, learnt at + 700 µs more
    assert [x for x in strat.seen if x[0] in ("update", "fill")] == [
        ("update", sent + 1_000_000, (OrderStatus.ACCEPTED, "accepted")),
        ("update", sent + 1_000_000, (OrderStatus.FILLED, "fill")),
        ("fill", sent + 1_000_000, (100_010, 30, 30)),
    ]
    fills = res.fills.to_pylist()
    assert len(fills) == 1
    assert fills[0]["ts_venue"] == sent + 300_000
    assert fills[0]["ts_recv"] == sent + 1_000_000
    assert res.orders.to_pylist()[0]["status"] == "filled"
    assert res.strategy_log.to_pylist()[0]["message"] == "sent 1"
    assert strat.seen[-1][0] == "stop"


def test_the_session_ends_at_the_last_market_event_and_records_market_state() -> None:
    res = run_session(_cfg(), venues=[_mock()])
    trades = res.market_trades.to_pylist()
    assert res.manifest["end_ns"] >= trades[-1]["ts_local"]
    assert res.manifest["end_ns"] - res.manifest["start_ns"] <= 2 * 60 * 10**9 + 10**7
    market = res.market.to_pylist()
    assert market[0]["bid_px"] == 99_990
    assert len(market) == pytest.approx(1201, abs=2)  # ten samples a second for two minutes
    assert res.manifest["session"]["events_replayed"] == 30_000


def test_a_rejected_order_and_a_session_end_expiry_are_recorded() -> None:
    class Twice(Strategy):
        def on_start(self, ctx: StrategyContext) -> None:
            ctx.set_timer(ctx.now + 10**9, None)

        def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
            ctx.submit(Side.BUY, 0, 99_000)  # qty 0: rejected by the venue
            ctx.submit(Side.BUY, 5, 99_000)  # rests until the end

    res = run_session(_cfg(), strategy=Twice(), venues=[_mock()])
    orders = {o["order_id"]: o for o in res.orders.to_pylist()}
    assert orders[1]["status"] == "rejected"
    assert "qty must be positive" in orders[1]["reason"]
    assert orders[2]["status"] == "expired"
    assert orders[2]["reason"] == "session end"


def test_cancel_of_a_resting_order_and_position_tracking() -> None:
    class CancelLater(Strategy):
        def on_start(self, ctx: StrategyContext) -> None:
            ctx.set_timer(ctx.now + 10**9, "send")

        def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
            if payload == "send":
                self.oid = ctx.submit(Side.SELL, 7, 100_050)
                ctx.submit(Side.SELL, 20, 99_990, tif=TimeInForce.IOC)
                ctx.set_timer(ctx.now + 10**8, "cancel")
            else:
                assert ctx.position == -20
                ctx.cancel(self.oid)

    res = run_session(_cfg(), strategy=CancelLater(), venues=[_mock()])
    orders = {o["order_id"]: o for o in res.orders.to_pylist()}
    assert orders[1]["status"] == "cancelled"
    assert orders[2]["filled_qty"] == 20
    events = [(e["order_id"], e["kind"], e["command"]) for e in res.order_events.to_pylist()]
    assert (1, "cancelled", "cancel") in events


def test_trade_subscription_delivers_each_print_at_receive_time() -> None:
    class Trades(Strategy):
        def __init__(self) -> None:
            self.trades: list[tuple[int, TradeInfo]] = []

        def on_start(self, ctx: StrategyContext) -> None:
            ctx.subscribe_trades()

        def on_trade(self, ctx: StrategyContext, trade: TradeInfo) -> None:
            self.trades.append((ctx.now, trade))

    s = Trades()
    res = run_session(_cfg(), strategy=s, venues=[_mock()])
    prints = res.market_trades.to_pylist()
    assert len(s.trades) == len(prints) > 100
    assert all(now == t.ts_recv for now, t in s.trades)
    assert [t.price for _, t in s.trades] == [p["price"] for p in prints]


def test_twin_runs_write_byte_identical_results(tmp_path: Path) -> None:
    cfg = _cfg(strategy={"class": "execsim.backtest.strategies:SliceTaker", "params": {"total_qty": 60}})
    a = run_session(cfg, venues=[_mock(100_000, 100_001)]).write(tmp_path / "a")
    b = run_session(cfg, venues=[_mock(100_000, 100_001)]).write(tmp_path / "b")
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert "manifest.json" in names
    assert "fills.parquet" in names
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert mismatch == []
    assert errors == []
    loaded = RunResult.load(a)
    assert loaded.run_id == cfg.config_id
    assert loaded.fills.num_rows > 0


def test_a_different_seed_changes_the_synthetic_market() -> None:
    a = run_session(_cfg(seed=1), venues=[_mock()])
    b = run_session(_cfg(seed=2), venues=[_mock()])
    assert a.market_trades.to_pylist() != b.market_trades.to_pylist()


def test_config_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="unknown key 'sedd'"):
        RunConfig.from_dict({"sedd": 1, "strategy": {"class": "x:y"}})
    with pytest.raises(ConfigError, match="cannot load strategy 'nowhere:Nothing'"):
        run_session(_cfg(strategy={"class": "nowhere:Nothing"}), venues=[_mock()])
    with pytest.raises(ConfigError, match="unknown key 'slicez'"):
        run_session(
            _cfg(strategy={"class": "execsim.backtest.strategies:SliceTaker", "params": {"slicez": 3}})
        )
    with pytest.raises(DataNotFoundError, match="data file not found"):
        run_session(_cfg(data={"kind": "parquet", "path": "/nonexistent/x.parquet"}))


def test_slice_taker_buys_its_total_against_a_deep_mock_book() -> None:
    strat = SliceTaker(SliceTaker.Config(total_qty=40, slices=4, max_cross_ticks=20))
    res = run_session(_cfg(), strategy=strat, venues=[_mock(99_000, 100_001)])
    assert strat.filled == 40
    assert sum(f["qty"] for f in res.fills.to_pylist()) == 40


def test_counterfactual_run_stores_the_market_path_without_our_orders(tmp_path: Path) -> None:
    res = run_session(_cfg(counterfactual=True))
    cf = res.counterfactual_market.to_pylist()
    assert len(cf) == res.market.num_rows
    # the mock venue does not react to us, so the path without our orders is the same
    assert cf == res.market.to_pylist()
    folder = res.write(tmp_path)
    assert RunResult.load(folder).counterfactual_market.num_rows == len(cf)
    with pytest.raises(ConfigError, match="counterfactual run builds its venues"):
        run_session(_cfg(counterfactual=True), venues=[_mock()])


def test_parent_orders_record_the_arrival_quote_and_children_carry_their_parent() -> None:
    class Parent(Strategy):
        def on_start(self, ctx: StrategyContext) -> None:
            ctx.set_timer(ctx.now + 10**9, None)

        def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
            p = ctx.new_parent(Side.BUY, 40, algo="test")
            self.seen_bid = ctx.book().best_bid()
            ctx.submit(Side.BUY, 40, 100_010, parent_id=p.parent_id)
            with pytest.raises(Exception, match="unknown parent id 9"):
                ctx.submit(Side.BUY, 1, 1, parent_id=9)

    s = Parent()
    res = run_session(_cfg(), strategy=s, venues=[_mock()])
    parents = res.parents.to_pylist()
    assert len(parents) == 1
    assert parents[0]["qty"] == 40
    assert parents[0]["arrival_bid"] == s.seen_bid[0]
    assert parents[0]["ts_decision"] == res.manifest["start_ns"] + 10**9
    assert res.orders.to_pylist()[0]["parent_id"] == 1
    assert res.fills.to_pylist()[0]["parent_id"] == 1


def test_orders_record_the_venue_quote_at_arrival() -> None:
    res = run_session(_cfg(), strategy=Recorder(), venues=[_mock(99_950, 100_010)])
    o = res.orders.to_pylist()[0]
    assert (o["arrival_bid_px"], o["arrival_ask_px"], o["arrival_ask_qty"]) == (99_950, 100_010, 50)


def test_a_pre_trade_control_denies_an_order_as_an_event_and_nothing_reaches_the_venue() -> None:
    class Big(Strategy):
        def __init__(self) -> None:
            self.updates: list[Any] = []

        def on_start(self, ctx: StrategyContext) -> None:
            ctx.set_timer(ctx.now + 10**9, None)

        def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
            ctx.submit(Side.BUY, 5_000, 100_010)
            ctx.submit(Side.BUY, 10, 100_010)

        def on_order_update(self, ctx: StrategyContext, order: OrderInfo, report: Any) -> None:
            self.updates.append((order.order_id, order.status, getattr(report, "rule", None)))

    s = Big()
    res = run_session(_cfg(risk={"max_order_qty": 1_000}), strategy=s, venues=[_mock()])
    orders = {o["order_id"]: o for o in res.orders.to_pylist()}
    assert orders[1]["status"] == "rejected"
    assert orders[1]["reason"].startswith("denied: max_order_qty")
    assert orders[2]["status"] == "filled"
    assert (1, OrderStatus.REJECTED, "max_order_qty") in s.updates
    assert all(f["order_id"] == 2 for f in res.fills.to_pylist())
    kinds = {e["kind"] for e in res.oms_events.to_pylist()}
    assert "denied" in kinds


def test_the_kill_switch_cancels_open_orders_and_denies_new_ones() -> None:
    from execsim.backtest.session import Session

    class Rest(Strategy):
        def on_start(self, ctx: StrategyContext) -> None:
            ctx.set_timer(ctx.now + 10**9, "rest")
            ctx.set_timer(ctx.now + 3 * 10**9, "again")

        def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
            ctx.submit(Side.BUY, 5, 99_000)

    session = Session(_cfg(), strategy=Rest(), venues=[_mock()])
    session.kernel.schedule(session.start_ns + 2 * 10**9, lambda: session.kill(reason="test"), priority=2)
    res = session.run()
    orders = {o["order_id"]: o for o in res.orders.to_pylist()}
    assert orders[1]["status"] == "cancelled"
    assert orders[2]["status"] == "rejected"
    assert "kill_switch" in orders[2]["reason"]
