"""``execsim lobster ...``: commands over LOBSTER message/orderbook file pairs.

``execsim lobster verify --messages M --orderbook B`` rebuilds the day in the L3 book and
compares the top levels after every message with the orderbook file. Its last line is exactly
``rows=<n> mismatches=<k>``; it exits 0 when ``k`` is 0, 1 otherwise, and 2 on bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from execsim.book.replay import LobsterVerifyResult, verify_lobster
from execsim.cli.main import command_group
from execsim.cli.progress import progress_bar
from execsim.data.feeds.lobster import LobsterFeed

__all__ = ["format_verify_summary", "register"]


def register(subparsers: Any) -> None:
    """Add the ``lobster`` command group to the ``execsim`` parser."""
    sub = command_group(
        subparsers,
        "lobster",
        help="LOBSTER message/orderbook files: verify an exact book replay",
        description="Commands over LOBSTER (lobsterdata.com) message/orderbook file pairs.",
    )
    verify = sub.add_parser(
        "verify",
        help="rebuild the book from the messages and compare it with every orderbook row",
        description=(
            "Replay the message file through the L3 order book and compare the top L levels "
            "(price and size, both sides) after every message with the orderbook file. "
            "The last line printed is 'rows=<n> mismatches=<k>'; the exit status is 0 when "
            "k is 0, 1 when rows differ, 2 on bad input."
        ),
    )
    verify.add_argument("--messages", required=True, type=Path, metavar="M", help="message file")
    verify.add_argument(
        "--orderbook", required=True, type=Path, metavar="B", help="orderbook file (same rows)"
    )
    verify.add_argument(
        "--tick-size",
        default="0.0001",
        help="price increment (default 0.0001, LOBSTER's unit; a coarser tick rejects off-grid prices)",
    )
    verify.add_argument("--lot-size", default="1", help="quantity increment (default 1 share)")
    verify.add_argument(
        "--tz", default="America/New_York", help="exchange time zone (default America/New_York)"
    )
    verify.add_argument("--symbol", help="ticker (default: from the LOBSTER file name)")
    verify.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        help="trading date YYYY-MM-DD (default: from the LOBSTER file name)",
    )
    verify.add_argument(
        "--show", type=int, default=10, metavar="N", help="mismatching levels to list (default 10)"
    )
    verify.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    feed_kwargs: dict[str, Any] = {
        "tick_size": args.tick_size,
        "lot_size": args.lot_size,
        "tz": args.tz,
        "symbol": args.symbol,
        "date": args.date,
    }
    # counting lines costs a fraction of the replay and gives the bar a total
    total = LobsterFeed(args.messages, args.orderbook, **feed_kwargs).count_rows()
    with progress_bar("verifying", total=total) as advance:
        progress: Callable[[int], None] = advance
        result = verify_lobster(
            args.messages,
            args.orderbook,
            progress=progress,
            max_details=max(0, args.show),
            **feed_kwargs,
        )
    print(format_verify_summary(result))
    return 0 if result.ok else 1


def format_verify_summary(result: LobsterVerifyResult) -> str:
    """The text ``execsim lobster verify`` prints; its last line is ``rows=<n> mismatches=<k>``."""
    rep = result.report
    inst = result.instrument
    stats = result.book_stats
    kinds = " ".join(f"{k}={v}" for k, v in sorted(rep.events_emitted.items()))
    types = " ".join(f"type{k}={v}" for k, v in sorted(rep.message_types.items()))
    lines = [
        f"{inst.symbol} on {inst.venue}, {result.levels} levels per side, "
        f"tick {inst.tick_size}, lot {inst.lot_size}",
        f"messages: {rep.rows_read} ({types})",
        f"events: {rep.total_emitted} ({kinds})",
        f"reveals: {rep.reveals} levels entered the window, {rep.reveal_resets} of them were "
        f"held outside it and reset; {rep.reveal_clears} held levels found gone",
        "book: "
        + " ".join(
            f"{k}={stats.get(k, 0)}"
            for k in ("unknown_order_events", "inconsistent_reductions", "rejected_events")
        ),
        f"time: {result.elapsed_s:.2f} s ({result.messages_per_second:,.0f} messages/s)",
    ]
    if result.first_mismatches:
        lines.append(f"first mismatches (of {result.mismatches} rows):")
        lines += ["  " + m.describe(inst) for m in result.first_mismatches]
    lines.append(result.summary_line())
    return "\n".join(lines)
