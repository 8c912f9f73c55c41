"""Binance raw market-data captures (the hftbacktest collector format) as canonical events.

Each line is ``<local_ts_ns> <raw JSON>``: a combined-stream message (``{"stream": ..., "data":
...}``) of the depth-diff, trade and bookTicker streams, or a REST depth snapshot
(``{"lastUpdateId": ..., "bids": ..., "asks": ...}``). Files may be gzip (detected from their
first bytes) or plain text; several files are read in order as one continuous stream. Spot,
USDⓈ-M and COIN-M futures are supported. ``docs/data-binance.md`` describes the mapping in full;
in short:

* the REST snapshot → ``CLEAR`` (both sides) + one ``SET_LEVEL`` per level, all flagged
  ``F_SNAPSHOT``, ``F_LAST`` on the last one; ``order_id`` = ``lastUpdateId``;
* each applied depth diff → one ``SET_LEVEL`` per level (bids then asks; absolute quantity, 0
  removes), ``F_LAST`` on the last one, ``order_id`` = the diff's final update id ``u``;
* a trade → ``TRADE``; ``side`` is the aggressor (``m`` true: the buyer was the maker, so the
  aggressor sold, side −1); ``order_id`` = the trade id;
* a bookTicker is no book event: it is counted in ``report.book_tickers`` and, through
  :meth:`BinanceFeed.chunks` / :meth:`BinanceFeed.book_tickers`, kept for verification.

Bridging (Binance's rule): diffs that arrive before the snapshot line are buffered (at most
``max_buffered_diffs``); after the snapshot, diffs with ``u <= lastUpdateId`` (spot) /
``u < lastUpdateId`` (futures) are skipped as ``"diff older than snapshot"``; the first applied
diff must satisfy ``U <= lastUpdateId + 1 <= u`` (spot) / ``U <= lastUpdateId <= u``
(futures); every later one ``U == previous u + 1`` (spot) / ``pu == previous u`` (futures).
A violation is a gap: :class:`~execsim.core.errors.SequenceGapError` by default, or with
``on_gap="resync"`` a ``CLEAR`` followed by a wait for the next snapshot.

Time: ``ts_event`` is the exchange time (``E`` of diffs and of the futures snapshot, ``T`` of
trades), ``ts_recv`` the collector's local time. The capture interleaves streams in arrival
order, so exchange times of *different* streams go backwards now and then (up to ~170 ms in
the shared captures); within one stream a backwards exchange time is an error. By default
(``ts_order="clamp"``) events keep file order and ``ts_event`` is raised to the latest one
emitted, so it never decreases (as :class:`~execsim.data.validation.EventValidator` requires);
each raise is counted in ``report.ts_event_raised``. ``ts_order="raw"`` keeps exchange times.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Final, Literal

import numpy as np

from execsim.core.errors import (
    CrossedBookError,
    DataError,
    DataNotFoundError,
    InstrumentError,
    ParseError,
    SequenceGapError,
    TimeOrderError,
)
from execsim.core.timeutil import NS_PER_MS
from execsim.data.feeds.base import DEFAULT_BATCH, FeedReport
from execsim.data.schema import (
    EVENT_DTYPE,
    F_LAST,
    F_SNAPSHOT,
    K_CLEAR,
    K_SET_LEVEL,
    K_TRADE,
)
from execsim.model.enums import EventKind
from execsim.model.instrument import Instrument

__all__ = [
    "BOOK_TICKER_DTYPE",
    "UPDATE_DTYPE",
    "U_DIFF",
    "U_RESET",
    "U_SNAPSHOT",
    "BinanceChunk",
    "BinanceFeed",
    "BinanceFeedReport",
    "BinanceMarket",
]


class BinanceMarket(StrEnum):
    """Which Binance market a capture comes from (it decides the bridging rule)."""

    SPOT = "spot"
    USDM = "usdm"
    COINM = "coinm"

    @property
    def is_futures(self) -> bool:
        """Futures diffs chain with ``pu``; spot diffs with ``U == previous u + 1``."""
        return self is not BinanceMarket.SPOT

    @property
    def venue(self) -> str:
        """Venue name used in the :class:`~execsim.model.Instrument`."""
        return {"spot": "BINANCE_SPOT", "usdm": "BINANCE_USDM", "coinm": "BINANCE_COINM"}[self.value]


BOOK_TICKER_DTYPE: Final = np.dtype(
    [
        ("ts_event", np.int64),  # futures: E; spot has no time (see _Run.on_ticker)
        ("ts_recv", np.int64),  # collector local time
        ("update_id", np.int64),  # u: the order-book update id of the state shown
        ("bid_px", np.int64),  # ticks
        ("bid_qty", np.int64),  # lots
        ("ask_px", np.int64),
        ("ask_qty", np.int64),
        ("file", np.int32),  # index into BinanceFeed.paths
        ("line", np.int64),  # 1-based line in that file
    ]
)
"""A bookTicker record (best bid and offer as published by Binance), in ticks and lots."""

U_SNAPSHOT: Final = 0
U_DIFF: Final = 1
U_RESET: Final = 2

UPDATE_DTYPE: Final = np.dtype(
    [
        ("kind", np.int8),  # U_SNAPSHOT, U_DIFF, or U_RESET (book cleared after a gap)
        ("first_id", np.int64),  # U of a diff; lastUpdateId of a snapshot
        ("last_id", np.int64),  # u of a diff; lastUpdateId of a snapshot; last good u for a reset
        ("seq_last", np.int64),  # seq of the update's last event (-1: a diff with no level)
        ("file", np.int32),
        ("line", np.int64),
    ]
)
"""One book update applied by the feed: what :func:`verify_binance` aligns bookTickers with."""

# skip reasons (FeedReport.skipped keys)
SKIP_OLD_DIFF: Final = "diff older than snapshot"
SKIP_SNAPSHOT_IN_SYNC: Final = "snapshot while the book is in sync"
SKIP_BLANK: Final = "blank line"
SKIP_AWAITING: Final = "diff awaiting a snapshot at end of input (after a gap)"
SKIP_DROPPED_WAITING: Final = "diff dropped while awaiting a snapshot (buffer full, after a gap)"

OnGap = Literal["raise", "resync"]
TsOrder = Literal["clamp", "raw"]

_COINM_SYMBOL = re.compile(r"[A-Z0-9]+USD_(PERP|\d{6})")
_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "BTC", "ETH", "BNB", "EUR", "TRY", "USD")
_CHANNELS = {"depthUpdate": "depth", "trade": "trade", "aggTrade": "aggTrade", "bookTicker": "bookTicker"}


@dataclass(slots=True)
class BinanceFeedReport(FeedReport):
    """:class:`FeedReport` plus what a Binance capture holds besides book events.

    Attributes
    ----------
    book_tickers
        bookTicker records read (not book events; kept for verification).
    snapshots
        REST snapshots applied.
    diffs_applied
        Depth diffs applied to the book.
    diffs_buffered
        Most diffs held at once while waiting for a snapshot.
    gaps
        Sequence gaps resynchronised (``on_gap="resync"``).
    ts_event_raised
        Events whose exchange time was raised to keep ``ts_event`` non-decreasing across
        streams (``ts_order="clamp"``); ``ts_event_raised_max_ns`` is the largest raise.
    """

    book_tickers: int = 0
    snapshots: int = 0
    diffs_applied: int = 0
    diffs_buffered: int = 0
    gaps: int = 0
    ts_event_raised: int = 0
    ts_event_raised_max_ns: int = 0

    def summary(self) -> str:
        """One line: rows, events, skips, then the Binance-specific counts."""
        return (
            f"{FeedReport.summary(self)}; book_tickers={self.book_tickers} "
            f"snapshots={self.snapshots} diffs_applied={self.diffs_applied} "
            f"diffs_buffered={self.diffs_buffered} gaps={self.gaps} "
            f"ts_event_raised={self.ts_event_raised} "
            f"(max {self.ts_event_raised_max_ns / NS_PER_MS:g} ms)"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BinanceChunk:
    """A slice of the stream, cut at record boundaries.

    Attributes
    ----------
    events
        Canonical events (``EVENT_DTYPE``), in stream order.
    book_tickers
        bookTicker records read in the same lines (``BOOK_TICKER_DTYPE``).
    updates
        The snapshots, diffs and resets those events carry (``UPDATE_DTYPE``), in order.
    """

    events: np.ndarray
    book_tickers: np.ndarray
    updates: np.ndarray


# -- reading ------------------------------------------------------------------------------


class _Source:
    """Lines of one file, gzip or plain, with the compressed bytes consumed so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 (closed by close())
        magic = self.raw.read(2)
        self.raw.seek(0)
        self.stream: IO[bytes] = (
            gzip.GzipFile(fileobj=self.raw) if magic == b"\x1f\x8b" else self.raw  # type: ignore[assignment]
        )

    def lines(self) -> Iterator[tuple[int, bytes]]:
        row = 0
        try:
            for row, line in enumerate(self.stream, start=1):
                yield row, line
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(f"cannot read the file: {err}", source=str(self.path), row=row + 1) from None

    def position(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


def _read_all(paths: Sequence[Path]) -> Iterator[tuple[int, int, bytes, _Source]]:
    """(file index, 1-based line, line bytes, source) over all files in order."""
    for fi, path in enumerate(paths):
        src = _Source(path)
        try:
            for row, line in src.lines():
                yield fi, row, line, src
        finally:
            src.close()


def _split(line: bytes, source: str, row: int) -> tuple[int, Any] | None:
    """Parse ``<local_ts_ns> <JSON>``; None for a blank line."""
    sp = line.find(b" ")
    if sp <= 0:
        if not line.strip():
            return None
        raise ParseError("expected '<local_ts_ns> <JSON>'", source=source, row=row, value=_clip(line))
    try:
        local = int(line[:sp])
    except ValueError:
        raise ParseError(
            "local timestamp is not an integer of nanoseconds", source=source, row=row, value=_clip(line[:sp])
        ) from None
    try:
        obj = json.loads(line[sp + 1 :])
    except ValueError as err:
        raise ParseError(f"bad JSON: {err}", source=source, row=row, value=_clip(line[sp + 1 :])) from None
    if not isinstance(obj, dict):
        raise ParseError("JSON payload is not an object", source=source, row=row, value=_clip(line[sp + 1 :]))
    return local, obj


def _clip(b: bytes) -> str:
    s = b.decode("utf-8", "replace").rstrip("\r\n")
    return s if len(s) <= 100 else s[:100] + "…"


def _classify(obj: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    """Return (channel, symbol or None, data) of a record.

    Channels: ``snapshot``, ``depth``, ``trade``, ``aggTrade``, ``bookTicker``, or another
    stream's name (unsupported), or ``""`` for an unrecognised record.
    """
    if "stream" in obj and "data" in obj:
        sym, _, rest = str(obj["stream"]).partition("@")
        chan = rest.split("@", 1)[0]
        data = obj["data"]
        if not isinstance(data, dict):
            return "", None, obj
        return chan, sym.upper(), data
    if "lastUpdateId" in obj:
        s = obj.get("symbol")
        return "snapshot", str(s).upper() if s else None, obj
    if "e" in obj:
        chan = _CHANNELS.get(str(obj["e"]), str(obj["e"]))
        s = obj.get("s")
        return chan, str(s).upper() if s else None, obj
    if {"u", "s", "b", "B", "a", "A"} <= obj.keys():  # a spot bookTicker outside a combined stream
        return "bookTicker", str(obj["s"]).upper(), obj
    return "", None, obj


# -- exact decimal → integer units ---------------------------------------------------------


def _decimals(text: str) -> tuple[int, int]:
    """(printed decimals, decimals actually used) of a decimal string."""
    i = text.find(".")
    if i < 0:
        return 0, 0
    frac = text[i + 1 :]
    return len(frac), len(frac.rstrip("0"))


class _OffGridError(Exception):
    pass


def _converter(unit: Decimal) -> Callable[[str], int]:
    """Return ``f(text) -> int`` converting a decimal string to a whole number of ``unit``.

    Exact integer arithmetic on the digits (never float); raises :class:`_OffGridError` when
    the value is not a multiple of ``unit`` and ``ValueError`` when the text is not a number.
    """
    exp = unit.normalize().as_tuple().exponent
    assert isinstance(exp, int)
    k = max(0, -exp)
    m = int(unit * (10**k))  # unit = m × 10^-k, m a positive integer
    pow10 = [10**j for j in range(k + 1)]
    full = pow10[k]

    def convert(text: str) -> int:
        if "_" in text:
            raise ValueError(text)
        i = text.find(".")
        if i < 0:
            v = int(text) * full
        else:
            d = len(text) - i - 1
            if d <= k:
                v = int(text[:i] + text[i + 1 :]) * pow10[k - d]
            else:
                if text[i + 1 + k :].strip("0"):
                    raise _OffGridError(text)
                v = int(text[:i] + text[i + 1 : i + 1 + k])
        if m != 1:
            v, r = divmod(v, m)
            if r:
                raise _OffGridError(text)
        return v

    return convert


# -- the feed -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Probe:
    symbols: list[str] = field(default_factory=list)
    market: BinanceMarket | None = None
    snapshot: dict[str, Any] | None = None
    snapshot_where: tuple[str, int] = ("", 0)


class BinanceFeed:
    """Stream a Binance raw capture (depth diffs, trades, bookTickers, a REST snapshot).

    Parameters
    ----------
    paths
        The capture files, read in this order as one stream (e.g. the ``_20240808`` file, which
        holds the snapshot, then ``_20240809``). A single path is accepted too.
    symbol
        The symbol to read (e.g. ``"BTCUSDT"``); by default the one symbol named by the stream
        names. Records of other symbols are skipped and counted when it is given.
    market
        ``"spot"``, ``"usdm"`` or ``"coinm"``; by default detected from the records (futures
        diffs carry ``pu``; COIN-M diffs carry ``ps`` and symbols like ``BTCUSD_PERP``).
    tick_size, lot_size
        Price and quantity increments as decimal strings. By default the tick is the finest
        decimal the snapshot's prices use (``0.01`` for spot BTCUSDT, ``0.1`` for USDⓈ-M) and
        the lot the precision the snapshot's quantities are printed with (``0.00000001`` spot,
        ``0.001`` USDⓈ-M, ``1`` contract COIN-M; ``0.00000001`` when the snapshot is empty). A
        later value off the grid raises :class:`~execsim.core.errors.InstrumentError`.
    on_gap
        ``"raise"`` (default): a sequence gap raises :class:`SequenceGapError`. ``"resync"``:
        emit a ``CLEAR`` and wait for the next snapshot (diffs meanwhile are buffered, the
        oldest dropped and counted when the buffer is full).
    max_buffered_diffs
        How many diffs may wait for a snapshot; more before the first snapshot is an error.
    ts_order
        ``"clamp"`` (default): ``ts_event`` never decreases (see the module docstring);
        ``"raw"``: exchange times as published.

    Attributes
    ----------
    paths
        The files.
    instrument
        The instrument (symbol, ``BINANCE_<MARKET>`` venue, tick and lot).
    market
        The :class:`BinanceMarket`.
    report
        A :class:`BinanceFeedReport`, complete once an iteration is exhausted.

    Examples
    --------
    >>> feed = BinanceFeed(["btcusdt_20240808.gz", "btcusdt_20240809.gz"])  # doctest: +SKIP
    >>> events = np.concatenate(list(feed.batches()))                       # doctest: +SKIP
    >>> feed.instrument.tick_size, feed.report.summary()                    # doctest: +SKIP
    """

    def __init__(
        self,
        paths: Sequence[str | Path] | str | Path,
        *,
        symbol: str | None = None,
        market: str | None = None,
        tick_size: str | None = None,
        lot_size: str | None = None,
        on_gap: OnGap = "raise",
        max_buffered_diffs: int = 10_000,
        ts_order: TsOrder = "clamp",
    ) -> None:
        if isinstance(paths, str | Path):
            paths = [paths]
        self.paths: tuple[Path, ...] = tuple(Path(p) for p in paths)
        if not self.paths:
            raise DataNotFoundError("no Binance capture file given")
        for p in self.paths:
            if not p.is_file():
                raise DataNotFoundError(f"{p}: no such Binance capture file")
        if on_gap not in ("raise", "resync"):
            raise ValueError(f"on_gap must be 'raise' or 'resync', got {on_gap!r}")
        if ts_order not in ("clamp", "raw"):
            raise ValueError(f"ts_order must be 'clamp' or 'raw', got {ts_order!r}")
        if int(max_buffered_diffs) < 1:
            raise ValueError(f"max_buffered_diffs must be >= 1, got {max_buffered_diffs!r}")
        self.on_gap: OnGap = on_gap
        self.ts_order: TsOrder = ts_order
        self.max_buffered_diffs = int(max_buffered_diffs)
        self._symbol_given = symbol.upper() if symbol else None
        if market is not None:
            try:
                self._market_given: BinanceMarket | None = BinanceMarket(market.lower())
            except ValueError:
                raise ValueError(
                    f"market must be one of {[m.value for m in BinanceMarket]}, got {market!r}"
                ) from None
        else:
            self._market_given = None
        self.symbol, self.market, self.instrument = self._probe(tick_size, lot_size)
        self.report = BinanceFeedReport(source=self.source)

    @property
    def source(self) -> str:
        """The files, as one string for messages and reports."""
        return ", ".join(str(p) for p in self.paths)

    # -- probing: symbol, market, tick and lot from the head of the capture ---------------
    def _probe(self, tick_size: str | None, lot_size: str | None) -> tuple[str, BinanceMarket, Instrument]:
        pr = _Probe()
        seen: set[str] = set()
        n_diffs = 0
        after_snapshot = 0
        for fi, row, line, _src in _read_all(self.paths):
            src = str(self.paths[fi])
            parsed = _split(line, src, row)
            if parsed is None:
                continue
            _local, obj = parsed
            chan, sym, data = _classify(obj)
            wanted = self._symbol_given is None or sym == self._symbol_given
            if sym and chan != "snapshot":
                seen.add(sym)
                if wanted and sym not in pr.symbols:
                    pr.symbols.append(sym)
            if chan == "snapshot" and pr.snapshot is None:
                if self._symbol_given is None or sym in (None, self._symbol_given):
                    pr.snapshot = data
                    pr.snapshot_where = (src, row)
            elif chan == "depth" and (self._symbol_given is None or sym == self._symbol_given):
                n_diffs += 1
                if pr.market is None:
                    pr.market = self._detect_market(data, sym)
                if pr.snapshot is None and n_diffs > self.max_buffered_diffs:
                    raise DataError(
                        f"no REST depth snapshot (a line with 'lastUpdateId') within the first "
                        f"{self.max_buffered_diffs} depth diffs; the book cannot be rebuilt without one",
                        source=src,
                        row=row,
                    )
            if pr.snapshot is not None:
                after_snapshot += 1
                if (pr.market is not None and pr.symbols) or after_snapshot > 10_000:
                    break
        if pr.snapshot is None:
            raise DataError(
                "no REST depth snapshot (a line with 'lastUpdateId', 'bids', 'asks') in the capture; "
                "the book cannot be rebuilt without one (a capture that continues an earlier file "
                "needs that file first, in order)",
                source=self.source,
            )
        if self._symbol_given and not pr.symbols and seen:
            raise DataError(
                f"no stream of symbol {self._symbol_given} near the snapshot "
                f"(the capture has {', '.join(sorted(seen))})",
                source=self.source,
            )
        if self._symbol_given:
            symbol = self._symbol_given
        elif len(pr.symbols) == 1:
            symbol = pr.symbols[0]
        elif not pr.symbols:
            snap_sym = pr.snapshot.get("symbol")
            if not snap_sym:
                raise DataError("cannot tell the symbol (no stream names); pass symbol=", source=self.source)
            symbol = str(snap_sym).upper()
        else:
            raise DataError(
                f"the capture holds several symbols ({', '.join(pr.symbols)}); pass symbol= "
                "(--symbol) to read one",
                source=self.source,
            )
        if self._market_given is not None:
            market = self._market_given
        elif pr.market is not None:
            market = pr.market
        elif "E" in pr.snapshot or "T" in pr.snapshot:  # only futures snapshots carry times
            market = BinanceMarket.COINM if _COINM_SYMBOL.fullmatch(symbol) else BinanceMarket.USDM
        else:
            market = BinanceMarket.SPOT
        tick, lot = self._infer_units(pr.snapshot, pr.snapshot_where)
        try:
            inst = Instrument(
                symbol=symbol,
                venue=market.venue,
                tick_size=tick_size if tick_size is not None else tick,
                lot_size=lot_size if lot_size is not None else lot,
                currency=_quote_currency(symbol, market),
            )
        except InstrumentError as err:
            raise InstrumentError(f"{self.source}: {err}") from None
        return symbol, market, inst

    @staticmethod
    def _detect_market(data: dict[str, Any], sym: str | None) -> BinanceMarket:
        if "pu" in data or "T" in data:
            if "ps" in data or (sym and _COINM_SYMBOL.fullmatch(sym)):
                return BinanceMarket.COINM
            return BinanceMarket.USDM
        return BinanceMarket.SPOT

    @staticmethod
    def _infer_units(snap: dict[str, Any], where: tuple[str, int]) -> tuple[str, str]:
        used = 0
        printed = -1
        for key in ("bids", "asks"):
            levels = snap.get(key)
            if not isinstance(levels, list):
                raise ParseError(f"snapshot has no {key!r} list", source=where[0], row=where[1])
            for lvl in levels:
                if not (isinstance(lvl, list) and len(lvl) >= 2):
                    raise ParseError(
                        f"bad snapshot level in {key!r}", source=where[0], row=where[1], value=lvl
                    )
                used = max(used, _decimals(str(lvl[0]))[1])
                printed = max(printed, _decimals(str(lvl[1]))[0])
        tick = "1" if used == 0 else "0." + "0" * (used - 1) + "1"
        lot = "0.00000001" if printed < 0 else ("1" if printed == 0 else "0." + "0" * (printed - 1) + "1")
        return tick, lot

    # -- iteration ------------------------------------------------------------------------
    def chunks(
        self,
        batch_size: int = DEFAULT_BATCH,
        *,
        book_tickers: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[BinanceChunk]:
        """Yield the stream as :class:`BinanceChunk` slices cut at record boundaries.

        A chunk holds roughly ``batch_size`` events or bookTickers (a snapshot's levels are
        never split, so it may hold more). ``progress(n)`` is called with the bytes of input
        (compressed, as on disk) consumed since its previous call.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        run = _Run(self, collect_tickers=book_tickers)
        self.report = run.report
        last_pos = 0
        cur_src: _Source | None = None
        for fi, row, line, src in _read_all(self.paths):
            if src is not cur_src:
                if cur_src is not None and progress is not None:
                    progress(cur_src.path.stat().st_size - last_pos)
                cur_src = src
                last_pos = 0
            run.feed(fi, row, line)
            if run.n_pending >= batch_size or run.n_tickers >= batch_size:
                if progress is not None:
                    pos = src.position()
                    progress(pos - last_pos)
                    last_pos = pos
                yield run.drain()
        run.finish()
        if progress is not None and cur_src is not None:
            progress(cur_src.path.stat().st_size - last_pos)
        yield run.drain()

    def batches(self, batch_size: int = DEFAULT_BATCH) -> Iterator[np.ndarray]:
        """Yield canonical event batches of at most ``batch_size`` records, in stream order."""
        pending: list[np.ndarray] = []
        n = 0
        for chunk in self.chunks(batch_size, book_tickers=False):
            if chunk.events.shape[0]:
                pending.append(chunk.events)
                n += chunk.events.shape[0]
            while n >= batch_size:
                allev = np.concatenate(pending) if len(pending) > 1 else pending[0]
                yield allev[:batch_size]
                rest = allev[batch_size:]
                pending = [rest] if rest.shape[0] else []
                n = rest.shape[0]
        if n:
            yield np.concatenate(pending) if len(pending) > 1 else pending[0]

    def book_tickers(self, batch_size: int = DEFAULT_BATCH) -> Iterator[np.ndarray]:
        """Yield the bookTicker records (``BOOK_TICKER_DTYPE``) in file order.

        This reads the whole capture (book events are built too, so gaps still raise); use
        :meth:`chunks` to get both in one pass.
        """
        for chunk in self.chunks(batch_size):
            if chunk.book_tickers.shape[0]:
                yield chunk.book_tickers


def _quote_currency(symbol: str, market: BinanceMarket) -> str:
    if market is BinanceMarket.COINM:
        return "USD"
    pair = symbol.split("_", 1)[0]
    for q in _QUOTES:
        if pair.endswith(q) and len(pair) > len(q):
            return q
    return "UNKNOWN"


# states of the book synchronisation
_WAIT, _BRIDGE, _SYNCED = range(3)


class _Run:
    """One pass over the capture: the bridging state machine and the event columns."""

    def __init__(self, feed: BinanceFeed, *, collect_tickers: bool) -> None:
        self.owner = feed
        self.paths = [str(p) for p in feed.paths]
        self.symbol = feed.symbol
        self.filter_symbols = feed._symbol_given is not None
        self.futures = feed.market.is_futures
        self.market = feed.market
        self.collect_tickers = collect_tickers
        self.report = BinanceFeedReport(source=feed.source)
        inst = feed.instrument
        self.tick = inst.tick_size
        self.lot = inst.lot_size
        self.px = _converter(inst.tick_size)
        self.qt = _converter(inst.lot_size)
        self.clamp = feed.ts_order == "clamp"
        # emitted event columns (seq is assigned at drain)
        self.c_ts: list[int] = []
        self.c_recv: list[int] = []
        self.c_kind: list[int] = []
        self.c_side: list[int] = []
        self.c_px: list[int] = []
        self.c_qty: list[int] = []
        self.c_oid: list[int] = []
        self.c_flags: list[int] = []
        self.seq = 0  # seq of the next event
        self.tickers: list[tuple[int, ...]] = []
        self.updates: list[tuple[int, ...]] = []
        # state
        self.state = _WAIT
        self.snapshot_id = -1
        self.prev_u = -1
        self.buffer: deque[tuple[int, int, int, dict[str, Any]]] = deque()
        self.last_local = -1
        self.last_ts = -(1 << 62)  # last emitted ts_event
        self.max_exch = -1  # latest exchange time seen, any stream (ns)
        self.last_stream_ts: dict[str, int] = {}
        self.last_where = ("", 0)

    @property
    def n_pending(self) -> int:
        return len(self.c_ts)

    @property
    def n_tickers(self) -> int:
        return len(self.tickers)

    # -- helpers --------------------------------------------------------------------------
    def _ts(self, t: int, n: int = 1) -> int:
        """``ts_event`` for ``n`` events of exchange time ``t`` (raised when clamping)."""
        if n == 0:
            return t
        if t >= self.last_ts:
            self.last_ts = t
            return t
        if not self.clamp:
            return t
        rep = self.report
        rep.ts_event_raised += n
        rep.ts_event_raised_max_ns = max(rep.ts_event_raised_max_ns, self.last_ts - t)
        return self.last_ts

    def _stream_time(self, stream: str, ms: Any, fi: int, row: int, what: str) -> int:
        if type(ms) is not int:
            raise ParseError(
                f"{what} is not an integer of milliseconds", source=self.paths[fi], row=row, value=ms
            )
        t = ms * NS_PER_MS
        prev = self.last_stream_ts.get(stream)
        if prev is not None and t < prev:
            raise TimeOrderError(
                f"{stream} exchange time {what} goes backwards from {prev // NS_PER_MS} ms",
                source=self.paths[fi],
                row=row,
                value=ms,
            )
        self.last_stream_ts[stream] = t
        if t > self.max_exch:
            self.max_exch = t
        return t

    def _field(self, data: dict[str, Any], key: str, fi: int, row: int) -> Any:
        try:
            return data[key]
        except KeyError:
            raise ParseError(
                f"missing field {key!r}", source=self.paths[fi], row=row, value=sorted(data)
            ) from None

    def _int_field(self, data: dict[str, Any], key: str, fi: int, row: int) -> int:
        v = self._field(data, key, fi, row)
        if type(v) is not int:
            raise ParseError(f"field {key!r} is not an integer", source=self.paths[fi], row=row, value=v)
        return v

    def _price(self, text: Any, fi: int, row: int) -> int:
        try:
            return self.px(text)
        except _OffGridError:
            raise InstrumentError(
                f"{self.paths[fi]}, row {row}: price {text!r} is not a multiple of the tick size "
                f"{self.tick}; pass the instrument's tick size with --tick-size (tick_size=)"
            ) from None
        except (ValueError, TypeError, AttributeError):
            raise ParseError(
                "price is not a decimal string", source=self.paths[fi], row=row, value=text
            ) from None

    def _qty(self, text: Any, fi: int, row: int) -> int:
        try:
            q = self.qt(text)
        except _OffGridError:
            raise InstrumentError(
                f"{self.paths[fi]}, row {row}: quantity {text!r} is not a multiple of the lot size "
                f"{self.lot}; pass the instrument's lot size with --lot-size (lot_size=)"
            ) from None
        except (ValueError, TypeError, AttributeError):
            raise ParseError(
                "quantity is not a decimal string", source=self.paths[fi], row=row, value=text
            ) from None
        if q < 0:
            raise ParseError("negative quantity", source=self.paths[fi], row=row, value=text)
        return q

    def _levels(self, levels: Any, key: str, fi: int, row: int) -> tuple[list[int], list[int]]:
        if not isinstance(levels, list):
            raise ParseError(f"{key!r} is not a list of levels", source=self.paths[fi], row=row, value=levels)
        px = self.px
        qt = self.qt
        try:
            prices = [px(lv[0]) for lv in levels]
            qtys = [qt(lv[1]) for lv in levels]
        except (_OffGridError, ValueError, TypeError, AttributeError, IndexError, KeyError):
            # slow path: find the culprit and raise a precise error
            for lv in levels:
                if not (isinstance(lv, list) and len(lv) >= 2):
                    raise ParseError(
                        f"bad level in {key!r}", source=self.paths[fi], row=row, value=lv
                    ) from None
                self._price(lv[0], fi, row)
                self._qty(lv[1], fi, row)
            raise  # pragma: no cover (the loop above always finds it)
        if qtys and min(qtys) < 0:
            raise ParseError(f"negative quantity in {key!r}", source=self.paths[fi], row=row, value=min(qtys))
        return prices, qtys

    def _emit_levels(
        self,
        ts: int,
        recv: int,
        bids: tuple[list[int], list[int]],
        asks: tuple[list[int], list[int]],
        oid: int,
        flags: int,
    ) -> int:
        """Append SET_LEVELs (bids then asks), F_LAST on the last; return its seq or -1."""
        n = len(bids[0]) + len(asks[0])
        if n == 0:
            return -1
        self.c_ts.extend([ts] * n)
        self.c_recv.extend([recv] * n)
        self.c_kind.extend([K_SET_LEVEL] * n)
        self.c_side.extend([1] * len(bids[0]))
        self.c_side.extend([-1] * len(asks[0]))
        self.c_px.extend(bids[0])
        self.c_px.extend(asks[0])
        self.c_qty.extend(bids[1])
        self.c_qty.extend(asks[1])
        self.c_oid.extend([oid] * n)
        self.c_flags.extend([flags] * (n - 1))
        self.c_flags.append(flags | F_LAST)
        self.seq += n
        self.report.events_emitted[EventKind.SET_LEVEL.value] += n
        return self.seq - 1

    def _emit_one(
        self, ts: int, recv: int, kind: int, side: int, price: int, qty: int, oid: int, flags: int
    ) -> int:
        self.c_ts.append(ts)
        self.c_recv.append(recv)
        self.c_kind.append(kind)
        self.c_side.append(side)
        self.c_px.append(price)
        self.c_qty.append(qty)
        self.c_oid.append(oid)
        self.c_flags.append(flags)
        self.seq += 1
        return self.seq - 1

    # -- records --------------------------------------------------------------------------
    def feed(self, fi: int, row: int, line: bytes) -> None:
        rep = self.report
        rep.rows_read += 1
        src = self.paths[fi]
        parsed = _split(line, src, row)
        if parsed is None:
            rep.skipped[SKIP_BLANK] += 1
            return
        local, obj = parsed
        if local < self.last_local:
            raise TimeOrderError(
                f"local time goes backwards from {self.last_local} (files out of order?)",
                source=src,
                row=row,
                value=local,
            )
        self.last_local = local
        self.last_where = (src, row)
        chan, sym, data = _classify(obj)
        if sym is not None and sym != self.symbol:
            if self.filter_symbols:
                rep.skipped[f"other symbol {sym}"] += 1
                return
            raise DataError(
                f"the capture holds more than one symbol ({self.symbol}, {sym}); pass symbol= "
                "(--symbol) to read one",
                source=src,
                row=row,
            )
        if chan == "depth":
            self.on_diff(fi, row, local, data)
        elif chan == "bookTicker":
            self.on_ticker(fi, row, local, data)
        elif chan in ("trade", "aggTrade"):
            self.on_trade(fi, row, local, data, chan)
        elif chan == "snapshot":
            self.on_snapshot(fi, row, local, data)
        elif chan:
            rep.skipped[f"unsupported stream {chan}"] += 1
        else:
            rep.skipped["unrecognised record"] += 1

    def on_trade(self, fi: int, row: int, local: int, data: dict[str, Any], chan: str) -> None:
        x = data.get("X")
        if x is not None and x != "MARKET":
            # insurance-fund / ADL prints are not order-book trades
            self.report.skipped[f"trade X={x}"] += 1
            return
        t = self._stream_time(chan, self._field(data, "T", fi, row), fi, row, "T")
        price = self._price(self._field(data, "p", fi, row), fi, row)
        qty = self._qty(self._field(data, "q", fi, row), fi, row)
        if qty == 0:
            raise ParseError("trade with zero quantity", source=self.paths[fi], row=row, value=data.get("q"))
        m = self._field(data, "m", fi, row)
        if type(m) is not bool:
            raise ParseError("field 'm' is not a boolean", source=self.paths[fi], row=row, value=m)
        tid = self._int_field(data, "t" if chan == "trade" else "a", fi, row)
        self._emit_one(self._ts(t), local, K_TRADE, -1 if m else 1, price, qty, tid, F_LAST)
        self.report.events_emitted[EventKind.TRADE.value] += 1

    def on_ticker(self, fi: int, row: int, local: int, data: dict[str, Any]) -> None:
        self.report.book_tickers += 1
        if "E" in data:
            ts = self._stream_time("bookTicker", data["E"], fi, row, "E")
        else:
            # spot bookTickers carry no time: the latest exchange time seen on any stream
            ts = self.max_exch if self.max_exch >= 0 else local
        if not self.collect_tickers:
            return
        u = self._int_field(data, "u", fi, row)
        self.tickers.append(
            (
                ts,
                local,
                u,
                self._price(self._field(data, "b", fi, row), fi, row),
                self._qty(self._field(data, "B", fi, row), fi, row),
                self._price(self._field(data, "a", fi, row), fi, row),
                self._qty(self._field(data, "A", fi, row), fi, row),
                fi,
                row,
            )
        )

    def on_snapshot(self, fi: int, row: int, local: int, data: dict[str, Any]) -> None:
        if self.state != _WAIT:
            self.report.skipped[SKIP_SNAPSHOT_IN_SYNC] += 1
            return
        src = self.paths[fi]
        last_id = self._int_field(data, "lastUpdateId", fi, row)
        bids = self._levels(self._field(data, "bids", fi, row), "bids", fi, row)
        asks = self._levels(self._field(data, "asks", fi, row), "asks", fi, row)
        best_bid = max((p for p, q in zip(*bids, strict=True) if q > 0), default=None)
        best_ask = min((p for p, q in zip(*asks, strict=True) if q > 0), default=None)
        if best_bid is not None and best_ask is not None and best_bid >= best_ask:
            raise CrossedBookError(
                "REST snapshot is crossed (best bid >= best ask)",
                source=src,
                row=row,
                value=(
                    str(self.owner.instrument.ticks_to_price(best_bid)),
                    str(self.owner.instrument.ticks_to_price(best_ask)),
                ),
            )
        if "E" in data:
            t = self._stream_time("snapshot", data["E"], fi, row, "E")
        else:
            # a spot REST snapshot carries no time: the latest exchange time seen so far
            t = self.max_exch if self.max_exch >= 0 else local
        ts = self._ts(t, 1 + len(bids[0]) + len(asks[0]))
        self._emit_one(ts, local, K_CLEAR, 0, 0, 0, last_id, F_SNAPSHOT)
        self.report.events_emitted[EventKind.CLEAR.value] += 1
        seq_last = self._emit_levels(ts, local, bids, asks, last_id, F_SNAPSHOT)
        if seq_last < 0:  # an empty snapshot: the CLEAR closes it
            self.c_flags[-1] |= F_LAST
            seq_last = self.seq - 1
        self.updates.append((U_SNAPSHOT, last_id, last_id, seq_last, fi, row))
        self.report.snapshots += 1
        self.snapshot_id = last_id
        self.state = _BRIDGE
        buffered = self.buffer
        self.buffer = deque()
        for bfi, brow, _blocal, bdata in buffered:
            # a buffered diff becomes usable when the snapshot arrives
            self.apply_diff(bfi, brow, local, bdata)

    def on_diff(self, fi: int, row: int, local: int, data: dict[str, Any]) -> None:
        self._stream_time("depth", self._field(data, "E", fi, row), fi, row, "E")
        if self.state == _WAIT:
            self.buffer.append((fi, row, local, data))
            if len(self.buffer) > self.owner.max_buffered_diffs:
                if self.report.snapshots == 0:
                    raise DataError(
                        f"more than {self.owner.max_buffered_diffs} depth diffs before any REST snapshot",
                        source=self.paths[fi],
                        row=row,
                    )
                self.buffer.popleft()
                self.report.skipped[SKIP_DROPPED_WAITING] += 1
            self.report.diffs_buffered = max(self.report.diffs_buffered, len(self.buffer))
            return
        self.apply_diff(fi, row, local, data)

    def apply_diff(self, fi: int, row: int, recv: int, data: dict[str, Any]) -> None:
        first = self._int_field(data, "U", fi, row)
        last = self._int_field(data, "u", fi, row)
        if self.state == _WAIT:  # a gap earlier in the buffer sent us back to waiting
            self.buffer.append((fi, row, recv, data))
            return
        pu = None
        if self.futures:
            pu = self._int_field(data, "pu", fi, row)
        if self.state == _BRIDGE:
            snap = self.snapshot_id
            if last < snap or (not self.futures and last == snap):
                self.report.skipped[SKIP_OLD_DIFF] += 1
                return
            ok = first <= snap <= last if self.futures else first <= snap + 1 <= last
            if not ok:
                rule = "U <= lastUpdateId <= u" if self.futures else "U <= lastUpdateId+1 <= u"
                self.gap(
                    fi,
                    row,
                    recv,
                    data,
                    f"the first diff after the snapshot must satisfy {rule} "
                    f"(lastUpdateId={snap}); expected U <= {snap + (0 if self.futures else 1)}",
                    f"U={first}, u={last}",
                )
                return
        elif self.futures:
            if pu != self.prev_u:
                self.gap(
                    fi,
                    row,
                    recv,
                    data,
                    f"expected pu == previous u == {self.prev_u}",
                    f"pu={pu} (U={first}, u={last})",
                )
                return
        elif first != self.prev_u + 1:
            self.gap(
                fi,
                row,
                recv,
                data,
                f"expected U == previous u + 1 == {self.prev_u + 1}",
                f"U={first} (u={last})",
            )
            return
        bids = self._levels(self._field(data, "b", fi, row), "b", fi, row)
        asks = self._levels(self._field(data, "a", fi, row), "a", fi, row)
        ts = self._ts(data["E"] * NS_PER_MS, len(bids[0]) + len(asks[0]))  # E checked on arrival
        seq_last = self._emit_levels(ts, recv, bids, asks, last, 0)
        self.updates.append((U_DIFF, first, last, seq_last, fi, row))
        self.report.diffs_applied += 1
        self.prev_u = last
        self.state = _SYNCED

    def gap(self, fi: int, row: int, recv: int, data: dict[str, Any], expected: str, got: str) -> None:
        if self.owner.on_gap == "raise":
            raise SequenceGapError(
                f"depth diff sequence gap ({self.market.value}): {expected}",
                source=self.paths[fi],
                row=row,
                value=got,
            )
        # resync: the book is unknown from here until the next snapshot
        self.report.gaps += 1
        ts = self._ts(self.last_ts)
        seq = self._emit_one(ts, recv, K_CLEAR, 0, 0, 0, max(self.prev_u, 0), F_LAST)
        self.report.events_emitted[EventKind.CLEAR.value] += 1
        self.updates.append((U_RESET, self.prev_u + 1, self.prev_u, seq, fi, row))
        self.state = _WAIT
        self.snapshot_id = -1
        self.buffer.append((fi, row, recv, data))

    def finish(self) -> None:
        if self.buffer:
            # only possible after a gap with on_gap="resync" (the probe guarantees a snapshot)
            self.report.skipped[SKIP_AWAITING] += len(self.buffer)
            self.buffer.clear()

    def drain(self) -> BinanceChunk:
        n = len(self.c_ts)
        ev = np.empty(n, EVENT_DTYPE)
        if n:
            ev["ts_event"] = self.c_ts
            ev["ts_recv"] = self.c_recv
            ev["seq"] = np.arange(self.seq - n, self.seq, dtype=np.int64)
            ev["kind"] = self.c_kind
            ev["side"] = self.c_side
            ev["price"] = self.c_px
            ev["qty"] = self.c_qty
            ev["order_id"] = self.c_oid
            ev["flags"] = self.c_flags
        for col in (
            self.c_ts,
            self.c_recv,
            self.c_kind,
            self.c_side,
            self.c_px,
            self.c_qty,
            self.c_oid,
            self.c_flags,
        ):
            col.clear()
        tickers = (
            np.array(self.tickers, dtype=BOOK_TICKER_DTYPE)
            if self.tickers
            else np.empty(0, BOOK_TICKER_DTYPE)
        )
        updates = np.array(self.updates, dtype=UPDATE_DTYPE) if self.updates else np.empty(0, UPDATE_DTYPE)
        self.tickers = []
        self.updates = []
        return BinanceChunk(events=ev, book_tickers=tickers, updates=updates)
