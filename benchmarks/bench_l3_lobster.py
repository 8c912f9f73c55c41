"""L3 replay benchmark: the LOBSTER GOOG 2012-06-21 day, parsed and replayed order by order.

Measures, in messages (LOBSTER message rows) per CPU second:

1. ``parse``: :class:`execsim.data.feeds.lobster.LobsterFeed` turning the two gzip CSV files into
   canonical events (``batches()`` drained; gzip decompression included, and also timed alone);
2. ``apply``: :meth:`execsim.book.l3.L3Book.apply` on the parsed events, held in memory;
3. ``parse + apply``: the feed's batches applied to the book as they come (end to end).

Every number is CPU time (:func:`time.process_time`), the best and the median of several runs,
after one untimed warm-up (compilation / cache loading); cold starts are measured in fresh
processes. The final book must equal the last row of LOBSTER's orderbook file (top 10 levels),
or the script fails.

Data: ``$EXECSIM_SHARED_DATA/lobster`` or ``<repo>/../shared/data/lobster``; without it the
script says so and exits 0.

Usage::

    .venv/bin/python benchmarks/bench_l3_lobster.py [--repeats R] [--json OUT] [--no-fresh]
"""

from __future__ import annotations

import argparse
import gc
import gzip
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from _common import (
    Timing,
    cold_start,
    cpu_timed,
    fmt_rate,
    lobster_goog_paths,
    log,
    machine_info,
    print_machine,
    print_table,
    shared_data_dir,
    timing_row,
    write_json,
)
from execsim.book.l3 import L3Book
from execsim.data.feeds.lobster import LobsterFeed

SCRIPT = Path(__file__).resolve()


class BookMismatchError(RuntimeError):
    """The replayed book differs from LOBSTER's own orderbook file."""


def parse_all(
    msg: Path, book: Path, max_rows: int | None = None
) -> tuple[np.ndarray, int, tuple[np.ndarray, ...]]:
    """Parse the files (or their first ``max_rows`` rows, in whole chunks) into one event array.

    Returns the events, the message rows read and LOBSTER's own top of book after the last of
    them (its orderbook row: bid_px, bid_qty, ask_px, ask_qty), the oracle for the replay.
    """
    feed = LobsterFeed(msg, book)
    parts = []
    last = None
    for chunk in feed.chunks():
        parts.append(chunk.events)
        last = chunk
        if max_rows is not None and feed.report.rows_read >= max_rows:
            break
    assert last is not None, f"{msg} holds no message"
    top = (last.bid_px[-1], last.bid_qty[-1], last.ask_px[-1], last.ask_qty[-1])
    return np.concatenate(parts), feed.report.rows_read, top


def parse_only(msg: Path, book: Path) -> int:
    """Drain the feed (events are produced and dropped); return the message rows read."""
    feed = LobsterFeed(msg, book)
    n = 0
    for b in feed.batches():
        n += len(b)
    return feed.report.rows_read


def parse_and_apply(msg: Path, book: Path) -> tuple[L3Book, int]:
    """Apply the feed's batches to a fresh book as they are parsed."""
    feed = LobsterFeed(msg, book)
    l3 = L3Book()
    for b in feed.batches():
        l3.apply(b)
    return l3, feed.report.rows_read


def gunzip_only(msg: Path, book: Path) -> int:
    """Decompress both files and drop the bytes: the share of parsing that is gzip."""
    n = 0
    for p in (msg, book):
        with gzip.open(p, "rb") as f:
            while block := f.read(1 << 20):
                n += len(block)
    return n


def check_final_book(l3: L3Book, expected: tuple[np.ndarray, ...]) -> None:
    """Fail loudly unless the book's top levels equal LOBSTER's last orderbook row."""
    levels = len(expected[0])
    got = l3.top(levels)
    names = ("bid_px", "bid_qty", "ask_px", "ask_qty")
    for name, g, e in zip(names, got, expected, strict=True):
        if not np.array_equal(g, e):
            raise BookMismatchError(
                f"final {name} differs from LOBSTER's orderbook: {g.tolist()} != {e.tolist()}"
            )


def run_l3_benchmark(
    msg: Path,
    book: Path,
    *,
    repeats: int = 5,
    max_rows: int | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """Time parse, apply and parse+apply, and check the final book against LOBSTER's.

    With ``max_rows`` (the smoke test) only ``apply`` is timed, on the first ``max_rows`` rows
    (rounded up to whole parser chunks).
    """
    out: dict[str, Any] = {"message_file": str(msg), "orderbook_file": str(book)}
    # warm-up (untimed): compiles or loads the parser's and the book's kernels
    (events, rows, expected_top), first_parse_cpu, _ = cpu_timed(lambda: parse_all(msg, book, max_rows))
    _, first_apply_cpu, _ = cpu_timed(lambda: L3Book().apply(events))
    out.update(first_parse_cpu_s=first_parse_cpu, first_apply_cpu_s=first_apply_cpu)
    out.update(message_rows=rows, events=len(events))
    log(f"parsed {rows:,} message rows into {len(events):,} events")

    full = max_rows is None
    timings: dict[str, Timing] = {}
    if full:
        timings["gunzip only"] = Timing("gunzip only", rows, note="both files, bytes dropped")
        timings["parse"] = Timing("parse", rows)
    timings["apply"] = Timing("apply", rows)
    if full:
        timings["parse + apply"] = Timing("parse + apply", rows)
    final: L3Book | None = None
    for r in range(repeats):
        gc.collect()
        if full:
            timings["gunzip only"].measure(lambda: gunzip_only(msg, book))
            timings["parse"].measure(lambda: parse_only(msg, book))
        l3 = L3Book()
        timings["apply"].measure(partial(l3.apply, events))
        final = l3
        if full:
            final, _ = timings["parse + apply"].measure(lambda: parse_and_apply(msg, book))
        log(f"round {r + 1}/{repeats} done")
    assert final is not None
    check_final_book(final, expected_top)
    log("final book equals LOBSTER's orderbook row after the last message")
    out["events_per_message"] = len(events) / rows
    out["book_stats"] = final.stats
    out["timings"] = {k: v.as_dict() for k, v in timings.items()}
    return out


def _child(args: argparse.Namespace) -> None:
    """Cold start in a fresh process: parse + apply the first ~10k rows (modules already imported)."""
    import json
    import time

    import numba  # noqa: F401  (imported before the timer)

    paths = lobster_goog_paths()
    assert paths is not None
    c0, w0 = time.process_time(), time.perf_counter()
    events, _, _ = parse_all(*paths, max_rows=10_000)
    c1 = time.process_time()
    L3Book().apply(events)
    c2, w2 = time.process_time(), time.perf_counter()
    print(json.dumps({"cpu_s": c2 - c0, "parse_cpu_s": c1 - c0, "apply_cpu_s": c2 - c1, "wall_s": w2 - w0}))


def report(res: dict[str, Any]) -> None:
    rows = res["message_rows"]
    print(
        f"\nLOBSTER GOOG 2012-06-21 (10 levels): {rows:,} message rows -> {res['events']:,} events "
        f"({res['events_per_message']:.3f} per message)\n"
    )
    table = [timing_row(name, d) for name, d in res["timings"].items()]
    print_table(
        ["step", "messages", "best CPU s", "median CPU s", "msgs/CPU-s best", "median", "runs"], table
    )
    ap = res["timings"]["apply"]
    print(f"\n  apply in events/CPU-s: {fmt_rate(res['events'] / ap['best_cpu_s'])} (best)")
    print(
        f"  first call in this process (compile or cache load included): parse "
        f"{res['first_parse_cpu_s']:.3f} CPU s, apply {res['first_apply_cpu_s']:.3f} CPU s"
    )
    cold = res.get("cold_start")
    if cold:
        print(
            "  cold start in a fresh process (parse + apply of the first 10k rows), CPU s: "
            f"empty numba cache {cold['compile']['cpu_s']:.2f} "
            f"(parse {cold['compile']['parse_cpu_s']:.2f}, apply {cold['compile']['apply_cpu_s']:.2f}), "
            f"warm cache {cold['cache_load']['cpu_s']:.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--no-fresh", action="store_true", help="skip the fresh-process cold start")
    p.add_argument("--child", choices=["cold"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    paths = lobster_goog_paths()
    if paths is None:
        print(
            f"LOBSTER GOOG sample not found under {shared_data_dir() / 'lobster'} "
            "(set EXECSIM_SHARED_DATA): nothing to benchmark"
        )
        return 0
    if args.child:
        _child(args)
        return 0

    res: dict[str, Any] = {"machine_before": machine_info(), "argv": sys.argv}
    res.update(run_l3_benchmark(*paths, repeats=args.repeats, log=log))
    if not args.no_fresh:
        res["cold_start"] = cold_start(SCRIPT, ["--child", "cold"])
        log("cold start measured")
    res["machine_after"] = machine_info()
    print_machine(res["machine_before"], res["machine_after"])
    report(res)
    if args.json:
        write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
