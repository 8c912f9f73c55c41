"""Market-making benchmark: execsim's compiled quoter against hftbacktest and execsim's Python session.

The workload (issue 3): on one seeded synthetic L2 stream
(:func:`execsim.data.synthetic.synthetic_l2_stream`, 5 M events spanning one hour by default),
every 100 ms of market time cancel the resting quotes and place one bid and one ask (``--qty``
lots) at the touch, post-only, with a probabilistic queue model (power 2) and constant
order-entry and response latencies (``--entry-us``, ``--response-us``; market data arrives at
the stream's own receive times). Engines:

* ``execsim compiled``: :func:`execsim.backtest.compiled.run_compiled_quoter` with
  :func:`~execsim.backtest.compiled.touch_quoter_decide` (the decision compiled inside the loop);
* ``execsim session``: the general Python session (:func:`execsim.backtest.run_session`) with
  :class:`~execsim.backtest.strategies.TouchQuoter` and the L2 replay venue, on a prefix of the
  stream (``--session-events``) read from a canonical Parquet file, its rate extrapolated; the
  time it spends reading the Parquet file is measured apart and reported;
* ``hftbacktest``: the PyPI package's backtester (exchange + local books,
  ``NoPartialFillExchange``, ``PowerProbQueueModel(2)``, constant order latency) with the same
  strategy as a numba function (``elapse(100 ms)``, cancel the working orders, submit GTX limit
  orders at the best bid and ask), for both its depth types. Its ``PartialFillExchange`` stops
  with ``InvalidOrderStatus`` on this workload (hftbacktest issues #301, #312); with 1-lot quotes
  (the default ``--qty``) a partial fill cannot happen anyway.

Timed is the run itself (events to fills), in CPU seconds (``time.process_time()``), engines
taking turns in each round; each engine's first call in the process (numba compilation or cache
loading) is reported apart, and so is its first run in a fresh process, with an empty numba
cache and with a warm one. Before any timing, the compiled quoter and the session must produce
the same fills on the session's prefix, or the script fails (``EquivalenceError``).

Usage::

    .venv/bin/python benchmarks/bench_market_making.py [--events N] [--seed S] [--repeats R]
        [--duration-s D] [--session-events M] [--session-repeats K] [--qty Q] [--entry-us E]
        [--response-us R] [--json OUT] [--no-fresh]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from _common import (
    Timing,
    cold_start,
    cpu_timed,
    log,
    machine_info,
    print_child_timing,
    print_machine,
    print_table,
    speed_ratios,
    timing_row,
    write_json,
)
from _hbt import LOT, TICK, hbt_mod, level_price_range, to_hftbacktest
from execsim.backtest import RunConfig, RunResult, run_session
from execsim.backtest.compiled import (
    CompiledRunResult,
    compile_decide,
    run_compiled_quoter,
    touch_quoter_decide,
    touch_quoter_params,
)
from execsim.data.feeds.canonical import CanonicalParquetFeed, write_parquet
from execsim.data.synthetic import default_instrument, synthetic_l2_stream
from execsim.venues.queue_models import QueueModelConfig

SCRIPT = Path(__file__).resolve()
INSTRUMENT = default_instrument()
INTERVAL_NS = 100_000_000
QUEUE = QueueModelConfig(model="prob_power", n=2.0)
COMPILED = "execsim compiled"
SESSION = "execsim session"

HBT_DEPTHS = ("roivec", "hashmap")


class EquivalenceError(RuntimeError):
    """The compiled quoter and the Python session disagree: the benchmark's numbers mean nothing."""


# -- execsim ---------------------------------------------------------------------------------


def run_compiled(events: np.ndarray, *, qty: int, entry_ns: int, response_ns: int) -> CompiledRunResult:
    """The workload on execsim's compiled quoter."""
    return run_compiled_quoter(
        events,
        INSTRUMENT,
        decide=compile_decide(touch_quoter_decide),
        params=touch_quoter_params(qty),
        interval_ns=INTERVAL_NS,
        entry_latency_ns=entry_ns,
        response_latency_ns=response_ns,
        queue_model=QUEUE,
        venue="LIT",
    )


def session_config(path: Path, *, qty: int, entry_ns: int, response_ns: int) -> RunConfig:
    """The workload as a run config of the Python session over a canonical Parquet file."""
    return RunConfig.from_dict(
        {
            "name": "bench-mm",
            "data": {"kind": "parquet", "path": str(path)},
            "venues": [{"name": "LIT", "kind": "replay", "queue_model": QUEUE.model_dump()}],
            "latency": {
                "market_data": {"model": "data"},
                "order_entry": {"model": "constant", "latency_ns": entry_ns},
                "response": {"model": "constant", "latency_ns": response_ns},
            },
            "strategy": {
                "class": "execsim.backtest.strategies:TouchQuoter",
                "params": {"qty": qty, "interval_ms": INTERVAL_NS / 1e6},
            },
            # the compiled path samples nothing: sample the market once, not every 100 ms
            "sample_interval_ns": 10**15,
        }
    )


def read_parquet_twice(path: Path) -> int:
    """Drain the Parquet feed twice, as the session does (venue + strategy view); return events."""
    n = 0
    for _ in range(2):
        for b in CanonicalParquetFeed(path).batches():
            n += b.shape[0]
    return n


FILL_KEYS = ("ts_venue", "ts_recv", "order_id", "side", "price", "qty", "liquidity", "queue_ahead")


def check_equivalent(session: RunResult, compiled: CompiledRunResult, response_ns: int) -> int:
    """Fail unless both paths made the same fills and orders; return the fills compared.

    The session's ledger holds what the strategy learnt by the end, the compiled result what
    happened at the exchange, so fills and terminal reports reaching the strategy after the end
    are left out. After its last decision the session only looks for fills until the first one,
    so from there on its fills need only be among the compiled ones
    (docs/compiled-strategies.md says more).
    """
    end = int(session.manifest["end_ns"])
    last = compiled.start_ns + (compiled.counters["decisions"] - 1) * INTERVAL_NS
    ps = [tuple(f[k] for k in FILL_KEYS) for f in session.fills.to_pylist()]
    cs = [tuple(f[k] for k in FILL_KEYS) for f in compiled.fills_table().to_pylist() if f["ts_recv"] <= end]
    p_in, c_in = [f for f in ps if f[0] <= last], [f for f in cs if f[0] <= last]
    if p_in != c_in or not set(ps) <= set(cs):
        bad = next((i for i, (a, b) in enumerate(zip(p_in, c_in, strict=False)) if a != b), None)
        if bad is None:
            bad = min(len(p_in), len(c_in))
        raise EquivalenceError(
            f"fills differ ({len(ps)} in the session, {len(cs)} compiled), first at #{bad}: "
            f"session {p_in[bad] if bad < len(p_in) else None}, "
            f"compiled {c_in[bad] if bad < len(c_in) else None}"
        )
    keys = ("order_id", "side", "price", "qty", "ts_submit", "arrival_bid_px", "arrival_ask_px")
    po = [tuple(o[k] for k in keys) for o in session.orders.to_pylist()]
    co = [tuple(o[k] for k in keys) for o in compiled.orders_table().to_pylist()]
    if po != co:
        raise EquivalenceError(f"orders differ: {len(po)} in the session, {len(co)} compiled")
    known = compiled.orders["ts_done"] + response_ns <= last
    for o, c, k in zip(session.orders.to_pylist(), compiled.orders, known, strict=True):
        if k and o["status"] != c["status"]:
            raise EquivalenceError(f"order {o['order_id']}: session {o['status']}, compiled {c['status']}")
    return len(p_in)


# -- hftbacktest -----------------------------------------------------------------------------


def make_hbt(
    data: np.ndarray, depth: str, price_range: tuple[int, int], entry_ns: int, response_ns: int
) -> Any:
    """An hftbacktest backtester over ``data`` (read in place: keep the array alive)."""
    h = hbt_mod
    assert h is not None
    asset = (
        h.BacktestAsset()
        .data(data)
        .linear_asset(1.0)
        .constant_order_latency(entry_ns, response_ns)
        .power_prob_queue_model(2.0)
        # no_partial_fill: its PartialFillExchange stops with InvalidOrderStatus (14) when a fill
        # exactly exhausts an order (hftbacktest issues #301, #312); a 1-lot quote cannot be
        # filled partially anyway
        .no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(TICK)
        .lot_size(LOT)
        .last_trades_capacity(0)
    )
    if depth == "roivec":
        lo, hi = price_range
        asset = asset.roi_lb((lo - 10) * TICK).roi_ub((hi + 10) * TICK)
        return h.ROIVectorMarketDepthBacktest([asset])
    return h.HashMapMarketDepthBacktest([asset])


if hbt_mod is not None:
    _GTX, _LIMIT = hbt_mod.GTX, hbt_mod.LIMIT
else:  # pragma: no cover - depends on the environment
    _GTX, _LIMIT = 1, 0


@njit
def hbt_touch_quoter(hbt, interval_ns, qty):  # type: ignore[no-untyped-def]
    """The workload as an hftbacktest strategy; returns the number of decisions."""
    order_id = 0
    decisions = 0
    while hbt.elapse(interval_ns) == 0:
        hbt.clear_inactive_orders(0)
        values = hbt.orders(0).values()
        while values.has_next():
            order = values.get()
            if order.cancellable:
                hbt.cancel(0, order.order_id, False)
        depth = hbt.depth(0)
        if depth.best_bid_qty > 0.0 and depth.best_ask_qty > 0.0:
            order_id += 1
            hbt.submit_buy_order(0, order_id, depth.best_bid, qty, _GTX, _LIMIT, False)
            order_id += 1
            hbt.submit_sell_order(0, order_id, depth.best_ask, qty, _GTX, _LIMIT, False)
        decisions += 1
    return decisions


def hbt_run(hbt: Any, qty: int) -> dict[str, float]:
    """Run the strategy to the end of the data; return its counters."""
    decisions = hbt_touch_quoter(hbt, INTERVAL_NS, qty * LOT)
    sv = hbt.state_values(0)
    return {
        "decisions": int(decisions),
        "fills": int(sv.num_trades),
        "volume": round(sv.trading_volume / LOT),
        "position": round(hbt.position(0) / LOT),
    }


# -- the benchmark ---------------------------------------------------------------------------


def run_mm_benchmark(
    *,
    n_events: int,
    seed: int,
    session_events: int,
    duration_s: float = 3_600.0,
    repeats: int = 5,
    session_repeats: int = 2,
    qty: int = 1,
    entry_ns: int = 200_000,
    response_ns: int = 200_000,
    with_hftbacktest: bool = True,
    log: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """Generate the stream, check the two execsim paths agree, time every engine; return the numbers."""
    out: dict[str, Any] = {
        "n_events": n_events,
        "seed": seed,
        "session_events": session_events,
        "duration_s_requested": duration_s,
        "qty": qty,
        "entry_ns": entry_ns,
        "response_ns": response_ns,
        "interval_ns": INTERVAL_NS,
    }
    events, gen_cpu, _ = cpu_timed(
        lambda: synthetic_l2_stream(seed=seed, n_events=n_events, duration_ns=int(duration_s * 1e9))
    )
    out["generate_cpu_s"] = gen_cpu
    out["duration_s"] = (int(events["ts_event"][-1]) - int(events["ts_event"][0])) / 1e9
    price_range = level_price_range(events)
    log(f"generated {n_events:,} events in {gen_cpu:.2f} CPU s")
    run_c = partial(run_compiled, qty=qty, entry_ns=entry_ns, response_ns=response_ns)

    # first call in this process: numba compilation (or cache loading) of the engine and decide
    _, out["compiled_first_call_cpu_s"], _ = cpu_timed(partial(run_c, events[:20_000]))
    log(f"compiled quoter first call: {out['compiled_first_call_cpu_s']:.2f} CPU s")

    prefix = events[: min(session_events, n_events)]
    timings: dict[str, Timing] = {COMPILED: Timing(COMPILED, n_events)}
    sess = Timing(SESSION, len(prefix), note="prefix; rate extrapolated")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prefix.parquet"
        write_parquet([prefix], path, INSTRUMENT)
        cfg = session_config(path, qty=qty, entry_ns=entry_ns, response_ns=response_ns)
        _, out["session_first_call_cpu_s"], _ = cpu_timed(partial(run_session, cfg))
        read = Timing("parquet read x2", len(prefix))
        for _ in range(session_repeats):
            gc.collect()
            res_s = sess.measure(partial(run_session, cfg))
            read.measure(partial(read_parquet_twice, path))
        out["session_parquet_read_cpu_s"] = read.as_dict()
    res_prefix = run_c(prefix)
    out["equivalence_fills_compared"] = check_equivalent(res_s, res_prefix, response_ns)
    out["session_prefix"] = {
        "fills": res_s.fills.num_rows,
        "orders": res_s.orders.num_rows,
        "compiled_fills_on_prefix": res_prefix.n_fills,
        "end_ns": int(res_s.manifest["end_ns"]),
    }
    log(f"session and compiled quoter agree on {out['equivalence_fills_compared']} fills of the prefix")

    hbt_data = None
    if with_hftbacktest and hbt_mod is not None:
        hbt_data, out["hftbacktest_convert_cpu_s"], _ = cpu_timed(
            partial(to_hftbacktest, events, routing="exch+local")
        )
        small = to_hftbacktest(events[:20_000], routing="exch+local")
        for depth in HBT_DEPTHS:
            hb = make_hbt(small, depth, price_range, entry_ns, response_ns)
            _, out[f"hftbacktest_first_call_cpu_s[{depth}]"], _ = cpu_timed(partial(hbt_run, hb, qty))
            hb.close()
            timings[f"hftbacktest {depth}"] = Timing(f"hftbacktest {depth}", n_events)
    elif with_hftbacktest:
        log("hftbacktest is not installed: its rows are skipped (pip install 'execsim[bench]')")

    counters: dict[str, Any] = {}
    for r in range(repeats):
        gc.collect()
        res_c = timings[COMPILED].measure(partial(run_c, events))
        counters[COMPILED] = {
            "decisions": res_c.counters["decisions"],
            "fills": res_c.n_fills,
            "volume": res_c.counters["volume"],
            "position": res_c.position,
            "orders": res_c.counters["orders"],
            "post_only_rejects": res_c.counters["post_only_rejects"],
        }
        for depth in HBT_DEPTHS if hbt_data is not None else ():
            name = f"hftbacktest {depth}"
            hb = make_hbt(hbt_data, depth, price_range, entry_ns, response_ns)
            gc.collect()
            counters[name] = timings[name].measure(partial(hbt_run, hb, qty))
            hb.close()
        log(f"round {r + 1}/{repeats} done")
    timings[SESSION] = sess
    counters[SESSION + " (prefix)"] = out["session_prefix"]
    out["counters"] = counters
    out["timings"] = {k: v.as_dict() for k, v in timings.items()}
    return out


# -- fresh-process cold starts ------------------------------------------------------------------


def _child(args: argparse.Namespace) -> None:
    """First run of one engine in this fresh process (20k events, one minute); print one JSON line."""
    small = synthetic_l2_stream(seed=args.seed, n_events=20_000, duration_ns=60 * 10**9)
    # both packages are imported (at the top of this script); numba compiles, or loads its
    # cache, at the first call, which is what is timed
    if args.engine == "execsim":
        print_child_timing(lambda: run_compiled(small, qty=1, entry_ns=200_000, response_ns=200_000))
    else:
        data = to_hftbacktest(small, routing="exch+local")
        pr = level_price_range(small)
        print_child_timing(
            lambda: hbt_run(make_hbt(data, args.engine.split("-")[1], pr, 200_000, 200_000), 1)
        )


def fresh_cold_starts(seed: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Each engine's first run in a fresh process, with an empty numba cache, then a warm one."""
    out: dict[str, Any] = {}
    engines = ["execsim"] + ([f"hftbacktest-{d}" for d in HBT_DEPTHS] if hbt_mod is not None else [])
    for engine in engines:
        out[engine] = cold_start(SCRIPT, ["--child", "cold", "--engine", engine, "--seed", str(seed)])
        log(f"cold start of {engine} measured")
    return out


def ratios(res: dict[str, Any]) -> dict[str, float]:
    """execsim compiled ÷ each other engine, in events per CPU second (best and median)."""
    return speed_ratios(res["timings"], COMPILED)


def report(res: dict[str, Any]) -> None:
    """Print the tables (Markdown)."""
    rows = [timing_row(name, t, " (prefix)" if t["note"] else "") for name, t in res["timings"].items()]
    print()
    print_table(
        ["engine", "events", "best CPU s", "median CPU s", "events/CPU-s best", "median", "runs"], rows
    )
    print()
    print_table(["ratio", "value"], [[k, f"{v:.2f}x"] for k, v in res["ratios"].items()])
    print()
    crow = [
        [name, *(c.get(k, "") for k in ("decisions", "fills", "volume", "position"))]
        for name, c in res["counters"].items()
    ]
    print_table(["engine", "decisions", "fills", "volume (lots)", "end position"], crow)
    read = res["session_parquet_read_cpu_s"]
    print(
        f"\n  session: reading its Parquet prefix twice takes {read['best_cpu_s']:.3f} CPU s (best) of the "
        f"{res['timings'][SESSION]['best_cpu_s']:.3f}; first call {res['session_first_call_cpu_s']:.2f} s"
    )
    print(
        "  compiled quoter first call (compile or cache load, 20k events): "
        f"{res['compiled_first_call_cpu_s']:.2f} s"
    )
    for depth in HBT_DEPTHS:
        k = f"hftbacktest_first_call_cpu_s[{depth}]"
        if k in res:
            print(f"  hftbacktest {depth} first call (strategy JIT, 20k events): {res[k]:.2f} s")
    print(f"  equivalence: {res['equivalence_fills_compared']} fills identical between session and compiled")
    fresh = res.get("fresh")
    if fresh:
        print("  fresh process, first run of 20k events (build + run), CPU s:")
        for engine, d in fresh.items():
            print(
                f"    {engine}: empty numba cache {d['compile']['cpu_s']:.2f}, "
                f"warm cache {d['cache_load']['cpu_s']:.2f}"
            )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=5_000_000, help="events in the stream (5 M = 1 h)")
    p.add_argument("--seed", type=int, default=20240102)
    p.add_argument("--duration-s", type=float, default=3_600.0, help="market time the stream spans")
    p.add_argument("--repeats", type=int, default=5, help="timed runs of the compiled quoter and hftbacktest")
    p.add_argument("--session-events", type=int, default=500_000, help="prefix for the Python session")
    p.add_argument("--session-repeats", type=int, default=2)
    p.add_argument("--qty", type=int, default=1, help="lots per quote")
    p.add_argument("--entry-us", type=float, default=200.0, help="order-entry latency (µs)")
    p.add_argument("--response-us", type=float, default=200.0, help="response latency (µs)")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--no-fresh", action="store_true", help="skip the fresh-process cold starts")
    p.add_argument("--child", choices=["cold"], help=argparse.SUPPRESS)
    p.add_argument("--engine", default="execsim", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args)
        return 0

    res: dict[str, Any] = {"machine_before": machine_info(), "argv": sys.argv}
    res.update(
        run_mm_benchmark(
            n_events=args.events,
            seed=args.seed,
            session_events=args.session_events,
            duration_s=args.duration_s,
            repeats=args.repeats,
            session_repeats=args.session_repeats,
            qty=args.qty,
            entry_ns=round(args.entry_us * 1000),
            response_ns=round(args.response_us * 1000),
            log=log,
        )
    )
    if not args.no_fresh:
        res["fresh"] = fresh_cold_starts(args.seed, log)
    res["ratios"] = ratios(res)
    res["machine_after"] = machine_info()
    print_machine(res["machine_before"], res["machine_after"], ("numpy", "numba", "hftbacktest"))
    report(res)
    if args.json:
        write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
