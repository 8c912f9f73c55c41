"""The best-execution report: policy checks, per-order evidence, venue tables, charts.

``build_report(results, policy)`` turns one or several backtest runs into a frozen
:class:`BestExecutionReport`; ``write_report`` writes a self-contained ``report.html`` (plotly,
offline) and ``report.json``; ``render_terminal`` gives the terminal summary. The policy is a
YAML file of thresholds per execution factor (:class:`BestExecutionPolicy`); ``evaluate`` lists
its breaches in one run's TCA (docs/reporting.md).
"""

from execsim.reporting.charts import CHART_HORIZONS_S, chart_data, figures, merge_chart_data
from execsim.reporting.evidence import (
    COMPARISON_METRICS,
    FACTOR_FIELDS,
    ComparisonEvidence,
    OrderEvidence,
    VenueRow,
    compare_groups,
    order_evidence,
    venue_table,
)
from execsim.reporting.html import render_html
from execsim.reporting.policy import (
    RULES,
    BestExecutionPolicy,
    Breach,
    CheckStatus,
    ExecutionFactor,
    LowerLimit,
    MarkoutLimit,
    PolicyCheck,
    RuleSpec,
    Severity,
    UpperLimit,
    check_policy_rules,
    evaluate,
)
from execsim.reporting.report import (
    FORMATS,
    SCHEMA,
    BestExecutionReport,
    RunSummary,
    build_report,
    write_report,
)
from execsim.reporting.terminal import render_terminal

__all__ = [
    "CHART_HORIZONS_S",
    "COMPARISON_METRICS",
    "FACTOR_FIELDS",
    "FORMATS",
    "RULES",
    "SCHEMA",
    "BestExecutionPolicy",
    "BestExecutionReport",
    "Breach",
    "CheckStatus",
    "ComparisonEvidence",
    "ExecutionFactor",
    "LowerLimit",
    "MarkoutLimit",
    "OrderEvidence",
    "PolicyCheck",
    "RuleSpec",
    "RunSummary",
    "Severity",
    "UpperLimit",
    "VenueRow",
    "build_report",
    "chart_data",
    "check_policy_rules",
    "compare_groups",
    "evaluate",
    "figures",
    "merge_chart_data",
    "order_evidence",
    "render_html",
    "render_terminal",
    "venue_table",
    "write_report",
]
