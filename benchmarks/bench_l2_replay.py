"""L2 replay benchmark: execsim's L2Book against hftbacktest and a pure-Python book.

One seeded synthetic depth feed (:func:`execsim.data.synthetic.synthetic_l2_stream`, 5 M
events spanning one hour by default) is replayed through

* ``execsim``: :meth:`execsim.book.l2.L2Book.apply` (numba-compiled), one call for the stream;
* ``hftbacktest``: the PyPI package's Rust backtester with no strategy, advanced to the end of
  the data in one ``elapse`` call, for both of its L2 depth types (``HashMapMarketDepth``, the
  general one, and ``ROIVectorMarketDepth``, a dense vector over a configured price range) and
  both feed routings: ``local`` (events flagged ``LOCAL_EVENT`` only: one book, like ours)
  and ``exch+local`` (its usual setup: the exchange and the local processor each keep a book);
* ``pure-python``: :class:`reference_book.ReferenceL2Book` (a ``SortedDict`` per side) on a
  prefix of the stream (``--ref-events``), its rate extrapolated to the whole stream.

The events are converted to hftbacktest's format once, outside the timed region. Timed is only
the replay (``apply`` / ``elapse``), on a fresh book each repeat; the engines take turns in
each round so that load on a shared machine hits them alike. At the end all books must agree on
the top five levels of the final book, or the script fails.

Usage::

    .venv/bin/python benchmarks/bench_l2_replay.py [--events N] [--seed S] [--repeats R]
        [--ref-events M] [--json OUT] [--no-fresh]
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from _common import (
    PeakRss,
    Timing,
    cold_start,
    cpu_timed,
    log,
    machine_info,
    print_child_timing,
    print_machine,
    print_table,
    run_child,
    speed_ratios,
    timing_row,
    tracemalloc_peak,
    write_json,
)
from _hbt import LOT, TICK, hbt_mod, level_price_range, to_hftbacktest
from execsim.book.l2 import L2Book
from execsim.data.synthetic import synthetic_l2_stream
from reference_book import ReferenceL2Book

SCRIPT = Path(__file__).resolve()
TOP_N = 5

HBT_VARIANTS = (
    ("hashmap", "local"),
    ("roivec", "local"),
    ("hashmap", "exch+local"),
    ("roivec", "exch+local"),
)


class BookMismatchError(RuntimeError):
    """Two books replaying the same events disagree: the benchmark's numbers mean nothing."""


# -- the three engines ---------------------------------------------------------------------

Top = tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]
"""Best TOP_N levels per side as ((price, qty), ...) for bids then asks, best first."""


def execsim_top(book: L2Book, n: int = TOP_N) -> Top:
    bpx, bq, apx, aq = book.top(n)
    bids = tuple((int(p), int(q)) for p, q in zip(bpx, bq, strict=True) if q > 0)
    asks = tuple((int(p), int(q)) for p, q in zip(apx, aq, strict=True) if q > 0)
    return bids, asks


def reference_top(book: ReferenceL2Book, n: int = TOP_N) -> Top:
    bids, asks = book.top(n)
    return tuple(bids), tuple(asks)


def make_hbt(data: np.ndarray, depth: str, price_range: tuple[int, int]) -> Any:
    """Build an hftbacktest backtester over ``data`` with no strategy and no orders.

    hftbacktest reads ``data`` in place through a raw pointer (no copy): the caller must keep
    the array alive until the backtester is closed.
    """
    h = hbt_mod
    assert h is not None
    asset = (
        h.BacktestAsset()
        .data(data)
        .linear_asset(1.0)
        .constant_order_latency(0, 0)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(TICK)
        .lot_size(LOT)
        .last_trades_capacity(0)
    )
    if depth == "roivec":
        # the region of interest must hold every price of the data, or levels are ignored
        lo, hi = price_range
        asset = asset.roi_lb((lo - 10) * TICK).roi_ub((hi + 10) * TICK)
        return h.ROIVectorMarketDepthBacktest([asset])
    return h.HashMapMarketDepthBacktest([asset])


def hbt_replay(hbt: Any, span_ns: int) -> int:
    """Advance to the end of the data in one call; hftbacktest answers 1 at the end of data."""
    rc = int(hbt.elapse(span_ns))
    if rc != 1:
        raise RuntimeError(f"hftbacktest elapse did not reach the end of the data (code {rc})")
    return rc


def replay_span_ns(events: np.ndarray) -> int:
    """Nanoseconds from the first event to the last receive time: one ``elapse`` reaches the end."""
    return int(events["ts_recv"].max()) - int(events["ts_event"].min()) + 1


def _build_and_replay(data: np.ndarray, depth: str, price_range: tuple[int, int], span_ns: int) -> int:
    return hbt_replay(make_hbt(data, depth, price_range), span_ns)


def hbt_top(hbt: Any, ours: Top) -> Top:
    """hftbacktest's best levels, read tick by tick over the price range of our top levels."""
    depth = hbt.depth(0)
    bids, asks = [], []
    if ours[0]:
        best = int(depth.best_bid_tick)
        for p in range(best, best - 10_000, -1):
            q = depth.bid_qty_at_tick(p)
            if q > 0:
                bids.append((p, round(q / LOT)))
                if len(bids) == len(ours[0]):
                    break
    if ours[1]:
        best = int(depth.best_ask_tick)
        for p in range(best, best + 10_000):
            q = depth.ask_qty_at_tick(p)
            if q > 0:
                asks.append((p, round(q / LOT)))
                if len(asks) == len(ours[1]):
                    break
    return tuple(bids), tuple(asks)


def check_same(name_a: str, top_a: Top, name_b: str, top_b: Top) -> None:
    """Fail loudly when two books disagree on their top levels."""
    if top_a != top_b:
        raise BookMismatchError(
            f"final books differ:\n  {name_a}: bids {top_a[0]} asks {top_a[1]}\n"
            f"  {name_b}: bids {top_b[0]} asks {top_b[1]}"
        )


# -- the benchmark ---------------------------------------------------------------------------


def run_l2_benchmark(
    *,
    n_events: int,
    seed: int,
    ref_events: int,
    repeats: int = 5,
    ref_repeats: int = 3,
    with_hftbacktest: bool = True,
    log: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """Generate the stream, replay it through every engine, check they agree, return timings.

    This is the whole in-process benchmark (the script adds fresh-process measurements); the
    smoke test calls it on a tiny stream.
    """
    out: dict[str, Any] = {"n_events": n_events, "seed": seed, "ref_events": ref_events}
    events, gen_cpu, _ = cpu_timed(lambda: synthetic_l2_stream(seed=seed, n_events=n_events))
    out["generate_cpu_s"] = gen_cpu
    out["duration_s"] = (int(events["ts_event"][-1]) - int(events["ts_event"][0])) / 1e9
    price_range = level_price_range(events)
    span_ns = replay_span_ns(events)
    log(f"generated {n_events:,} events in {gen_cpu:.2f} CPU s")

    # first call in this process: includes numba compilation or cache loading
    first, first_cpu, _ = cpu_timed(lambda: L2Book().apply(events))
    out["execsim_first_call_cpu_s"] = first_cpu
    assert first == n_events

    hbt_data: dict[str, np.ndarray] = {}
    if with_hftbacktest and hbt_mod is not None:
        for routing in ("local", "exch+local"):
            hbt_data[routing], conv_cpu, _ = cpu_timed(partial(to_hftbacktest, events, routing=routing))
            out[f"hftbacktest_convert_cpu_s[{routing}]"] = conv_cpu
        # first call: includes the compilation of hftbacktest's numba jitclasses
        for depth in ("hashmap", "roivec"):
            _, c, _ = cpu_timed(partial(_build_and_replay, hbt_data["local"], depth, price_range, span_ns))
            out[f"hftbacktest_first_call_cpu_s[{depth}]"] = c
    elif with_hftbacktest:
        log("hftbacktest is not installed: its rows are skipped (pip install 'execsim[bench]')")

    timings: dict[str, Timing] = {"execsim L2Book": Timing("execsim L2Book", n_events)}
    for depth, routing in HBT_VARIANTS if hbt_data else ():
        name = f"hftbacktest {depth} ({routing})"
        timings[name] = Timing(name, n_events)
    tops: dict[str, Top] = {}
    for r in range(repeats):
        book = L2Book()
        gc.collect()
        timings["execsim L2Book"].measure(partial(book.apply, events))
        tops["execsim L2Book"] = execsim_top(book)
        for depth, routing in HBT_VARIANTS if hbt_data else ():
            name = f"hftbacktest {depth} ({routing})"
            hbt = make_hbt(hbt_data[routing], depth, price_range)
            gc.collect()
            timings[name].measure(partial(hbt_replay, hbt, span_ns))
            tops[name] = hbt_top(hbt, tops["execsim L2Book"])
            hbt.close()
        log(f"round {r + 1}/{repeats} done")
    for name, top in tops.items():
        check_same("execsim L2Book", tops["execsim L2Book"], name, top)
    out["final_top"] = tops["execsim L2Book"]

    # pure Python on a prefix; the compiled book replays the same prefix as the oracle
    prefix = events[: min(ref_events, n_events)]
    ref = Timing("pure-python SortedDict", len(prefix), note="prefix; rate extrapolated")
    for _ in range(ref_repeats):
        rbook = ReferenceL2Book()
        gc.collect()
        ref.measure(partial(rbook.apply, prefix))
    timings[ref.name] = ref
    prefix_book = L2Book()
    prefix_book.apply(prefix)
    check_same("execsim L2Book (prefix)", execsim_top(prefix_book), ref.name, reference_top(rbook))
    log("pure-python reference done; all books agree")

    # memory: Python-allocated buffers of one replay (numpy state arrays of the book)
    out["execsim_tracemalloc_peak_bytes"] = tracemalloc_peak(lambda: L2Book().apply(events))
    out["timings"] = {k: v.as_dict() for k, v in timings.items()}
    return out


def ratios(res: dict[str, Any]) -> dict[str, float]:
    """Speed ratios of execsim against each other engine (events per CPU second, best and median)."""
    return speed_ratios(res["timings"], "execsim L2Book", label="execsim")


# -- fresh-process children ------------------------------------------------------------------


def _child(args: argparse.Namespace) -> None:
    """One measurement in this fresh process; print one JSON line."""
    import json

    import numba  # noqa: F401  (imported before any timer: every engine needs it)

    if args.child == "cold":
        small = synthetic_l2_stream(seed=args.seed, n_events=2_000)
        # both packages are already imported (at the top of this script); numba compiles, or
        # loads its cache, at the first call, which is what is timed
        if args.engine == "execsim":
            print_child_timing(lambda: L2Book().apply(small))
        else:
            data = to_hftbacktest(small, routing="local")
            span, pr = replay_span_ns(small), level_price_range(small)
            print_child_timing(lambda: hbt_replay(make_hbt(data, args.engine.split("-")[1], pr), span))
        return
    # "rss": growth of the peak resident set over one replay of the stream
    events = synthetic_l2_stream(seed=args.seed, n_events=args.events)
    if args.engine == "execsim":
        L2Book().apply(events[:1000])  # load the compiled code before measuring
        gc.collect()
        rss = PeakRss()
        book = L2Book()
        book.apply(events)
    elif args.engine == "reference":
        gc.collect()
        rss = PeakRss()
        rbook = ReferenceL2Book()
        rbook.apply(events)
    else:
        depth = args.engine.split("-")[1]
        pr, span = level_price_range(events), replay_span_ns(events)
        data = to_hftbacktest(events, routing="local")
        head = data[:1000].copy()  # hftbacktest keeps a pointer to the array: keep it alive
        hbt_replay(make_hbt(head, depth, pr), span)  # compile before measuring
        del events
        gc.collect()
        rss = PeakRss()
        hbt = make_hbt(data, depth, pr)
        hbt_replay(hbt, span)
    print(json.dumps({"rss_growth_bytes": rss.growth(), "method": rss.method, "events": args.events}))


def fresh_process_measurements(
    n_events: int, seed: int, ref_events: int, log: Callable[[str], None]
) -> dict[str, Any]:
    """Cold starts (empty numba cache, then warm cache) and peak-RSS growth, each in a fresh process."""
    out: dict[str, Any] = {"cold_start": {}, "rss": {}}
    engines = ["execsim"] + (["hftbacktest-hashmap", "hftbacktest-roivec"] if hbt_mod else [])
    for engine in engines:
        out["cold_start"][engine] = cold_start(
            SCRIPT, ["--child", "cold", "--engine", engine, "--seed", str(seed)]
        )
        log(f"cold start of {engine} measured")
    for engine in [*engines, "reference"]:
        n = ref_events if engine == "reference" else n_events
        res = run_child(
            SCRIPT,
            ["--child", "rss", "--engine", engine, "--events", str(n), "--seed", str(seed)],
        )
        res["bytes_per_event"] = res["rss_growth_bytes"] / n
        out["rss"][engine] = res
        log(f"peak RSS growth of {engine} measured")
    return out


# -- report ------------------------------------------------------------------------------


def report(res: dict[str, Any]) -> None:
    t = res["timings"]
    n = res["n_events"]
    print(
        f"\nL2 replay of a synthetic stream: {n:,} events, {res['duration_s']:.0f} s of market "
        f"time, seed {res['seed']} (generated in {res['generate_cpu_s']:.2f} CPU s)\n"
    )
    print_table(
        ["engine", "events", "best CPU s", "median CPU s", "events/CPU-s best", "median", "runs"],
        [timing_row(name, d) for name, d in t.items()],
    )
    print()
    for k, v in ratios(res).items():
        print(f"  {k}: {v:.2f}x")
    hb = [k for k in t if k.startswith("hftbacktest")]
    if hb:
        fastest = max(hb, key=lambda k: t[k]["rate_best"])
        r = t["execsim L2Book"]["rate_best"] / t[fastest]["rate_best"]
        verdict = "meets" if r >= 1.2 else "MISSES"
        print(
            f"\n  against the fastest hftbacktest variant ({fastest}): {r:.2f}x ({verdict} the 1.2x target)"
        )
    print(
        f"\n  first call in this process (compile or cache load + replay): "
        f"execsim {res['execsim_first_call_cpu_s']:.3f} CPU s",
        end="",
    )
    for k, v in res.items():
        if k.startswith("hftbacktest_first_call"):
            print(f"; {k.split('[')[1][:-1]} {v:.3f}", end="")
    print()
    conv = {k.split("[")[1][:-1]: v for k, v in res.items() if k.startswith("hftbacktest_convert")}
    if conv:
        print(
            "  conversion to hftbacktest's format (once, untimed above), CPU s: "
            + ", ".join(f"{k} {v:.2f}" for k, v in conv.items())
        )
    print(
        f"  tracemalloc peak of one execsim replay: {res['execsim_tracemalloc_peak_bytes']:,} bytes "
        f"= {res['execsim_tracemalloc_peak_bytes'] / n:.2f} bytes/event "
        f"(input events: 51 bytes/event; hftbacktest's format: 64 bytes/event)"
    )
    fresh = res.get("fresh")
    if fresh:
        print("\n  cold start in a fresh process (first build + replay of 2,000 events), CPU s:")
        for engine, d in fresh["cold_start"].items():
            print(
                f"    {engine}: empty numba cache {d['compile']['cpu_s']:.2f}, "
                f"warm cache {d['cache_load']['cpu_s']:.2f}"
            )
        print("  peak-RSS growth over one replay in a fresh process:")
        for engine, d in fresh["rss"].items():
            print(
                f"    {engine}: {d['rss_growth_bytes'] / 2**20:.1f} MiB over {d['events']:,} events "
                f"= {d['bytes_per_event']:.2f} bytes/event"
            )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--events", type=int, default=5_000_000, help="events in the stream (5 M = 1 h)")
    p.add_argument("--seed", type=int, default=20240102)
    p.add_argument("--repeats", type=int, default=5, help="timed runs per engine")
    p.add_argument("--ref-events", type=int, default=500_000, help="prefix for the pure-Python book")
    p.add_argument("--ref-repeats", type=int, default=3)
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--no-fresh", action="store_true", help="skip the fresh-process measurements")
    p.add_argument("--child", choices=["cold", "rss"], help=argparse.SUPPRESS)
    p.add_argument("--engine", default="execsim", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args)
        return 0

    res: dict[str, Any] = {"machine_before": machine_info(), "argv": sys.argv}
    res.update(
        run_l2_benchmark(
            n_events=args.events,
            seed=args.seed,
            ref_events=args.ref_events,
            repeats=args.repeats,
            ref_repeats=args.ref_repeats,
            log=log,
        )
    )
    if not args.no_fresh:
        res["fresh"] = fresh_process_measurements(args.events, args.seed, args.ref_events, log)
    res["ratios"] = ratios(res)
    res["machine_after"] = machine_info()
    print_machine(res["machine_before"], res["machine_after"], ("numpy", "numba", "hftbacktest"))
    report(res)
    if args.json:
        write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
