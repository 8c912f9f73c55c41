"""Pre-trade controls: each one just inside and just outside its limit (the denial names rule,
limit and value), the throttle's rolling window, the duplicate window, the config, plug-ins."""

from __future__ import annotations

import pytest

from execsim.core.errors import ConfigError
from execsim.execution import (
    Denial,
    ModifyRequest,
    OmsEventKind,
    OrderDenied,
    OrderManager,
    OrderRequest,
    OrderSubmitted,
    RiskConfig,
    RiskContext,
)
from execsim.execution.risk import MessageThrottle, PriceCollar, build_checks
from execsim.model.enums import OrderType, Side
from execsim.model.instrument import Instrument
from execsim.venues.base import ExecutionReport, ReportKind

INS = Instrument(symbol="XYZ", venue="TEST", tick_size="0.01", lot_size="1")
BTC = Instrument(symbol="BTCUSDT", venue="BINANCE", tick_size="0.01", lot_size="0.001", currency="USDT")


def _oms(instrument: Instrument = INS, **risk: object) -> OrderManager:
    return OrderManager(instrument, RiskConfig.from_dict(risk))


def _req(side: Side = Side.BUY, qty: int = 10, price: int | None = 10_000, **kw: object) -> OrderRequest:
    return OrderRequest(venue=str(kw.pop("venue", "v")), side=side, qty=qty, price=price, **kw)  # type: ignore[arg-type]


def _denied(ev: object, rule: str) -> OrderDenied:
    assert isinstance(ev, OrderDenied), f"expected a {rule} denial, got {ev}"
    assert ev.rule == rule, ev
    return ev


def test_max_order_qty_allows_the_limit_and_denies_one_lot_more() -> None:
    oms = _oms(max_order_qty=1000)
    assert isinstance(oms.request_new(_req(qty=1000), now=0), OrderSubmitted)
    d = _denied(oms.request_new(_req(qty=1001), now=0), "max_order_qty")
    assert (d.limit, d.value, d.action) == (1000, 1001, "new")
    assert "1001" in d.message
    assert "1000" in d.message
    # the denial is logged, and nothing else happened
    assert oms.events[-1] is d
    assert d.kind is OmsEventKind.DENIED


def test_max_order_value_in_the_quote_currency() -> None:
    # 0.001 BTC lots at 0.01 USDT ticks: 1,000 lots at 5,000,000 ticks = 1 BTC at 50,000 USDT
    oms = _oms(BTC, max_order_value=50_000)
    assert isinstance(oms.request_new(_req(qty=1000, price=5_000_000), now=0), OrderSubmitted)
    d = _denied(oms.request_new(_req(qty=1000, price=5_000_001), now=0), "max_order_value")
    assert d.limit == 50_000.0
    assert d.value == pytest.approx(50_000.01)
    # a market order is valued at the reference price; without one it is denied
    mkt = _req(qty=1000, price=None, order_type=OrderType.MARKET)
    assert isinstance(oms.request_new(mkt, now=1, reference_price=5_000_000.0), OrderSubmitted)
    _denied(oms.request_new(mkt, now=2, reference_price=5_000_000.5), "max_order_value")
    d = _denied(oms.request_new(mkt, now=3), "max_order_value")
    assert d.value is None
    assert "reference price" in d.message


def test_price_collar_in_bps_around_a_half_tick_mid() -> None:
    oms = _oms(price_collar_bps=10)  # 10 bps of 10,000.5 = 10.0005 ticks
    ref = 10_000.5
    assert isinstance(oms.request_new(_req(price=10_010), now=0, reference_price=ref), OrderSubmitted)
    assert isinstance(oms.request_new(_req(price=9_991), now=0, reference_price=ref), OrderSubmitted)
    d = _denied(oms.request_new(_req(price=10_011), now=0, reference_price=ref), "price_collar")
    assert d.limit == pytest.approx(10.0005)
    assert d.value == 10.5
    _denied(oms.request_new(_req(Side.SELL, price=9_990), now=0, reference_price=ref), "price_collar")


def test_price_collar_in_ticks_and_the_wider_band_when_both_are_set() -> None:
    oms = _oms(price_collar_ticks=5)
    assert isinstance(oms.request_new(_req(price=105), now=0, reference_price=100), OrderSubmitted)
    d = _denied(oms.request_new(_req(price=106), now=0, reference_price=100), "price_collar")
    assert (d.limit, d.value) == (5.0, 6.0)
    # at a price of 100 ticks, 100 bps is 1 tick: the 5-tick band is the wider one
    both = _oms(price_collar_ticks=5, price_collar_bps=100)
    assert isinstance(both.request_new(_req(price=95), now=0, reference_price=100), OrderSubmitted)
    _denied(both.request_new(_req(price=94), now=0, reference_price=100), "price_collar")
    # at 10,000 ticks the 100 bps band (100 ticks) is the wider one
    assert isinstance(both.request_new(_req(price=10_100), now=0, reference_price=10_000), OrderSubmitted)
    _denied(both.request_new(_req(price=10_101), now=0, reference_price=10_000), "price_collar")


def test_price_collar_needs_a_reference_and_leaves_market_orders_alone() -> None:
    oms = _oms(price_collar_ticks=5)
    d = _denied(oms.request_new(_req(price=100), now=0), "price_collar")
    assert "no reference price" in d.message
    mkt = _req(price=None, order_type=OrderType.MARKET)
    assert isinstance(oms.request_new(mkt, now=0, reference_price=100), OrderSubmitted)
    with pytest.raises(ValueError, match="bps or ticks"):
        PriceCollar()


def test_max_participation_against_the_recent_volume() -> None:
    oms = _oms(max_participation=0.3)  # exactly 3/10, not the float just below
    assert isinstance(oms.request_new(_req(qty=300), now=0, recent_volume=1000), OrderSubmitted)
    d = _denied(oms.request_new(_req(qty=301), now=0, recent_volume=1000), "max_participation")
    assert d.limit == 0.3
    assert d.value == pytest.approx(0.301)
    d = _denied(oms.request_new(_req(qty=1), now=0, recent_volume=0), "max_participation")
    assert d.value == float("inf")
    d = _denied(oms.request_new(_req(qty=1), now=0), "max_participation")
    assert "no recent market volume" in d.message


def test_restricted_list_denies_the_symbol_only() -> None:
    d = _denied(_oms(restricted_symbols=["XYZ", "ABC"]).request_new(_req(), now=0), "restricted_list")
    assert d.value == "XYZ"
    assert isinstance(_oms(restricted_symbols=["ABC"]).request_new(_req(), now=0), OrderSubmitted)


def test_duplicate_orders_are_denied_inside_the_window_only() -> None:
    oms = _oms(duplicate_window_ns=1_000)
    assert isinstance(oms.request_new(_req(), now=0), OrderSubmitted)
    d = _denied(oms.request_new(_req(), now=999), "duplicate_order")
    assert (d.limit, d.value) == (1_000, 999)
    # a different price, qty, side, venue or algorithm is no duplicate
    for other in (_req(price=10_001), _req(qty=11), _req(Side.SELL), _req(venue="w"), _req(tag="algo2")):
        assert isinstance(oms.request_new(other, now=999), OrderSubmitted)
    # the window counts from the last one sent (denied ones do not restart it)
    assert isinstance(oms.request_new(_req(), now=1_000), OrderSubmitted)
    _denied(oms.request_new(_req(), now=1_999), "duplicate_order")


def test_message_throttle_counts_a_rolling_window_per_algorithm() -> None:
    oms = _oms(max_messages=3, message_window_ns=1_000)
    a = oms.request_new(_req(tag="a"), now=0)
    assert isinstance(a, OrderSubmitted)
    assert isinstance(oms.request_modify(a.order_id, price=9_999, now=10), ModifyRequest)
    assert isinstance(oms.request_new(_req(tag="a", qty=2), now=20), OrderSubmitted)
    d = _denied(oms.request_new(_req(tag="a", qty=3), now=999), "message_throttle")
    assert (d.limit, d.value) == (3, 4)
    # another algorithm has its own budget
    assert isinstance(oms.request_new(_req(tag="b"), now=999), OrderSubmitted)
    # at t = 1000 the message of t = 0 has left the window (the denied one never counted)
    assert isinstance(oms.request_new(_req(tag="a", qty=4), now=1_000), OrderSubmitted)
    _denied(oms.request_new(_req(tag="a", qty=5), now=1_009), "message_throttle")
    assert isinstance(oms.request_new(_req(tag="a", qty=5), now=1_010), OrderSubmitted)


def test_cancels_count_against_the_throttle_but_go_out_unless_configured() -> None:
    oms = _oms(max_messages=2, message_window_ns=1_000)
    a = oms.request_new(_req(tag="a"), now=0)
    assert isinstance(a, OrderSubmitted)
    assert not isinstance(oms.request_cancel(a.order_id, 1, now=1), OrderDenied)  # 2nd message
    assert not isinstance(oms.request_cancel(a.order_id, now=2), OrderDenied)  # 3rd: a cancel goes out
    _denied(oms.request_new(_req(tag="a", qty=2), now=3), "message_throttle")
    strict = _oms(max_messages=1, message_window_ns=1_000, throttle_cancels=True)
    b = strict.request_new(_req(tag="a"), now=0)
    assert isinstance(b, OrderSubmitted)
    d = _denied(strict.request_cancel(b.order_id, now=1), "message_throttle")
    assert d.action == "cancel"
    assert strict.order(b.order_id).is_open  # nothing changed


def test_modifies_pass_the_same_controls_on_the_order_as_modified() -> None:
    oms = _oms(max_order_qty=10, price_collar_ticks=5)
    a = oms.request_new(_req(qty=6, price=100), now=0, reference_price=100)
    assert isinstance(a, OrderSubmitted)
    rep = ExecutionReport(
        ts_ns=1, venue="v", order_id=a.order_id, kind=ReportKind.FILL, price=100, qty=2, leaves_qty=4
    )
    oms.on_report(rep, command="submit", now=1)
    # total = 2 filled + 8 open = 10: allowed; 2 + 9 = 11: denied
    assert not isinstance(oms.request_modify(a.order_id, qty=8, now=2, reference_price=100), OrderDenied)
    d = _denied(oms.request_modify(a.order_id, qty=9, now=3, reference_price=100), "max_order_qty")
    assert (d.action, d.value) == ("modify", 11)
    d = _denied(oms.request_modify(a.order_id, price=106, now=4, reference_price=100), "price_collar")
    assert d.status_before is d.status_after


def test_risk_config_rejects_unknown_keys_and_bad_limits() -> None:
    with pytest.raises(ConfigError, match="unknown key 'max_order_qtty'"):
        RiskConfig.from_dict({"max_order_qtty": 5})
    with pytest.raises(ConfigError, match="max_order_qty"):
        RiskConfig.from_dict({"max_order_qty": 0})
    assert RiskConfig().config_id == RiskConfig.from_dict({}).config_id
    names = [type(c).__name__ for c in build_checks(RiskConfig(), _oms().kill_switch)]
    assert names == ["KillSwitchCheck", "ParentControls"]  # everything else is off by default


def test_a_custom_check_plugs_in_after_the_built_in_ones() -> None:
    class NoOddLots:
        rule = "no_odd_lots"

        def check(self, request: OrderRequest, ctx: RiskContext) -> Denial | None:
            if request.qty % 100:
                return Denial(rule=self.rule, limit=100, value=request.qty, message="odd lot")
            return None

        def on_sent(self, request: OrderRequest, ctx: RiskContext) -> None:
            pass

    oms = OrderManager(INS, RiskConfig(max_order_qty=1000), checks=[NoOddLots()])
    assert isinstance(oms.request_new(_req(qty=200), now=0), OrderSubmitted)
    _denied(oms.request_new(_req(qty=250), now=0), "no_odd_lots")
    _denied(oms.request_new(_req(qty=1050), now=0), "max_order_qty")  # the built-in one runs first


def test_the_throttle_forgets_messages_older_than_its_window() -> None:
    t = MessageThrottle(2, 100)
    ctx = RiskContext(now=0, action="new", instrument=INS, algo="a", order_id=1)
    for now in (0, 50):
        assert t.check(_req(), RiskContext(**{**_ctx_fields(ctx), "now": now})) is None
        t.on_sent(_req(), RiskContext(**{**_ctx_fields(ctx), "now": now}))
    assert t.check(_req(), RiskContext(**{**_ctx_fields(ctx), "now": 99})) is not None
    assert t.check(_req(), RiskContext(**{**_ctx_fields(ctx), "now": 100})) is None
    assert len(t._sent["a"]) == 1  # the message of t = 0 was dropped


def _ctx_fields(ctx: RiskContext) -> dict[str, object]:
    return {k: getattr(ctx, k) for k in ctx.__dataclass_fields__}
