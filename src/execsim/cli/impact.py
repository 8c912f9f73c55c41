"""``execsim impact calibrate``: fit an impact model to a day of data and print its diagnostics.

``execsim impact calibrate --messages M --orderbook B --model square_root`` (LOBSTER files) or
``--parquet FILE`` (a canonical event file) reads the day, builds the trade tape, fits the
model, prints the calibration diagnostics as markdown and the fitted config as YAML, and with
``--config-out FILE`` writes that config (an :class:`~execsim.impact.ImpactConfig`) to a file.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from execsim.cli.main import command_group
from execsim.cli.progress import progress_bar
from execsim.core.errors import ConfigError
from execsim.data.feeds.canonical import CanonicalParquetFeed
from execsim.data.feeds.lobster import LobsterFeed
from execsim.impact import (
    AlmgrenChrissImpact,
    ImpactConfig,
    ImpactModel,
    PropagatorImpact,
    SquareRootImpact,
    trade_tape,
)

__all__ = ["register"]

_MODELS = ("square_root", "propagator", "almgren_chriss")


def register(subparsers: Any) -> None:
    """Add the ``impact`` command group to the ``execsim`` parser."""
    sub = command_group(
        subparsers,
        "impact",
        help="market impact models: calibrate one from a day of data",
        description="Market impact models (see docs/impact.md).",
    )
    cal = sub.add_parser(
        "calibrate",
        help="fit an impact model to a day of data; print diagnostics and the fitted config",
        description=(
            "Read a day (LOBSTER message/orderbook files or a canonical Parquet file), build the "
            "trade tape, fit the model and print its calibration diagnostics (markdown) and "
            "the fitted impact config (YAML)."
        ),
    )
    src = cal.add_mutually_exclusive_group(required=True)
    src.add_argument("--messages", type=Path, metavar="M", help="LOBSTER message file (with --orderbook)")
    src.add_argument("--parquet", type=Path, metavar="FILE", help="canonical event Parquet file")
    cal.add_argument("--orderbook", type=Path, metavar="B", help="LOBSTER orderbook file")
    cal.add_argument(
        "--model", choices=_MODELS, default="square_root", help="model to fit (default square_root)"
    )
    cal.add_argument(
        "--kernel",
        choices=("power_law", "exponential"),
        default="exponential",
        help="propagator kernel family (default exponential)",
    )
    cal.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    cal.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples (default 200)")
    cal.add_argument("--config-out", type=Path, metavar="FILE", help="write the fitted impact config (YAML)")
    cal.set_defaults(func=_calibrate)


def _model(args: argparse.Namespace) -> tuple[ImpactModel, dict[str, Any]]:
    if args.model == "square_root":
        return SquareRootImpact(), {"n_bootstrap": args.bootstrap, "seed": args.seed}
    if args.model == "propagator":
        return PropagatorImpact(kernel=args.kernel), {}
    return AlmgrenChrissImpact(), {"n_bootstrap": args.bootstrap, "seed": args.seed}


def _counted(batches: Iterator[np.ndarray], advance: Any) -> Iterator[np.ndarray]:
    for b in batches:
        advance(len(b))
        yield b


def _calibrate(args: argparse.Namespace) -> int:
    feed: LobsterFeed | CanonicalParquetFeed
    if args.messages is not None:
        if args.orderbook is None:
            raise ConfigError("--messages needs --orderbook (the LOBSTER orderbook file of the same day)")
        feed = LobsterFeed(args.messages, args.orderbook)
    else:
        feed = CanonicalParquetFeed(args.parquet)
    with progress_bar("reading events", total=None) as advance:
        tape = trade_tape(_counted(feed.batches(), advance), tick_size=float(feed.instrument.tick_size))
    model, kw = _model(args)
    model.fit(tape, **kw)
    cfg = ImpactConfig.from_model(model)
    text = yaml.safe_dump({"impact": cfg.model_dump(mode="json")}, sort_keys=True)
    if args.config_out is not None:
        args.config_out.write_text(text, encoding="utf-8")
    print(f"# {type(model).__name__} fitted on {feed.instrument.symbol}: {tape.summary()}\n")
    print(model.calibration_.to_markdown())  # type: ignore[attr-defined]
    print("```yaml\n" + text + "```")
    return 0
