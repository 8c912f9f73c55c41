from __future__ import annotations

from decimal import Decimal

import pytest

from execsim.agents import AgentMarketConfig, MarketMakerConfig, NoiseTraderConfig
from execsim.core.errors import ConfigError


def test_default_config_is_valid_and_names_its_instrument() -> None:
    cfg = AgentMarketConfig()
    inst = cfg.instrument("XNAS")
    assert inst.venue == "XNAS"
    assert inst.tick_size == Decimal("0.01")
    assert cfg.start_ticks == 57_000
    assert AgentMarketConfig().config_id == cfg.config_id


def test_an_unknown_or_mistyped_key_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'noise\.limit_rat'"):
        AgentMarketConfig.from_dict({"noise": {"limit_rat": 2.0}})
    with pytest.raises(ConfigError, match=r"market_makers\.count"):
        AgentMarketConfig.from_dict({"market_makers": {"count": "many"}})


def test_size_tables_must_match_their_weights() -> None:
    with pytest.raises(ValueError, match="equal length"):
        NoiseTraderConfig(limit_sizes=(1, 2), limit_size_weights=(1.0,))
    with pytest.raises(ValueError, match="sizes must be > 0"):
        NoiseTraderConfig(market_sizes=(0, 2), market_size_weights=(1.0, 1.0))


def test_placement_shares_cannot_exceed_one() -> None:
    with pytest.raises(ValueError, match="p_inside \\+ p_at_best"):
        NoiseTraderConfig(p_inside=0.6, p_at_best=0.5)


def test_ranges_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="half_spread_max"):
        MarketMakerConfig(half_spread_min=10, half_spread_max=5)


def test_start_price_must_lie_on_the_tick_grid() -> None:
    with pytest.raises(ValueError, match="not a multiple of tick_size"):
        AgentMarketConfig(start_price="570.005")
    with pytest.raises(ValueError, match="decimal strings"):
        AgentMarketConfig(tick_size="one cent")


def test_the_makers_reference_weights_cannot_exceed_one() -> None:
    with pytest.raises(ValueError, match="anchor_weight must be <= 1"):
        MarketMakerConfig(fundamental_weight=0.6, anchor_weight=0.5)
