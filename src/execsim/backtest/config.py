"""The run config: frozen, typed, loaded from YAML; its sha256 is the run id.

Example (``examples/synthetic_quoter.yaml``)::

    name: quoter
    seed: 7
    data: {kind: synthetic, n_events: 200000, minutes: 10}
    venues: [{name: LIT, kind: replay, queue_model: {model: prob_power, n: 2}}]
    latency:
      market_data: {model: data}
      order_entry: {model: constant, latency_ns: 200000}
      response: {model: constant, latency_ns: 200000}
    strategy:
      class: execsim.backtest.strategies:TouchQuoter
      params: {qty: 10, interval_ms: 100}
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from execsim.backtest.sources import DataSource, SyntheticSource
from execsim.core.config import FrozenConfig
from execsim.execution.risk import RiskConfig
from execsim.impact.config import ImpactConfig
from execsim.venues.fees import FeeConfig
from execsim.venues.latency import LatencyConfig
from execsim.venues.queue_models import QueueModelConfig

__all__ = ["LatencyPaths", "RunConfig", "StrategyConfig", "VenueConfig"]


class StrategyConfig(FrozenConfig):
    """The strategy to run: an import path (``package.module:Class``) and its parameters."""

    model_config: ClassVar[ConfigDict] = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, validate_default=True
    )

    class_path: str = Field(
        alias="class", description="import path, e.g. execsim.backtest.strategies:TouchQuoter"
    )
    params: dict[str, Any] = Field(default_factory=dict)


class VenueConfig(FrozenConfig):
    """One venue of the session.

    ``replay`` replays the run's data: order by order (our orders join the real FIFO queues)
    when the data is L3, by price level with a queue-position model when it is L2. ``mock`` is a
    fixed two-sided book for tests.
    """

    name: str = "LIT"
    kind: Literal["replay", "mock"] = "replay"
    queue_model: QueueModelConfig = Field(
        default_factory=QueueModelConfig, description="L2 replay only: the queue-position model"
    )
    depletion: Literal["until_update", "none"] = Field(
        default="until_update",
        description="L2 replay only: what we take stays gone until the tape next updates the level, or never",
    )
    fees: FeeConfig = Field(default_factory=FeeConfig)


class LatencyPaths(FrozenConfig):
    """The three latency paths of a session (defaults: the data's own feed latency, 200 µs each way)."""

    market_data: LatencyConfig = Field(default_factory=lambda: LatencyConfig(model="data"))
    order_entry: LatencyConfig = Field(
        default_factory=lambda: LatencyConfig(model="constant", latency_ns=200_000)
    )
    response: LatencyConfig = Field(
        default_factory=lambda: LatencyConfig(model="constant", latency_ns=200_000)
    )


class RunConfig(FrozenConfig):
    """Everything that defines one backtest run; with the data and the seed it fixes the result."""

    name: str = Field(default="run", pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(default=0, ge=0)
    data: DataSource = Field(default_factory=SyntheticSource)
    book: Literal["auto", "l2", "l3"] = Field(
        default="auto", description="the strategy's book type; auto: l3 for order-by-order data, else l2"
    )
    venues: list[VenueConfig] = Field(default_factory=lambda: [VenueConfig()], min_length=1)
    latency: LatencyPaths = Field(default_factory=LatencyPaths)
    impact: ImpactConfig = Field(default_factory=ImpactConfig)
    risk: RiskConfig = Field(
        default_factory=RiskConfig, description="pre-trade controls (all off by default)"
    )
    participation_window_ns: int = Field(
        default=60_000_000_000, gt=0, description="market volume window for the max-participation control"
    )
    strategy: StrategyConfig
    start_ns: int | None = None
    end_ns: int | None = None
    sample_interval_ns: int = Field(
        default=100_000_000, gt=0, description="how often each venue's best bid and offer is sampled (ns)"
    )
    counterfactual: bool = Field(
        default=False,
        description="also run the same session without our orders (same seed) and store its market path",
    )
