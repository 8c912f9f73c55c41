"""The compiled quoting engine: the same fills as the Python session, latencies, accounting, inputs."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from numba import cfunc, njit, types

from execsim.backtest import RunConfig, RunResult, run_session
from execsim.backtest.compiled import (
    DECIDE_SIGNATURE,
    ORDER_REASONS,
    CompiledRunResult,
    compile_decide,
    run_compiled_quoter,
    touch_quoter_decide,
    touch_quoter_params,
)
from execsim.book.l2 import L2Book
from execsim.core.errors import ConfigError, ExecsimError
from execsim.data.feeds.canonical import write_parquet
from execsim.data.schema import EVENT_DTYPE, F_LAST, K_HALT, K_SET_LEVEL
from execsim.data.synthetic import default_instrument, synthetic_l2_stream
from execsim.model.enums import TradingStatus
from execsim.venues.fees import MakerTakerFees
from execsim.venues.latency import LatencyModel, StateDependentLatency
from execsim.venues.queue_models import ProbQueue, QueueModelConfig

INSTR = default_instrument()
MS = 1_000_000
BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def _stream(n: int = 40_000, minutes: float = 2.0, seed: int = 11) -> np.ndarray:
    return synthetic_l2_stream(seed=seed, n_events=n, duration_ns=int(minutes * 60e9))


def _compiled(events: Any, **over: Any) -> CompiledRunResult:
    kw: dict[str, Any] = {
        "decide": touch_quoter_decide,
        "params": touch_quoter_params(5),
        "interval_ns": 100 * MS,
        "entry_latency_ns": 200_000,
        "response_latency_ns": 300_000,
        "queue_model": QueueModelConfig(model="prob_power", n=2),
        "venue": "LIT",
    }
    kw.update(over)
    return run_compiled_quoter(events, INSTR, **kw)


def _session(
    path: Path,
    *,
    qty: int,
    interval_ms: float,
    entry_ns: int,
    response_ns: int,
    queue_model: dict[str, Any],
    md: dict[str, Any],
    max_position: int = 10**9,
) -> RunResult:
    cfg = RunConfig.from_dict(
        {
            "data": {"kind": "parquet", "path": str(path)},
            "venues": [{"name": "LIT", "kind": "replay", "queue_model": queue_model}],
            "latency": {
                "market_data": md,
                "order_entry": {"model": "constant", "latency_ns": entry_ns},
                "response": {"model": "constant", "latency_ns": response_ns},
            },
            "strategy": {
                "class": "execsim.backtest.strategies:TouchQuoter",
                "params": {"qty": qty, "interval_ms": interval_ms, "max_position": max_position},
            },
        }
    )
    return run_session(cfg)


FILL_KEYS = ("ts_venue", "ts_recv", "order_id", "side", "price", "qty", "liquidity", "queue_ahead")
ORDER_KEYS = (
    "order_id", "side", "price", "qty", "ts_submit",
    "arrival_bid_px", "arrival_bid_qty", "arrival_ask_px", "arrival_ask_qty",
)  # fmt: skip


def _assert_same_run(py: RunResult, co: CompiledRunResult, *, interval_ns: int, response_ns: int) -> int:
    """The session's fills and orders are the compiled run's, as far as the session can know them.

    The session's ledger records what the strategy has learnt by the end; past its last
    decision the session only looks for fills until the first one (Session.run calls
    _advance_active once after its loop), so the comparison is exact up to the last decision
    and a subset after it (docs/compiled-strategies.md).
    """
    end = int(py.manifest["end_ns"])
    assert co.end_ns == end
    last_decision = co.start_ns + (co.counters["decisions"] - 1) * interval_ns
    pf = [tuple(f[k] for k in FILL_KEYS) for f in py.fills.to_pylist()]
    cf = [tuple(f[k] for k in FILL_KEYS) for f in co.fills_table().to_pylist() if f["ts_recv"] <= end]
    before = [f for f in cf if f[0] <= last_decision]
    assert [f for f in pf if f[0] <= last_decision] == before
    assert set(pf) <= set(cf)
    po = [tuple(o[k] for k in ORDER_KEYS) for o in py.orders.to_pylist()]
    cos = [tuple(o[k] for k in ORDER_KEYS) for o in co.orders_table().to_pylist()]
    assert po == cos
    for p, c in zip(py.orders.to_pylist(), co.orders_table().to_pylist(), strict=True):
        if c["ts_done"] + response_ns <= last_decision:
            assert (p["status"], p["filled_qty"], p["ts_done"], p["reason"]) == (
                c["status"],
                c["filled_qty"],
                c["ts_done"],
                c["reason"],
            ), p["order_id"]
    return len(before)


@pytest.mark.parametrize(
    ("queue_model", "qty", "entry_ns", "response_ns", "md", "max_position"),
    [
        ({"model": "prob_power", "n": 2}, 5, 200_000, 300_000, "data", 10**9),
        ({"model": "risk_averse"}, 1, 200_000, 300_000, "data", 10**9),
        ({"model": "prob_log", "form": "ratio_total"}, 3, 0, 0, "data", 10**9),
        # orders in flight for longer than a decision interval; a constant feed latency
        ({"model": "prob_power", "n": 3, "form": "share"}, 2, 150 * MS, 40 * MS, 5 * MS, 10**9),
        # the strategy stops quoting a side when the position it knows of reaches the limit
        ({"model": "prob_power", "n": 2}, 1, 200_000, 300_000, "data", 3),
        # any latency model for market data (this one rises with the message rate)
        ({"model": "risk_averse"}, 2, 200_000, 300_000, "state_dependent", 10**9),
    ],
)
def test_the_compiled_quoter_makes_the_same_fills_as_the_session_with_touch_quoter(
    tmp_path: Path,
    queue_model: dict[str, Any],
    qty: int,
    entry_ns: int,
    response_ns: int,
    md: str | int,
    max_position: int,
) -> None:
    ev = _stream()
    path = tmp_path / "tape.parquet"
    write_parquet([ev], path, INSTR)
    md_model: str | int | LatencyModel = md
    if md == "data":
        md_cfg: dict[str, Any] = {"model": "data"}
    elif md == "state_dependent":
        md_cfg = {"model": "state_dependent", "base_ns": 50_000, "per_event_ns": 20_000.0, "window_ns": MS}
        md_model = StateDependentLatency(50_000, 20_000.0, MS)
    else:
        md_cfg = {"model": "constant", "latency_ns": md}
    py = _session(
        path,
        qty=qty,
        interval_ms=100,
        entry_ns=entry_ns,
        response_ns=response_ns,
        queue_model=queue_model,
        md=md_cfg,
        max_position=max_position,
    )
    co = _compiled(
        ev,
        params=touch_quoter_params(qty, max_position),
        entry_latency_ns=entry_ns,
        response_latency_ns=response_ns,
        queue_model=QueueModelConfig.from_dict(queue_model),
        md_latency=md_model,
    )
    n = _assert_same_run(py, co, interval_ns=100 * MS, response_ns=response_ns)
    assert n > 100  # the workload does fill
    if max_position < 10**9:
        assert max(abs(np.cumsum(co.fills["side"] * co.fills["qty"]))) <= max_position + 2 * qty


def test_quotes_sent_during_a_halt_are_rejected_as_in_the_session(tmp_path: Path) -> None:
    ev = _stream(20_000, 1.0, seed=4)
    # halt trading for ten seconds in the middle of the tape, then resume
    t0 = int(ev["ts_event"][0])
    rows = [np.searchsorted(ev["ts_event"], t0 + s * 1_000_000_000) for s in (20, 30)]
    halts = np.zeros(2, EVENT_DTYPE)
    halts["kind"] = K_HALT
    halts["flags"] = F_LAST
    halts["qty"] = [TradingStatus.HALTED.code, TradingStatus.TRADING.code]
    for k, r in enumerate(rows):
        halts["ts_event"][k] = ev["ts_event"][r]
        halts["ts_recv"][k] = ev["ts_recv"][r]
    tape = np.insert(ev, rows, halts)
    tape["seq"] = np.arange(tape.shape[0])
    path = tmp_path / "halt.parquet"
    write_parquet([tape], path, INSTR)
    py = _session(
        path, qty=2, interval_ms=100, entry_ns=200_000, response_ns=300_000,
        queue_model={"model": "prob_power", "n": 2}, md={"model": "data"},
    )  # fmt: skip
    co = _compiled(tape, params=touch_quoter_params(2))
    _assert_same_run(py, co, interval_ns=100 * MS, response_ns=300_000)
    halted = co.orders[co.orders["reason"] == ORDER_REASONS.index("halted")]
    assert co.counters["halted_rejects"] == len(halted) > 50  # about ten seconds of quotes
    assert halted["ts_arrive"].min() >= tape["ts_event"][rows[0]]
    assert halted["ts_arrive"].max() <= tape["ts_event"][rows[1] + 1]
    during = (co.fills["ts_venue"] > tape["ts_event"][rows[0]]) & (
        co.fills["ts_venue"] < tape["ts_event"][rows[1] + 1]
    )
    assert not during.any()  # nothing fills while trading is halted


def _with_far_levels(ev: np.ndarray, n: int = 150) -> np.ndarray:
    """The tape with ``n`` far levels a side added to its opening snapshot (they never change)."""
    snap = int(np.flatnonzero(ev["flags"] & F_LAST)[0])  # the snapshot's last record
    far = np.zeros(2 * n, EVENT_DTYPE)
    far["kind"] = K_SET_LEVEL
    far["side"] = np.repeat([1, -1], n)
    mid = int(ev["price"][1])
    far["price"] = np.concatenate([mid - 500 - 7 * np.arange(n), mid + 500 + 7 * np.arange(n)])
    far["qty"] = 9
    far["ts_event"] = ev["ts_event"][snap]
    far["ts_recv"] = ev["ts_recv"][snap]
    far["flags"] = int(ev["flags"][snap]) & ~F_LAST & 0xFFFF
    tape = np.insert(ev, snap, far)  # before the snapshot's last record, which keeps F_LAST
    tape["seq"] = np.arange(tape.shape[0])
    return tape


def test_books_that_grow_and_move_their_window_change_nothing(tmp_path: Path) -> None:
    # 150 far levels a side overflow the books' spare arrays (64) and a 16-tick window follows
    # the touch: both books are rebuilt many times in the middle of decisions
    tape = _with_far_levels(_stream(seed=13))
    path = tmp_path / "far.parquet"
    write_parquet([tape], path, INSTR)
    wide, narrow = _compiled(tape), _compiled(tape, window=16)
    assert wide.fills.tobytes() == narrow.fills.tobytes()
    assert wide.orders.tobytes() == narrow.orders.tobytes()
    py = _session(
        path, qty=5, interval_ms=100, entry_ns=200_000, response_ns=300_000,
        queue_model={"model": "prob_power", "n": 2}, md={"model": "data"},
    )  # fmt: skip
    assert _assert_same_run(py, narrow, interval_ns=100 * MS, response_ns=300_000) > 100


@pytest.mark.parametrize("batch", [997, 8_192, 40_000])
def test_feeding_the_tape_in_batches_changes_nothing(batch: int) -> None:
    ev = _stream()
    whole = _compiled(ev)
    parts = _compiled(ev[i : i + batch] for i in range(0, ev.shape[0], batch))
    assert np.array_equal(whole.fills, parts.fills)
    assert whole.orders.tobytes() == parts.orders.tobytes()  # NaN-safe: byte equality
    assert whole.counters == parts.counters
    assert (whole.position, whole.cash, whole.end_ns) == (parts.position, parts.cash, parts.end_ns)


def test_twin_runs_are_identical() -> None:
    ev = _stream(seed=2)
    a, b = _compiled(ev), _compiled(ev.copy())
    assert a.fills.tobytes() == b.fills.tobytes()
    assert a.orders.tobytes() == b.orders.tobytes()
    assert a.counters == b.counters


def test_no_order_is_ever_overfilled_and_the_books_balance() -> None:
    co = _compiled(_stream(seed=5), params=touch_quoter_params(7))
    f, o = co.fills, co.orders
    assert co.n_fills > 100
    filled = np.zeros(o.shape[0] + 1, np.int64)
    for row in f:
        oid = row["order_id"]
        filled[oid] += row["qty"]
        assert row["qty"] > 0
        assert row["leaves_qty"] == o["qty"][oid - 1] - filled[oid]  # reported left = asked - filled so far
        assert row["leaves_qty"] >= 0
    assert np.array_equal(filled[1:], o["filled_qty"])
    assert (o["filled_qty"] <= o["qty"]).all()
    assert ((o["status"] == "filled") == (o["filled_qty"] == o["qty"])).all()
    assert co.position == int((f["side"] * f["qty"]).sum())
    assert co.cash == -int((f["side"] * f["price"] * f["qty"]).sum())
    assert co.counters["volume"] == int(f["qty"].sum())
    assert (f["maker"]).all()


def test_orders_reach_the_exchange_after_entry_latency_and_fills_are_known_after_response_latency() -> None:
    entry, resp = 3 * MS, 7 * MS
    co = _compiled(_stream(seed=6), entry_latency_ns=entry, response_latency_ns=resp)
    o, f = co.orders, co.fills
    arrived = o["ts_arrive"] >= 0
    assert (o["ts_arrive"][arrived] == o["ts_submit"][arrived] + entry).all()
    assert (o["ts_submit"][~arrived] + entry > co.end_ns).all()  # only orders sent too late never arrive
    assert ((o["ts_submit"] - co.start_ns) % (100 * MS) == 0).all()  # decisions on the 100 ms grid
    # no fill before the order reached the exchange, each learnt a response latency later
    assert (f["ts_venue"] >= o["ts_arrive"][f["order_id"] - 1]).all()
    assert (f["ts_recv"] == f["ts_venue"] + resp).all()
    # a quote is cancelled when the next decision's cancel arrives, not before
    cancelled = o["status"] == "cancelled"
    assert (o["ts_done"][cancelled] == o["ts_submit"][cancelled] + 100 * MS + entry).all()


@njit
def _log_view(t_ns, bid_px, bid_qty, ask_px, ask_qty, position, params, out):  # type: ignore[no-untyped-def]
    # params is the strategy's scratch space: [count, (t, bid_px, bid_qty, ask_px, ask_qty)...]
    k = int(params[0])
    base = 1 + 5 * k
    if base + 5 <= params.shape[0]:
        params[base] = t_ns - 1_704_205_800_000_000_000
        params[base + 1] = bid_px
        params[base + 2] = bid_qty
        params[base + 3] = ask_px
        params[base + 4] = ask_qty
        params[0] = k + 1


@pytest.mark.parametrize("md", ["data", 30 * MS])
def test_decide_sees_the_book_as_of_its_receive_time(md: str | int) -> None:
    ev = _stream(20_000, 1.0, seed=8)
    params = np.zeros(1 + 5 * 700)
    co = _compiled(ev, decide=_log_view, params=params, md_latency=md)
    n = int(params[0])
    assert n == co.counters["decisions"] == 601  # every 100 ms for a minute, both ends included
    local = ev["ts_recv"] if md == "data" else ev["ts_event"] + md
    local = np.maximum.accumulate(local)
    book = L2Book()
    done = 0
    for k in range(n):
        t = int(params[1 + 5 * k]) + 1_704_205_800_000_000_000
        stop = int(np.searchsorted(local, t, side="right"))
        book.apply(ev[done:stop])
        done = stop
        bid, ask = book.best_bid() or (0, 0), book.best_ask() or (0, 0)
        assert tuple(params[2 + 5 * k : 6 + 5 * k].astype(np.int64)) == (*bid, *ask), k
    assert co.orders.shape[0] == 0  # it never quoted


@njit
def _quote_then_stop(t_ns, bid_px, bid_qty, ask_px, ask_qty, position, params, out):  # type: ignore[no-untyped-def]
    if t_ns < params[0] and bid_qty > 0 and ask_qty > 0:
        out[0] = bid_px
        out[1] = 3
        out[2] = ask_px
        out[3] = 3


def test_decide_returning_qty_zero_cancels_the_quotes_and_sends_none() -> None:
    ev = _stream(seed=9)
    stop_at = int(ev["ts_event"][0]) + 30_000 * MS
    entry = 200_000
    co = _compiled(ev, decide=_quote_then_stop, params=np.array([float(stop_at)]))
    o, f = co.orders, co.fills
    assert len(o) > 100
    assert (o["ts_submit"] < stop_at).all()
    assert co.counters["open_at_end"] == 0  # nothing left resting: the last quotes were cancelled
    assert set(o["status"]) <= {"filled", "cancelled", "rejected"}
    assert (f["ts_venue"] <= stop_at + entry).all()  # nothing fills once the cancels arrived
    last = o[o["ts_submit"] == o["ts_submit"].max()]
    assert (last["ts_done"] <= stop_at + entry).all()


def test_fees_are_charged_on_each_fill_as_maker() -> None:
    fees = MakerTakerFees(maker_bps=-1.0, taker_bps=5.0)
    co = _compiled(_stream(seed=3), fees=fees)
    expect = fees.fee(INSTR, co.fills["price"], co.fills["qty"], np.ones(co.n_fills, bool))
    assert np.allclose(co.fills["fee"], expect)
    assert co.fees == pytest.approx(float(expect.sum()))
    assert co.fees < 0  # a rebate: every fill adds liquidity


def test_tables_have_the_run_result_layout(tmp_path: Path) -> None:
    ev = _stream(10_000, 0.5)
    path = tmp_path / "t.parquet"
    write_parquet([ev], path, INSTR)
    py = _session(
        path, qty=5, interval_ms=100, entry_ns=200_000, response_ns=300_000,
        queue_model={"model": "prob_power", "n": 2}, md={"model": "data"},
    )  # fmt: skip
    co = _compiled(ev)
    assert co.fills_table().schema == py.fills.schema
    assert co.orders_table().schema == py.orders.schema
    assert co.n_fills > 0
    assert isinstance(co.fills_table(), pa.Table)


def test_a_cfunc_with_the_signature_is_used_as_is_and_a_wrong_one_is_refused() -> None:
    c = cfunc(DECIDE_SIGNATURE)(touch_quoter_decide.py_func)
    assert compile_decide(c) is c
    assert compile_decide(touch_quoter_decide) is compile_decide(touch_quoter_decide)  # compiled once
    wrong = cfunc(types.void(types.int64))(lambda t: None)
    with pytest.raises(ConfigError, match="signature"):
        compile_decide(wrong)

    def not_numba(t_ns, bid_px, bid_qty, ask_px, ask_qty, position, params, out):  # type: ignore[no-untyped-def]
        out[0] = {"a": "b"}[str(t_ns)]

    with pytest.raises(ConfigError, match="does not compile"):
        compile_decide(not_numba)


@pytest.mark.parametrize(
    ("over", "match"),
    [
        ({"interval_ns": 0}, "interval_ns must be > 0"),
        ({"entry_latency_ns": -1}, "entry_latency_ns must be >= 0"),
        ({"response_latency_ns": 1.5}, "response_latency_ns must be an integer"),
        ({"md_latency": "feed"}, "md_latency must be"),
        ({"params": np.zeros((2, 2))}, "params must be a 1-D array"),
        ({"queue_model": "prob_power"}, "queue_model must be"),
        ({"fees": 0.1}, "fees must be a FeeModel"),
        ({"window": 0}, "window must be an int between 1"),
    ],
)
def test_bad_arguments_fail_with_a_message_naming_them(over: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        _compiled(_stream(2_000, 0.1), **over)


def test_bad_tapes_fail_fast() -> None:
    with pytest.raises(TypeError, match="batch 2: expected a 1-D EVENT_DTYPE array"):
        _compiled([_stream(2_000, 0.1), np.zeros(3)])
    with pytest.raises(ExecsimError, match="no events"):
        _compiled(np.zeros(0, EVENT_DTYPE))
    with pytest.raises(ConfigError, match="qty and max_position"):
        touch_quoter_params(0)


def test_the_queue_model_object_and_its_config_give_the_same_run() -> None:
    ev = _stream(seed=12)
    a = _compiled(ev, queue_model=ProbQueue("power", 2.0))
    b = _compiled(ev, queue_model=QueueModelConfig(model="prob_power", n=2))
    assert a.fills.tobytes() == b.fills.tobytes()


# -- the benchmark's core -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """benchmarks/bench_market_making.py, imported the way the scripts import each other."""
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(BENCH_DIR))
        yield importlib.import_module("bench_market_making")


def test_market_making_benchmark_core_runs_on_a_tiny_stream(bench: ModuleType) -> None:
    res = bench.run_mm_benchmark(
        n_events=30_000, duration_s=120, seed=3, session_events=15_000, repeats=1, session_repeats=1
    )
    names = {"execsim compiled", "execsim session"}
    if importlib.util.find_spec("hftbacktest") is not None:
        names |= {f"hftbacktest {d}" for d in bench.HBT_DEPTHS}
    assert set(res["timings"]) == names
    assert res["equivalence_fills_compared"] > 0
    c = res["counters"]["execsim compiled"]
    assert c["decisions"] in (1_200, 1_201)  # every 100 ms for two minutes (the last receive time decides)
    assert c["fills"] > 0
    for d in bench.HBT_DEPTHS:
        if f"hftbacktest {d}" in c:
            assert res["counters"][f"hftbacktest {d}"]["decisions"] in (1_199, 1_200, 1_201)
    assert set(bench.ratios(res)) == {
        f"execsim compiled / {n} ({k})" for n in names - {"execsim compiled"} for k in ("best", "median")
    }


def test_the_benchmark_refuses_runs_that_disagree(bench: ModuleType, tmp_path: Path) -> None:
    ev = _stream(10_000, 0.5)
    path = tmp_path / "t.parquet"
    write_parquet([ev], path, INSTR)
    cfg = bench.session_config(path, qty=1, entry_ns=200_000, response_ns=200_000)
    py = run_session(cfg)
    same = bench.run_compiled(ev, qty=1, entry_ns=200_000, response_ns=200_000)
    assert bench.check_equivalent(py, same, 200_000) == py.fills.num_rows > 0
    other = bench.run_compiled(ev, qty=2, entry_ns=200_000, response_ns=200_000)
    with pytest.raises(bench.EquivalenceError):
        bench.check_equivalent(py, other, 200_000)
