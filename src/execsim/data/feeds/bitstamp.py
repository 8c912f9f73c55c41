"""Bitstamp L3 event log (the 2015 Pusher ``live_orders`` + ``live_trades`` + ``order_book`` capture).

Each line is ``<local_ts_ms> <event_type> <JSON>``; the file may be gzip-compressed (detected
from its first bytes). ``docs/data.md`` ("Bitstamp L3 log") describes the mapping to canonical
events in full; in short:

* ``order_created`` → ``ADD``; ``order_type`` 0 (buy) is side 1, 1 (sell) is side −1.
* ``order_changed`` carries the *remaining* amount, so the handler keeps a live-order table
  ``id → (side, price, remaining)`` (bounded by the number of live orders) and emits the
  reduction: ``EXECUTE`` when it is matched to a trade print, else ``CANCEL``. A change of
  price, or an increase of the amount, is ``DELETE`` + ``ADD`` (the order loses priority, as
  it would at the venue); a change that changes nothing is skipped and counted.
* ``order_deleted`` → ``DELETE`` when the remaining amount is > 0 (cancelled with that
  remainder); amount 0 means filled: ``EXECUTE`` of what was left.
* ``trade`` prints carry no order ids nor aggressor side. A print of amount *a* at price *p*
  is matched, within ``match_window_ms``, to the order events it caused: the *maker* (an
  order resting at *p* whose amount drops by *a*, or an order never seen before at *p*) and
  the *taker* (an order on the other side, arrived — created or re-priced — after the maker,
  at a price at or through *p*, whose amount drops by *a*). The maker's reduction becomes the
  ``EXECUTE`` that carries the trade (the print itself is then not emitted again, which would
  count the volume twice). A print with no maker becomes a ``TRADE`` whose side is the
  taker's when a taker was found, else 0 (unknown).
* The taker's order was published as created, at a price through the book, *before* it
  matched. Emitting that ``ADD`` as is would cross the book until the fills arrive, so a
  taker's ``ADD`` is held back and emitted just after its last matched fill (with the amount
  that then rests, at the price it then has), or not at all when it was filled or cancelled
  before resting. Its own fill reductions are folded (the maker's ``EXECUTE`` carries them).
* ``order_book`` top-20 snapshots are L2: by default only the first one is emitted (a
  ``SET_LEVEL`` per level, flagged ``F_SNAPSHOT``, no ``CLEAR``), which anchors the
  aggregate quantity of orders resting before the capture started (an L3 book holds it as
  anonymous quantity); ``snapshots="all"`` emits every one, ``"none"`` none.
* ``ts_event`` = ``ts_recv`` = the local receive time (ms → ns). The JSON ``datetime`` is the
  order's creation time in whole seconds, not the time of the event, so it is not used.

Every input line is either turned into events or counted in ``report.skipped`` with its
reason; the inferences are counted in :attr:`BitstampFeed.stats`.
"""

from __future__ import annotations

import gzip
import heapq
import io
import json
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, Final, Literal

import numpy as np

from execsim.core.errors import (
    CrossedBookError,
    DataNotFoundError,
    InstrumentError,
    ParseError,
    TimeOrderError,
)
from execsim.core.timeutil import NS_PER_MS
from execsim.data.feeds.base import DEFAULT_BATCH, FeedReport
from execsim.data.schema import (
    EVENT_DTYPE,
    F_LAST,
    F_SNAPSHOT,
    K_ADD,
    K_CANCEL,
    K_DELETE,
    K_EXECUTE,
    K_SET_LEVEL,
    K_TRADE,
)
from execsim.data.validation import EventValidator
from execsim.model.enums import EventKind
from execsim.model.instrument import Instrument

__all__ = ["BITSTAMP_EVENT_TYPES", "BitstampFeed", "SnapshotMode"]

BITSTAMP_EVENT_TYPES: Final = (
    "order_created",
    "order_changed",
    "order_deleted",
    "trade",
    "order_book",
)
SnapshotMode = Literal["none", "first", "all"]

# skip reasons (FeedReport.skipped keys)
SKIP_SNAPSHOT: Final = "order_book snapshot (L2, not emitted)"
SKIP_PRINT_AS_EXECUTE: Final = "trade print carried by the maker's EXECUTE"
SKIP_TAKER_FILL: Final = "aggressor fill (the maker's EXECUTE carries the trade)"
SKIP_NEVER_RESTED: Final = "aggressor order filled or cancelled before it rested (no ADD)"
SKIP_BEFORE_REST: Final = "change of an aggressor order before it rested (folded into its ADD)"
SKIP_NOOP_CHANGE: Final = "order_changed that changes nothing"
SKIP_UNKNOWN_CHANGE: Final = "order_changed of an order never created in-file (reduction unknown)"
SKIP_BLANK: Final = "blank line"
LINES_EMITTED: Final = "lines emitted as events"

# parse-time actions of order lines
_CREATE, _MODIFY, _REDUCE, _NOOP, _UNKNOWN_CHANGE, _CANCEL_DELETE, _FILL_DELETE = range(7)
# line types
_T_ORDER, _T_TRADE, _T_BOOK = range(3)
# roles given by trade matching
_MAKER, _TAKER = 1, 2


def _bad_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


@dataclass(slots=True, eq=False)
class _Order:
    oid: int
    side: int
    price: int  # parse-time state (after the last line read)
    remaining: int
    arrival: _Line | None  # the line where it last arrived at its price; None: before capture
    # emission-time state (after the last line emitted)
    cur_price: int = 0
    cur_amount: int = 0
    gone: bool = False
    pending: bool = False  # an aggressor whose ADD is held back
    pending_line: _Line | None = None  # the arrival line the held-back ADD accounts for
    release_row: int = 0


@dataclass(slots=True, eq=False)
class _Line:
    row: int
    ts: int
    typ: int
    action: int = -1
    order: _Order | None = None
    side: int = 0
    price: int = 0
    amount: int = 0
    prev_price: int = 0
    prev_amount: int = 0
    delta: int | None = None
    arrival: _Line | None = None  # for reductions: the order's arrival line at parse time
    trade_id: int = 0
    levels: tuple[list[tuple[int, int]], list[tuple[int, int]]] | None = None
    # matching
    role: int = 0
    maker: _Line | None = None  # trade lines: the matched maker / taker lines
    taker: _Line | None = None
    claim_release: int = 0  # arrival lines: last row of any trade group it took part in as taker


@dataclass(slots=True)
class _Out:
    """Collects emitted events as tuples in EVENT_DTYPE field order."""

    rows: list[tuple[int, int, int, int, int, int, int, int, int]] = field(default_factory=list)
    seq: int = 0

    def add(self, ts: int, kind: int, side: int, price: int, qty: int, oid: int, flags: int) -> None:
        self.rows.append((ts, ts, self.seq, kind, side, price, qty, oid, flags))
        self.seq += 1


def _open_text(path: Path) -> IO[str]:
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


class BitstampFeed:
    """Stream a Bitstamp L3 event log as canonical events.

    Parameters
    ----------
    path
        The log, plain text or gzip.
    symbol, venue, tick_size, lot_size
        The instrument (Bitstamp BTC/USD: tick 0.01 USD, amounts in BTC with 8 decimals).
    snapshots
        Which ``order_book`` snapshots to emit as ``SET_LEVEL`` events: ``"first"``
        (default, anchors the aggregate book once), ``"all"`` or ``"none"``.
    match_window_ms
        How far apart (in local time) a trade print and the order events it caused may be.
        Events are held back this long (twice, at most) before they are emitted, so memory
        holds the lines of a ``2 × match_window_ms`` window plus the live-order table.

    Attributes
    ----------
    instrument
        The instrument.
    report
        Lines read, events emitted by kind and lines skipped by reason (complete once
        :meth:`batches` is exhausted).
    stats
        Counts of the inferences made: executions inferred from trade prints, trades whose
        aggressor side was inferred or stayed unknown, events on order ids never created
        in-file, re-prices and amount increases, held-back aggressor ADDs.

    Examples
    --------
    >>> feed = BitstampFeed("bitstamp.log.gz")                       # doctest: +SKIP
    >>> events = np.concatenate(list(feed.batches()))                  # doctest: +SKIP
    >>> feed.report.summary(), feed.stats["executions inferred from trade prints"]  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | Path,
        *,
        symbol: str = "BTCUSD",
        venue: str = "BITSTAMP",
        tick_size: str = "0.01",
        lot_size: str = "0.00000001",
        snapshots: SnapshotMode = "first",
        match_window_ms: int = 1000,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DataNotFoundError(f"{self.path}: no such Bitstamp log")
        if snapshots not in ("none", "first", "all"):
            raise ValueError(f"snapshots must be 'none', 'first' or 'all', got {snapshots!r}")
        if int(match_window_ms) < 0:
            raise ValueError(f"match_window_ms must be >= 0, got {match_window_ms!r}")
        self.instrument = Instrument(
            symbol=symbol, venue=venue, tick_size=tick_size, lot_size=lot_size, currency="USD"
        )
        self.snapshots: SnapshotMode = snapshots
        self.match_window_ns = int(match_window_ms) * NS_PER_MS
        self.report = FeedReport(source=str(self.path))
        self.stats: Counter[str] = Counter()

    @property
    def paths(self) -> tuple[Path, ...]:
        """The source file(s)."""
        return (self.path,)

    def batches(self, batch_size: int = DEFAULT_BATCH) -> Iterator[np.ndarray]:
        """Yield canonical event batches of at most ``batch_size`` records, in stream order."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        run = _Run(self)
        self.report = run.report
        self.stats = run.stats
        check = EventValidator(str(self.path))
        with _open_text(self.path) as f:
            for row, text in enumerate(f, start=1):
                run.feed(row, text)
                if len(run.out.rows) >= batch_size:
                    yield from run.drain(batch_size, check, final=False)
            run.finish()
        yield from run.drain(batch_size, check, final=True)


class _Run:
    """One pass over the log: parse, match prints to order events, emit in order."""

    def __init__(self, feed: BitstampFeed) -> None:
        self.src = str(feed.path)
        self.inst = feed.instrument
        self.snapshots = feed.snapshots
        self.window = feed.match_window_ns
        self.report = FeedReport(source=self.src)
        self.stats: Counter[str] = Counter()
        self.out = _Out()
        self.live: dict[int, _Order] = {}
        self.unknown_ids: set[int] = set()  # only ids never created in-file (small)
        self.buffer: deque[_Line] = deque()  # lines read, not yet emitted, in row order
        self.trades: deque[_Line] = deque()  # trade lines not yet matched
        # held-back aggressor ADDs: heap of (release_row, tie-breaker, order); entries go stale
        # when an order's release row moves later, and are skipped then
        self.releases: list[tuple[int, int, _Order]] = []
        self.n_pushes = 0
        self.last_ts: int | None = None
        self.last_row = 0
        self.snapshots_seen = 0
        self.prev_levels: tuple[dict[int, int], dict[int, int]] | None = None

    # ------------------------------------------------------------------ parsing
    def fail(self, row: int, what: str, value: object = None) -> ParseError:
        return ParseError(what, source=self.src, row=row, value=value)

    def feed(self, row: int, text: str) -> None:
        self.report.rows_read += 1
        self.last_row = row
        text = text.rstrip("\r\n")
        if not text.strip():
            self.report.skipped[SKIP_BLANK] += 1
            return
        parts = text.split(" ", 2)
        if len(parts) != 3:
            raise self.fail(row, "expected '<local_ts_ms> <event_type> <JSON>'", text[:80])
        ts_text, etype, payload = parts
        if not (ts_text.isascii() and ts_text.isdigit()):
            raise self.fail(row, "timestamp is not an integer of milliseconds", ts_text)
        ts = int(ts_text) * NS_PER_MS
        if self.last_ts is not None and ts < self.last_ts:
            raise TimeOrderError(
                f"local time goes backwards from {self.last_ts // NS_PER_MS} ms",
                source=self.src,
                row=row,
                value=int(ts_text),
            )
        self.last_ts = ts
        if etype not in BITSTAMP_EVENT_TYPES:
            raise self.fail(row, f"unknown event type (expected one of {list(BITSTAMP_EVENT_TYPES)})", etype)
        self.stats[f"lines {etype}"] += 1
        try:
            data = json.loads(payload, parse_float=Decimal, parse_constant=_bad_constant)
        except ValueError as err:
            raise self.fail(row, f"bad JSON: {err}", payload[:80]) from None
        if not isinstance(data, dict):
            raise self.fail(row, "JSON payload is not an object", payload[:80])
        if etype == "trade":
            line = self.parse_trade(row, ts, data)
            self.trades.append(line)
        elif etype == "order_book":
            line = self.parse_book(row, ts, data)
        else:
            line = self.parse_order(row, ts, etype, data)
        self.buffer.append(line)
        self.advance(ts)

    def field(self, row: int, data: dict[str, Any], key: str) -> Any:
        try:
            return data[key]
        except KeyError:
            raise self.fail(row, f"missing field {key!r}", sorted(data)) from None

    def ticks(self, row: int, value: Any, what: str = "price", exact: bool = True) -> int:
        try:
            if exact:
                t = self.inst.price_to_ticks(_decimal(value))
            else:
                t = _near(_decimal(value), self.inst.tick_size)
        except (InstrumentError, InvalidOperation, ValueError) as err:
            raise self.fail(row, f"bad {what}: {err}", value) from None
        if t <= 0:
            raise self.fail(row, f"{what} must be positive", value)
        return t

    def lots(self, row: int, value: Any, exact: bool = True) -> int:
        try:
            if exact:
                q = self.inst.qty_to_lots(_decimal(value))
            else:
                q = _near(_decimal(value), self.inst.lot_size)
        except (InstrumentError, InvalidOperation, ValueError) as err:
            raise self.fail(row, f"bad amount: {err}", value) from None
        if q < 0:
            raise self.fail(row, "amount is negative", value)
        return q

    def order_id(self, row: int, data: dict[str, Any]) -> int:
        oid = self.field(row, data, "id")
        if isinstance(oid, bool) or not isinstance(oid, int) or oid < 0:
            raise self.fail(row, "order id is not a non-negative integer", oid)
        return oid

    def parse_trade(self, row: int, ts: int, data: dict[str, Any]) -> _Line:
        # trade prices and amounts are JSON numbers (binary floats at the source): round to the
        # grid, but refuse anything that is not within float noise of it
        price = self.ticks(row, self.field(row, data, "price"), exact=False)
        amount = self.lots(row, self.field(row, data, "amount"), exact=False)
        if amount == 0:
            raise self.fail(row, "trade amount is zero", data.get("amount"))
        return _Line(row, ts, _T_TRADE, price=price, amount=amount, trade_id=self.order_id(row, data))

    def parse_book(self, row: int, ts: int, data: dict[str, Any]) -> _Line:
        sides: list[list[tuple[int, int]]] = []
        for key in ("bids", "asks"):
            raw = self.field(row, data, key)
            if not isinstance(raw, list):
                raise self.fail(row, f"{key!r} is not a list", raw)
            levels = []
            for lv in raw:
                if not isinstance(lv, list) or len(lv) != 2:
                    raise self.fail(row, f"a {key} level is not [price, amount]", lv)
                q = self.lots(row, lv[1])
                if q == 0:
                    raise self.fail(row, f"a {key} level has amount 0", lv)
                levels.append((self.ticks(row, lv[0]), q))
            prices = [p for p, _ in levels]
            ordered = sorted(set(prices), reverse=key == "bids")
            if prices != ordered:
                raise self.fail(
                    row, f"{key} are not strictly {'de' if key == 'bids' else 'in'}creasing", prices
                )
            sides.append(levels)
        bids, asks = sides
        if bids and asks and bids[0][0] >= asks[0][0]:
            raise CrossedBookError(
                "order_book snapshot is crossed or locked",
                source=self.src,
                row=row,
                value=(str(self.inst.ticks_to_price(bids[0][0])), str(self.inst.ticks_to_price(asks[0][0]))),
            )
        return _Line(row, ts, _T_BOOK, levels=(bids, asks))

    def parse_order(self, row: int, ts: int, etype: str, data: dict[str, Any]) -> _Line:
        oid = self.order_id(row, data)
        otype = self.field(row, data, "order_type")
        if otype not in (0, 1) or isinstance(otype, bool):
            raise self.fail(row, "order_type must be 0 (buy) or 1 (sell)", otype)
        side = 1 if otype == 0 else -1
        price = self.ticks(row, self.field(row, data, "price"))
        amount = self.lots(row, self.field(row, data, "amount"))
        line = _Line(row, ts, _T_ORDER, side=side, price=price, amount=amount)
        o = self.live.get(oid)
        if o is not None and o.side != side:
            raise self.fail(row, f"order {oid} changes side", otype)
        if etype == "order_created":
            if amount == 0:
                raise self.fail(row, "order_created with amount 0", data.get("amount"))
            if o is None:
                o = _Order(oid, side, price, amount, line)
                self.live[oid] = o
                line.action = _CREATE
            else:  # a second create of a live id: the order now rests anew
                self.stats["order_created for a live id (DELETE + ADD)"] += 1
                line.action = _MODIFY
            self.set_state(line, o, arrival=True)
            return line
        if o is None:
            # an order that rested before the capture started: its size is unknown
            self.unknown_ids.add(oid)
            self.stats["events on order ids never created in-file"] += 1
            o = _Order(oid, side, price, amount, None)
            line.order = o
            line.prev_price, line.prev_amount = price, 0
            if etype == "order_changed":
                line.action = _UNKNOWN_CHANGE
                self.live[oid] = o
            else:
                line.action = _FILL_DELETE if amount == 0 else _CANCEL_DELETE
            return line
        if o.oid in self.unknown_ids:
            self.stats["events on order ids never created in-file"] += 1
        if etype == "order_changed":
            if price != o.price or amount > o.remaining:
                if price != o.price:
                    self.stats["price changes (DELETE + ADD)"] += 1
                else:
                    self.stats["amount increases (DELETE + ADD)"] += 1
                line.action = _MODIFY
                self.set_state(line, o, arrival=True)
            elif amount == o.remaining:
                line.action = _NOOP
                self.set_state(line, o, arrival=False)
            else:
                line.action = _REDUCE
                self.set_state(line, o, arrival=False)
            return line
        # order_deleted
        line.action = _FILL_DELETE if amount == 0 else _CANCEL_DELETE
        if amount > 0 and amount != o.remaining:
            self.stats["order_deleted remainder differs from the tracked amount"] += 1
        self.set_state(line, o, arrival=False)
        del self.live[oid]
        return line

    def set_state(self, line: _Line, o: _Order, *, arrival: bool) -> None:
        line.order = o
        if line.action == _CREATE:
            line.prev_price, line.prev_amount = line.price, 0
        else:
            line.prev_price, line.prev_amount = o.price, o.remaining
            line.delta = o.remaining - line.amount
        line.arrival = o.arrival
        if arrival:
            o.arrival = line
        o.price, o.remaining = line.price, line.amount

    # ------------------------------------------------------------------ matching
    def advance(self, now: int) -> None:
        """Match the trades whose window has closed, then emit the lines no trade can claim."""
        w = self.window
        while self.trades and self.trades[0].ts + w < now:
            self.match(self.trades.popleft())
        while self.buffer and self.buffer[0].ts + 2 * w < now:
            self.emit(self.buffer.popleft())

    def finish(self) -> None:
        while self.trades:
            self.match(self.trades.popleft())
        while self.buffer:
            self.emit(self.buffer.popleft())
        while self.releases:
            _, _, o = heapq.heappop(self.releases)
            self.release(o, self.last_ts or 0)
        self.stats["order ids never created in-file"] = len(self.unknown_ids)

    def match(self, t: _Line) -> None:
        lo, hi = t.ts - self.window, t.ts + self.window
        makers: list[_Line] = []
        takers: list[_Line] = []
        for ln in self.buffer:
            if ln.ts < lo or ln.role or ln.typ != _T_ORDER:
                continue
            if ln.ts > hi:
                break
            if ln.action in (_REDUCE, _FILL_DELETE):
                if ln.arrival is None and ln.prev_amount == 0:  # unknown order deleted at 0
                    if ln.price == t.price:
                        makers.append(ln)
                    continue
                if ln.delta != t.amount:
                    continue
                if ln.price == t.price:
                    makers.append(ln)
                if ln.arrival is not None and (ln.price - t.price) * ln.side >= 0:
                    takers.append(ln)
            elif ln.action == _UNKNOWN_CHANGE and ln.price == t.price:
                makers.append(ln)
        best: tuple[int, _Line | None, _Line | None] | None = None
        for m in makers:
            m_arr = m.arrival.row if m.arrival is not None else -1
            for k in takers:
                if k is m or k.side != -m.side or k.arrival is None or k.arrival.row <= m_arr:
                    continue
                d = abs(m.row - t.row) + abs(k.row - t.row)
                if best is None or d < best[0]:
                    best = (d, m, k)
        if best is None and makers:
            m = min(makers, key=lambda x: abs(x.row - t.row))
            best = (0, m, None)
        if best is None and takers:
            k = min(takers, key=lambda x: abs(x.row - t.row))
            best = (0, None, k)
        if best is None:
            return
        _, m_line, k_line = best
        last = t.row
        if m_line is not None:
            m_line.role, m_line.maker = _MAKER, t
            t.maker = m_line
            last = max(last, m_line.row)
        if k_line is not None:
            k_line.role, k_line.taker = _TAKER, t
            t.taker = k_line
            last = max(last, k_line.row)
            arrival = k_line.arrival
            assert arrival is not None  # takers are chosen among lines with an arrival
            arrival.claim_release = max(arrival.claim_release, last)

    # ------------------------------------------------------------------ emission
    def push_release(self, o: _Order) -> None:
        self.n_pushes += 1
        heapq.heappush(self.releases, (o.release_row, self.n_pushes, o))

    def emit(self, ln: _Line) -> None:
        if ln.typ == _T_TRADE:
            self.emit_trade(ln)
        elif ln.typ == _T_BOOK:
            self.emit_book(ln)
        else:
            self.emit_order(ln)
        # held-back ADDs whose last trade group ends here
        while self.releases and self.releases[0][0] <= ln.row:
            _, _, o = heapq.heappop(self.releases)
            if o.pending and o.release_row <= ln.row:
                self.release(o, ln.ts)

    def release(self, o: _Order, ts: int) -> None:
        if not o.pending:
            return
        o.pending = False
        first = o.pending_line
        o.pending_line = None
        if o.gone or o.cur_amount == 0:
            if first is not None:
                self.skip(SKIP_NEVER_RESTED)
            self.stats["aggressor orders that never rested"] += 1
            return
        self.out.add(ts, K_ADD, o.side, o.cur_price, o.cur_amount, o.oid, F_LAST)
        self.count(K_ADD)
        if first is not None:
            self.stats[LINES_EMITTED] += 1
        self.stats["aggressor ADDs held back until after their fills"] += 1
        if first is not None and o.cur_amount != first.amount:
            self.stats["aggressor ADDs with the post-fill amount"] += 1

    def skip(self, reason: str) -> None:
        self.report.skipped[reason] += 1

    def count(self, kind: int) -> None:
        self.report.events_emitted[EventKind.from_code(kind).value] += 1

    def put(self, ts: int, kind: int, side: int, price: int, qty: int, oid: int, flags: int) -> None:
        self.out.add(ts, kind, side, price, qty, oid, flags)
        self.count(kind)

    def emit_trade(self, t: _Line) -> None:
        if t.maker is not None:
            self.skip(SKIP_PRINT_AS_EXECUTE)
            self.stats[
                "trades: aggressor inferred (maker and taker)"
                if t.taker is not None
                else "trades: aggressor inferred (maker only)"
            ] += 1
            return
        side = 0
        if t.taker is not None:
            side = t.taker.side
            self.stats["trades: aggressor inferred (taker only)"] += 1
        else:
            self.stats["trades: aggressor unknown"] += 1
        self.put(t.ts, K_TRADE, side, t.price, t.amount, t.trade_id, F_LAST)
        self.stats[LINES_EMITTED] += 1

    def emit_book(self, ln: _Line) -> None:
        self.snapshots_seen += 1
        if self.snapshots == "none" or (self.snapshots == "first" and self.snapshots_seen > 1):
            self.skip(SKIP_SNAPSHOT)
            return
        assert ln.levels is not None
        bids, asks = ln.levels
        events: list[tuple[int, int, int]] = []
        now: tuple[dict[int, int], dict[int, int]] = (dict(bids), dict(asks))
        for s, levels, cur in ((1, bids, now[0]), (-1, asks, now[1])):
            events += [(s, p, q) for p, q in levels]
            if self.prev_levels is not None and levels:
                # a level the previous snapshot showed, inside this snapshot's range, is gone
                prev = self.prev_levels[0 if s == 1 else 1]
                worst = levels[-1][0]
                for p in sorted(prev, reverse=s == 1):
                    if p not in cur and (p - worst) * s >= 0:
                        events.append((s, p, 0))
        self.prev_levels = now
        for i, (s, p, q) in enumerate(events):
            flags = F_SNAPSHOT | (F_LAST if i == len(events) - 1 else 0)
            self.put(ln.ts, K_SET_LEVEL, s, p, q, 0, flags)
        self.stats["order_book snapshots emitted"] += 1
        self.stats[LINES_EMITTED] += 1

    def emit_order(self, ln: _Line) -> None:
        o = ln.order
        assert o is not None
        act = ln.action
        # the emission-time state of the order follows the lines as they are emitted
        o.cur_price, o.cur_amount = ln.price, ln.amount
        if act in (_CANCEL_DELETE, _FILL_DELETE):
            o.gone = True

        if act in (_CREATE, _MODIFY):
            self.emit_arrival(ln, o)
            return
        before = self.out.seq
        self.emit_change(ln, o, act)
        if self.out.seq > before:
            self.stats[LINES_EMITTED] += 1

    def emit_change(self, ln: _Line, o: _Order, act: int) -> None:
        if o.pending:
            # the order has not rested yet (it is an aggressor whose ADD is held back)
            if ln.role == _TAKER:
                self.skip(SKIP_TAKER_FILL)
            elif ln.role == _MAKER:
                self.skip(SKIP_BEFORE_REST)
                self.stats["maker fills of an order before it rested (folded)"] += 1
            else:
                self.skip(SKIP_BEFORE_REST)
            return
        if act == _NOOP:
            self.skip(SKIP_NOOP_CHANGE)
            return
        if ln.role == _MAKER:
            t = ln.maker
            assert t is not None
            self.put(ln.ts, K_EXECUTE, o.side, ln.price, t.amount, o.oid, F_LAST)
            self.stats["executions inferred from trade prints"] += 1
            return
        if ln.role == _TAKER:
            # the aggressor's ADD was emitted before this fill could be matched (its trade lies
            # beyond the window): remove the quantity as what it does to the book
            if act == _FILL_DELETE:
                self.put(ln.ts, K_DELETE, o.side, ln.prev_price, ln.prev_amount, o.oid, F_LAST)
            else:
                self.put(ln.ts, K_CANCEL, o.side, ln.price, ln.delta or 0, o.oid, F_LAST)
            self.stats["aggressor fills after their ADD was emitted (CANCEL/DELETE)"] += 1
            return
        if act == _REDUCE:
            self.put(ln.ts, K_CANCEL, o.side, ln.price, ln.delta or 0, o.oid, F_LAST)
            self.stats["reductions without a trade print (CANCEL)"] += 1
        elif act == _UNKNOWN_CHANGE:
            self.skip(SKIP_UNKNOWN_CHANGE)
        elif act == _CANCEL_DELETE:
            # the book holds the tracked remainder; for an order never seen, the event's amount
            qty = ln.prev_amount if ln.prev_amount else ln.amount
            self.put(ln.ts, K_DELETE, o.side, ln.prev_price, qty, o.oid, F_LAST)
        else:  # _FILL_DELETE without a matched print: Bitstamp says amount 0 means filled
            if ln.prev_amount > 0:
                self.put(ln.ts, K_EXECUTE, o.side, ln.prev_price, ln.prev_amount, o.oid, F_LAST)
                self.stats["fills to 0 without a matched trade print (EXECUTE)"] += 1
            else:
                self.put(ln.ts, K_DELETE, o.side, ln.prev_price, 0, o.oid, F_LAST)
                self.stats["fills to 0 of unknown size without a trade print (DELETE)"] += 1

    def emit_arrival(self, ln: _Line, o: _Order) -> None:
        """An order arrives at a price: created, re-priced or enlarged."""
        aggressive = ln.claim_release > 0
        if o.pending:
            # still held back: this arrival folds into the one ADD it will get
            self.skip(SKIP_BEFORE_REST)
            if aggressive:
                o.release_row = max(o.release_row, ln.claim_release)
                self.push_release(o)
            return
        delete_first = ln.action == _MODIFY
        if delete_first or not aggressive:
            self.stats[LINES_EMITTED] += 1
        if aggressive:
            if delete_first:
                self.put(ln.ts, K_DELETE, o.side, ln.prev_price, ln.prev_amount, o.oid, F_LAST)
            # a CREATE line is accounted for when its ADD is released; a MODIFY line by its DELETE
            o.pending, o.release_row = True, ln.claim_release
            o.pending_line = None if delete_first else ln
            self.push_release(o)
            return
        if delete_first:
            self.put(ln.ts, K_DELETE, o.side, ln.prev_price, ln.prev_amount, o.oid, 0)
        self.put(ln.ts, K_ADD, o.side, ln.price, ln.amount, o.oid, F_LAST)

    # ------------------------------------------------------------------ output
    def drain(self, batch_size: int, check: EventValidator, *, final: bool) -> Iterator[np.ndarray]:
        rows = self.out.rows
        while len(rows) >= batch_size or (final and rows):
            chunk, rows[:] = rows[:batch_size], rows[batch_size:]
            arr = np.array(chunk, dtype=EVENT_DTYPE)
            check(arr)
            yield arr


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"not a number: {value!r}")
    d = value if isinstance(value, Decimal) else Decimal(value)
    if not d.is_finite():
        raise ValueError(f"not finite: {value!r}")
    return d


def _near(value: Decimal, unit: Decimal) -> int:
    """Units of ``value`` on a grid, allowing float noise (a thousandth of a unit) only."""
    q = value / unit
    n = int(q.to_integral_value())
    if abs(q - n) > Decimal("0.001"):
        raise ValueError(f"{value} is not a multiple of {unit}")
    return n
