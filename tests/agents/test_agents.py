"""Each agent population on its own: does it do what its docstring says?"""

from __future__ import annotations

import numpy as np

from execsim.agents import (
    AgentMarketConfig,
    AgentMarketVenue,
    FundamentalConfig,
    LatentLiquidityConfig,
    MarketMakerConfig,
    MomentumTraderConfig,
    NoiseTraderConfig,
    ValueTraderConfig,
)
from execsim.agents.metaorders import metaorder_impact
from execsim.agents.stylized_facts import autocorrelation
from execsim.data.schema import F_SNAPSHOT, K_ADD, K_DELETE, K_EXECUTE
from execsim.impact.tape import trade_tape
from execsim.model import OrderType, Side, TimeInForce
from execsim.venues.base import ReportKind, SubmitOrder

S = 1_000_000_000
QUIET = {
    "warmup_s": 60,
    "market_makers": MarketMakerConfig(count=0),
    "momentum": MomentumTraderConfig(count=0),
    "value": ValueTraderConfig(count=0),
}
# noise traders that only add depth behind the touch and never trade: the touch moves only
# when someone else (we, or the population under test) trades or cancels
BEHIND_ONLY = NoiseTraderConfig(market_rate=0.0, p_inside=0.0, p_at_best=0.0)


def _venue(cfg: AgentMarketConfig, seed: int = 1) -> AgentMarketVenue:
    return AgentMarketVenue(
        name="ABM", instrument=cfg.instrument(), config=cfg, seed=np.random.SeedSequence(seed)
    )


def _market(v: AgentMarketVenue, side: Side, qty: int, t: int) -> None:
    reps = v.handle(SubmitOrder(ts_ns=t, order_id=1, side=side, qty=qty, order_type=OrderType.MARKET))
    assert sum(r.qty for r in reps if r.kind is ReportKind.FILL) == qty


def _sweep_asks(v: AgentMarketVenue, ticks: int, t: int) -> None:
    """Buy every ask up to ``ticks`` above the best ask (an IOC limit order)."""
    limit = v.quote().ask_px + ticks
    reps = v.handle(
        SubmitOrder(ts_ns=t, order_id=2, side=Side.BUY, qty=1_000_000, price=limit, tif=TimeInForce.IOC)
    )
    assert any(r.kind is ReportKind.FILL for r in reps)
    assert v.quote().ask_px > limit


def test_noise_limit_orders_alone_rest_and_are_cancelled_but_never_trade() -> None:
    cfg = AgentMarketConfig(noise=NoiseTraderConfig(market_rate=0.0), **QUIET)  # type: ignore[arg-type]
    v = _venue(cfg)
    v.advance(cfg.start_ns + 300 * S)
    ev = v.drain_events()
    live = ev[(ev["flags"] & F_SNAPSHOT) == 0]
    assert set(np.unique(live["kind"]).tolist()) == {K_ADD, K_DELETE}
    assert v.stats["executions"] == 0
    st = v.stats
    # placements follow the configured rate (3.05/s, activity 1 on average)
    assert 0.3 * 3.05 * 300 < st["noise_limit_orders"] < 3 * 3.05 * 300
    q = v.quote()
    assert q.bid_qty > 0
    assert q.ask_qty > 0
    assert q.bid_px < q.ask_px


def test_noise_market_orders_take_liquidity_from_both_sides() -> None:
    cfg = AgentMarketConfig(noise=NoiseTraderConfig(market_rate=1.0), **QUIET)  # type: ignore[arg-type]
    v = _venue(cfg)
    v.advance(cfg.start_ns + 300 * S)
    ev = v.drain_events()
    ex = ev[ev["kind"] == K_EXECUTE]
    assert v.stats["noise_market_orders"] > 100
    assert (ex["side"] == 1).sum() > 50
    assert (ex["side"] == -1).sum() > 50


def _sign_acf(cfg: AgentMarketConfig, lags: tuple[int, ...]) -> list[float]:
    v = _venue(cfg, 3)
    v.advance(cfg.start_ns + 600 * S)
    sign = trade_tape(v.drain_events()).sign
    assert sign.size > 600
    return [float(x) for x in autocorrelation(sign, lags)]


def test_noise_market_order_signs_persist_as_configured() -> None:
    def cfg(p: float) -> AgentMarketConfig:
        noise = NoiseTraderConfig(market_rate=2.0, market_persistence=p)
        return AgentMarketConfig(noise=noise, **QUIET)  # type: ignore[arg-type]

    lag1, lag3 = _sign_acf(cfg(0.8), (1, 3))
    assert 0.68 < lag1 < 0.92
    assert 0.8**3 - 0.15 < lag3 < 0.8**3 + 0.15
    assert abs(_sign_acf(cfg(0.0), (1,))[0]) < 0.1


def test_momentum_traders_buy_after_an_up_move() -> None:
    cfg = AgentMarketConfig(
        noise=BEHIND_ONLY,
        momentum=MomentumTraderConfig(
            count=50, wake_rate=0.02, fast_s=5, slow_s=60, threshold_ticks=2, order_size=20, max_size=100
        ),
        **{k: v for k, v in QUIET.items() if k != "momentum"},  # type: ignore[arg-type]
    )
    base, pushed = _venue(cfg, 3), _venue(cfg, 3)
    t1 = cfg.start_ns + 30 * S
    base.advance(t1)
    pushed.advance(t1)
    _sweep_asks(pushed, 30, t1)  # the mid jumps about 15 ticks
    # (not much longer: with no one else trading, the momentum buyers soon empty the ask side)
    base.advance(t1 + 10 * S)
    pushed.advance(t1 + 10 * S)
    assert pushed.stats["momentum_orders"] > 5
    assert pushed.stats["momentum_position"] > 0
    assert base.stats["momentum_position"] < pushed.stats["momentum_position"]


def test_value_traders_sell_when_the_price_is_above_the_fundamental() -> None:
    cfg = AgentMarketConfig(
        noise=BEHIND_ONLY,
        value=ValueTraderConfig(
            count=50,
            wake_rate=0.02,
            noise_ticks=0,
            threshold_ticks=3,
            size_per_tick=5,
            min_size=10,
            max_size=100,
        ),
        fundamental=FundamentalConfig(volatility_ticks=0.0),
        **{k: v for k, v in QUIET.items() if k != "value"},  # type: ignore[arg-type]
    )
    base, pushed = _venue(cfg, 4), _venue(cfg, 4)
    t1 = cfg.start_ns + 30 * S
    base.advance(t1)
    pushed.advance(t1)
    _sweep_asks(pushed, 30, t1)
    assert pushed.fundamental == cfg.start_ticks  # a constant fundamental
    assert pushed.quote().mid2 / 2 - pushed.fundamental > 10  # type: ignore[operator]
    base.advance(t1 + 60 * S)
    pushed.advance(t1 + 60 * S)
    assert pushed.stats["value_orders"] > 5
    assert pushed.stats["value_position"] < 0
    assert pushed.stats["value_position"] < base.stats["value_position"]


def _maker_cfg(skew: float, max_inventory: int = 100_000) -> AgentMarketConfig:
    return AgentMarketConfig(
        noise=BEHIND_ONLY,
        market_makers=MarketMakerConfig(
            count=1,
            half_spread_min=2,
            half_spread_max=2,
            quote_size=500,
            skew_ticks_per_lot=skew,
            max_inventory=max_inventory,
            latency_min_us=1_000,
            latency_max_us=1_000,
            requote_ticks=1,
            activity_elasticity=0.0,
        ),
        **{k: v for k, v in QUIET.items() if k != "market_makers"},  # type: ignore[arg-type]
    )


def test_a_market_maker_quotes_both_sides_inside_the_noise_spread() -> None:
    v = _venue(_maker_cfg(0.02), 5)
    ((bid, ask),) = v.market_maker_quotes()
    q = v.quote()
    assert bid is not None
    assert ask is not None
    assert (bid, ask) == (q.bid_px, q.ask_px)
    assert ask - bid in (4, 5)  # 2 ticks either side of the noise traders' mid (rounded outwards)
    assert v.market_maker_inventory.tolist() == [0]


def test_a_market_maker_skews_its_quotes_away_from_its_inventory() -> None:
    runs = {}
    for skew in (0.0, 0.02):
        v = _venue(_maker_cfg(skew), 5)
        t1 = v.now
        bid_before, _ = v.market_maker_quotes()[0]
        _market(v, Side.SELL, 400, t1)  # the maker's 500-lot bid is the best bid: it buys all 400
        assert v.market_maker_inventory.tolist() == [400]
        assert v.market_maker_quotes()[0][0] == bid_before  # 100 lots left, not yet requoted
        v.advance(t1 + 2_000_000)  # its 1 ms reaction
        runs[skew] = v.market_maker_quotes()[0]
    flat, skewed = runs[0.0], runs[0.02]
    assert None not in flat
    assert None not in skewed
    # long 400 lots at 0.02 ticks per lot: the bid 8 ticks lower than without the skew (one
    # more from rounding down), the ask lower too (it may stop short of a noise bid: passive only)
    assert skewed[0] - flat[0] in (-8, -9)  # type: ignore[operator]
    assert skewed[1] < flat[1]  # type: ignore[operator]


def test_a_market_maker_stops_bidding_at_its_inventory_limit() -> None:
    v = _venue(_maker_cfg(0.0, max_inventory=600), 5)
    t1 = v.now
    _market(v, Side.SELL, 400, t1)
    v.advance(t1 + 2_000_000)
    bid, ask = v.market_maker_quotes()[0]
    assert bid is None  # another 500-lot bid would take it to 900 > 600
    assert ask is not None


def _latent_cfg(density: float) -> AgentMarketConfig:
    return AgentMarketConfig(
        noise=BEHIND_ONLY,
        fundamental=FundamentalConfig(volatility_ticks=0.0),
        latent=LatentLiquidityConfig(density=density, fundamental_weight=1.0),
        **QUIET,  # type: ignore[arg-type]
    )


def test_latent_sellers_show_what_the_mid_has_reached_at_the_best_ask() -> None:
    density = 2.0
    lat, base = _venue(_latent_cfg(density), 6), _venue(_latent_cfg(0.0), 6)
    t1 = _latent_cfg(density).start_ns + 20 * S
    for v in (lat, base):
        v.advance(t1)
        _sweep_asks(v, 20, t1)
    d = lat.quote().mid2 / 2 - lat.fundamental  # type: ignore[operator]
    assert d > 10
    n0 = lat.stats["latent_orders"]
    lat.advance(t1 + int(1.5 * S))
    base.advance(t1 + int(1.5 * S))
    assert base.stats["latent_orders"] == 0
    assert lat.stats["latent_orders"] == n0 + 1
    # about density * D^2 / 2 lots joined the best ask as its newest order (the mid may have
    # drifted a few ticks since the sweep)
    q = lat.quote()
    level = lat.book.level(Side.SELL, q.ask_px)
    assert level is not None
    shown = level.orders[-1][1]
    assert 0.5 * density * (d - 4) ** 2 <= shown <= 0.5 * density * (d + 3) ** 2
    assert base.book.level(Side.SELL, base.quote().ask_px).orders[-1][1] < 300  # type: ignore[union-attr]
    # shown once: with the mid where it was, the next clock steps show nothing more
    lat.advance(t1 + int(4.5 * S))
    assert lat.stats["latent_orders"] == n0 + 1


def test_latent_buyers_show_below_the_anchor_and_nothing_is_shown_on_the_other_side() -> None:
    cfg = _latent_cfg(1.0)
    v = _venue(cfg, 7)
    t1 = cfg.start_ns + 20 * S
    v.advance(t1)
    before = v.quote()
    limit = before.bid_px - 30
    reps = v.handle(
        SubmitOrder(ts_ns=t1, order_id=2, side=Side.SELL, qty=1_000_000, price=limit, tif=TimeInForce.IOC)
    )
    assert any(r.kind is ReportKind.FILL for r in reps)
    d = v.fundamental - v.quote().mid2 / 2  # type: ignore[operator]
    assert d > 10
    ask_before = v.quote().ask_qty
    n0 = v.stats["latent_orders"]
    v.advance(t1 + int(1.5 * S))
    assert v.stats["latent_orders"] == n0 + 1
    level = v.book.level(Side.BUY, v.quote().bid_px)
    assert level is not None
    assert 0.5 * (d - 4) ** 2 <= level.orders[-1][1] <= 0.5 * (d + 3) ** 2
    assert v.quote().ask_qty == ask_before
    assert v.quote().bid_px < before.bid_px


def test_latent_liquidity_makes_a_large_metaorder_cost_less_and_its_impact_concave() -> None:
    # without the latent book the visible one alone cannot absorb either size: the price runs away
    base = AgentMarketConfig(warmup_s=300, latent=LatentLiquidityConfig(density=0.0))
    with_latent = base.model_copy(update={"latent": LatentLiquidityConfig(density=2.0)})
    kw = {"duration_s": 300.0, "n_children": 30, "seeds": range(12), "horizons_s": (), "n_bootstrap": 0}
    off = metaorder_impact(base, [2_000, 20_000], **kw)  # type: ignore[arg-type]
    on = metaorder_impact(with_latent, [2_000, 20_000], **kw)  # type: ignore[arg-type]
    assert on.points[1].impact_ticks < 0.5 * off.points[1].impact_ticks
    assert on.points[0].impact_ticks < 0.5 * off.points[0].impact_ticks
    # and ten times the size costs clearly less than ten times as much
    assert 0 < on.exponent < 0.85
