"""The best-execution policy: parsing, defaults, and each rule just inside / outside its limit."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from execsim.core.errors import ConfigError, DataNotFoundError
from execsim.reporting import (
    RULES,
    BestExecutionPolicy,
    CheckStatus,
    Severity,
    check_policy_rules,
    evaluate,
)
from execsim.tca import ParentTca, TcaReport

REPO = Path(__file__).resolve().parents[2]


def _report(*parents: dict[str, dict[str, Any]], venues: dict[str, Any] | None = None) -> TcaReport:
    """A TCA report with hand-set metric values (one dict of sections per parent)."""
    return TcaReport(
        run_id="f" * 64,
        name="hand",
        seed=1,
        instrument={"currency": "USD"},
        config={},
        metrics=(),
        parents=tuple(
            ParentTca(
                parent_id=i + 1,
                index=i,
                side="buy",
                qty=100,
                algo="x",
                venue="LIT",
                ts_decision=0,
                metrics=m,
            )
            for i, m in enumerate(parents)
        ),
        aggregate={},
        venues=venues or {},
        unattributed={},
        counterfactual_available=False,
    )


def _only(rule: str, policy: BestExecutionPolicy) -> BestExecutionPolicy:
    """``policy`` with every rule off except ``rule``."""
    d = policy.model_dump(mode="json")
    for spec in RULES:
        f, _, k = spec.rule.partition(".")
        if spec.rule != rule:
            d[f][k]["max" if spec.direction == "max" else "min"] = None
    return BestExecutionPolicy.from_dict(d)


def test_the_default_policy_has_the_documented_thresholds() -> None:
    p = BestExecutionPolicy()
    assert p.price.implementation_shortfall_bps.max == 25.0
    assert p.price.implementation_shortfall_bps.severity is Severity.HIGH
    assert p.price.slippage_arrival_bps.max == 20.0
    assert p.price.slippage_vwap_bps.max == 10.0
    assert (p.price.markout_bps.max, p.price.markout_bps.horizon_s) == (10.0, 60.0)
    assert p.costs.fees_bps.max == 3.0
    assert p.costs.effective_spread_bps.max is None
    assert (p.speed.time_to_first_fill_s.max, p.speed.time_to_last_fill_s.max) == (60.0, 3600.0)
    assert p.likelihood.fill_rate_by_quantity.min == 0.95
    assert p.likelihood.fill_rate_by_count.min is None
    assert (p.size.participation_mean.max, p.size.participation_worst_bucket.max) == (0.10, 0.25)
    assert p.venue.approved is None
    assert p.venue.approved_share.min == 1.0


def test_the_documented_defaults_match_docs_reporting_md() -> None:
    doc = (REPO / "docs" / "reporting.md").read_text()
    p = BestExecutionPolicy()
    for spec in RULES:
        lim = p.limit(spec.rule)
        bound = lim.max if spec.direction == "max" else lim.min  # type: ignore[union-attr]
        shown = "off" if bound is None else f"{'≤' if spec.direction == 'max' else '≥'} {bound:g}"
        row = f"| `{spec.rule}` |"
        line = next((ln for ln in doc.splitlines() if ln.startswith(row)), None)
        assert line is not None, f"docs/reporting.md has no row for {spec.rule}"
        assert shown in line, (spec.rule, shown, line)
        assert lim.severity.value in line, (spec.rule, line)


def test_the_example_policy_file_loads() -> None:
    p = BestExecutionPolicy.from_yaml(REPO / "examples" / "best_execution_policy.yaml")
    assert p.venue.approved == ("LIT", "DARK")
    assert p.likelihood.fill_rate_by_quantity.min == 0.98
    assert p.likelihood.fill_rate_by_count.min is None
    assert p.price.markout_bps.horizon_s == 60.0


def test_a_partial_policy_keeps_the_other_defaults() -> None:
    p = BestExecutionPolicy.from_dict({"price": {"slippage_vwap_bps": {"max": 5, "severity": "high"}}})
    assert p.price.slippage_vwap_bps.max == 5.0
    assert p.price.slippage_vwap_bps.severity is Severity.HIGH
    assert p.price.implementation_shortfall_bps.max == 25.0
    assert p.size == BestExecutionPolicy().size


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"price": {"foo_bps": {"max": 1}}}, "price.foo_bps"),
        ({"pricee": {}}, "pricee"),
        ({"price": {"slippage_vwap_bps": {"max": 1, "sev": "high"}}}, "price.slippage_vwap_bps.sev"),
        ({"likelihood": {"fill_rate_by_quantity": {"max": 1}}}, "likelihood.fill_rate_by_quantity.max"),
    ],
)
def test_unknown_policy_keys_are_named_in_the_error(data: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=f"unknown key '{named}'"):
        BestExecutionPolicy.from_dict(data)


def test_a_bad_severity_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="severity"):
        BestExecutionPolicy.from_dict({"costs": {"fees_bps": {"max": 1, "severity": "urgent"}}})


def test_a_policy_file_with_an_unknown_key_names_the_file(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("speed:\n  time_to_fill_s: {max: 3}\n")
    with pytest.raises(ConfigError, match=r"p\.yaml.*unknown key 'speed\.time_to_fill_s'"):
        BestExecutionPolicy.from_yaml(f)


def test_a_missing_policy_file_is_reported() -> None:
    with pytest.raises(DataNotFoundError):
        BestExecutionPolicy.from_yaml("/nonexistent/policy.yaml")


# -- each rule, just inside and just outside --------------------------------------------------
_VALUE_RULES = [s for s in RULES if s.rule != "venue.approved_share"]


def _metrics_for(tca_key: str, value: float) -> dict[str, dict[str, Any]]:
    sec, _, k = tca_key.partition(".")
    return {sec: {k.format(h="60s"): value}}


@pytest.mark.parametrize("spec", _VALUE_RULES, ids=[s.rule for s in _VALUE_RULES])
def test_each_rule_breaches_just_outside_its_limit_and_passes_at_and_inside_it(spec: Any) -> None:
    limit = 0.5 if spec.unit == "fraction" else 7.0
    f, _, k = spec.rule.partition(".")
    bound = "max" if spec.direction == "max" else "min"
    policy = _only(spec.rule, BestExecutionPolicy.from_dict({f: {k: {bound: limit, "severity": "high"}}}))
    eps = 1e-9
    outside = limit + eps if spec.direction == "max" else limit - eps
    inside = limit - 0.01 if spec.direction == "max" else limit + 0.01
    rep = _report(
        _metrics_for(spec.tca_key, outside),
        _metrics_for(spec.tca_key, limit),
        _metrics_for(spec.tca_key, inside),
    )
    checks = check_policy_rules(rep, policy)
    assert [c.rule for c in checks] == [spec.rule] * 3
    assert [c.status for c in checks] == [CheckStatus.BREACH, CheckStatus.PASS, CheckStatus.PASS]
    breaches = evaluate(rep, policy)
    assert len(breaches) == 1
    b = breaches[0]
    assert (b.parent, b.threshold, b.value, b.severity) == (1, limit, outside, Severity.HIGH)
    assert b.run == "hand"
    assert ("above the maximum" if spec.direction == "max" else "below the minimum") in b.message


def test_a_value_tca_could_not_compute_is_not_evaluated_never_a_breach() -> None:
    policy = _only("price.slippage_vwap_bps", BestExecutionPolicy())
    rep = _report(
        {"slippage": {"slippage_vwap_bps": math.nan}}, {"slippage": {"slippage_vwap_bps": None}}, {}
    )
    checks = check_policy_rules(rep, policy)
    assert [c.status for c in checks] == [CheckStatus.NOT_EVALUATED] * 3
    assert "not available" in checks[0].message
    assert "not computed" in checks[2].message
    assert evaluate(rep, policy) == []


def test_a_rule_switched_off_is_not_checked() -> None:
    policy = BestExecutionPolicy.from_dict({"costs": {"fees_bps": {"max": None}}})
    rep = _report({"shortfall": {"fees_bps": 1e9}})
    assert not [c for c in check_policy_rules(rep, policy) if c.rule == "costs.fees_bps"]


def test_the_markout_rule_reads_the_policy_horizon() -> None:
    policy = _only(
        "price.markout_bps",
        BestExecutionPolicy.from_dict({"price": {"markout_bps": {"max": 2, "horizon_s": 10}}}),
    )
    rep = _report({"markouts": {"markout_10s_bps": 2.5, "markout_60s_bps": 0.0}})
    (b,) = evaluate(rep, policy)
    assert b.value == 2.5
    assert "at 10 s" in b.message
    # a horizon TCA did not compute is not evaluated, with the reason
    policy = _only(
        "price.markout_bps",
        BestExecutionPolicy.from_dict({"price": {"markout_bps": {"max": 2, "horizon_s": 7}}}),
    )
    (c,) = check_policy_rules(rep, policy)
    assert c.status is CheckStatus.NOT_EVALUATED
    assert "markout_7s_bps" in c.message


def test_the_venue_rule_measures_the_approved_share_per_parent_and_for_the_run() -> None:
    policy = _only(
        "venue.approved_share",
        BestExecutionPolicy.from_dict(
            {"venue": {"approved": ["LIT"], "approved_share": {"min": 0.75, "severity": "low"}}}
        ),
    )
    by = {"venues": {"by_venue": {"LIT": {"filled_qty": 75}, "DARK": {"filled_qty": 25}}}}  # exactly 75 %
    worse = {"venues": {"by_venue": {"LIT": {"filled_qty": 74}, "DARK": {"filled_qty": 26}}}}
    none = {"venues": {"by_venue": {"LIT": {"filled_qty": 0}}}}
    run_table = {"by_venue": {"LIT": {"filled_qty": 148}, "DARK": {"filled_qty": 52}}}  # 74 %
    checks = check_policy_rules(_report(by, worse, none, venues=run_table), policy)
    assert [(c.parent, c.status) for c in checks] == [
        (1, CheckStatus.PASS),
        (2, CheckStatus.BREACH),
        (3, CheckStatus.NOT_EVALUATED),
        ("run", CheckStatus.BREACH),
    ]
    assert checks[1].value == pytest.approx(0.74)
    assert checks[3].value == pytest.approx(0.74)
    assert checks[3].severity is Severity.LOW


def test_without_an_approved_list_every_venue_is_approved() -> None:
    policy = _only("venue.approved_share", BestExecutionPolicy())
    rep = _report(
        {"venues": {"by_venue": {"X": {"filled_qty": 5}}}}, venues={"by_venue": {"X": {"filled_qty": 5}}}
    )
    assert [c.value for c in check_policy_rules(rep, policy)] == [1.0, 1.0]
    assert evaluate(rep, policy) == []


def test_breaches_are_listed_parent_by_parent_in_rule_order() -> None:
    p = BestExecutionPolicy()
    bad = {
        "shortfall": {"implementation_shortfall_bps": 30.0, "fees_bps": 4.0},
        "fill": {"fill_rate_by_quantity": 0.5},
    }
    rep = _report(bad, bad)
    got = [(b.parent, b.rule) for b in evaluate(rep, p)]
    order = ["price.implementation_shortfall_bps", "costs.fees_bps", "likelihood.fill_rate_by_quantity"]
    assert got == [(1, r) for r in order] + [(2, r) for r in order]
    assert all(c.to_dict()["status"] == "breach" for c in evaluate(rep, p))
