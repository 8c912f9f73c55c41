"""Per-order evidence across the execution factors, the RTS 28-style venue table, A versus B.

Everything here is data: frozen records built from a run's results and its TCA, which the HTML,
JSON and terminal renderers only format.

- :func:`order_evidence`: one :class:`OrderEvidence` per parent order — its values for each
  execution factor (price, costs, speed, likelihood of execution, size, venue), taken from the
  TCA, and the outcome of every policy rule on it.
- :func:`venue_table`: one :class:`VenueRow` per venue with the columns of an RTS 28 top-venues
  table (volume and executed orders as a share of the total; passive, aggressive and directed
  orders as a share of the venue's executed orders) plus the fill rate and the midpoint share.
- :func:`compare_groups`: runs grouped by run name, each group compared with the baseline on the
  same (seed, parent) pairs with :func:`execsim.tca.compare_runs`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from execsim.core.errors import ConfigError
from execsim.reporting.policy import BestExecutionPolicy, CheckStatus, PolicyCheck, Severity
from execsim.tca import TcaReport, build_context, compare_runs, horizon_key, midpoint_fills

if TYPE_CHECKING:
    from execsim.backtest.results import RunResult

__all__ = [
    "COMPARISON_METRICS",
    "FACTOR_FIELDS",
    "ComparisonEvidence",
    "OrderEvidence",
    "VenueRow",
    "compare_groups",
    "freeze",
    "order_evidence",
    "thaw",
    "venue_table",
]

NAN = float("nan")

COMPARISON_METRICS: tuple[str, ...] = (
    "implementation_shortfall_bps",
    "slippage_arrival_bps",
    "slippage_vwap_bps",
)
"""The TCA metrics compared between groups of runs (cost, positive = worse)."""

FACTOR_FIELDS: Mapping[str, tuple[tuple[str, str], ...]] = MappingProxyType(
    {
        "price": (
            ("implementation_shortfall_bps", "shortfall.implementation_shortfall_bps"),
            ("delay_cost_bps", "shortfall.delay_cost_bps"),
            ("timing_cost_bps", "shortfall.timing_cost_bps"),
            ("trading_cost_bps", "shortfall.trading_cost_bps"),
            ("opportunity_cost_bps", "shortfall.opportunity_cost_bps"),
            ("slippage_arrival_bps", "slippage.slippage_arrival_bps"),
            ("slippage_vwap_bps", "slippage.slippage_vwap_bps"),
            ("slippage_twap_bps", "slippage.slippage_twap_bps"),
            ("slippage_close_bps", "slippage.slippage_close_bps"),
            ("decision_mid_ticks", "shortfall.decision_mid_ticks"),
            ("avg_fill_price_ticks", "shortfall.avg_fill_price_ticks"),
        ),
        "costs": (
            ("fees_bps", "shortfall.fees_bps"),
            ("fees_ccy", "shortfall.fees_ccy"),
            ("effective_spread_bps", "spreads.effective_spread_bps"),
            ("quoted_spread_bps", "spreads.quoted_spread_bps"),
            ("implementation_shortfall_ccy", "shortfall.implementation_shortfall_ccy"),
        ),
        "speed": (
            ("time_to_first_fill_s", "fill.time_to_first_fill_s"),
            ("time_to_last_fill_s", "fill.time_to_last_fill_s"),
        ),
        "likelihood": (
            ("fill_rate_by_quantity", "fill.fill_rate_by_quantity"),
            ("fill_rate_by_count", "fill.fill_rate_by_count"),
            ("filled_qty", "fill.filled_qty"),
            ("unfilled_qty", "shortfall.unfilled_qty"),
            ("n_children", "fill.n_children"),
            ("n_children_filled", "fill.n_children_filled"),
        ),
        "size": (
            ("paper_notional_ccy", "shortfall.paper_notional_ccy"),
            ("participation_rate", "participation.participation_rate"),
            ("participation_mean_bucket", "participation.participation_mean_bucket"),
            ("participation_max_bucket", "participation.participation_max_bucket"),
        ),
    }
)
"""Per execution factor: (evidence field, TCA ``section.key``) pairs shown for every order.

The ``price`` factor also gets ``markout_<h>_bps`` at the policy's markout horizon; ``size``
the parent quantity; ``venue`` the share of filled volume per venue and on approved venues.
"""


# -- immutable, JSON-ready values --------------------------------------------------------------
def freeze(v: Any) -> Any:
    """A read-only copy: mappings → ``MappingProxyType``, lists → tuples, numpy scalars → Python."""
    if isinstance(v, Mapping):
        return MappingProxyType({str(k): freeze(x) for k, x in v.items()})
    if isinstance(v, list | tuple):
        return tuple(freeze(x) for x in v)
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v) + 0.0  # + 0.0: no −0.0 in the output
    return v


def thaw(v: Any) -> Any:
    """The JSON-ready form of :func:`freeze` output (NaN and infinity → ``None``)."""
    if isinstance(v, Mapping):
        return {k: thaw(x) for k, x in v.items()}
    if isinstance(v, tuple | list):
        return [thaw(x) for x in v]
    if hasattr(v, "to_dict"):
        return v.to_dict()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _num(v: Any) -> float:
    if v is None or isinstance(v, bool) or not isinstance(v, int | float):
        return NAN
    return float(v)


# -- per-order evidence ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvidence:
    """One parent order across the execution factors, with the policy's verdict.

    ``factors[factor][field]`` holds numbers (NaN = not available) — see :data:`FACTOR_FIELDS`.
    ``verdict`` is ``"breach"`` when any rule is breached, else ``"pass"``; ``worst_severity``
    the most severe breach (``None`` without one).
    """

    run: str
    run_id: str
    seed: int | None
    parent_id: int
    index: int
    algo: str
    side: str
    qty: int
    venue: str
    ts_decision: int
    factors: Mapping[str, Mapping[str, Any]]
    checks: tuple[PolicyCheck, ...]

    @property
    def breaches(self) -> tuple[PolicyCheck, ...]:
        """The checks that failed."""
        return tuple(c for c in self.checks if c.status is CheckStatus.BREACH)

    @property
    def n_not_evaluated(self) -> int:
        """Rules whose value TCA could not compute for this order."""
        return sum(c.status is CheckStatus.NOT_EVALUATED for c in self.checks)

    @property
    def worst_severity(self) -> Severity | None:
        """The most severe breach, if any."""
        b = self.breaches
        return max((c.severity for c in b), key=lambda s: s.rank) if b else None

    @property
    def verdict(self) -> str:
        """``"breach"`` or ``"pass"``."""
        return "breach" if self.breaches else "pass"

    def value(self, factor: str, field: str) -> float:
        """One factor value (NaN when not available)."""
        return _num(self.factors.get(factor, {}).get(field))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "run": self.run,
            "run_id": self.run_id,
            "seed": self.seed,
            "parent_id": self.parent_id,
            "index": self.index,
            "algo": self.algo,
            "side": self.side,
            "qty": self.qty,
            "venue": self.venue,
            "ts_decision": self.ts_decision,
            "factors": thaw(self.factors),
            "verdict": self.verdict,
            "worst_severity": None if self.worst_severity is None else self.worst_severity.value,
            "n_breaches": len(self.breaches),
            "n_not_evaluated": self.n_not_evaluated,
            "checks": [c.to_dict() for c in self.checks],
        }


def _get(metrics: Mapping[str, Mapping[str, Any]], key: str) -> Any:
    sec, _, k = key.partition(".")
    return metrics.get(sec, {}).get(k)


def order_evidence(
    report: TcaReport,
    checks: Sequence[PolicyCheck],
    policy: BestExecutionPolicy,
    *,
    run_label: str | None = None,
) -> tuple[OrderEvidence, ...]:
    """The evidence rows of one run: one per parent order, in parent order.

    Parameters
    ----------
    report
        The run's TCA.
    checks
        The policy checks of the run (:func:`~execsim.reporting.policy.check_policy_rules`);
        each row keeps those of its parent.
    policy
        The policy (its markout horizon and approved venues).
    run_label
        How the rows name the run (default: the run's name).
    """
    label = run_label or report.name or report.run_id[:12]
    h = horizon_key(policy.price.markout_bps.horizon_s)
    rows = []
    for p in report.parents:
        factors: dict[str, dict[str, Any]] = {
            f: {name: _get(p.metrics, key) for name, key in fields} for f, fields in FACTOR_FIELDS.items()
        }
        factors["price"][f"markout_{h}_bps"] = _get(p.metrics, f"markouts.markout_{h}_bps")
        factors["size"]["qty"] = p.qty
        by_venue = p.metrics.get("venues", {}).get("by_venue", {})
        total = sum(_num(r.get("filled_qty")) for r in by_venue.values())
        shares = {
            v: (_num(r.get("filled_qty")) / total if total > 0 else NAN) for v, r in sorted(by_venue.items())
        }
        approved = NAN
        if total > 0:
            approved = (
                1.0
                if policy.venue.approved is None
                else sum(s for v, s in shares.items() if v in policy.venue.approved)
            )
        factors["venue"] = {"filled_share_by_venue": shares, "approved_share": approved}
        rows.append(
            OrderEvidence(
                run=label,
                run_id=report.run_id,
                seed=report.seed,
                parent_id=p.parent_id,
                index=p.index,
                algo=p.algo,
                side=p.side,
                qty=p.qty,
                venue=p.venue,
                ts_decision=p.ts_decision,
                factors=freeze(factors),
                checks=tuple(c for c in checks if c.parent == p.parent_id),
            )
        )
    return tuple(rows)


# -- the venue table ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class VenueRow:
    """One venue in RTS 28 style (shares are fractions 0–1; NaN = no executed order).

    ``volume_share``: the venue's filled quantity over the filled quantity of every venue;
    ``orders_share``: its executed orders (child orders with at least one fill) over all executed
    orders; ``passive_share`` / ``aggressive_share``: of the venue's executed orders, those
    filled only as maker / those that took liquidity at least once (they sum to 1);
    ``directed_share``: orders for which the client chose the venue — always 0 in a simulation;
    ``passive_volume_share``: maker fills' quantity over the venue's filled quantity;
    ``fill_rate``: filled over routed quantity; ``midpoint_share``: filled quantity at the exact
    mid of the pre-trade quote over the venue's filled quantity (as TCA's venue table).
    """

    venue: str
    approved: bool | None
    n_orders: int
    n_orders_executed: int
    n_fills: int
    routed_qty: int
    filled_qty: int
    volume_share: float
    orders_share: float
    passive_share: float
    aggressive_share: float
    directed_share: float
    passive_volume_share: float
    fill_rate: float
    midpoint_share: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN → None)."""
        return {f.name: thaw(getattr(self, f.name)) for f in fields(self)}


_COUNTERS = (
    "n_orders",
    "n_exec",
    "n_fills",
    "routed",
    "filled",
    "passive_orders",
    "aggressive_orders",
    "maker_qty",
    "mid_qty",
)


def venue_table(
    results: Sequence[RunResult], policy: BestExecutionPolicy | None = None
) -> tuple[VenueRow, ...]:
    """The venue table over every order of the given runs (parented or not), by volume, largest first.

    Raises
    ------
    DataError
        When a fill names an order the run does not have (from :mod:`execsim.tca`).
    """
    venue_rules = (policy or BestExecutionPolicy()).venue
    acc: dict[str, dict[str, int]] = {}
    for r in results:
        _, orders, fills, _ = build_context(r)
        mid = midpoint_fills(fills)
        for v in sorted(set(orders.venue.tolist()) | set(fills.venue.tolist())):
            a = acc.setdefault(
                v,
                dict.fromkeys(_COUNTERS, 0),
            )
            ko = orders.venue == v
            fv = fills.venue == v
            a["n_orders"] += int(ko.sum())
            a["routed"] += int(orders.qty[ko].sum())
            a["n_fills"] += int(fv.sum())
            a["filled"] += int(fills.qty[fv].sum())
            a["maker_qty"] += int(fills.qty[fv & fills.maker].sum())
            a["mid_qty"] += int(fills.qty[fv & mid].sum())
            # an executed order took liquidity if any of its fills was taker; otherwise it was passive
            executed = np.unique(fills.order_id[fv])
            took = np.unique(fills.order_id[fv & ~fills.maker])
            a["n_exec"] += len(executed)
            a["aggressive_orders"] += len(took)
            a["passive_orders"] += len(executed) - len(took)
    total_filled = sum(a["filled"] for a in acc.values())
    total_exec = sum(a["n_exec"] for a in acc.values())

    def frac(x: int, tot: int) -> float:
        return x / tot if tot else NAN

    rows = [
        VenueRow(
            venue=v,
            approved=venue_rules.is_approved(v),
            n_orders=a["n_orders"],
            n_orders_executed=a["n_exec"],
            n_fills=a["n_fills"],
            routed_qty=a["routed"],
            filled_qty=a["filled"],
            volume_share=frac(a["filled"], total_filled),
            orders_share=frac(a["n_exec"], total_exec),
            passive_share=frac(a["passive_orders"], a["n_exec"]),
            aggressive_share=frac(a["aggressive_orders"], a["n_exec"]),
            directed_share=0.0 if a["n_exec"] else NAN,
            passive_volume_share=frac(a["maker_qty"], a["filled"]),
            fill_rate=frac(a["filled"], a["routed"]),
            midpoint_share=frac(a["mid_qty"], a["filled"]),
        )
        for v, a in acc.items()
    ]
    return tuple(sorted(rows, key=lambda r: (-r.filled_qty, r.venue)))


# -- A versus B --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonEvidence:
    """Group A against the baseline group B on one metric (differences A − B; cost: + = A worse).

    ``comparison`` is :meth:`execsim.tca.Comparison.to_dict` output; ``error`` says why there is
    none (for example fewer than 2 (seed, parent) pairs).
    """

    a: str
    b: str
    metric: str
    n_runs_a: int
    n_runs_b: int
    comparison: Mapping[str, Any] | None
    error: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "a": self.a,
            "b": self.b,
            "metric": self.metric,
            "n_runs_a": self.n_runs_a,
            "n_runs_b": self.n_runs_b,
            "comparison": thaw(self.comparison),
            "error": self.error,
        }


def compare_groups(
    groups: Mapping[str, Sequence[TcaReport]],
    *,
    baseline: str | None = None,
    metrics: Sequence[str] = COMPARISON_METRICS,
    n_boot: int = 10_000,
    seed: int = 0,
) -> tuple[ComparisonEvidence, ...]:
    """Compare every group of runs with the baseline group, metric by metric.

    Parameters
    ----------
    groups
        Group name (the run name, e.g. the algorithm) → the TCA of its runs, one per seed.
        Parents are paired by (run seed, parent index), as :func:`execsim.tca.compare_runs` does.
    baseline
        The group the others are compared with (B); default: the first group.
    metrics
        TCA keys to compare.
    n_boot, seed
        Bootstrap resamples and the seed of the resampling.

    Returns
    -------
    tuple of ComparisonEvidence
        Empty with fewer than two groups. A pair that cannot be compared (too few pairs, a seed
        repeated within a group) carries the reason in ``error`` instead of a comparison.
    """
    names = list(groups)
    if len(names) < 2:
        return ()
    base = names[0] if baseline is None else baseline
    if base not in groups:
        raise ConfigError(f"baseline {base!r} is not one of the run groups {names}")
    out = []
    for name in names:
        if name == base:
            continue
        for m in metrics:
            try:
                c = compare_runs(list(groups[name]), list(groups[base]), metric=m, n_boot=n_boot, seed=seed)
                comp: Mapping[str, Any] | None = freeze(c.to_dict())
                err = ""
            except (ConfigError, KeyError) as e:
                comp, err = None, str(e).strip("'\"")
            out.append(
                ComparisonEvidence(
                    a=name,
                    b=base,
                    metric=m,
                    n_runs_a=len(groups[name]),
                    n_runs_b=len(groups[base]),
                    comparison=comp,
                    error=err,
                )
            )
    return tuple(out)
