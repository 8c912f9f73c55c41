"""Transaction cost analysis of backtest runs.

``analyze(result)`` computes every metric per parent order and for the run (a frozen,
JSON-serialisable :class:`TcaReport`; ``write_tca`` saves it as ``tca.json``);
``paired_comparison`` / ``compare_runs`` compare two algorithms on the same parents and seeds.
Metrics are plug-ins with one method, ``compute(fills, market, context) -> mapping``; costs are
in bps of the decision mid and in currency, positive = worse for the client (docs/tca.md).
"""

from execsim.tca.base import (
    FillsView,
    MetricValue,
    OrdersView,
    ParentView,
    TcaConfig,
    TcaContext,
    TcaMetric,
    horizon_key,
)
from execsim.tca.compare import MIN_PAIRS, Comparison, compare_runs, paired_comparison
from execsim.tca.impact import CounterfactualImpact
from execsim.tca.market import MarketState, QuoteSeries
from execsim.tca.markouts import Markouts
from execsim.tca.report import (
    DEFAULT_METRICS,
    ParentTca,
    TcaReport,
    analyze,
    build_context,
    read_tca,
    write_tca,
)
from execsim.tca.shortfall import ImplementationShortfall, child_arrival_mids
from execsim.tca.slippage import FillRate, Participation, Slippage
from execsim.tca.spreads import Spreads
from execsim.tca.venues import VenueAnalysis, midpoint_fills

__all__ = [
    "DEFAULT_METRICS",
    "MIN_PAIRS",
    "Comparison",
    "CounterfactualImpact",
    "FillRate",
    "FillsView",
    "ImplementationShortfall",
    "MarketState",
    "Markouts",
    "MetricValue",
    "OrdersView",
    "ParentTca",
    "ParentView",
    "Participation",
    "QuoteSeries",
    "Slippage",
    "Spreads",
    "TcaConfig",
    "TcaContext",
    "TcaMetric",
    "TcaReport",
    "VenueAnalysis",
    "analyze",
    "build_context",
    "child_arrival_mids",
    "compare_runs",
    "horizon_key",
    "midpoint_fills",
    "paired_comparison",
    "read_tca",
    "write_tca",
]
