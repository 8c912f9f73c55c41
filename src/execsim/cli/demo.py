"""``execsim demo``: the built-in execution study, and a replay summary of the synthetic stream.

No data files are needed: the market is the built-in agent market (or, with ``--market-only``,
the seeded synthetic L2 stream of :mod:`execsim.data.synthetic`), so the same seed prints the
same results on any machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from execsim.core.timeutil import NS_PER_S, format_ns

__all__ = ["register", "run_demo", "run_market_summary"]


def register(sub: Any) -> None:
    """Add the ``demo`` command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="run the built-in execution study (TWAP, VWAP, POV, IS, ML) on the synthetic market",
        description="Execute one parent order with TWAP, VWAP, POV, implementation shortfall and a "
        "cost-aware ML policy fitted on simulated data, on the built-in reactive agent market "
        "(no data files needed); "
        "print the TCA comparison and write the results folders and the best-execution report. "
        "With --market-only, replay the seeded synthetic L2 stream and print a book/trade summary instead.",
    )
    p.add_argument("--seed", type=int, default=7, help="first market seed (default 7)")
    p.add_argument("--seeds", type=int, default=3, help="market seeds per algorithm (default 3)")
    p.add_argument("--qty", type=int, default=2_000, help="parent order size in shares (default 2,000)")
    p.add_argument("--out", type=Path, default=Path("demo"), help="output folder (default ./demo)")
    p.add_argument(
        "--market-only", action="store_true", help="only replay the synthetic L2 stream and summarise it"
    )
    p.add_argument(
        "--events", type=int, default=1_000_000, help="--market-only: events to generate (default 1,000,000)"
    )
    p.add_argument("--minutes", type=float, default=60.0, help="--market-only: market time the stream spans")
    p.add_argument(
        "--depth", type=int, default=5, help="--market-only: levels per side shown for the final book"
    )
    p.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """Run the execution study (or, with --market-only, the replay summary)."""
    if args.market_only:
        return run_market_summary(args)
    from rich.console import Console
    from rich.table import Table

    from execsim.studies.demo import DemoConfig
    from execsim.studies.demo import run_demo as study

    _positive("seeds", args.seeds)
    _positive("qty", args.qty)
    console = Console(soft_wrap=True)
    if not console.is_terminal:
        console = Console(soft_wrap=True, width=132)
    cfg = DemoConfig(seed=args.seed, seeds=args.seeds, qty=args.qty, out=args.out)
    console.print(
        f"[bold]execsim demo[/bold] — buy {cfg.qty:,} shares over {cfg.duration_s / 60:g} minutes on the "
        f"built-in agent market (GOOG-like), seeds {cfg.seed}..{cfg.seed + cfg.seeds - 1}, "
        "each run with its counterfactual"
    )
    r = study(cfg, log=lambda line: console.print(f"  {line}"))
    table = Table(
        title="TCA comparison (mean over seeds; cost positive = worse for the client)", show_edge=False
    )
    cols = [
        "algo",
        "IS bps",
        "vs VWAP bps",
        "impact bps",
        "drift bps",
        "markout 60s bps",
        "fees bps",
        "fill %",
        "part. %",
    ]
    for col in cols:
        table.add_column(col, justify="left" if col == "algo" else "right")
    for row in r.rows:
        table.add_row(*[row["algo"], *(_fmt(row.get(c)) for c in cols[1:])])
    console.print(table)
    cmp = r.comparison
    if cmp is None:
        console.print("ML policy − TWAP: a paired comparison needs at least 2 seeds (--seeds)")
    else:
        console.print(
            f"ML policy − TWAP, implementation shortfall: {cmp.mean_diff:+.2f} bps "
            f"(95% CI {cmp.ci_low:+.2f} … {cmp.ci_high:+.2f}, p = {cmp.p_value:.2f}, n = {cmp.n})"
        )
        if cmp.warning:
            console.print(f"  [yellow]warning:[/yellow] {cmp.warning_text}")
    console.print(
        f"ML policy: ridge cost model fitted on {int(r.ml_fit['examples'])} simulated child orders "
        f"(R² {r.ml_fit['r2']:.2f}, mean crossing cost {r.ml_fit['mean_cost_ticks']:.1f} ticks)"
    )
    console.print(f"results: {len(r.run_dirs)} runs under {cfg.out / 'runs'}")
    console.print(f"best-execution report: {r.report_paths['html']} (and {r.report_paths['json'].name})")
    console.print(f"done in {r.elapsed_s:.1f} s")
    return 0


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "—"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def _positive(name: str, value: float) -> None:
    if value <= 0:
        from execsim.core.errors import ConfigError

        raise ConfigError(f"--{name} must be positive, got {value!r}")


def run_market_summary(args: argparse.Namespace) -> int:
    """Replay the synthetic L2 stream and print its summary."""
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
