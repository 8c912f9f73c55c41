"""``execsim binance ...``: commands over Binance raw captures (hftbacktest collector format).

``execsim binance verify FILE...`` rebuilds the L2 book from the REST snapshot and the depth
diffs and compares it with every bookTicker whose book state the replay reproduces exactly.
Its last line is exactly ``checked=<n> mismatches=<k>``; it exits 0 when ``k`` is 0 and ``n``
is positive, 1 otherwise, and 2 on bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from execsim.book.binance_verify import BinanceVerifyResult, verify_binance
from execsim.cli.main import command_group
from execsim.cli.progress import progress_bar
from execsim.data.feeds.binance import BinanceMarket

__all__ = ["format_verify_summary", "register"]


def register(subparsers: Any) -> None:
    """Add the ``binance`` command group to the ``execsim`` parser."""
    sub = command_group(
        subparsers,
        "binance",
        help="Binance raw captures (depth diffs + trades + bookTicker): verify the book rebuild",
        description="Commands over Binance raw websocket/REST captures "
        "('<local_ts_ns> <JSON>' per line, gzip or plain).",
    )
    verify = sub.add_parser(
        "verify",
        help="rebuild the L2 book and compare it with every exactly checkable bookTicker",
        description=(
            "Replay the REST snapshot and the depth diffs through the L2 book (Binance's bridging "
            "rule) and compare the rebuilt best bid and ask, price and quantity, with every "
            "bookTicker whose update id the replay reproduces exactly. Files are read in order as "
            "one stream (e.g. the _20240808 file with the snapshot, then _20240809). The last line "
            "printed is 'checked=<n> mismatches=<k>'; the exit status is 0 when k is 0 and n > 0, "
            "1 otherwise, 2 on bad input."
        ),
    )
    verify.add_argument("files", nargs="+", type=Path, metavar="FILE", help="capture file(s), in order")
    verify.add_argument(
        "--market",
        choices=[m.value for m in BinanceMarket],
        help="market (default: detected from the records)",
    )
    verify.add_argument(
        "--tick-size", help="price increment (default: the finest decimal the snapshot's prices use)"
    )
    verify.add_argument(
        "--lot-size", help="quantity increment (default: the precision of the snapshot's quantities)"
    )
    verify.add_argument("--symbol", help="symbol to read (default: the one named by the streams)")
    verify.add_argument(
        "--on-gap",
        choices=["raise", "resync"],
        default="raise",
        help="on an update-id gap: fail (default) or clear the book and wait for the next snapshot",
    )
    verify.add_argument(
        "--show", type=int, default=10, metavar="N", help="mismatching bookTickers to list (default 10)"
    )
    verify.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    files: list[Path] = args.files
    total = sum(p.stat().st_size for p in files if p.is_file())
    with progress_bar("verifying", total=total) as advance:
        result = verify_binance(
            files,
            progress=advance,
            max_details=max(0, args.show),
            market=args.market,
            tick_size=args.tick_size,
            lot_size=args.lot_size,
            symbol=args.symbol,
            on_gap=args.on_gap,
        )
    print(format_verify_summary(result))
    return 0 if result.ok else 1


def format_verify_summary(result: BinanceVerifyResult) -> str:
    """The text ``execsim binance verify`` prints; its last line is ``checked=<n> mismatches=<k>``."""
    rep = result.report
    inst = result.instrument
    stats = result.book_stats
    kinds = " ".join(f"{k}={v}" for k, v in sorted(rep.events_emitted.items()))
    skips = ", ".join(f"{k}={v}" for k, v in sorted(rep.skipped.items())) or "none"
    nc = ", ".join(f"{k}={v}" for k, v in result.not_checkable.items()) or "none"
    b_px, b_q, a_px, a_q = result.final_bbo
    lines = [
        f"{inst.symbol} on {inst.venue} ({result.market.value}), "
        f"tick {inst.tick_size:f}, lot {inst.lot_size:f}",
        f"lines: {rep.rows_read}; snapshots {rep.snapshots}, diffs applied {rep.diffs_applied} "
        f"(buffered before the snapshot: {rep.diffs_buffered}), bookTickers {rep.book_tickers}, "
        f"gaps {rep.gaps}",
        f"events: {rep.total_emitted} ({kinds})",
        f"skipped: {skips}",
        f"ts_event raised across streams: {rep.ts_event_raised} events "
        f"(max {rep.ts_event_raised_max_ns / 1e6:g} ms)",
        f"book: crossed_at_last={stats['crossed_at_last']} recentres={stats['recentres']} "
        f"window={stats['window']} ticks",
        f"final best bid {inst.lots_to_qty(b_q)} @ {inst.ticks_to_price(b_px)}, "
        f"best ask {inst.lots_to_qty(a_q)} @ {inst.ticks_to_price(a_px)}",
        f"bookTickers: {result.book_tickers} = checked {result.checked} + not checkable "
        f"{result.book_tickers - result.checked} ({nc})",
        f"time: {result.elapsed_s:.2f} s",
    ]
    if result.first_mismatches:
        lines.append(f"first mismatches (of {result.mismatches}):")
        lines += ["  " + m.describe(inst) for m in result.first_mismatches]
    lines.append(result.summary_line())
    return "\n".join(lines)
