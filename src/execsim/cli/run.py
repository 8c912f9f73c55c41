"""``execsim run CONFIG.yaml``: run one backtest from a YAML config and write its results folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register", "run_command"]


def register(sub: Any) -> None:
    """Add the ``run`` command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "run",
        help="run a backtest from a YAML config and write its results folder",
        description="Run one deterministic backtest session from a YAML run config and write its results "
        "folder (manifest.json, config.yaml, orders/fills/order_events/market parquet files).",
    )
    p.add_argument("config", type=Path, help="the run config (YAML)")
    p.add_argument(
        "--output", type=Path, default=Path("runs"), help="where results folders go (default ./runs)"
    )
    p.add_argument("--seed", type=int, default=None, help="override the config's seed")
    p.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the config and print a summary."""
    from execsim.backtest import RunConfig, run_session
    from execsim.cli.progress import progress_bar
    from execsim.core.timeutil import NS_PER_S, format_ns

    cfg = RunConfig.from_yaml(args.config)
    if args.seed is not None:
        cfg = RunConfig.from_dict(
            {**cfg.model_dump(by_alias=True), "seed": args.seed}, source=str(args.config)
        )
    state: dict[str, int | None] = {"last": None}

    with progress_bar(f"{cfg.name}: market seconds", total=None) as advance:

        def progress(t_ns: int) -> None:
            last = state["last"]
            if last is not None:
                advance((t_ns - last) / NS_PER_S)
            state["last"] = t_ns

        result = run_session(cfg, base_dir=args.config.resolve().parent, progress=progress)
    folder = result.write(args.output)
    orders, fills = result.orders.to_pylist(), result.fills.to_pylist()
    m = result.manifest
    span = f"{format_ns(m['start_ns'])} → {format_ns(m['end_ns'])}"
    print(f"run {cfg.name} ({m['config_id'][:12]}) seed {cfg.seed}: {span}")
    print(
        f"orders {len(orders)}  fills {len(fills)}  filled qty {sum(f['qty'] for f in fills)}  "
        f"market events {m['session']['events_replayed']:,}"
    )
    print(f"results: {folder}")
    return 0
