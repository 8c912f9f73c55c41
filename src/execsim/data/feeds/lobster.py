"""LOBSTER feed handler: a message file and its orderbook file, streamed in lockstep.

LOBSTER (lobsterdata.com) reconstructs NASDAQ TotalView-ITCH into two CSV files per ticker and
day: ``TICKER_YYYY-MM-DD_start_end_message_L.csv`` (``time, type, order_id, size, price,
direction``) and ``..._orderbook_L.csv`` (``ask_px_i, ask_size_i, bid_px_i, bid_size_i`` for
levels ``i = 1..L``); orderbook row ``k`` is the top-L book *after* message ``k``.

How the rows become canonical events (:mod:`execsim.data.schema`) is described in
``docs/data-lobster.md``; in short:

* the book before message 1 (orderbook row 1 with message 1 undone) is a ``CLEAR`` and one
  ``SET_LEVEL`` per level, flagged ``F_SNAPSHOT``;
* each message is one event (1 ADD, 2 CANCEL, 3 DELETE, 4 EXECUTE, 5 hidden TRADE, 6 cross
  TRADE, 7 HALT);
* the message file only covers the top-L window, so a level that enters the window from
  outside is *revealed*: a ``SET_LEVEL`` flagged ``F_REVEAL`` with its size from the orderbook
  row follows the message; a level the book holds outside the window and that the window
  reaches again but the row no longer shows is revealed with size 0.

Both files are read in chunks of whole lines, parsed by a compiled strict parser, validated
and converted with integer arithmetic only; memory stays bounded whatever the file length.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from itertools import islice
from pathlib import Path
from typing import IO

import numpy as np

from execsim.core.errors import (
    CrossedBookError,
    DataError,
    DataNotFoundError,
    ParseError,
    TimeOrderError,
)
from execsim.core.timeutil import local_midnight_utc_ns
from execsim.data.feeds import _lobster_kernels as _k
from execsim.data.feeds.base import DEFAULT_BATCH, FeedReport
from execsim.data.schema import (
    EVENT_DTYPE,
    F_LAST,
    F_SNAPSHOT,
    K_CLEAR,
    K_SET_LEVEL,
    empty_events,
)
from execsim.model.enums import EventKind, TradingStatus
from execsim.model.instrument import Instrument

__all__ = [
    "LOBSTER_PRICE_UNIT",
    "LobsterChunk",
    "LobsterFeed",
    "LobsterFileName",
    "LobsterReport",
    "parse_lobster_filename",
]

LOBSTER_PRICE_UNIT = Decimal("0.0001")
"""LOBSTER prices are integer multiples of $0.0001 (dollars × 10000)."""

_ASK_PAD = 9_999_999_999  # LOBSTER's filler for an empty ask level (size 0)
_BID_PAD = -9_999_999_999  # and for an empty bid level
_HALT_CODES = {
    -1: TradingStatus.HALTED.code,
    0: TradingStatus.QUOTING.code,
    1: TradingStatus.TRADING.code,
}
_MESSAGE_TYPES = (1, 2, 3, 4, 5, 6, 7)
_MSG_COLUMNS = ("time", "type", "order_id", "size", "price", "direction")
_N_MSG_COLS = len(_MSG_COLUMNS)

_NAME_RE = re.compile(
    r"^(?P<symbol>.+?)_(?P<date>\d{4}-\d{2}-\d{2})_(?P<start>\d+)_(?P<end>\d+)_"
    r"(?P<kind>message|orderbook)_(?P<levels>\d+)\.csv(?:\.gz)?$"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LobsterFileName:
    """What a LOBSTER file name says: ``TICKER_YYYY-MM-DD_start_end_{message|orderbook}_L.csv``.

    ``start_ms`` / ``end_ms`` are the requested period in milliseconds after midnight.
    """

    symbol: str
    date: dt.date
    start_ms: int
    end_ms: int
    kind: str
    levels: int


def parse_lobster_filename(path: str | Path) -> LobsterFileName | None:
    """Parse a LOBSTER file name (``.csv`` or ``.csv.gz``); ``None`` when it does not follow it."""
    m = _NAME_RE.match(Path(path).name)
    if m is None:
        return None
    try:
        date = dt.date.fromisoformat(m["date"])
    except ValueError:
        return None
    return LobsterFileName(
        symbol=m["symbol"],
        date=date,
        start_ms=int(m["start"]),
        end_ms=int(m["end"]),
        kind=m["kind"],
        levels=int(m["levels"]),
    )


@dataclass(slots=True)
class LobsterReport(FeedReport):
    """A :class:`FeedReport` with what is particular to LOBSTER.

    Attributes
    ----------
    levels
        Number of levels per side in the orderbook file.
    message_types
        Message rows by LOBSTER type code (1..7).
    snapshot_levels
        Price levels in the initial snapshot.
    reveals
        ``SET_LEVEL`` events (flag ``F_REVEAL``) for levels that entered the window from outside.
    reveal_clears
        ``SET_LEVEL`` events of size 0 (flag ``F_REVEAL``): a level the book held outside the
        window had gone when the window reached it again.
    ghost_peak
        The most price levels held at once outside the window (bounded by the price range).
    """

    levels: int = 0
    message_types: Counter[int] = field(default_factory=Counter)
    snapshot_levels: int = 0
    reveals: int = 0
    reveal_clears: int = 0
    reveal_resets: int = 0
    ghost_peak: int = 0

    def summary(self) -> str:
        """One line: rows, events, skips, then message types and reveals."""
        types = " ".join(f"type{k}={v}" for k, v in sorted(self.message_types.items()))
        return (
            f"{FeedReport.summary(self)}; {types}; reveals={self.reveals} reveal_clears={self.reveal_clears}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LobsterChunk:
    """A run of message rows with their events and the orderbook rows after them.

    Attributes
    ----------
    first_row
        1-based row number (in both files) of the chunk's first message.
    events
        Canonical events of these messages (the first chunk starts with the snapshot).
    bid_px, bid_qty, ask_px, ask_qty
        ``int64`` arrays of shape ``(rows, levels)``: each orderbook row in ticks and lots, best
        level first, empty (padded) levels as price 0 and size 0.
    """

    first_row: int
    events: np.ndarray
    bid_px: np.ndarray
    bid_qty: np.ndarray
    ask_px: np.ndarray
    ask_qty: np.ndarray

    @property
    def rows(self) -> int:
        """Number of message rows in the chunk."""
        return int(self.bid_px.shape[0])


def _open_binary(path: Path) -> IO[bytes]:
    """Open ``path`` for reading bytes, decompressing gzip when the magic bytes say so."""
    with path.open("rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        # a C-level buffer in front: GzipFile.readline is Python code, called once per line
        return io.BufferedReader(gzip.GzipFile(path, "rb"), buffer_size=1 << 20)
    return path.open("rb")


def _unit_ratio(unit: Decimal, target: Decimal) -> tuple[int, int]:
    """``unit / target`` as a reduced fraction ``(num, den)``: value_in_target = raw·num/den."""
    fr = Fraction(unit) / Fraction(target)
    return fr.numerator, fr.denominator


def _rescale(
    raw: np.ndarray, num: int, den: int, what: Callable[[int], str], src: str, row0: int
) -> np.ndarray:
    """``raw · num / den`` (rows of ``raw`` are file rows from ``row0``); raise on a remainder.

    ``what(v)`` words the error for the first raw value ``v`` that does not convert exactly.
    """
    if den == 1 and num == 1:
        return raw.copy()
    scaled = raw * num
    off = scaled % den != 0
    if off.any():
        idx = np.argwhere(off)[0]
        v = int(raw[tuple(idx)])
        raise DataError(what(v), source=src, row=row0 + int(idx[0]) + 1, value=v)
    return scaled // den


_PARSE_WHAT = {
    _k.P_BAD_NUMBER: "not a number",
    _k.P_TOO_MANY_COLS: "too many columns",
    _k.P_TOO_FEW_COLS: "too few columns",
    _k.P_PRECISION: "time has non-zero digits below the nanosecond",
    _k.P_OVERFLOW: "number too large",
    _k.P_TOO_MANY_ROWS: "more rows than lines",
}


class LobsterFeed:
    """Stream a LOBSTER message/orderbook file pair as canonical events.

    Parameters
    ----------
    message_path, orderbook_path
        The two files, plain or gzip-compressed (detected from the content, not the name).
    symbol, date
        The ticker and trading date; parsed from the LOBSTER file names when not given.
    venue
        Venue name of the instrument.
    tz
        The exchange's time zone: LOBSTER times are seconds after local midnight.
    tick_size
        Price increment of the instrument. The default ``"0.0001"`` is LOBSTER's own unit, so
        every file fits; a coarser tick (``"0.01"``) makes any price off its grid an error
        (NASDAQ prints some hidden executions at half cents).
    lot_size
        Quantity increment (shares).

    Attributes
    ----------
    instrument : Instrument
    report : LobsterReport
        Complete once :meth:`batches` or :meth:`chunks` is exhausted.
    levels : int
        Number of levels per side in the orderbook file.

    Raises
    ------
    DataNotFoundError
        A file does not exist.
    DataError
        The symbol or date is neither given nor in the file names, the names disagree, or the
        orderbook file is empty or its column count is not ``4 × levels``.
    """

    def __init__(
        self,
        message_path: str | Path,
        orderbook_path: str | Path,
        *,
        symbol: str | None = None,
        date: dt.date | None = None,
        venue: str = "NASDAQ",
        tz: str = "America/New_York",
        tick_size: str = "0.0001",
        lot_size: str = "1",
    ) -> None:
        self.message_path = Path(message_path)
        self.orderbook_path = Path(orderbook_path)
        for p in (self.message_path, self.orderbook_path):
            if not p.is_file():
                raise DataNotFoundError(f"LOBSTER file not found: {p}")
        m_name = parse_lobster_filename(self.message_path)
        b_name = parse_lobster_filename(self.orderbook_path)
        if (
            m_name is not None
            and b_name is not None
            and (m_name.symbol, m_name.date, m_name.levels) != (b_name.symbol, b_name.date, b_name.levels)
        ):
            raise DataError(
                "message and orderbook file names disagree on ticker, date or levels",
                source=f"{self.message_path.name} / {self.orderbook_path.name}",
            )
        named = m_name if m_name is not None else b_name
        if symbol is None:
            if named is None:
                raise DataError(
                    "cannot tell the symbol: the file name does not follow LOBSTER's "
                    "TICKER_YYYY-MM-DD_start_end_message_L.csv; pass symbol=",
                    source=str(self.message_path),
                )
            symbol = named.symbol
        if date is None:
            if named is None:
                raise DataError(
                    "cannot tell the trading date: the file name does not follow LOBSTER's "
                    "TICKER_YYYY-MM-DD_start_end_message_L.csv; pass date=",
                    source=str(self.message_path),
                )
            date = named.date
        self.date = date
        self.tz = tz
        self.instrument = Instrument(
            symbol=symbol, venue=venue, tick_size=tick_size, lot_size=lot_size, timezone=tz
        )
        self._px_num, self._px_den = _unit_ratio(LOBSTER_PRICE_UNIT, self.instrument.tick_size)
        self._qty_num, self._qty_den = _unit_ratio(Decimal(1), self.instrument.lot_size)
        self._midnight_ns = local_midnight_utc_ns(date, tz)
        self.levels = self._read_levels(named.levels if named is not None else None)
        self._book_columns = tuple(
            f"{name}_{lvl}"
            for lvl in range(1, self.levels + 1)
            for name in ("ask_price", "ask_size", "bid_price", "bid_size")
        )
        self.report = self._new_report()

    # ------------------------------------------------------------------ setup
    def _read_levels(self, named_levels: int | None) -> int:
        with _open_binary(self.orderbook_path) as f:
            first = f.readline()
        if not first.strip():
            raise DataError("the orderbook file is empty", source=str(self.orderbook_path), row=1)
        ncols = first.count(b",") + 1
        if ncols % 4:
            raise ParseError(
                f"an orderbook row has 4 columns per level, got {ncols} columns",
                source=str(self.orderbook_path),
                row=1,
            )
        levels = ncols // 4
        if named_levels is not None and named_levels != levels:
            raise DataError(
                f"the file name says {named_levels} levels but the orderbook has {levels} ({ncols} columns)",
                source=str(self.orderbook_path),
                row=1,
            )
        return levels

    def _new_report(self) -> LobsterReport:
        return LobsterReport(source=f"{self.message_path} + {self.orderbook_path.name}", levels=self.levels)

    def default_rows_per_chunk(self) -> int:
        """Rows per chunk: about 4 MiB of orderbook numbers, between 1,024 and 65,536 rows."""
        return int(min(65_536, max(1_024, (1 << 22) // (32 * self.levels))))

    def count_rows(self) -> int:
        """Count the message file's rows (a quick pass, e.g. to size a progress bar)."""
        n = 0
        last = b"\n"
        with _open_binary(self.message_path) as f:
            while block := f.read(1 << 20):
                n += block.count(b"\n")
                last = block[-1:]
        return n + (last != b"\n")

    # ------------------------------------------------------------------ streaming
    def batches(self, batch_size: int = DEFAULT_BATCH) -> Iterator[np.ndarray]:
        """Yield canonical event arrays of at most ``batch_size`` records, in stream order.

        Each call reads the files again from the start and resets :attr:`report`.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        rows = max(1, min(self.default_rows_per_chunk(), batch_size))
        for chunk in self.chunks(rows):
            ev = chunk.events
            for start in range(0, len(ev), batch_size):
                yield ev[start : start + batch_size]

    def chunks(self, rows_per_chunk: int | None = None) -> Iterator[LobsterChunk]:
        """Yield :class:`LobsterChunk` s: events together with the orderbook rows they produce.

        This is what a verification needs (it compares a rebuilt book with each row); a plain
        consumer uses :meth:`batches`. Each call reads the files from the start and resets
        :attr:`report`.
        """
        rows = int(rows_per_chunk or self.default_rows_per_chunk())
        if rows < 1:
            raise ValueError(f"rows_per_chunk must be >= 1, got {rows_per_chunk!r}")
        self.report = report = self._new_report()
        L = self.levels
        prev_key = np.zeros((2, L + 1), dtype=np.int64)
        prev_n = np.zeros(2, dtype=np.int64)
        ghost_key = np.zeros((2, 4 * (L + 2)), dtype=np.int64)
        ghost_n = np.zeros(2, dtype=np.int64)
        counters = np.zeros(_k.N_COUNTERS, dtype=np.int64)
        seq = 0
        row0 = 0  # rows consumed so far
        last_ts = -1
        with _open_binary(self.message_path) as mf, _open_binary(self.orderbook_path) as bf:
            while True:
                m_lines = list(islice(mf, rows))
                b_lines = list(islice(bf, rows))
                if len(m_lines) != len(b_lines):
                    self._raise_row_count(row0, m_lines, b_lines, mf, bf)
                if not m_lines:
                    break
                msg = self._parse(m_lines, _MSG_COLUMNS, True, self.message_path, row0)
                book = self._parse(b_lines, self._book_columns, False, self.orderbook_path, row0)
                m = self._check_messages(msg, row0, last_ts)
                bpx, bqty, apx, aqty = self._check_book(book, row0)
                last_ts = int(msg[-1, 0])
                report.rows_read += len(m_lines)
                types, counts = np.unique(msg[:, 1], return_counts=True)
                report.message_types.update({int(k): int(c) for k, c in zip(types, counts, strict=True)})
                pieces: list[np.ndarray] = []
                if row0 == 0:
                    snap, pk, pn = self._snapshot(m, bpx[0], bqty[0], apx[0], aqty[0])
                    prev_key[:] = pk
                    prev_n[:] = pn
                    snap["seq"] = np.arange(seq, seq + len(snap))
                    seq += len(snap)
                    pieces.append(snap)
                    report.snapshot_levels = len(snap) - 1
                    report.events_emitted[EventKind.CLEAR.value] += 1
                    report.events_emitted[EventKind.SET_LEVEL.value] += len(snap) - 1
                ev, ghost_key = self._build(
                    m, bpx, bqty, apx, aqty, prev_key, prev_n, ghost_key, ghost_n, counters
                )
                ev["seq"] = np.arange(seq, seq + len(ev))
                seq += len(ev)
                pieces.append(ev)
                kinds, counts = np.unique(ev["kind"], return_counts=True)
                for k, c in zip(kinds, counts, strict=True):
                    report.events_emitted[EventKind.from_code(int(k)).value] += int(c)
                report.reveals = int(counters[_k.C_REVEALS])
                report.reveal_clears = int(counters[_k.C_REVEAL_CLEARS])
                report.reveal_resets = int(counters[_k.C_REVEAL_RESETS])
                report.ghost_peak = int(counters[_k.C_GHOST_PEAK])
                yield LobsterChunk(
                    first_row=row0 + 1,
                    events=pieces[0] if len(pieces) == 1 else np.concatenate(pieces),
                    bid_px=bpx,
                    bid_qty=bqty,
                    ask_px=apx,
                    ask_qty=aqty,
                )
                row0 += len(m_lines)
        if row0 == 0:
            raise DataError("the message file is empty", source=str(self.message_path), row=1)

    # ------------------------------------------------------------------ parsing
    @staticmethod
    def _parse(
        lines: list[bytes], names: tuple[str, ...], first_is_time: bool, path: Path, row0: int
    ) -> np.ndarray:
        ncols = len(names)
        out = np.empty((len(lines), ncols), dtype=np.int64)
        buf = np.frombuffer(b"".join(lines), dtype=np.uint8)
        n, status, err_row, err_col = _k.parse_rows(buf, ncols, first_is_time, out)
        if status == _k.P_OK and n == len(lines):
            return out
        if status == _k.P_OK:  # pragma: no cover - every line ends a row; kept as a guard
            err_row, err_col, status = n, 0, _k.P_TOO_FEW_COLS
        line = lines[err_row].rstrip(b"\r\n").decode("utf-8", errors="replace")
        row = row0 + err_row + 1
        if not line.strip():
            raise ParseError("empty line", source=str(path), row=row)
        fields = line.split(",")
        if status in (_k.P_TOO_MANY_COLS, _k.P_TOO_FEW_COLS):
            raise ParseError(
                f"expected {ncols} columns, got {len(fields)}", source=str(path), row=row, value=line
            )
        what = _PARSE_WHAT.get(int(status), "cannot parse")
        name = names[err_col] if 0 <= err_col < ncols else "?"
        value = fields[err_col] if err_col < len(fields) else line
        raise ParseError(f"column {err_col + 1} ({name}): {what}", source=str(path), row=row, value=value)

    # ------------------------------------------------------------------ validation
    def _check_messages(self, msg: np.ndarray, row0: int, last_ts: int) -> dict[str, np.ndarray]:
        src = str(self.message_path)
        t_ns, typ, oid, size, price, direction = (msg[:, c] for c in range(_N_MSG_COLS))

        def fail(mask: np.ndarray, exc: type[DataError], text: str, col: np.ndarray) -> None:
            bad = np.flatnonzero(mask)
            if len(bad):
                i = int(bad[0])
                raise exc(text, source=src, row=row0 + i + 1, value=int(col[i]))

        back = np.empty(len(t_ns), dtype=bool)
        back[0] = t_ns[0] < last_ts
        back[1:] = t_ns[1:] < t_ns[:-1]
        fail(back, TimeOrderError, "time goes backwards (nanoseconds after midnight)", t_ns)
        fail(~np.isin(typ, _MESSAGE_TYPES), ParseError, "unknown message type (expected 1..7)", typ)
        fail((direction != 1) & (direction != -1), ParseError, "direction must be 1 or -1", direction)
        book_msg = typ <= 6
        fail(book_msg & (size <= 0), ParseError, "size must be positive", size)
        fail(book_msg & (price <= 0), ParseError, "price must be positive", price)
        fail((typ <= 4) & (oid < 0), ParseError, "order id must not be negative", oid)
        halt = typ == 7
        fail(
            halt & (price != -1) & (price != 0) & (price != 1),
            ParseError,
            "a halt message (type 7) has price -1, 0 or 1",
            price,
        )
        halt_code = np.zeros(len(typ), dtype=np.int64)
        for raw, code in _HALT_CODES.items():
            halt_code[halt & (price == raw)] = code
        px = self._to_ticks(np.where(halt, 0, price), src, row0)
        qty = self._to_lots(np.where(halt, 0, size), src, row0)
        return {
            "ts": t_ns + self._midnight_ns,
            "type": typ,
            "oid": oid,
            "size": qty,
            "price": px,
            "dir": direction,
            "halt": halt_code,
        }

    def _to_ticks(self, raw: np.ndarray, src: str, row0: int) -> np.ndarray:
        return _rescale(
            raw,
            self._px_num,
            self._px_den,
            lambda v: (
                f"price {v} (${Decimal(v) * LOBSTER_PRICE_UNIT}) is not a multiple of "
                f"tick_size {self.instrument.tick_size}"
            ),
            src,
            row0,
        )

    def _to_lots(self, raw: np.ndarray, src: str, row0: int) -> np.ndarray:
        return _rescale(
            raw,
            self._qty_num,
            self._qty_den,
            lambda v: f"size {v} is not a multiple of lot_size {self.instrument.lot_size}",
            src,
            row0,
        )

    def _check_book(
        self, book: np.ndarray, row0: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        src = str(self.orderbook_path)
        apx, aqty, bpx, bqty = (book[:, c::4] for c in range(4))
        a_pad = apx == _ASK_PAD
        b_pad = bpx == _BID_PAD

        def fail(mask: np.ndarray, exc: type[DataError], text: str, col: np.ndarray) -> None:
            bad = np.argwhere(mask)
            if len(bad):
                i, lvl = (int(x) for x in bad[0])
                raise exc(text.format(level=lvl + 1), source=src, row=row0 + i + 1, value=int(col[i, lvl]))

        for name, pad, px, qty in (("ask", a_pad, apx, aqty), ("bid", b_pad, bpx, bqty)):
            fail(pad & (qty != 0), DataError, f"empty {name} level {{level}} has a size", qty)
            fail(~pad & (px <= 0), DataError, f"{name} price at level {{level}} is not positive", px)
            fail(~pad & (qty <= 0), DataError, f"{name} size at level {{level}} is not positive", qty)
            # occupied levels first, filler after
            fail(
                pad[:, :-1] & ~pad[:, 1:],
                DataError,
                f"{name} level {{level}} is empty but a deeper level is not",
                px,
            )
        fail(
            ~a_pad[:, 1:] & (apx[:, 1:] <= apx[:, :-1]),
            DataError,
            "ask prices must increase with depth (level {level} -> next)",
            apx,
        )
        fail(
            ~b_pad[:, 1:] & (bpx[:, 1:] >= bpx[:, :-1]),
            DataError,
            "bid prices must decrease with depth (level {level} -> next)",
            bpx,
        )
        crossed = ~a_pad[:, 0] & ~b_pad[:, 0] & (bpx[:, 0] >= apx[:, 0])
        bad = np.flatnonzero(crossed)
        if len(bad):
            i = int(bad[0])
            raise CrossedBookError(
                "crossed orderbook row: best bid >= best ask",
                source=src,
                row=row0 + i + 1,
                value=(int(bpx[i, 0]), int(apx[i, 0])),
            )
        a_t = np.where(a_pad, 0, self._to_ticks(np.where(a_pad, 0, apx), src, row0))
        b_t = np.where(b_pad, 0, self._to_ticks(np.where(b_pad, 0, bpx), src, row0))
        a_q = self._to_lots(aqty, src, row0)
        b_q = self._to_lots(bqty, src, row0)
        return b_t, b_q, a_t, a_q

    def _raise_row_count(
        self,
        row0: int,
        m_lines: list[bytes],
        b_lines: list[bytes],
        mf: IO[bytes],
        bf: IO[bytes],
    ) -> None:
        n_msg = row0 + len(m_lines) + (sum(1 for _ in mf) if len(m_lines) > len(b_lines) else 0)
        n_book = row0 + len(b_lines) + (sum(1 for _ in bf) if len(b_lines) > len(m_lines) else 0)
        shorter = self.message_path if n_msg < n_book else self.orderbook_path
        raise DataError(
            f"the message file has {n_msg} rows but the orderbook file has {n_book}",
            source=str(shorter),
            row=min(n_msg, n_book) + 1,
        )

    # ------------------------------------------------------------------ events
    def _snapshot(
        self,
        m: dict[str, np.ndarray],
        bpx: np.ndarray,
        bqty: np.ndarray,
        apx: np.ndarray,
        aqty: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The book before message 1: orderbook row 1 with message 1 undone.

        Returns the snapshot events (no ``seq`` yet) and the window keys/counts of the pre-state.
        """
        L = self.levels
        sides: dict[int, list[list[int]]] = {
            1: [[int(p), int(q)] for p, q in zip(bpx, bqty, strict=True) if p != 0],
            -1: [[int(p), int(q)] for p, q in zip(apx, aqty, strict=True) if p != 0],
        }
        t, s, p, q = int(m["type"][0]), int(m["dir"][0]), int(m["price"][0]), int(m["size"][0])
        if t <= 4:
            levels = sides[s]
            at = next((lv for lv in levels if lv[0] == p), None)
            if t == 1:
                if at is not None:
                    at[1] -= q
                    if at[1] <= 0:
                        levels.remove(at)
            elif at is not None:
                at[1] += q
            else:
                # a reduction that emptied its level: it was inside the window if it is better
                # than the deepest level (or the side is not full); otherwise it is outside
                better = len(levels) < L or (p > levels[-1][0] if s == 1 else p < levels[-1][0])
                if better:
                    levels.append([p, q])
                    levels.sort(key=lambda lv: -lv[0] if s == 1 else lv[0])
        n_lv = len(sides[1]) + len(sides[-1])
        snap = empty_events(1 + n_lv)
        snap["ts_event"] = m["ts"][0]
        snap["ts_recv"] = m["ts"][0]
        snap["kind"][0] = K_CLEAR
        snap["flags"] = F_SNAPSHOT
        i = 1
        for side in (1, -1):
            for px, qty in sides[side]:
                snap["kind"][i] = K_SET_LEVEL
                snap["side"][i] = side
                snap["price"][i] = px
                snap["qty"][i] = qty
                i += 1
        snap["flags"][-1] |= F_LAST
        prev_key = np.zeros((2, L + 1), dtype=np.int64)
        prev_n = np.zeros(2, dtype=np.int64)
        for si, side in ((0, 1), (1, -1)):
            keys = [-px if side == 1 else px for px, _ in sides[side]]
            prev_key[si, : len(keys)] = keys
            prev_n[si] = len(keys)
        return snap, prev_key, prev_n

    def _build(
        self,
        m: dict[str, np.ndarray],
        bpx: np.ndarray,
        bqty: np.ndarray,
        apx: np.ndarray,
        aqty: np.ndarray,
        prev_key: np.ndarray,
        prev_n: np.ndarray,
        ghost_key: np.ndarray,
        ghost_n: np.ndarray,
        counters: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        n = len(m["ts"])
        cap = 2 * n + 4 * (self.levels + 1) + int(ghost_n.sum())
        cols = _OutColumns(cap)
        r = 0
        j = 0
        while True:
            r, j, status = _k.build_events(
                m["ts"],
                m["type"],
                m["oid"],
                m["size"],
                m["price"],
                m["dir"],
                m["halt"],
                bpx,
                bqty,
                apx,
                aqty,
                prev_key,
                prev_n,
                ghost_key,
                ghost_n,
                r,
                cols.ts,
                cols.kind,
                cols.side,
                cols.price,
                cols.qty,
                cols.order_id,
                cols.flags,
                j,
                counters,
            )
            if status == _k.B_OK:
                break
            if status == _k.B_NEED_OUT:
                cols.grow(j)
            else:
                bigger = np.zeros((2, 2 * ghost_key.shape[1]), dtype=np.int64)
                bigger[:, : ghost_key.shape[1]] = ghost_key
                ghost_key = bigger
        return cols.to_events(j), ghost_key


class _OutColumns:
    """Growable column arrays the event builder writes into."""

    def __init__(self, cap: int) -> None:
        self.ts = np.zeros(cap, dtype=np.int64)
        self.kind = np.zeros(cap, dtype=np.uint8)
        self.side = np.zeros(cap, dtype=np.int8)
        self.price = np.zeros(cap, dtype=np.int64)
        self.qty = np.zeros(cap, dtype=np.int64)
        self.order_id = np.zeros(cap, dtype=np.int64)
        self.flags = np.zeros(cap, dtype=np.uint16)

    _NAMES = ("ts", "kind", "side", "price", "qty", "order_id", "flags")

    def grow(self, used: int) -> None:
        for name in self._NAMES:
            old = getattr(self, name)
            bigger = np.zeros(2 * len(old), dtype=old.dtype)
            bigger[:used] = old[:used]
            setattr(self, name, bigger)

    def to_events(self, n: int) -> np.ndarray:
        ev = np.zeros(n, dtype=EVENT_DTYPE)
        ev["ts_event"] = self.ts[:n]
        ev["ts_recv"] = self.ts[:n]
        for name in self._NAMES[1:]:
            ev[name] = getattr(self, name)[:n]
        return ev
