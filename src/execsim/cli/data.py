"""``execsim data ...``: import market data into the repository, list it, show a symbol, verify.

``execsim data import --format FMT FILE...`` streams files through a feed handler into the
repository (``--root``, default ``$EXECSIM_DATA`` or ``./execsim-data``) and prints what was
written and what the handler skipped. ``list`` prints the catalog as a table, ``show`` one
symbol's summary, and ``verify`` recomputes every file's hash (exit 1 when something differs).
All three read the catalog only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from execsim.cli.main import command_group
from execsim.cli.progress import progress_bar
from execsim.core.errors import ConfigError, ExecsimError
from execsim.data.feeds.base import FeedHandler
from execsim.data.repository import CatalogEntry, Repository
from execsim.model.instrument import Instrument

__all__ = ["FORMATS", "format_table", "register"]

FORMATS = ("lobster", "binance", "bitstamp", "parquet", "csv")


def register(subparsers: Any) -> None:
    """Add the ``data`` command group to the ``execsim`` parser."""
    sub = command_group(
        subparsers,
        "data",
        help="import market data into the repository; list, show and verify it",
        description="The data repository: canonical Parquet partitioned by venue/symbol/date, "
        "with a DuckDB catalog.",
    )

    imp = sub.add_parser(
        "import",
        help="import files through a feed handler",
        description=(
            "Import market data files. lobster: pairs of MESSAGE ORDERBOOK files; binance: "
            "all files form one feed; bitstamp, parquet, csv: one import per file. csv needs "
            "--symbol, --venue, --tick-size and --lot-size (a CSV file has no instrument)."
        ),
    )
    imp.add_argument("--format", "-f", required=True, choices=FORMATS, help="input format")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE", help="input file(s)")
    _root(imp)
    imp.add_argument("--symbol", help="symbol (default: from the files where the format has it)")
    imp.add_argument("--venue", help="venue name")
    imp.add_argument("--tick-size", help="price increment, e.g. 0.01")
    imp.add_argument("--lot-size", help="quantity increment, e.g. 0.00000001")
    imp.add_argument("--date", type=dt.date.fromisoformat, help="lobster: trading date YYYY-MM-DD")
    imp.add_argument("--tz", help="lobster: exchange time zone (default America/New_York)")
    imp.add_argument("--market", help="binance: market, e.g. spot or usdm")
    imp.add_argument(
        "--snapshots",
        choices=("none", "first", "all"),
        help="bitstamp: order_book snapshots to emit as SET_LEVEL (default: first)",
    )
    imp.set_defaults(func=_import)

    lst = sub.add_parser("list", help="list the catalogued parts", description="List the catalog.")
    _root(lst)
    lst.add_argument("--symbol", help="only this symbol")
    lst.add_argument("--venue", help="only this venue")
    lst.set_defaults(func=_list)

    show = sub.add_parser(
        "show",
        help="summarise one symbol from the catalog",
        description="Symbols, time spans, event counts by kind and content hashes (catalog only).",
    )
    show.add_argument("symbol", metavar="SYMBOL")
    _root(show)
    show.add_argument("--venue", help="only this venue")
    show.add_argument("--date", type=dt.date.fromisoformat, help="only this UTC date YYYY-MM-DD")
    show.set_defaults(func=_show)

    ver = sub.add_parser(
        "verify",
        help="recompute every part's sha256 and compare it with the catalog",
        description="Exit 0 when every catalogued file is present and unchanged, 1 otherwise.",
    )
    _root(ver)
    ver.set_defaults(func=_verify)


def _root(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--root",
        type=Path,
        default=None,
        help="repository folder (default: $EXECSIM_DATA or ./execsim-data)",
    )


def _module(name: str, fmt: str) -> ModuleType:
    try:
        return importlib.import_module(f"execsim.data.feeds.{name}")
    except ModuleNotFoundError as err:
        if err.name != f"execsim.data.feeds.{name}":
            raise
        raise ExecsimError(
            f"the {fmt} feed handler (execsim.data.feeds.{name}) is not available in this installation"
        ) from None


def _given(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


# the options each format's handler takes (others are refused rather than ignored)
_OPTIONS = {
    "lobster": {"symbol", "venue", "tick_size", "lot_size", "date", "tz"},
    "binance": {"symbol", "market", "tick_size", "lot_size"},
    "bitstamp": {"symbol", "venue", "tick_size", "lot_size", "snapshots"},
    "parquet": set(),
    "csv": {"symbol", "venue", "tick_size", "lot_size"},
}


def _feeds(args: argparse.Namespace) -> list[tuple[FeedHandler, list[Path]]]:
    """Build the feed handler(s) for the files: (feed, its source files) per import."""
    fmt = args.format
    files: list[Path] = args.files
    given = {n for opts in _OPTIONS.values() for n in opts if getattr(args, n) is not None}
    wrong = sorted(given - _OPTIONS[fmt])
    if wrong:
        extra = " (a canonical Parquet file carries its instrument)" if fmt == "parquet" else ""
        raise ConfigError(
            f"{', '.join('--' + n.replace('_', '-') for n in wrong)} not used by the {fmt} format{extra}"
        )
    if fmt == "lobster":
        if len(files) % 2:
            raise ConfigError(
                f"lobster needs pairs of files (MESSAGE ORDERBOOK ...), got {len(files)} file(s)"
            )
        mod = _module("lobster", fmt)
        kw = _given(args, "symbol", "venue", "tick_size", "lot_size", "date", "tz")
        pairs = [files[i : i + 2] for i in range(0, len(files), 2)]
        return [(mod.LobsterFeed(m, b, **kw), [m, b]) for m, b in pairs]
    if fmt == "binance":
        mod = _module("binance", fmt)
        kw = _given(args, "symbol", "market", "tick_size", "lot_size")
        return [(mod.BinanceFeed(files, **kw), list(files))]
    if fmt == "bitstamp":
        mod = _module("bitstamp", fmt)
        kw = _given(args, "symbol", "venue", "tick_size", "lot_size", "snapshots")
        return [(mod.BitstampFeed(f, **kw), [f]) for f in files]
    mod = _module("canonical", fmt)
    if fmt == "parquet":
        return [(mod.CanonicalParquetFeed(f), [f]) for f in files]
    missing = [
        f"--{n.replace('_', '-')}"
        for n in ("symbol", "venue", "tick_size", "lot_size")
        if getattr(args, n) is None
    ]
    if missing:
        raise ConfigError(
            f"csv import needs the instrument: {', '.join(missing)} missing "
            "(a canonical CSV file does not carry it)"
        )
    inst = Instrument(symbol=args.symbol, venue=args.venue, tick_size=args.tick_size, lot_size=args.lot_size)
    return [(mod.CanonicalCsvFeed(f, inst), [f]) for f in files]


def _import(args: argparse.Namespace) -> int:
    repo = Repository(args.root)
    for feed, sources in _feeds(args):
        name = ", ".join(p.name for p in sources)
        with progress_bar(f"importing {name}", total=None) as advance:
            progress: Callable[[int], None] = advance
            result = repo.import_feed(feed, sources=sources, progress=progress)
        print(result.summary())
    return 0


def format_table(entries: list[CatalogEntry]) -> str:
    """The catalog as an aligned text table: venue, symbol, date, rows, span, sha256 prefix."""
    header = ("VENUE", "SYMBOL", "DATE", "ROWS", "SPAN (UTC)", "SHA256")
    rows = [(e.venue, e.symbol, str(e.date), str(e.rows), e.span(), e.sha256[:12]) for e in entries]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    right = {3}  # numbers align right

    def line(r: tuple[str, ...]) -> str:
        return "  ".join(
            r[i].rjust(widths[i]) if i in right else r[i].ljust(widths[i]) for i in range(len(r))
        ).rstrip()

    return "\n".join(line(r) for r in [header, *rows])


def _list(args: argparse.Namespace) -> int:
    repo = Repository(args.root)
    entries = repo.list(symbol=args.symbol, venue=args.venue)
    if not entries:
        print(f"no data in {repo.root}")
        return 0
    print(format_table(entries))
    return 0


def _show(args: argparse.Namespace) -> int:
    print(Repository(args.root).show(args.symbol, venue=args.venue, date=args.date).format())
    return 0


def _verify(args: argparse.Namespace) -> int:
    report = Repository(args.root).verify()
    for p in report.problems:
        print(p)
    print(f"parts={report.checked} problems={len(report.problems)}")
    return 0 if report.ok else 1
