"""Background agent populations: a reactive synthetic market (the embedded default market).

:class:`AgentMarketVenue` is a venue whose book is made by compiled background traders (noise,
market makers, momentum, value, latent liquidity) and shared with our orders, so our trading moves the market;
:func:`run_market` produces the market's canonical event stream without us;
:mod:`execsim.agents.stylized_facts` measures how much it resembles a real market, and
:mod:`execsim.agents.calibration` measures the order flow its parameters stand for.
"""

from execsim.agents.calibration import OrderFlowStats, order_flow_stats
from execsim.agents.config import (
    ActivityConfig,
    AgentMarketConfig,
    FundamentalConfig,
    LatentLiquidityConfig,
    MarketMakerConfig,
    MomentumTraderConfig,
    NoiseTraderConfig,
    ValueTraderConfig,
)
from execsim.agents.market import AGENT_ID_BASE, AgentMarketVenue, run_market
from execsim.agents.stylized_facts import StylizedFacts, stylized_facts

__all__ = [
    "AGENT_ID_BASE",
    "ActivityConfig",
    "AgentMarketConfig",
    "AgentMarketVenue",
    "FundamentalConfig",
    "LatentLiquidityConfig",
    "MarketMakerConfig",
    "MomentumTraderConfig",
    "NoiseTraderConfig",
    "OrderFlowStats",
    "StylizedFacts",
    "ValueTraderConfig",
    "order_flow_stats",
    "run_market",
    "stylized_facts",
]
