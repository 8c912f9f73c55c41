"""Per-order evidence, the RTS 28-style venue table and A-vs-B, on hand-made and real runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from execsim.backtest import RunResult
from execsim.reporting import (
    BestExecutionPolicy,
    CheckStatus,
    Severity,
    check_policy_rules,
    compare_groups,
    order_evidence,
    venue_table,
)
from execsim.tca import analyze

POLICY = BestExecutionPolicy.from_dict({"venue": {"approved": ["LIT"]}})


def _rows(run: RunResult, policy: BestExecutionPolicy = POLICY):  # type: ignore[no-untyped-def]
    tca = analyze(run)
    return order_evidence(tca, check_policy_rules(tca, policy), policy)


def test_evidence_rows_of_the_hand_run_match_hand_computed_values(hand_run: RunResult) -> None:
    buy, sell = _rows(hand_run)
    # parent 1: P_d = 10000; 60 @ 10001 + 30 @ 10000, 10 unfilled marked at the close mid 10000;
    # fee 0.30 on a paper notional of 100 × 10000 × 0.01 = 10000 → IS = (60 × 0.01 + 0.30) / 10000
    assert buy.factors["price"]["implementation_shortfall_bps"] == pytest.approx(0.9)
    assert buy.factors["costs"]["fees_bps"] == pytest.approx(0.3)
    assert buy.factors["costs"]["fees_ccy"] == pytest.approx(0.3)
    assert buy.factors["price"]["slippage_arrival_bps"] == pytest.approx((60 / 90) / 10000 * 1e4)
    assert buy.factors["likelihood"]["fill_rate_by_quantity"] == pytest.approx(0.9)
    assert buy.factors["likelihood"]["fill_rate_by_count"] == 1.0
    assert buy.factors["likelihood"]["unfilled_qty"] == 10
    assert buy.factors["speed"]["time_to_first_fill_s"] == pytest.approx(0.001)
    assert buy.factors["speed"]["time_to_last_fill_s"] == pytest.approx(10.0)
    assert buy.factors["size"]["qty"] == 100
    # interval 10 s .. 60 s holds the 1000-lot print at 15 s and our 90 lots: one 60 s bucket
    assert buy.factors["size"]["participation_max_bucket"] == pytest.approx(90 / 1090)
    assert buy.factors["venue"]["filled_share_by_venue"] == {
        "DARK": pytest.approx(1 / 3),
        "LIT": pytest.approx(2 / 3),
    }
    assert buy.factors["venue"]["approved_share"] == pytest.approx(2 / 3)
    # parent 2: sell 50 @ 9990 against P_d 10000 → 10 ticks per lot = 10 bps of 10000, a cost
    assert sell.factors["price"]["implementation_shortfall_bps"] == pytest.approx(10.0)
    assert sell.factors["price"]["slippage_arrival_bps"] == pytest.approx(10.0)
    assert sell.factors["venue"]["approved_share"] == 1.0


def test_evidence_verdicts_follow_the_policy(hand_run: RunResult) -> None:
    buy, sell = _rows(hand_run)
    assert {c.rule for c in buy.breaches} == {"likelihood.fill_rate_by_quantity", "venue.approved_share"}
    assert buy.verdict == "breach"
    assert buy.worst_severity is Severity.HIGH
    # the sell's only fill is its whole execution interval: 100 % participation (no tape inside)
    assert {c.rule for c in sell.breaches} == {"size.participation_mean", "size.participation_worst_bucket"}
    assert sell.worst_severity is Severity.MEDIUM
    loose = BestExecutionPolicy.from_dict(
        {
            "likelihood": {"fill_rate_by_quantity": {"min": 0.9}},
            "size": {"participation_mean": {"max": 1.0}, "participation_worst_bucket": {"max": 1.0}},
        }
    )
    buy, sell = _rows(hand_run, loose)
    assert (buy.verdict, sell.verdict) == ("pass", "pass")  # 0.9 is exactly at the limit: a pass
    assert buy.worst_severity is None
    assert all(c.status is not CheckStatus.BREACH for c in buy.checks)


def test_a_sell_at_a_better_price_is_a_negative_cost(make_hand_run: Callable[..., RunResult]) -> None:
    (_, sell) = _rows(make_hand_run(sell_px=10010))  # sold 10 ticks above the decision mid
    assert sell.factors["price"]["implementation_shortfall_bps"] == pytest.approx(-10.0)
    assert sell.factors["price"]["slippage_arrival_bps"] == pytest.approx(-10.0)


def test_the_venue_table_of_the_hand_run_has_the_rts28_columns(hand_run: RunResult) -> None:
    lit, dark = venue_table([hand_run], POLICY)
    # LIT: orders 1, 3 and the unparented 4, all executed as taker: 60 + 50 + 5 lots
    assert (lit.venue, lit.approved, lit.n_orders, lit.n_orders_executed, lit.filled_qty) == (
        "LIT",
        True,
        3,
        3,
        115,
    )
    assert lit.volume_share == pytest.approx(115 / 145)
    assert lit.orders_share == pytest.approx(3 / 4)
    assert (lit.passive_share, lit.aggressive_share, lit.directed_share) == (0.0, 1.0, 0.0)
    assert (lit.fill_rate, lit.midpoint_share) == (1.0, 0.0)
    # DARK: order 2 rested and got 30 of 40 at the mid 10000 as maker
    assert (dark.venue, dark.approved, dark.n_orders_executed, dark.filled_qty, dark.routed_qty) == (
        "DARK",
        False,
        1,
        30,
        40,
    )
    assert dark.volume_share == pytest.approx(30 / 145)
    assert dark.orders_share == pytest.approx(1 / 4)
    assert (dark.passive_share, dark.aggressive_share) == (1.0, 0.0)
    assert dark.fill_rate == pytest.approx(0.75)
    assert dark.midpoint_share == 1.0
    assert venue_table([hand_run])[0].approved is None  # no approved list in the default policy


def test_the_venue_table_over_two_runs_sums_their_orders(
    hand_run: RunResult, make_hand_run: Callable[..., RunResult]
) -> None:
    lit2, dark2 = venue_table([hand_run, make_hand_run(seed=2)], POLICY)
    assert (lit2.n_orders, lit2.filled_qty, dark2.routed_qty) == (6, 230, 80)
    assert lit2.volume_share == pytest.approx(115 / 145)


def test_evidence_and_venues_of_a_real_session_agree_with_tca(real_run: RunResult) -> None:
    tca = analyze(real_run)
    rows = order_evidence(tca, check_policy_rules(tca, BestExecutionPolicy()), BestExecutionPolicy())
    assert [r.parent_id for r in rows] == [p.parent_id for p in tca.parents] == [1]
    (row,) = rows
    assert row.algo == "hand"
    assert row.factors["price"]["implementation_shortfall_bps"] == tca.parents[0].value(
        "implementation_shortfall_bps"
    )
    assert len(row.checks) == 11  # every default rule that is on (13 rules, 2 off)
    table = venue_table([real_run])
    by = {v.venue: v for v in table}
    assert set(by) == {"LIT", "B"}
    assert [v.filled_qty for v in table] == sorted((v.filled_qty for v in table), reverse=True)
    run_venues = tca.venues["by_venue"]
    for name, v in by.items():
        t = run_venues[name]
        assert v.filled_qty == t["filled_qty"]
        assert v.routed_qty == t["routed_qty"]
        assert v.volume_share == pytest.approx(t["filled_share"])
        assert v.passive_volume_share == pytest.approx(t["passive_share"])
        assert v.midpoint_share == pytest.approx(t["midpoint_share"])
        if v.n_orders_executed:
            assert v.passive_share + v.aggressive_share == pytest.approx(1.0)
            assert v.directed_share == 0.0
    assert sum(v.orders_share for v in table) == pytest.approx(1.0)
    # the unparented IOC on B counts in the venue table, not in any parent's evidence
    fills = real_run.fills.to_pylist()
    stray = sum(f["qty"] for f in fills if f["parent_id"] == 0)
    assert stray > 0
    parent_b = tca.parents[0].metrics["venues"]["by_venue"].get("B", {}).get("filled_qty", 0)
    assert by["B"].filled_qty == parent_b + stray


def test_compare_groups_pairs_runs_by_seed_and_reports_the_small_sample(
    make_hand_run: Callable[..., RunResult],
) -> None:
    a = [analyze(make_hand_run(name="a", seed=s, sell_px=9990 - s)) for s in (1, 2, 3)]
    b = [analyze(make_hand_run(name="b", seed=s)) for s in (1, 2, 3)]
    comps = compare_groups({"b": b, "a": a}, metrics=["implementation_shortfall_bps"], n_boot=500)
    (c,) = comps
    assert (c.a, c.b, c.n_runs_a, c.n_runs_b) == ("a", "b", 3, 3)
    d = c.comparison
    assert d is not None
    # pairs (seed, parent): the buys are equal; the sells cost s ticks more per lot = s bps more
    assert d["n"] == 6
    assert d["mean_diff"] == pytest.approx((1 + 2 + 3) / 6)
    assert d["warning"] is True
    assert "fewer than 20" in d["warning_text"]


def test_compare_groups_says_why_two_groups_cannot_be_compared(
    make_hand_run: Callable[..., RunResult],
) -> None:
    a = [analyze(make_hand_run(name="a", seed=1))]
    b = [analyze(make_hand_run(name="b", seed=9))]  # no common seed: no pairs
    (c,) = compare_groups({"a": a, "b": b}, metrics=["slippage_vwap_bps"], n_boot=200)
    assert c.comparison is None
    assert "pairs" in c.error
    assert compare_groups({"a": a}) == ()
