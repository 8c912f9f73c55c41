"""The best-execution policy: thresholds per execution factor, and the checks against a TCA report.

A firm's best-execution policy (MiFID II Art. 27: price, costs, speed, likelihood of execution
and settlement, size, nature — plus where orders go) states what outcome it expects of an
order. Here the policy is a frozen config, loaded from YAML, with one **rule** per measurable
threshold. Each rule is a limit on one TCA value of a parent order (``max`` for a cost or a
duration, ``min`` for a rate) and a **severity** (``low``, ``medium``, ``high``). ``null``
switches a rule off.

.. code-block:: yaml

    name: desk-policy
    price:
      implementation_shortfall_bps: {max: 25, severity: high}
      markout_bps: {max: 10, horizon_s: 60, severity: low}
    likelihood:
      fill_rate_by_quantity: {min: 0.95, severity: high}
    venue:
      approved: [LIT, DARK]
      approved_share: {min: 1.0, severity: high}

The rules, the TCA value each reads, and the defaults (``BestExecutionPolicy()``) are listed in
:data:`RULES` and in docs/reporting.md. Every parent order of a run is checked against every
rule that is on; the venue rule is also checked over the run's whole venue table (every order,
parented or not), reported with parent ``"run"``. A value TCA could not compute (no fills, a
horizon past the data) is *not evaluated*, never a pass or a breach.

Signs follow TCA: costs positive = worse for the client, so a cost rule breaches when
``value > max``; a rate rule breaches when ``value < min``. A value exactly at the limit passes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from execsim.core.config import FrozenConfig
from execsim.tca import ParentTca, TcaReport, horizon_key

__all__ = [
    "RULES",
    "BestExecutionPolicy",
    "Breach",
    "CheckStatus",
    "CostsRules",
    "ExecutionFactor",
    "LikelihoodRules",
    "LowerLimit",
    "MarkoutLimit",
    "PolicyCheck",
    "PriceRules",
    "RuleSpec",
    "Severity",
    "SizeRules",
    "SpeedRules",
    "UpperLimit",
    "VenueRules",
    "check_policy_rules",
    "evaluate",
]


class Severity(StrEnum):
    """How serious a breach of a rule is (what the policy owner escalates)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """0 (low) to 2 (high), for sorting."""
        return {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2}[self]


class ExecutionFactor(StrEnum):
    """The execution factors of MiFID II Art. 27(1), and the venue."""

    PRICE = "price"
    COSTS = "costs"
    SPEED = "speed"
    LIKELIHOOD = "likelihood"
    SIZE = "size"
    VENUE = "venue"


class CheckStatus(StrEnum):
    """The outcome of one rule on one parent (or the run)."""

    PASS = "pass"
    BREACH = "breach"
    NOT_EVALUATED = "not evaluated"


class UpperLimit(FrozenConfig):
    """A rule ``value <= max`` (``max: null`` switches it off)."""

    max: float | None = Field(description="the largest acceptable value; null: rule off")
    severity: Severity = Severity.MEDIUM


class LowerLimit(FrozenConfig):
    """A rule ``value >= min`` (``min: null`` switches it off)."""

    min: float | None = Field(description="the smallest acceptable value; null: rule off")
    severity: Severity = Severity.MEDIUM


class MarkoutLimit(UpperLimit):
    """A cap on the (cost-signed, adverse = positive) markout at one horizon."""

    horizon_s: float = Field(default=60.0, gt=0, description="the markout horizon (s) TCA reports")


class PriceRules(FrozenConfig):
    """Price: implementation shortfall, slippage against benchmarks, adverse selection (bps)."""

    implementation_shortfall_bps: UpperLimit = UpperLimit(max=25.0, severity=Severity.HIGH)
    slippage_arrival_bps: UpperLimit = UpperLimit(max=20.0, severity=Severity.MEDIUM)
    slippage_vwap_bps: UpperLimit = UpperLimit(max=10.0, severity=Severity.MEDIUM)
    markout_bps: MarkoutLimit = MarkoutLimit(max=10.0, horizon_s=60.0, severity=Severity.LOW)


class CostsRules(FrozenConfig):
    """Costs: explicit fees and the spread paid (bps of the decision mid)."""

    fees_bps: UpperLimit = UpperLimit(max=3.0, severity=Severity.MEDIUM)
    effective_spread_bps: UpperLimit = UpperLimit(max=None, severity=Severity.LOW)


class SpeedRules(FrozenConfig):
    """Speed: seconds from the decision to the first and the last fill."""

    time_to_first_fill_s: UpperLimit = UpperLimit(max=60.0, severity=Severity.LOW)
    time_to_last_fill_s: UpperLimit = UpperLimit(max=3600.0, severity=Severity.MEDIUM)


class LikelihoodRules(FrozenConfig):
    """Likelihood of execution: the share of the parent filled, and of child orders with a fill."""

    fill_rate_by_quantity: LowerLimit = LowerLimit(min=0.95, severity=Severity.HIGH)
    fill_rate_by_count: LowerLimit = LowerLimit(min=None, severity=Severity.LOW)


class SizeRules(FrozenConfig):
    """Size: our share of market volume, the mean over buckets and the worst bucket (fractions)."""

    participation_mean: UpperLimit = UpperLimit(max=0.10, severity=Severity.MEDIUM)
    participation_worst_bucket: UpperLimit = UpperLimit(max=0.25, severity=Severity.MEDIUM)


class VenueRules(FrozenConfig):
    """Venue: where the volume went (the approved list; null approves every venue)."""

    approved: tuple[str, ...] | None = Field(
        default=None, description="venues the policy allows; null: every venue is approved"
    )
    approved_share: LowerLimit = LowerLimit(min=1.0, severity=Severity.HIGH)

    def is_approved(self, venue: str) -> bool | None:
        """Whether ``venue`` is on the approved list (``None`` when there is no list)."""
        return None if self.approved is None else venue in self.approved


class BestExecutionPolicy(FrozenConfig):
    """A best-execution policy: thresholds per execution factor (see the module docstring).

    Examples
    --------
    >>> p = BestExecutionPolicy.from_dict({"price": {"slippage_vwap_bps": {"max": 5}}})
    >>> p.price.slippage_vwap_bps.max, p.price.implementation_shortfall_bps.max
    (5.0, 25.0)
    """

    name: str = "execsim default best-execution policy"
    description: str = ""
    price: PriceRules = PriceRules()
    costs: CostsRules = CostsRules()
    speed: SpeedRules = SpeedRules()
    likelihood: LikelihoodRules = LikelihoodRules()
    size: SizeRules = SizeRules()
    venue: VenueRules = VenueRules()

    def limit(self, rule: str) -> UpperLimit | LowerLimit:
        """The limit of a rule by its name, e.g. ``"price.slippage_vwap_bps"``."""
        factor, _, field = rule.partition(".")
        out = getattr(getattr(self, factor), field)
        if not isinstance(out, UpperLimit | LowerLimit):
            raise KeyError(f"{rule!r} is not a rule")
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSpec:
    """One rule: its name in the policy, the factor, the TCA value it reads, its direction."""

    rule: str
    factor: ExecutionFactor
    tca_key: str
    direction: Literal["max", "min"]
    unit: str
    label: str


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        rule="price.implementation_shortfall_bps",
        factor=ExecutionFactor.PRICE,
        tca_key="shortfall.implementation_shortfall_bps",
        direction="max",
        unit="bps",
        label="implementation shortfall",
    ),
    RuleSpec(
        rule="price.slippage_arrival_bps",
        factor=ExecutionFactor.PRICE,
        tca_key="slippage.slippage_arrival_bps",
        direction="max",
        unit="bps",
        label="slippage vs arrival",
    ),
    RuleSpec(
        rule="price.slippage_vwap_bps",
        factor=ExecutionFactor.PRICE,
        tca_key="slippage.slippage_vwap_bps",
        direction="max",
        unit="bps",
        label="slippage vs interval VWAP",
    ),
    RuleSpec(
        rule="price.markout_bps",
        factor=ExecutionFactor.PRICE,
        tca_key="markouts.markout_{h}_bps",
        direction="max",
        unit="bps",
        label="adverse markout",
    ),
    RuleSpec(
        rule="costs.fees_bps",
        factor=ExecutionFactor.COSTS,
        tca_key="shortfall.fees_bps",
        direction="max",
        unit="bps",
        label="explicit fees",
    ),
    RuleSpec(
        rule="costs.effective_spread_bps",
        factor=ExecutionFactor.COSTS,
        tca_key="spreads.effective_spread_bps",
        direction="max",
        unit="bps",
        label="effective spread",
    ),
    RuleSpec(
        rule="speed.time_to_first_fill_s",
        factor=ExecutionFactor.SPEED,
        tca_key="fill.time_to_first_fill_s",
        direction="max",
        unit="s",
        label="time to first fill",
    ),
    RuleSpec(
        rule="speed.time_to_last_fill_s",
        factor=ExecutionFactor.SPEED,
        tca_key="fill.time_to_last_fill_s",
        direction="max",
        unit="s",
        label="time to last fill",
    ),
    RuleSpec(
        rule="likelihood.fill_rate_by_quantity",
        factor=ExecutionFactor.LIKELIHOOD,
        tca_key="fill.fill_rate_by_quantity",
        direction="min",
        unit="fraction",
        label="fill rate (quantity)",
    ),
    RuleSpec(
        rule="likelihood.fill_rate_by_count",
        factor=ExecutionFactor.LIKELIHOOD,
        tca_key="fill.fill_rate_by_count",
        direction="min",
        unit="fraction",
        label="fill rate (child orders)",
    ),
    RuleSpec(
        rule="size.participation_mean",
        factor=ExecutionFactor.SIZE,
        tca_key="participation.participation_mean_bucket",
        direction="max",
        unit="fraction",
        label="mean participation",
    ),
    RuleSpec(
        rule="size.participation_worst_bucket",
        factor=ExecutionFactor.SIZE,
        tca_key="participation.participation_max_bucket",
        direction="max",
        unit="fraction",
        label="worst-bucket participation",
    ),
    RuleSpec(
        rule="venue.approved_share",
        factor=ExecutionFactor.VENUE,
        tca_key="venues.by_venue",
        direction="min",
        unit="fraction",
        label="share of volume on approved venues",
    ),
)
"""Every rule of a policy, in report order."""

_SPEC = {s.rule: s for s in RULES}


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyCheck:
    """One rule checked on one parent order (``parent`` is its id) or on the run (``"run"``).

    ``value`` is NaN when TCA could not compute it (status ``not evaluated``).
    """

    rule: str
    factor: ExecutionFactor
    run: str
    parent: int | Literal["run"]
    direction: Literal["max", "min"]
    threshold: float
    value: float
    unit: str
    severity: Severity
    status: CheckStatus
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN → None)."""
        return {
            "rule": self.rule,
            "factor": self.factor.value,
            "run": self.run,
            "parent": self.parent,
            "direction": self.direction,
            "threshold": self.threshold,
            "value": self.value if math.isfinite(self.value) else None,
            "unit": self.unit,
            "severity": self.severity.value,
            "status": self.status.value,
            "message": self.message,
        }


Breach = PolicyCheck
"""A :class:`PolicyCheck` whose status is ``breach`` (what :func:`evaluate` returns)."""


def _fmt(v: float, unit: str) -> str:
    if unit == "fraction":
        return f"{v:.2%}"
    if unit == "s":
        return f"{v:.3g} s"
    return f"{v:.2f} {unit}"


def _num(v: Any) -> float:
    if v is None or isinstance(v, bool) or not isinstance(v, int | float):
        return float("nan")
    return float(v)


def _tca_value(p: ParentTca, spec: RuleSpec, policy: BestExecutionPolicy) -> tuple[float, str]:
    """The value a rule reads from one parent's TCA, and why it is missing when it is."""
    if spec.rule == "venue.approved_share":
        return _approved_share(p.metrics.get("venues", {}).get("by_venue", {}), policy.venue)
    key = spec.tca_key
    if spec.rule == "price.markout_bps":
        key = key.format(h=horizon_key(policy.price.markout_bps.horizon_s))
    sec, _, k = key.partition(".")
    if sec not in p.metrics:
        return float("nan"), f"TCA section {sec!r} was not computed"
    if k not in p.metrics[sec]:
        return float("nan"), f"TCA has no {key!r} (is the horizon among the TCA config's horizons?)"
    v = _num(p.metrics[sec][k])
    return v, "" if math.isfinite(v) else "not available (no fills, or past the end of the data)"


def _approved_share(by_venue: Mapping[str, Any], rules: VenueRules) -> tuple[float, str]:
    filled = {str(v): _num(row.get("filled_qty")) for v, row in by_venue.items()}
    total = sum(q for q in filled.values() if math.isfinite(q))
    if total <= 0:
        return float("nan"), "no filled volume"
    if rules.approved is None:
        return 1.0, ""
    ok = sum(q for v, q in filled.items() if math.isfinite(q) and v in rules.approved)
    return ok / total, ""


def _check(
    spec: RuleSpec,
    limit: UpperLimit | LowerLimit,
    value: float,
    why: str,
    run: str,
    parent: int | Literal["run"],
    extra: str = "",
) -> PolicyCheck:
    threshold = float(limit.max if isinstance(limit, UpperLimit) else limit.min)  # type: ignore[arg-type]
    who = "the run" if parent == "run" else f"parent {parent}"
    label = spec.label + extra
    if not math.isfinite(value):
        status, msg = CheckStatus.NOT_EVALUATED, f"{run} {who}: {label} not evaluated: {why}"
    else:
        bad = value > threshold if spec.direction == "max" else value < threshold
        status = CheckStatus.BREACH if bad else CheckStatus.PASS
        op = ("above the maximum" if spec.direction == "max" else "below the minimum") if bad else "within"
        msg = (
            f"{run} {who}: {label} {_fmt(value, spec.unit)} is {op} "
            f"{'' if bad else 'the limit '}{_fmt(threshold, spec.unit)}"
        )
    return PolicyCheck(
        rule=spec.rule,
        factor=spec.factor,
        run=run,
        parent=parent,
        direction=spec.direction,
        threshold=threshold,
        value=value,
        unit=spec.unit,
        severity=limit.severity,
        status=status,
        message=msg,
    )


def _label(report: TcaReport) -> str:
    return report.name or report.run_id[:12]


def check_policy_rules(
    report: TcaReport, policy: BestExecutionPolicy, *, run_label: str | None = None
) -> list[PolicyCheck]:
    """Check every rule that is on against every parent of ``report`` (and the venue rule on the run).

    Parameters
    ----------
    report
        The TCA of one run.
    policy
        The thresholds.
    run_label
        How the checks name the run (default: the run's name).

    Returns
    -------
    list of PolicyCheck
        Passes, breaches and rules not evaluated, parent by parent in :data:`RULES` order, then
        the run-level venue check.
    """
    run = run_label or _label(report)
    out: list[PolicyCheck] = []
    for p in report.parents:
        for spec in RULES:
            limit = policy.limit(spec.rule)
            if (limit.max if isinstance(limit, UpperLimit) else limit.min) is None:
                continue
            value, why = _tca_value(p, spec, policy)
            extra = (
                f" at {policy.price.markout_bps.horizon_s:g} s" if spec.rule == "price.markout_bps" else ""
            )
            out.append(_check(spec, limit, value, why, run, p.parent_id, extra))
    venue_limit = policy.venue.approved_share
    if venue_limit.min is not None and report.venues.get("by_venue"):
        value, why = _approved_share(report.venues["by_venue"], policy.venue)
        spec = _SPEC["venue.approved_share"]
        out.append(_check(spec, venue_limit, value, why, run, "run", " (every order of the run)"))
    return out


def evaluate(
    report: TcaReport, policy: BestExecutionPolicy, *, run_label: str | None = None
) -> list[PolicyCheck]:
    """The breaches of ``policy`` in one run's TCA (see :func:`check_policy_rules`).

    Returns
    -------
    list of Breach
        Each with the rule, the run, the parent id (or ``"run"``), the threshold, the value, the
        severity and a one-line message; in :data:`RULES` order per parent.
    """
    return [
        c for c in check_policy_rules(report, policy, run_label=run_label) if c.status is CheckStatus.BREACH
    ]
