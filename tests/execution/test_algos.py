"""Execution algorithms in real backtest sessions on the synthetic market (replay venue).

Every run checks the parent/child invariants from the result tables: one parent, every child
carries its id, fills never exceed the parent, and at no submission did *filled + open child
quantity* (as the strategy could know it) exceed the parent quantity.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from execsim.backtest import RunConfig, RunResult, run_session
from execsim.core.errors import ConfigError
from execsim.data.synthetic import default_instrument
from execsim.execution.algos import (
    Action,
    AlgoState,
    ExecutionAlgo,
    ImplementationShortfallAlgo,
    PassiveAggressiveAlgo,
    PolicyAlgo,
    PovAlgo,
    TwapAlgo,
    TwapPolicy,
    VwapAlgo,
)
from execsim.execution.schedules import (
    NS_PER_DAY,
    VolumeCurve,
    almgren_chriss_trajectory,
    estimate_volume_curve,
    twap_schedule,
    vwap_schedule,
)
from execsim.venues.base import MockVenue, Quote, ReportKind, SubmitOrder

S = 1_000_000_000
SYN = {"kind": "synthetic", "n_events": 50_000, "minutes": 5}


def _cfg(
    seed: int = 0, venues: list[dict[str, Any]] | None = None, strategy: dict[str, Any] | None = None
) -> RunConfig:
    return RunConfig.from_dict(
        {
            "seed": seed,
            "data": SYN,
            "venues": venues or [{"kind": "replay"}],
            "strategy": strategy or {"class": "execsim.execution.algos:TwapAlgo"},
        }
    )


def run(algo: ExecutionAlgo, *, seed: int = 0, venues: list[Any] | None = None) -> RunResult:
    """Run ``algo`` on the synthetic market (replay venue, or the given venue objects)."""
    return run_session(_cfg(seed), strategy=algo, venues=venues)


def committed_at_submissions(res: RunResult) -> list[int]:
    """Filled + open quantity of all children, as known at each child's submission time.

    A child counts with its full original quantity from its submission until the strategy
    receives a report that gives quantity back (a cancel or size-down, an expiry, a rejection).
    """
    orders = res.orders.to_pylist()
    events = res.order_events.to_pylist()
    size_down: dict[int, int] = defaultdict(int)
    for e in events:
        if e["kind"] == "cancelled" and e["leaves_qty"] > 0:
            size_down[e["order_id"]] += e["qty"]
    orig = {o["order_id"]: o["qty"] + size_down[o["order_id"]] for o in orders}
    released: list[tuple[int, int]] = []
    back: dict[int, int] = defaultdict(int)
    for e in events:
        if e["kind"] in ("cancelled", "expired"):
            released.append((e["ts_recv"], e["qty"]))
            back[e["order_id"]] += e["qty"]
        elif e["kind"] == "rejected" and e["command"] == "submit":
            released.append((e["ts_recv"], orig[e["order_id"]]))
            back[e["order_id"]] += orig[e["order_id"]]
    # the bookkeeping is complete: every lot of every child was filled or given back
    for o in orders:
        assert o["filled_qty"] + back[o["order_id"]] == orig[o["order_id"]], o
    out = []
    for o in orders:
        t = o["ts_submit"]
        sent = sum(orig[x["order_id"]] for x in orders if x["ts_submit"] <= t)
        out.append(sent - sum(q for tr, q in released if tr <= t))
    return out


def check_parent(res: RunResult, algo: ExecutionAlgo, name: str) -> None:
    """One parent with the algorithm's name and quantity; children carry its id; nothing exceeds it."""
    parents = res.parents.to_pylist()
    assert len(parents) == 1
    p = parents[0]
    assert (p["parent_id"], p["algo"], p["qty"], p["side"]) == (1, name, algo.qty, algo.side.value)
    assert p["ts_decision"] == algo.start_ns
    orders = res.orders.to_pylist()
    assert orders
    assert all(o["parent_id"] == 1 for o in orders)
    fills = res.fills.to_pylist()
    assert all(f["parent_id"] == 1 for f in fills)
    filled = sum(f["qty"] for f in fills)
    assert filled == algo.filled <= algo.qty
    assert max(committed_at_submissions(res)) <= algo.qty
    assert algo.max_committed <= algo.qty
    assert all(o["ts_submit"] < algo.end_ns or o["tag"] == "sweep" for o in orders)
    # nothing of ours is left open at the session end
    assert not [o for o in orders if o["status"] == "expired"]


def cum_filled(res: RunResult, t: int) -> int:
    """Lots filled as known to the strategy by time t."""
    return sum(f["qty"] for f in res.fills.to_pylist() if f["ts_recv"] <= t)


# -- TWAP ------------------------------------------------------------------------------------------
def test_twap_aggressive_completes_and_never_runs_ahead_of_its_slices() -> None:
    algo = TwapAlgo(
        TwapAlgo.Config(
            side="buy", qty=300, start_offset_s=1, duration_s=120, n_slices=6, placement="aggressive"
        )
    )
    res = run(algo)
    check_parent(res, algo, "twap")
    assert algo.state is AlgoState.DONE
    assert algo.filled == 300
    sched = twap_schedule(300, algo.start_ns, algo.end_ns, 6)
    assert algo.schedule is not None
    assert algo.schedule.qty.tolist() == sched.qty.tolist() == [50] * 6
    for j, t in enumerate(sched.times_ns.tolist()):
        assert cum_filled(res, t - 1) <= 50 * j  # not ahead before slice j starts
        assert cum_filled(res, t + 2 * S) >= 50 * (j + 1)  # and caught up within two seconds
    # every child is a buy IOC limited at or through the touch it saw, tagged aggressive
    orders = res.orders.to_pylist()
    assert {(o["side"], o["tif"], o["tag"]) for o in orders} == {("buy", "ioc", "aggressive")}


def test_twap_passive_rests_first_then_crosses_what_is_left_of_each_slice() -> None:
    algo = TwapAlgo(
        TwapAlgo.Config(
            side="sell",
            qty=240,
            start_offset_s=1,
            duration_s=120,
            n_slices=4,
            offset_ticks=3,
            cross_after=0.5,
        )
    )
    res = run(algo)
    check_parent(res, algo, "twap")
    assert algo.filled == 240
    orders = res.orders.to_pylist()
    assert orders[0]["tag"] == "passive"
    assert orders[0]["ts_submit"] == algo.start_ns
    span = (algo.end_ns - algo.start_ns) // 4
    for o in orders:
        j = (o["ts_submit"] - algo.start_ns) // span
        into = o["ts_submit"] - (algo.start_ns + j * span)
        if o["tag"] == "aggressive":  # crossing happens only in the second half of a slice
            assert into >= span // 2, o
    assert any(o["tag"] == "aggressive" for o in orders)  # 3 ticks behind the touch is slow to fill


def test_twap_twin_runs_are_identical() -> None:
    def once() -> RunResult:
        algo = TwapAlgo(TwapAlgo.Config(qty=200, start_offset_s=1, duration_s=60, n_slices=5))
        return run(algo, seed=3)

    a, b = once(), once()
    for t in ("parents", "orders", "fills", "order_events"):
        assert a.tables[t].equals(b.tables[t]), t


def test_algorithm_is_built_from_a_run_config() -> None:
    cfg = _cfg(
        strategy={
            "class": "execsim.execution.algos:TwapAlgo",
            "params": {"side": "sell", "qty": 90, "start_offset_s": 1, "duration_s": 30, "n_slices": 3},
        }
    )
    res = run_session(cfg)
    assert res.parents.to_pylist()[0]["algo"] == "twap"
    assert sum(f["qty"] for f in res.fills.to_pylist()) == 90
    with pytest.raises(ConfigError, match="n_slicez"):
        run_session(_cfg(strategy={"class": "execsim.execution.algos:TwapAlgo", "params": {"n_slicez": 3}}))


def test_horizon_and_venue_errors_name_the_problem() -> None:
    with pytest.raises(ConfigError, match="end_ns"):
        TwapAlgo.Config.from_dict({"start_ns": 10, "end_ns": 5})
    with pytest.raises(ConfigError, match="side"):
        TwapAlgo.Config.from_dict({"side": "none"})
    with pytest.raises(ConfigError, match="unknown venue 'NOPE'"):
        run(TwapAlgo(TwapAlgo.Config(venue="NOPE")))


# -- VWAP ------------------------------------------------------------------------------------------
def test_vwap_trades_in_proportion_to_the_configured_curve() -> None:
    algo = VwapAlgo(
        VwapAlgo.Config(
            qty=400, start_offset_s=1, duration_s=120, volume_curve=[3, 1, 1, 3], placement="aggressive"
        )
    )
    res = run(algo)
    check_parent(res, algo, "vwap")
    assert algo.schedule is not None
    assert algo.schedule.qty.tolist() == [150, 50, 50, 150]
    assert algo.filled == 400
    q = 30 * S
    per_bucket = [
        cum_filled(res, algo.start_ns + (k + 1) * q - 1) - cum_filled(res, algo.start_ns + k * q - 1)
        for k in range(4)
    ]
    assert per_bucket == [150, 50, 50, 150]


def test_vwap_uses_a_curve_estimated_from_an_earlier_runs_trade_prints(tmp_path: Path) -> None:
    history = run(TwapAlgo(TwapAlgo.Config(qty=10, start_offset_s=1, duration_s=10)), seed=11)
    path = tmp_path / "market_trades.parquet"
    pq.write_table(history.market_trades, path)
    algo = VwapAlgo(
        VwapAlgo.Config(
            qty=500, start_offset_s=1, duration_s=240, history_files=[str(path)], history_bucket_s=60
        )
    )
    res = run(algo, seed=5)
    check_parent(res, algo, "vwap")
    # the same curve, estimated independently from the prints, gives the same schedule
    mt = history.market_trades.to_pydict()
    t = np.asarray(mt["ts_event"])
    day0 = int(t.min()) - int(t.min()) % NS_PER_DAY
    curve = estimate_volume_curve(
        t,
        np.asarray(mt["qty"]),
        bucket_ns=60 * S,
        session_start_ns=day0 + int(t.min() % NS_PER_DAY),
        session_end_ns=day0 + int(t.max() % NS_PER_DAY) + 1,
        period_ns=NS_PER_DAY,
    )
    expected = vwap_schedule(500, algo.start_ns, algo.end_ns, curve)
    assert algo.schedule is not None
    assert algo.schedule.qty.tolist() == expected.qty.tolist()
    assert algo.schedule.n_slices == 5  # 1 s after a bucket edge: a short first slice and four more


def test_vwap_reads_a_saved_curve_file(tmp_path: Path) -> None:
    start = _start_ns() + S
    VolumeCurve(fractions=np.array([1.0, 0.0, 3.0]), bucket_ns=20 * S, origin_ns=start).save(
        tmp_path / "c.json"
    )
    algo = VwapAlgo(
        VwapAlgo.Config(
            qty=100,
            start_offset_s=1,
            duration_s=60,
            curve_file=str(tmp_path / "c.json"),
            placement="aggressive",
        )
    )
    res = run(algo)
    check_parent(res, algo, "vwap")
    assert algo.schedule is not None
    assert algo.schedule.qty.tolist() == [25, 0, 75]


def _start_ns() -> int:
    from execsim.data.synthetic import SYNTHETIC_START_NS

    return int(SYNTHETIC_START_NS)


# -- POV -------------------------------------------------------------------------------------------
def test_pov_tracks_its_target_participation_of_market_volume() -> None:
    algo = PovAlgo(
        PovAlgo.Config(
            qty=100_000, start_offset_s=1, duration_s=120, participation=0.1, placement="aggressive",
            min_child_qty=5, cross_ticks=2,
        )
    )  # fmt: skip
    res = run(algo)
    check_parent(res, algo, "pov")
    mt = res.market_trades.to_pylist()
    for sec in range(10, 121, 10):
        t = algo.start_ns + sec * S
        vol = sum(x["qty"] for x in mt if algo.start_ns <= x["ts_local"] <= t)
        # behind by at most the minimum child plus what one print can add; never ahead
        gap = 0.1 * vol - cum_filled(res, t + 2_000_000)
        assert -1e-9 <= gap < 5 + 0.1 * max(x["qty"] for x in mt), (sec, vol, gap)
    total = sum(x["qty"] for x in mt if algo.start_ns <= x["ts_local"] < algo.end_ns)
    assert abs(algo.filled / total - 0.1) < 0.005
    assert algo.market_volume == total


def test_pov_stops_at_the_parent_quantity_and_respects_child_sizes() -> None:
    algo = PovAlgo(
        PovAlgo.Config(
            qty=150, start_offset_s=1, duration_s=120, participation=0.2, placement="aggressive",
            min_child_qty=10, max_child_qty=25, cross_ticks=2,
        )
    )  # fmt: skip
    res = run(algo)
    check_parent(res, algo, "pov")
    assert algo.filled == 150
    assert algo.state is AlgoState.DONE
    sizes = [o["qty"] for o in res.orders.to_pylist()]
    assert max(sizes) <= 25
    assert min(sizes) >= 10 or sizes[-1] < 10  # only the last child may be below the minimum


def test_pov_passive_posts_at_the_touch_and_catches_up_when_far_behind() -> None:
    algo = PovAlgo(
        PovAlgo.Config(
            qty=100_000, start_offset_s=1, duration_s=90, participation=0.05, catch_up_lots=30,
            post_ahead_lots=10, min_child_qty=5, offset_ticks=1,
        )
    )  # fmt: skip
    res = run(algo)
    check_parent(res, algo, "pov")
    tags = [o["tag"] for o in res.orders.to_pylist()]
    assert tags[0] == "passive"
    assert "passive" in tags
    mt = res.market_trades.to_pylist()
    for sec in range(10, 91, 10):
        t = algo.start_ns + sec * S
        vol = sum(x["qty"] for x in mt if algo.start_ns <= x["ts_local"] <= t)
        gap = 0.05 * vol - cum_filled(res, t + 2_000_000)
        assert gap < 30 + 5 + 0.05 * max(x["qty"] for x in mt), (sec, gap)


# -- implementation shortfall ----------------------------------------------------------------------
def test_implementation_shortfall_front_loads_along_the_almgren_chriss_trajectory() -> None:
    cfg = ImplementationShortfallAlgo.Config(
        side="sell", qty=600, start_offset_s=1, duration_s=120, n_slices=6, placement="aggressive",
        sigma=1.0, eta=1.0, risk_aversion=0.01,
    )  # fmt: skip
    algo = ImplementationShortfallAlgo(cfg)
    res = run(algo)
    check_parent(res, algo, "is")
    assert algo.filled == 600
    expected = almgren_chriss_trajectory(
        600, 6, sigma=1.0, eta=1.0, risk_aversion=0.01, tau=20.0, start_ns=algo.start_ns, end_ns=algo.end_ns
    )
    assert algo.schedule is not None
    assert algo.schedule.qty.tolist() == expected.qty.tolist()
    half = algo.start_ns + 60 * S
    assert cum_filled(res, half) > 450  # kappa T = 6 acosh(1.005) ≈ 0.6: most of it early


def test_implementation_shortfall_without_risk_aversion_is_twap() -> None:
    algo = ImplementationShortfallAlgo(
        ImplementationShortfallAlgo.Config(
            qty=101, start_offset_s=1, duration_s=60, n_slices=4, risk_aversion=0.0
        )
    )
    run(algo)
    assert algo.schedule is not None
    assert algo.schedule.qty.tolist() == [25, 26, 25, 25]


# -- passive, then aggressive ----------------------------------------------------------------------
def test_passive_aggressive_posts_first_and_crosses_only_after_the_timeout() -> None:
    algo = PassiveAggressiveAlgo(
        PassiveAggressiveAlgo.Config(qty=200, start_offset_s=1, duration_s=60, timeout_s=20, offset_ticks=6)
    )
    res = run(algo)
    check_parent(res, algo, "passive_aggressive")
    orders = res.orders.to_pylist()
    assert orders[0]["tag"] == "passive"
    assert orders[0]["ts_submit"] == algo.start_ns
    aggressive = [o for o in orders if o["tag"] == "aggressive"]
    assert aggressive
    assert min(o["ts_submit"] for o in aggressive) >= algo.start_ns + 20 * S
    assert algo.filled == 200
    # before crossing, the passive child was cancelled or sized down to make room
    assert any(
        e["kind"] == "cancelled"
        for e in res.order_events.to_pylist()
        if e["order_id"] == orders[0]["order_id"]
    )


def test_passive_aggressive_crosses_early_when_behind_schedule() -> None:
    algo = PassiveAggressiveAlgo(
        PassiveAggressiveAlgo.Config(
            qty=200, start_offset_s=1, duration_s=60, timeout_s=50, offset_ticks=6, behind_fraction=0.25
        )
    )
    res = run(algo)
    check_parent(res, algo, "passive_aggressive")
    first = min(o["ts_submit"] for o in res.orders.to_pylist() if o["tag"] == "aggressive")
    # behind a linear schedule by a quarter of the order from 15 s on (nothing fills 6 ticks away)
    assert algo.start_ns + 15 * S <= first < algo.start_ns + 16 * S


# -- rejections, partial fills, the end of the horizon ---------------------------------------------
def _mock(bid: int, ask: int, qty: int = 100, name: str = "LIT") -> MockVenue:
    return MockVenue(name=name, instrument=default_instrument(), book=Quote(bid, qty, ask, qty))


class _RunawayMock(MockVenue):
    """Shows a quote, but by the time an order arrives the market has moved through it: every
    post-only order would take liquidity (a fast market), so it is rejected."""

    def handle(self, command: Any) -> Any:
        if isinstance(command, SubmitOrder) and command.post_only:
            self._now = max(self._now, command.ts_ns)
            return [
                self._report(
                    command.order_id, ReportKind.REJECTED, reason="post-only order would take liquidity"
                )
            ]
        return super().handle(command)


def test_rejected_post_only_children_are_re_posted_after_the_delay() -> None:
    algo = TwapAlgo(
        TwapAlgo.Config(
            qty=100, start_offset_s=1, duration_s=2, n_slices=1, cross_after=1.0, repost_delay_ms=50
        )
    )
    venue = _RunawayMock(name="LIT", instrument=default_instrument(), book=Quote(99_980, 100, 99_990, 100))
    res = run(algo, venues=[venue])
    check_parent(res, algo, "twap")
    rej = [e for e in res.order_events.to_pylist() if e["kind"] == "rejected"]
    assert len(rej) >= 10
    assert algo.rejections == len(rej)
    assert all("post-only" in e["reason"] for e in rej)
    submits = sorted(o["ts_submit"] for o in res.orders.to_pylist())
    recv = sorted(e["ts_recv"] for e in rej)
    for r, nxt in zip(recv, submits[1:], strict=False):
        assert nxt >= r + 50_000_000  # each re-post waits for the delay after the rejection
    assert algo.filled == 0
    assert algo.state is AlgoState.DONE


def test_partial_fills_are_re_taken_without_exceeding_the_parent() -> None:
    # only 7 lots shown at the mock's ask: each IOC fills 7 and the rest is cancelled
    algo = TwapAlgo(
        TwapAlgo.Config(
            qty=120, start_offset_s=1, duration_s=30, n_slices=3, placement="aggressive", cross_ticks=5
        )
    )
    res = run(algo, venues=[_mock(99_995, 100_000, qty=7)])
    check_parent(res, algo, "twap")
    assert algo.filled == 120
    assert all(f["qty"] <= 7 for f in res.fills.to_pylist())
    assert sum(1 for o in res.orders.to_pylist() if 0 < o["filled_qty"] < o["qty"]) >= 10


def test_leftovers_are_cancelled_at_the_end_and_swept_only_when_configured() -> None:
    base = {"qty": 80, "start_offset_s": 1, "duration_s": 20, "timeout_s": 100, "offset_ticks": 8}
    quiet = PassiveAggressiveAlgo(PassiveAggressiveAlgo.Config(**base))
    res = run(quiet)
    check_parent(res, quiet, "passive_aggressive")
    assert quiet.filled < 80
    assert {o["status"] for o in res.orders.to_pylist()} <= {"cancelled", "filled"}
    done = [o["ts_done"] for o in res.orders.to_pylist() if o["status"] == "cancelled"]
    assert done
    assert min(done) >= quiet.end_ns

    sweeping = PassiveAggressiveAlgo(PassiveAggressiveAlgo.Config(**base, complete_at_end=True))
    res = run(sweeping)
    check_parent(res, sweeping, "passive_aggressive")
    assert sweeping.filled == 80
    sweeps = [o for o in res.orders.to_pylist() if o["tag"] == "sweep"]
    assert sweeps
    assert all(o["ts_submit"] > sweeping.end_ns and o["tif"] == "ioc" for o in sweeps)


def test_limit_price_caps_every_child_and_blocks_crossing_beyond_it() -> None:
    algo = TwapAlgo(
        TwapAlgo.Config(
            side="buy",
            qty=100,
            start_offset_s=1,
            duration_s=30,
            n_slices=3,
            limit_price=99_990,
            placement="aggressive",
        )
    )
    res = run(algo)
    assert algo.filled == 0
    assert res.orders.num_rows == 0
    algo = TwapAlgo(
        TwapAlgo.Config(side="sell", qty=100, start_offset_s=1, duration_s=30, n_slices=3, limit_price=99_990)
    )
    res = run(algo)
    check_parent(res, algo, "twap")
    assert all(o["price"] >= 99_990 for o in res.orders.to_pylist())


# -- the policy adapter in a session ---------------------------------------------------------------
def test_policy_algo_with_the_twap_policy_trades_like_twap() -> None:
    n = 6
    twap = TwapAlgo(
        TwapAlgo.Config(
            qty=300, start_offset_s=1, duration_s=60, n_slices=n, placement="aggressive", cross_ticks=3
        )
    )
    res_t = run(twap)
    pol = PolicyAlgo(
        PolicyAlgo.Config(qty=300, start_offset_s=1, duration_s=60, n_decisions=n),
        policy=TwapPolicy(n, cross_ticks=3),
    )
    res_p = run(pol)
    check_parent(res_p, pol, "policy:TwapPolicy")
    assert pol.filled == twap.filled == 300
    sched = twap_schedule(300, pol.start_ns, pol.end_ns, n)
    # the same quantity by the end of every slice, and never ahead of it
    for j, t in enumerate(sched.times_ns.tolist()):
        assert cum_filled(res_p, t - 1) == cum_filled(res_t, t - 1) == int(sched.qty[:j].sum())
    # the first child of each decision is that decision's TWAP slice (all IOCs filled in full here)
    firsts: dict[int, int] = {}
    for o in res_p.orders.to_pylist():
        firsts.setdefault(o["ts_submit"], o["qty"])
    assert list(firsts.values()) == sched.qty.tolist()
    assert len(pol.history) == n
    assert [obs.time_left for _, obs, _ in pol.history] == pytest.approx([1 - k / n for k in range(n)])


def test_policy_algo_loads_its_policy_from_the_run_config() -> None:
    cfg = _cfg(
        strategy={
            "class": "execsim.execution.algos:PolicyAlgo",
            "params": {
                "qty": 50, "start_offset_s": 1, "duration_s": 20, "n_decisions": 5,
                "policy": "execsim.execution.algos:TwapPolicy",
                "policy_params": {"n_steps": 5, "cross_ticks": 2},
            },
        }
    )  # fmt: skip
    res = run_session(cfg)
    assert res.parents.to_pylist()[0]["algo"] == "policy:TwapPolicy"
    assert sum(f["qty"] for f in res.fills.to_pylist()) == 50
    logs = res.strategy_log.to_pylist()
    assert sum("-> action" in x["message"] for x in logs) == 5
    with pytest.raises(ConfigError, match="needs a policy"):
        PolicyAlgo(PolicyAlgo.Config())


def test_policy_observations_match_the_book_and_tape_the_strategy_saw() -> None:
    from execsim.backtest.session import SEED_STREAMS
    from execsim.book.l2 import L2Book
    from execsim.data.synthetic import iter_synthetic_l2

    seen: list[Any] = []

    def record(obs: Any) -> float:
        seen.append(obs)
        return 0.0  # never trade: the observation only depends on the market

    algo = PolicyAlgo(
        PolicyAlgo.Config(
            side="sell", qty=100, start_offset_s=2, duration_s=40, n_decisions=4, flow_window_s=10
        ),
        policy=record,
    )
    res = run(algo, seed=2)
    times = [algo.start_ns + 10 * S * k for k in range(4)]
    assert [t for t, _, _ in algo.history] == times
    # rebuild the strategy's book independently: the data feed's receive times are its view
    seed = np.random.SeedSequence(2, spawn_key=(SEED_STREAMS.index("data"),))
    ev = np.concatenate(list(iter_synthetic_l2(seed=seed, n_events=50_000, duration_ns=300 * S)))
    trades = res.market_trades.to_pylist()
    for t, obs in zip(times, seen, strict=True):
        book = L2Book()
        book.apply(ev[np.maximum.accumulate(ev["ts_recv"]) <= t])
        (bp, bq), (ap, aq) = book.best_bid(), book.best_ask()  # type: ignore[misc]
        _, bqs, _, aqs = book.top(5)
        assert obs.spread_ticks == ap - bp
        assert obs.imbalance_l1 == pytest.approx((bq - aq) / (bq + aq))
        assert obs.imbalance_top5 == pytest.approx((bqs.sum() - aqs.sum()) / (bqs.sum() + aqs.sum()))
        # prints seen since the start (when it subscribed), within the last 10 s
        window = [x for x in trades if max(t - 10 * S, algo.start_ns + 1) <= x["ts_local"] <= t]
        signed = sum(x["qty"] * x["side"] for x in window)
        total = sum(x["qty"] for x in window)
        assert obs.trade_flow == pytest.approx(signed / total if total else 0.0)
        assert obs.time_left == pytest.approx((algo.end_ns - t) / (40 * S))
        assert obs.qty_left == 1.0
        assert obs.side == -1
        assert obs.schedule_gap == pytest.approx(-(1 - obs.time_left))
        assert obs.volatility_ticks >= 0
    # the last estimate: the mid at the 19 re-quotes (every 250 ms) before the decision and at it
    mids = []
    for t in [times[-1] - k * 250_000_000 for k in range(19, -1, -1)]:
        book = L2Book()
        book.apply(ev[np.maximum.accumulate(ev["ts_recv"]) <= t])
        mids.append((book.best_bid()[0] + book.best_ask()[0]) / 2)  # type: ignore[index]
    assert seen[-1].volatility_ticks == pytest.approx(float(np.std(np.diff(mids))))
    assert seen[-1].volatility_ticks > 0


def test_policy_re_deciding_replaces_working_children_without_over_submitting() -> None:
    # every decision wants the whole remainder resting, at a price that differs from the last
    # one: the old children must be cancelled and confirmed before their lots are sent again
    def restless(obs: Any) -> Action:
        step = round((1 - obs.time_left) * 8)
        return Action(trade_fraction=1.0, limit_offset_ticks=2 + step % 2)

    algo = PolicyAlgo(
        PolicyAlgo.Config(qty=120, start_offset_s=1, duration_s=8, n_decisions=8, max_child_qty=50),
        policy=restless,
    )
    res = run(algo)
    check_parent(res, algo, "policy:CallablePolicy")
    orders = res.orders.to_pylist()
    assert max(o["qty"] for o in orders) <= 50
    # each decision after the first cancelled the children resting at the old price
    cancelled = [
        e for e in res.order_events.to_pylist() if e["kind"] == "cancelled" and e["command"] == "cancel"
    ]
    assert len(cancelled) >= 7
    # and re-sent the freed quantity at the new price within the same interval
    sent_per_decision = defaultdict(int)
    for o in orders:
        sent_per_decision[(o["ts_submit"] - algo.start_ns) // S] += o["qty"]
    assert all(v >= 100 for k, v in sent_per_decision.items() if k < 7)
