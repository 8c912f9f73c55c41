"""The best-execution report: one frozen object built from runs, rendered as HTML, JSON, terminal.

:func:`build_report` analyses each run (or takes its TCA), checks the policy, builds the
per-order evidence, the venue table, the A-versus-B comparisons and the chart data, and returns
a frozen :class:`BestExecutionReport`. :func:`write_report` writes ``report.html`` (self-contained,
plotly inlined, works offline) and ``report.json`` (the same content as data, keys sorted).
Nothing in the report depends on the wall clock: the same runs and policy give the same files.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from execsim.core.errors import ConfigError
from execsim.core.version import __version__
from execsim.reporting.charts import CHART_HORIZONS_S, chart_data, merge_chart_data
from execsim.reporting.evidence import (
    ComparisonEvidence,
    OrderEvidence,
    VenueRow,
    compare_groups,
    freeze,
    order_evidence,
    thaw,
    venue_table,
)
from execsim.reporting.policy import (
    RULES,
    BestExecutionPolicy,
    CheckStatus,
    PolicyCheck,
    Severity,
    check_policy_rules,
)
from execsim.tca import TcaReport, analyze

if TYPE_CHECKING:
    from execsim.backtest.results import RunResult

__all__ = [
    "FORMATS",
    "SCHEMA",
    "SUMMARY_FIELDS",
    "BestExecutionReport",
    "RunSummary",
    "build_report",
    "parse_formats",
    "write_report",
]

SCHEMA = "execsim.report/1"
FORMATS = ("html", "json", "terminal")

SUMMARY_FIELDS: tuple[tuple[str, str], ...] = (
    ("implementation_shortfall_bps", "shortfall.implementation_shortfall_bps"),
    ("implementation_shortfall_ccy", "shortfall.implementation_shortfall_ccy"),
    ("slippage_arrival_bps", "slippage.slippage_arrival_bps"),
    ("slippage_vwap_bps", "slippage.slippage_vwap_bps"),
    ("fees_ccy", "shortfall.fees_ccy"),
    ("fill_rate_by_quantity", "fill.fill_rate_by_quantity"),
    ("participation_max_bucket", "participation.participation_max_bucket"),
    ("paper_notional_ccy", "shortfall.paper_notional_ccy"),
)
"""Per run: (summary field, TCA aggregate ``section.key``) — notional-weighted means or sums."""

NOTES: tuple[str, ...] = (
    "Costs are cost-signed for buys and sells alike: positive = worse for the client. bps are of "
    "each parent order's decision (arrival) mid; run figures are TCA aggregates (sums of currency, "
    "means weighted by paper notional). Definitions: docs/tca.md.",
    "Schedule chart: runs do not store the algorithm's slice schedule, so executed quantity is "
    "drawn against a linear (TWAP) reference from the decision to the horizon end the algorithm "
    "logged, or to when the parent's last child order was done.",
    "Venue table (RTS 28 style): shares of volume and of executed orders over every order of the "
    "runs, including orders without a parent. An executed order is aggressive when any of its "
    "fills took liquidity, else passive. Directed orders are always 0 in a simulation.",
    "A versus B: runs are grouped by run name (by algorithm when every run has the same name and "
    "one algorithm); parents are paired by (run seed, parent index) "
    "with common random numbers; differences are A − B (positive = A costs more), with a BCa "
    "bootstrap CI and a paired sign-flip permutation p-value.",
    "A rule is 'not evaluated' when TCA could not compute its value (no fills, a horizon past the "
    "end of the data): neither a pass nor a breach.",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    """One run: what it was and its aggregate key metrics.

    ``metrics`` are TCA aggregates (:data:`SUMMARY_FIELDS`); ``breaches`` counts breaches by
    severity; ``session`` is the manifest's record of the models the session used.
    """

    label: str
    group: str
    run_id: str
    name: str
    seed: int | None
    n_parents: int
    algos: tuple[str, ...]
    instrument: Mapping[str, str]
    data: str
    session: Mapping[str, Any]
    counterfactual_available: bool
    metrics: Mapping[str, Any]
    breaches: Mapping[str, int]
    unattributed: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {f.name: thaw(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True, kw_only=True)
class BestExecutionReport:
    """The best-execution report of one or several runs (frozen; render with the writers).

    Attributes
    ----------
    title
        The report's title.
    policy
        The policy as data (``policy_id`` is its config id).
    runs
        One :class:`RunSummary` per run, in the order given.
    orders
        Per-order evidence across the execution factors, run by run.
    run_checks
        Policy checks on whole runs (the venue rule over every order).
    venues
        The RTS 28-style venue table over every run; ``venues_by_run`` per run.
    comparisons
        A versus baseline per metric (empty for a single group of runs).
    charts
        Chart data (see :mod:`execsim.reporting.charts`).
    notes
        Assumptions and conventions the reader needs.
    """

    title: str
    policy: Mapping[str, Any]
    policy_id: str
    runs: tuple[RunSummary, ...]
    orders: tuple[OrderEvidence, ...]
    run_checks: tuple[PolicyCheck, ...]
    venues: tuple[VenueRow, ...]
    venues_by_run: Mapping[str, tuple[VenueRow, ...]]
    comparisons: tuple[ComparisonEvidence, ...]
    baseline: str | None
    charts: Mapping[str, Any]
    notes: tuple[str, ...]

    @property
    def checks(self) -> tuple[PolicyCheck, ...]:
        """Every policy check: per order, then per run."""
        return tuple(c for o in self.orders for c in o.checks) + self.run_checks

    @property
    def breaches(self) -> tuple[PolicyCheck, ...]:
        """Every breach, most severe first (then in report order)."""
        b = [c for c in self.checks if c.status is CheckStatus.BREACH]
        return tuple(sorted(b, key=lambda c: -c.severity.rank))

    def breach_counts(self) -> dict[str, int]:
        """Breaches by severity (every severity present, possibly 0)."""
        n = Counter(c.severity.value for c in self.breaches)
        return {s.value: n.get(s.value, 0) for s in Severity}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN → None)."""
        return {
            "schema": SCHEMA,
            "execsim_version": __version__,
            "title": self.title,
            "policy": thaw(self.policy),
            "policy_id": self.policy_id,
            "policy_rules": [
                {
                    "rule": s.rule,
                    "factor": s.factor.value,
                    "label": s.label,
                    "tca_key": s.tca_key,
                    "direction": s.direction,
                    "unit": s.unit,
                }
                for s in RULES
            ],
            "runs": [r.to_dict() for r in self.runs],
            "breach_counts": self.breach_counts(),
            "breaches": [c.to_dict() for c in self.breaches],
            "orders": [o.to_dict() for o in self.orders],
            "run_checks": [c.to_dict() for c in self.run_checks],
            "venues": [v.to_dict() for v in self.venues],
            "venues_by_run": {k: [v.to_dict() for v in rows] for k, rows in self.venues_by_run.items()},
            "baseline": self.baseline,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "charts": thaw(self.charts),
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON with sorted keys (no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, allow_nan=False) + "\n"


def _labels(reports: Sequence[TcaReport]) -> list[str]:
    """Unique run labels: the run name, qualified by seed (and id) only where names repeat."""
    names = [r.name or r.run_id[:12] for r in reports]
    out = [n if names.count(n) == 1 else f"{n}/seed{r.seed}" for n, r in zip(names, reports, strict=True)]
    return [
        o if out.count(o) == 1 else f"{o}/{r.run_id[:8]}#{i + 1}"
        for i, (o, r) in enumerate(zip(out, reports, strict=True))
    ]


def _groups(reports: Sequence[TcaReport], labels: Sequence[str]) -> dict[str, str]:
    """Run label → comparison group: the run name; the algorithm when every run has the same name
    but each run's parents share one algorithm and these differ between runs."""
    names = {r.name for r in reports}
    algos = [{p.algo for p in r.parents} for r in reports]
    if (
        len(reports) > 1
        and len(names) == 1
        and all(len(a) == 1 for a in algos)
        and len({next(iter(a)) for a in algos}) > 1
    ):
        return {lab: next(iter(a)) for lab, a in zip(labels, algos, strict=True)}
    return {lab: (r.name or lab) for lab, r in zip(labels, reports, strict=True)}


def _get(agg: Mapping[str, Any], key: str) -> Any:
    sec, _, k = key.partition(".")
    return agg.get(sec, {}).get(k)


def build_report(
    results: Sequence[RunResult],
    policy: BestExecutionPolicy | None = None,
    *,
    tca: Sequence[TcaReport | None] | None = None,
    baseline: str | None = None,
    title: str | None = None,
    n_boot: int = 10_000,
    chart_horizons_s: Sequence[float] = CHART_HORIZONS_S,
) -> BestExecutionReport:
    """Build the best-execution report of one or several runs.

    Parameters
    ----------
    results
        The runs (in memory or :meth:`~execsim.backtest.RunResult.load`-ed), in report order.
    policy
        The thresholds (default :class:`BestExecutionPolicy`, documented in docs/reporting.md).
    tca
        Each run's TCA when already computed (e.g. read from ``tca.json``); ``None`` entries
        are analysed here with the default :class:`~execsim.tca.TcaConfig`.
    baseline
        The run group (run name) the others are compared with; default: the first run's.
    title
        The report's title.
    n_boot
        Bootstrap resamples of the A-versus-B comparisons.
    chart_horizons_s
        Horizons of the markout and impact curves.

    Raises
    ------
    ConfigError
        With no runs, a ``tca`` list of another length, a TCA that belongs to another run, or an
        unknown baseline.
    """
    if not results:
        raise ConfigError("a best-execution report needs at least one run")
    pol = policy or BestExecutionPolicy()
    given = list(tca) if tca is not None else [None] * len(results)
    if len(given) != len(results):
        raise ConfigError(f"got {len(given)} TCA reports for {len(results)} runs")
    reports: list[TcaReport] = []
    for r, t in zip(results, given, strict=True):
        if t is not None and t.run_id != r.run_id:
            raise ConfigError(f"the TCA of run {t.run_id[:12]} was given for run {r.run_id[:12]}")
        reports.append(t if t is not None else analyze(r))
    labels = _labels(reports)
    group_of = _groups(reports, labels)
    runs: list[RunSummary] = []
    orders: list[OrderEvidence] = []
    run_checks: list[PolicyCheck] = []
    charts: list[dict[str, Any]] = []
    by_run: dict[str, tuple[VenueRow, ...]] = {}
    groups: dict[str, list[TcaReport]] = {}
    for r, rep, label in zip(results, reports, labels, strict=True):
        checks = check_policy_rules(rep, pol, run_label=label)
        orders.extend(order_evidence(rep, checks, pol, run_label=label))
        run_checks.extend(c for c in checks if c.parent == "run")
        by_run[label] = venue_table([r], pol)
        charts.append(chart_data(r, rep, label, horizons_s=chart_horizons_s))
        group = group_of[label]
        groups.setdefault(group, []).append(rep)
        n = Counter(c.severity.value for c in checks if c.status is CheckStatus.BREACH)
        runs.append(
            RunSummary(
                label=label,
                group=group,
                run_id=rep.run_id,
                name=rep.name,
                seed=rep.seed,
                n_parents=len(rep.parents),
                algos=tuple(dict.fromkeys(p.algo for p in rep.parents)),
                instrument=freeze(dict(rep.instrument)),
                data=str(r.manifest.get("data", {}).get("description", "")),
                session=freeze(r.manifest.get("session", {})),
                counterfactual_available=rep.counterfactual_available,
                metrics=freeze({name: _get(rep.aggregate, key) for name, key in SUMMARY_FIELDS}),
                breaches=freeze({s.value: n.get(s.value, 0) for s in Severity}),
                unattributed=freeze(dict(rep.unattributed)),
            )
        )
    if baseline is not None and baseline not in groups:
        raise ConfigError(f"baseline {baseline!r} is not a run name; the runs are named {list(groups)}")
    comparisons = compare_groups(groups, baseline=baseline, n_boot=n_boot)
    base = (baseline or next(iter(groups))) if len(groups) > 1 else None
    return BestExecutionReport(
        title=title or _title(runs),
        policy=freeze(pol.model_dump(mode="json")),
        policy_id=pol.config_id,
        runs=tuple(runs),
        orders=tuple(orders),
        run_checks=tuple(run_checks),
        venues=venue_table(results, pol),
        venues_by_run=freeze(by_run),
        comparisons=comparisons,
        baseline=base,
        charts=freeze(merge_chart_data(charts)),
        notes=NOTES,
    )


def _title(runs: Sequence[RunSummary]) -> str:
    sym = runs[0].instrument.get("symbol", "")
    what = runs[0].label if len(runs) == 1 else f"{len(runs)} runs"
    return f"Best-execution report — {what}" + (f" ({sym})" if sym else "")


def parse_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """Validate output format names (``html``, ``json``, ``terminal``); drop blanks and repeats."""
    fs = tuple(dict.fromkeys(f.strip() for f in formats if f.strip()))
    bad = [f for f in fs if f not in FORMATS]
    if bad or not fs:
        raise ConfigError(f"unknown report format(s) {bad or list(fs)}; choose from {list(FORMATS)}")
    return fs


def write_report(
    report: BestExecutionReport, out_dir: str | Path, *, formats: Iterable[str] = ("html", "json")
) -> dict[str, Path]:
    """Write the report files into ``out_dir`` (created if needed).

    Parameters
    ----------
    report
        The report.
    out_dir
        The folder.
    formats
        Any of ``html`` (``report.html``), ``json`` (``report.json``) and ``terminal``
        (``report.txt``, the terminal summary as plain text).

    Returns
    -------
    dict
        Format → path written.
    """
    from execsim.reporting.html import render_html
    from execsim.reporting.terminal import render_terminal

    fs = parse_formats(formats)
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    if "html" in fs:
        out["html"] = d / "report.html"
        out["html"].write_text(render_html(report), encoding="utf-8")
    if "json" in fs:
        out["json"] = d / "report.json"
        out["json"].write_text(report.to_json(), encoding="utf-8")
    if "terminal" in fs:
        out["terminal"] = d / "report.txt"
        out["terminal"].write_text(render_terminal(report, color=False), encoding="utf-8")
    return out
