"""Configuration of the agent-based market: one frozen sub-config per population.

Every number has a documented default. The defaults are calibrated so that the market resembles
the LOBSTER GOOG day of 2012-06-21 (NASDAQ, $0.01 tick, price about $570): the order-size tables
come straight from that day and the placement shares started from it (:mod:`execsim.agents.calibration`
measures them), the rates and the remaining shape parameters were tuned by simulation until the
stylised facts matched (``scripts/fidelity_abm.py`` writes the comparison to
``docs/fidelity-abm.md``). The last retune, made with the latent liquidity anchored on the
price's own memory and the noise market orders' persistent signs, also fitted the square-root
impact exponent (pooled over bucket lengths and at one minute) and checked metaorders sent for
real (the same document's metaorder section); it moved two of the measured parameters: the
noise traders' limit orders from 3.0 to 2.6 per second and the share of them placed inside the
spread from the GOOG day's 0.18 to 0.33. Rates are "at activity 1": a slow random
activity factor (mean 1) multiplies them all, which is what produces volatility clustering.

Units: prices and distances in ticks, sizes in lots, rates per second of market time.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Self

from pydantic import Field, model_validator

from execsim.core.config import FrozenConfig
from execsim.data.synthetic import SYNTHETIC_START_NS
from execsim.model.instrument import Instrument

__all__ = [
    "ActivityConfig",
    "AgentMarketConfig",
    "FundamentalConfig",
    "LatentLiquidityConfig",
    "MarketMakerConfig",
    "MomentumTraderConfig",
    "NoiseTraderConfig",
    "ValueTraderConfig",
]

# Size tables of the GOOG day, from calibration.size_table (32 equally likely quantiles, equal
# sizes merged) on the LOBSTER file. Limit orders (ADD): half are round lots of 100, most of
# the rest odd lots around 10 shares; mean 61 (63 in the data). Market orders (executions
# grouped by time and aggressor side): a third are exactly 100; mean 80 (83 in the data).
_GOOG_LIMIT_SIZES = (3, 5, 7, 8, 9, 10, 11, 12, 14, 19, 100, 200)
_GOOG_LIMIT_WEIGHTS = (1, 1, 1, 1, 2, 4, 1, 2, 1, 1, 16, 1)
_GOOG_MARKET_SIZES = (1, 2, 3, 5, 8, 10, 12, 16, 20, 26, 34, 42, 50, 61, 72, 86, 95, 100, 105, 148, 200, 373)
_GOOG_MARKET_WEIGHTS = (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10, 1, 1, 2, 1)


def _check_table(sizes: tuple[int, ...], weights: tuple[float, ...], what: str) -> None:
    if len(sizes) == 0 or len(sizes) != len(weights):
        raise ValueError(f"{what}: sizes and weights must be non-empty and of equal length")
    if any(s <= 0 for s in sizes):
        raise ValueError(f"{what}: sizes must be > 0, got {sizes}")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"{what}: weights must be >= 0 with a positive sum, got {weights}")


class NoiseTraderConfig(FrozenConfig):
    """Zero-intelligence traders: Poisson limit orders around the touch, cancellations, market orders.

    A limit order joins a random side. It improves the touch (``p_inside``: by a geometric
    number of ticks of mean ``inside_mean_ticks``, at most ``inside_max_frac`` of the spread),
    joins the best price (``p_at_best``), or rests behind it: a share ``p_far`` of those
    uniformly within ``far_max_ticks`` (the deep book), the others at a geometric distance of
    mean ``behind_mean_ticks`` (at most ``behind_max_ticks``).
    Orders are *fleeting* (cancelled at rate ``fleeting_cancel_rate``) or *patient* (rate
    ``patient_cancel_rate``): a share ``fleeting_share_inside`` of the orders placed inside the
    spread and ``fleeting_share`` of the others are fleeting, as on the GOOG day, where half
    the orders improving the touch lived less than 0.2 s and the median order about 2 s. The
    deep orders (the ``p_far`` share) are a third class that rests longest
    (``deep_cancel_rate``) and is at least ``deep_min_size`` lots (on GOOG nine in ten orders
    placed 45 ticks or more behind the best were round lots of 100 or more).
    Market orders are the children of split parent orders: each repeats the side of the one
    before with probability ``market_persistence``, otherwise it takes a fair coin's side, so the
    autocorrelation of their signs is ``market_persistence ** lag`` (on the GOOG day the trade
    signs' autocorrelation is 0.63 at lag 1 and about 0 by lag 20; 0 gives independent sides).
    """

    limit_rate: float = Field(default=2.6, ge=0, description="limit orders per second")
    market_rate: float = Field(default=0.17, ge=0, description="market orders per second")
    market_persistence: float = Field(
        default=0.87, ge=0, lt=1, description="probability that a market order repeats the last one's side"
    )
    fleeting_cancel_rate: float = Field(default=7.8, ge=0, description="per fleeting order per second")
    patient_cancel_rate: float = Field(default=0.047, ge=0, description="per patient order per second")
    deep_cancel_rate: float = Field(default=0.028, ge=0, description="per deep order per second")
    deep_min_size: int = Field(default=195, ge=1, description="smallest size of a deep order (lots)")
    fleeting_share_inside: float = Field(default=0.98, ge=0, le=1)
    fleeting_share: float = Field(default=0.55, ge=0, le=1)
    max_orders: int = Field(default=4096, ge=1, le=32_768, description="most noise orders resting at once")
    p_inside: float = Field(default=0.33, ge=0, le=1)
    p_at_best: float = Field(default=0.16, ge=0, le=1)
    inside_mean_ticks: float = Field(default=6.0, ge=1)
    inside_max_frac: float = Field(default=0.5, gt=0, le=1)
    behind_mean_ticks: float = Field(default=9.4, ge=1)
    p_far: float = Field(default=0.22, ge=0, le=1)
    far_max_ticks: int = Field(default=120, ge=1)
    behind_max_ticks: int = Field(default=200, ge=1)
    empty_side_ticks: int = Field(
        default=15, ge=1, description="distance from the reference price when a side is empty"
    )
    limit_sizes: tuple[int, ...] = _GOOG_LIMIT_SIZES
    limit_size_weights: tuple[float, ...] = tuple(float(w) for w in _GOOG_LIMIT_WEIGHTS)
    market_sizes: tuple[int, ...] = _GOOG_MARKET_SIZES
    market_size_weights: tuple[float, ...] = tuple(float(w) for w in _GOOG_MARKET_WEIGHTS)

    @model_validator(mode="after")
    def _tables(self) -> Self:
        if self.p_inside + self.p_at_best > 1:
            raise ValueError(f"p_inside + p_at_best must be <= 1, got {self.p_inside + self.p_at_best}")
        _check_table(self.limit_sizes, self.limit_size_weights, "limit_sizes")
        _check_table(self.market_sizes, self.market_size_weights, "market_sizes")
        return self


class MarketMakerConfig(FrozenConfig):
    """Market makers quoting both sides around the mid with an inventory skew.

    Maker ``m`` quotes ``quote_size`` lots at ``ref − h_m − skew`` and ``ref + h_m − skew``,
    where ``ref`` is the mid of the book without the makers' quotes, blended with the
    fundamental value (weight ``fundamental_weight``) and with an exponential average of the
    mid over ``anchor_s`` seconds (weight ``anchor_weight``: makers slow to follow a sudden
    move make the market resilient), ``h_m`` is spread evenly over
    ``[half_spread_min, half_spread_max]`` across makers and ``skew = inventory ×
    skew_ticks_per_lot`` (``h_m`` scales with the market's activity to the power
    ``activity_elasticity``: makers widen when the market is busy). It requotes ``latency``
    after any change of the touch or a fill of its quotes (latencies spread evenly over
    ``[latency_min_us, latency_max_us]``), moving a quote only when it is ``requote_ticks`` or
    more away from where it should be or has been partly filled. At ``max_inventory`` it stops
    quoting the side that would add to it.
    """

    count: int = Field(default=1, ge=0, le=1024)
    half_spread_min: float = Field(default=18.0, ge=0.5)
    half_spread_max: float = Field(default=30.0, ge=0.5)
    quote_size: int = Field(default=45, ge=1)
    skew_ticks_per_lot: float = Field(default=0.02, ge=0)
    max_inventory: int = Field(default=1000, ge=1)
    latency_min_us: int = Field(default=500, ge=0)
    latency_max_us: int = Field(default=20_000, ge=0)
    requote_ticks: int = Field(default=5, ge=1)
    fundamental_weight: float = Field(
        default=0.0, ge=0, le=1, description="weight of the fundamental value in the reference price"
    )
    activity_elasticity: float = Field(
        default=0.66, ge=0, le=3, description="half spreads scale with activity ** activity_elasticity"
    )
    anchor_weight: float = Field(
        default=0.0, ge=0, le=1, description="weight of a slow average of the mid in the reference price"
    )
    anchor_s: float = Field(default=30.0, gt=0, description="time constant of that average (s)")

    @model_validator(mode="after")
    def _weights(self) -> Self:
        if self.fundamental_weight + self.anchor_weight > 1:
            raise ValueError("fundamental_weight + anchor_weight must be <= 1")
        return self

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        if self.half_spread_max < self.half_spread_min:
            raise ValueError("half_spread_max must be >= half_spread_min")
        if self.latency_max_us < self.latency_min_us:
            raise ValueError("latency_max_us must be >= latency_min_us")
        return self


class MomentumTraderConfig(FrozenConfig):
    """Trend followers: on waking, buy (sell) when the fast mid average is above (below) the slow one.

    The signal is ``EMA_fast(mid) − EMA_slow(mid)`` in ticks (time constants ``fast_s`` and
    ``slow_s``, updated every clock step). Beyond ``threshold_ticks`` the trader sends a market
    order of ``order_size × signal / threshold`` lots, at most ``max_size``.
    """

    count: int = Field(default=20, ge=0, le=8192)
    wake_rate: float = Field(default=0.0015, ge=0, description="wake-ups per trader per second")
    fast_s: float = Field(default=48.0, gt=0)
    slow_s: float = Field(default=360.0, gt=0)
    threshold_ticks: float = Field(default=4.1, gt=0)
    order_size: int = Field(default=50, ge=1)
    max_size: int = Field(default=470, ge=1)


class ValueTraderConfig(FrozenConfig):
    """Fundamental (value) traders: trade toward their noisy view of the fundamental value.

    On waking, a trader sees ``V + noise_ticks × N(0, 1)``; when that is more than
    ``threshold_ticks`` away from the mid it sends a market order toward it of
    ``size_per_tick`` lots per tick of excess gap, at least ``min_size`` and at most ``max_size``.
    """

    count: int = Field(default=20, ge=0, le=8192)
    wake_rate: float = Field(default=0.0048, ge=0)
    noise_ticks: float = Field(default=10.0, ge=0)
    threshold_ticks: float = Field(default=15.0, ge=0)
    size_per_tick: float = Field(default=9.2, ge=0)
    min_size: int = Field(default=57, ge=1)
    max_size: int = Field(default=105, ge=1)


class LatentLiquidityConfig(FrozenConfig):
    """Latent liquidity: traders who show their orders only when the price comes to them.

    Most of a market's supply and demand is not in the visible book: it sits with traders who
    would sell higher or buy lower and act only when the price gets there. Following the latent
    order book of Donier, Bonart, Mastromatteo and Bouchaud (2015), that interest is V-shaped
    around an anchor price ``A``: ``density × u`` lots per tick at ``u`` ticks from it, sellers
    above and buyers below. ``A`` is the fundamental value with weight
    ``fundamental_weight``, the rest an exponential average of the mid over ``anchor_s``
    seconds. The default anchor is that average alone (the latent book remembers where the
    price has been, as in the paper): any move away from it, whether the news, the other
    traders or our own orders made it, meets the same growing resistance, and part of a
    metaorder's impact outlasts it.

    At every clock step, with the mid ``D`` ticks above ``A``, the sellers within ``D`` have
    been reached, ``density × D² / 2`` lots in all; what of it has not been shown yet joins the
    best ask as one patient limit order (and mirrored below ``A``). When ``D`` shrinks, the
    account shrinks with it: liquidity is shown again only when the mid moves back out. A
    metaorder that pushes the price ``D`` ticks from the anchor must absorb ``density × D² /
    2`` lots on top of the visible book, so where this liquidity dominates its impact grows
    like the square root of its size. ``density = 0`` turns the population off.
    """

    density: float = Field(
        default=0.74, ge=0, description="lots per tick, per tick of distance from the anchor"
    )
    fundamental_weight: float = Field(
        default=0.0, ge=0, le=1, description="weight of the fundamental value in the anchor"
    )
    anchor_s: float = Field(
        default=2160.0, gt=0, description="time constant of the mid average in the anchor (s)"
    )


class FundamentalConfig(FrozenConfig):
    """The fundamental value: a random walk (or an Ornstein–Uhlenbeck process) in ticks.

    Each clock step adds ``volatility_ticks × sqrt(activity × dt) × N(0, 1)``; with
    ``mean_reversion_s > 0`` it also pulls toward the start price with that time constant.
    """

    volatility_ticks: float = Field(default=4.6, ge=0, description="ticks per sqrt(second)")
    mean_reversion_s: float = Field(default=0.0, ge=0, description="0: random walk")


class ActivityConfig(FrozenConfig):
    """The market's activity: ``A = exp(a − vol²/2)``, ``a`` an OU process (std ``vol``).

    It multiplies every population's rate and the fundamental's variance, so busy and quiet
    spells alternate on the ``timescale_s`` scale (volatility clustering).
    """

    vol: float = Field(default=0.41, ge=0, le=3)
    timescale_s: float = Field(default=450.0, gt=0)


class AgentMarketConfig(FrozenConfig):
    """The agent-based market: instrument grid, start, clock and the agent populations.

    Parameters
    ----------
    symbol, tick_size, lot_size
        The instrument (the venue name comes from the venue).
    start_price
        Decimal start price, on the tick grid.
    start_ns
        Market time at which the venue opens (after the warm-up).
    warmup_s
        Seconds the market runs before ``start_ns`` to reach its steady state; their events are
        not recorded: the stream starts with a snapshot of the book at ``start_ns``.
    clock_ms
        Step of the market clock (activity, fundamental value and the momentum averages move
        at each step).
    initial_orders
        Noise orders per side placed before the warm-up.
    """

    symbol: str = "SYN"
    tick_size: str = "0.01"
    lot_size: str = "1"
    start_price: str = "570.00"
    start_ns: int = SYNTHETIC_START_NS
    warmup_s: float = Field(default=600.0, ge=0)
    clock_ms: int = Field(default=1000, ge=1)
    initial_orders: int = Field(default=40, ge=1)
    noise: NoiseTraderConfig = NoiseTraderConfig()
    market_makers: MarketMakerConfig = MarketMakerConfig()
    momentum: MomentumTraderConfig = MomentumTraderConfig()
    value: ValueTraderConfig = ValueTraderConfig()
    fundamental: FundamentalConfig = FundamentalConfig()
    latent: LatentLiquidityConfig = LatentLiquidityConfig()
    activity: ActivityConfig = ActivityConfig()

    @model_validator(mode="after")
    def _grid(self) -> Self:
        try:
            tick = Decimal(self.tick_size)
            px = Decimal(self.start_price)
            Decimal(self.lot_size)
        except InvalidOperation:
            raise ValueError(
                f"tick_size, lot_size and start_price must be decimal strings, got "
                f"{self.tick_size!r}, {self.lot_size!r}, {self.start_price!r}"
            ) from None
        if tick <= 0 or px <= 0:
            raise ValueError(
                f"tick_size and start_price must be > 0, got {self.tick_size}, {self.start_price}"
            )
        if px % tick != 0:
            raise ValueError(
                f"start_price {self.start_price} is not a multiple of tick_size {self.tick_size}"
            )
        return self

    def instrument(self, venue: str = "ABM") -> Instrument:
        """The instrument this market trades, on venue ``venue``."""
        return Instrument(symbol=self.symbol, venue=venue, tick_size=self.tick_size, lot_size=self.lot_size)

    @property
    def start_ticks(self) -> int:
        """The start price in ticks."""
        return int(Decimal(self.start_price) / Decimal(self.tick_size))
