"""``execsim demo``: replay a built-in synthetic order-book stream and summarise it.

No data files are needed: the stream comes from :mod:`execsim.data.synthetic`, seeded, so the
same seed prints the same summary on any machine.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from execsim.core.timeutil import NS_PER_S, format_ns

__all__ = ["register", "run_demo"]


def register(sub: Any) -> None:
    """Add the ``demo`` command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="replay a built-in synthetic order-book stream and print a book/trade summary",
        description="Replay a seeded synthetic L2 order-book stream (no data files needed) through "
        "the compiled L2 book and print a short book and trade summary.",
    )
    p.add_argument("--seed", type=int, default=7, help="seed of the synthetic market (default 7)")
    p.add_argument(
        "--events", type=int, default=1_000_000, help="number of events to generate (default 1,000,000)"
    )
    p.add_argument("--minutes", type=float, default=60.0, help="market time the stream spans (default 60)")
    p.add_argument(
        "--depth", type=int, default=5, help="levels per side shown for the final book (default 5)"
    )
    p.set_defaults(func=run_demo)


def _positive(name: str, value: float) -> None:
    if value <= 0:
        from execsim.core.errors import ConfigError

        raise ConfigError(f"--{name} must be positive, got {value!r}")


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo and print its summary."""
    from rich.console import Console
    from rich.table import Table

    from execsim.book.summary import summarize_l2_replay
    from execsim.cli.progress import progress_bar
    from execsim.data.synthetic import default_instrument, iter_synthetic_l2

    _positive("events", args.events)
    _positive("minutes", args.minutes)
    _positive("depth", args.depth)
    inst = default_instrument()
    console = Console(soft_wrap=True)
    t0 = time.perf_counter()
    batches = iter_synthetic_l2(
        seed=args.seed, n_events=args.events, duration_ns=int(args.minutes * 60 * NS_PER_S)
    )
    with progress_bar("replaying synthetic market", total=args.events) as advance:
        s = summarize_l2_replay(batches, inst, depth=args.depth, progress=advance)
    wall = time.perf_counter() - t0

    px = inst.ticks_to_price
    console.print(
        f"[bold]execsim demo[/bold] — synthetic market {inst.symbol}@{inst.venue}, seed {args.seed}, "
        f"tick {inst.tick_size}"
    )
    console.print(f"span      {format_ns(s.ts_first)} → {format_ns(s.ts_last)}")
    kinds = "  ".join(f"{k} {v:,}" for k, v in sorted(s.events_by_kind.items()))
    console.print(f"events    {s.events:,}  ({kinds})")
    rate = s.events / s.replay_cpu_s if s.replay_cpu_s > 0 else float("inf")
    console.print(
        f"replay    {s.replay_cpu_s:.2f} CPU-s in the compiled L2 book ({rate / 1e6:.1f} M events/CPU-s); "
        f"{wall:.2f} s wall incl. generation"
    )
    if s.trades and s.vwap_ticks is not None and s.trade_high is not None and s.trade_low is not None:
        vwap = px(round(s.vwap_ticks))
        console.print(
            f"trades    {s.trades:,}  volume {inst.lots_to_qty(s.trade_volume):,}  VWAP {vwap}  "
            f"high {px(s.trade_high)}  low {px(s.trade_low)}"
        )
    console.print(
        f"spread    mean {s.spread_mean:.2f}  median {s.spread_median:.0f}  max {s.spread_max} ticks "
        f"over {s.spread_samples:,} book states; crossed states: {s.crossed_states}"
    )
    bid_px, bid_qty, ask_px, ask_qty = s.final_top
    table = Table(title="final book", show_edge=False)
    for col in ("bid qty", "bid", "ask", "ask qty"):
        table.add_column(col, justify="right")
    for i in range(len(bid_px)):
        table.add_row(
            f"{inst.lots_to_qty(int(bid_qty[i])):,}" if bid_qty[i] else "",
            str(px(int(bid_px[i]))) if bid_qty[i] else "",
            str(px(int(ask_px[i]))) if ask_qty[i] else "",
            f"{inst.lots_to_qty(int(ask_qty[i])):,}" if ask_qty[i] else "",
        )
    console.print(table)
    return 0
