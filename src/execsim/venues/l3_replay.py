"""The L3 replay venue: our orders join the real FIFO queues of an order-by-order tape.

On order-by-order data (LOBSTER, ITCH, MBO) every resting order of the tape is known, so our
simulated orders can be placed in the *same* queues as the real ones: one L3 book state
(:class:`~execsim.book.L3Book`) holds the tape's orders and ours, the tape is replayed into it in
compiled code (:mod:`execsim.venues._l3_venue_kernels`), and our commands go through the
matching engine (:class:`~execsim.book.MatchingEngine`) on that same state. Fills are exact
given the tape; the rules that decide them are listed in ``docs/l3-replay.md`` and below.

Tape replay (:meth:`L3ReplayVenue.advance`)
-------------------------------------------
* A tape EXECUTE of ``q`` lots against resting tape order X at price ``p`` is *aggressive
  volume*. Our orders with priority over X take it first, in this order: our midpoint pegs on
  X's side (the mid is inside the spread), our orders at prices better than ``p`` (the tape
  traded through them: they fill at their own price, best price first, queue order), then our
  orders ahead of X in its queue. Only the remainder executes X; X keeps what was not executed.
* Anonymous quantity (orders the tape never showed) is at the head of its queue, ahead of ours.
* A tape ADD on one side at a price that crosses our resting orders on the other side trades
  with them first (at our price); only its remainder rests.
* Tape orders live as long as the tape says: an order leaves the book when the tape's
  quantity of it reaches zero (or on DELETE), whatever our activity left in it. A tape order
  that our aggressive orders consumed is *shadow-consumed*: later CANCEL / EXECUTE events for it
  act on what is left, the excess is clamped and counted (``stats["shadow_clamps"]``).
* A hidden execution (TRADE with ``F_HIDDEN``, its side the aggressor's) at price ``p`` never
  touches the visible book, but the aggressor met our displayed orders on the passive side
  first: our pegs when the mid is better than ``p`` for it, our orders at better prices
  (trade-through, fully), then our orders at ``p`` that have no visible (tape or anonymous)
  quantity ahead of them (displayed orders have priority over non-displayed ones), up to the
  print's quantity. Cross trades (``F_CROSS``) and other TRADE prints fill nothing.
* SET_LEVEL (a depth reveal) sets the *tape's* quantity of a level: our orders are never
  trimmed. CLEAR removes the tape's orders; ours stay.
* HALT: while the status is not ``trading``, submits and modifies are rejected ("halted"),
  cancels are accepted, and nothing of ours fills.
* ``advance`` stops right after the first tape event that filled one of our orders and returns
  that event's time with the FILL reports (liquidity MAKER, ``queue_ahead`` = lots ahead of the
  order in its queue at the fill).

Impact hook (``price_shift``)
-----------------------------
With ``price_shift`` (``t_ns -> ticks``, e.g. the session's ``ImpactState.shift_ticks``) the
venue presents every recorded price as ``price + shift`` (``docs/impact.md``). The book stays in
recorded ticks; each of our limit orders keeps its absolute price ``P`` and rests in the book at
``P − shift``, so everything our orders match against (tape flow, our aggressive orders) is
compared in shifted terms, and every price the venue reports or quotes is shifted back. The
shift is evaluated at the start of each ``advance`` / ``handle`` call, at ``now``, and held
constant until the next call. When it changes, our resting limit orders are re-placed at
``P − shift`` (back of the new queue); one the market moved through fills at once against the
crossing tape depth at its own price ``P``, as maker (rules 5 and 6 of ``docs/impact.md``).

Our orders use their own id space (negative ids inside the book; tape ids must be ``>= 0``) and
reports carry the session's order ids. Tape orders our aggressive orders hit produce no reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from execsim.book import _l3_kernels as _bk
from execsim.book.l3 import L3Book
from execsim.book.matching import MatchingEngine
from execsim.book.orders import MatchResult, OrderView
from execsim.core.errors import BookError, DataError, ExecsimError, TimeOrderError
from execsim.data.schema import EVENT_DTYPE, F_SNAPSHOT
from execsim.model.enums import LiquiditySide, OrderStatus, OrderType, Side, TradingStatus
from execsim.model.instrument import Instrument
from execsim.venues import _l3_venue_kernels as _vk
from execsim.venues.base import (
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    Quote,
    ReportKind,
    SubmitOrder,
    VenueCommand,
)

__all__ = ["L3ReplayVenue", "VenueNotAdvancedError"]

_INT64_MAX = int(np.iinfo(np.int64).max)
_STATUS_OF_CODE = {s.code: s for s in TradingStatus}
_BOOK_STATS = ("unknown_order_events", "inconsistent_reductions", "reveal_trims", "rejected_events")


class VenueNotAdvancedError(ExecsimError, RuntimeError):
    """A command reached a venue whose market has not been advanced to the command's time."""


@dataclass(slots=True)
class _Ours:
    order_id: int  # the session's id
    side: int  # 1 / -1
    price: int  # ticks; 0 for market orders and pegs
    leaves: int  # displayed + reserve still open


class L3ReplayVenue:
    """A lit venue replaying an order-by-order tape, with our orders in its FIFO queues.

    Parameters
    ----------
    name
        Venue name (copied into every report).
    instrument
        The instrument the tape's prices (ticks) and sizes (lots) refer to.
    batches
        Canonical event batches (:data:`~execsim.data.schema.EVENT_DTYPE` arrays) in time order,
        e.g. ``LobsterFeed(...).batches()``. Read lazily, one batch at a time.
    self_trade_prevention
        Between *our* orders of the same owner: ``"none"`` (default), ``"cancel_newest"``,
        ``"cancel_oldest"`` or ``"cancel_both"`` (tape orders have no owner).
    start_ns
        Replay the tape up to this time (inclusive) on construction. ``None``: replay only the
        leading snapshot (events flagged ``F_SNAPSHOT``), and start at the first event's time.
    capacity
        Initial order slots of the book (it grows as needed).
    price_shift
        Optional impact hook, ``shift(t_ns) -> ticks`` added to every recorded price (see the
        module docstring and ``docs/l3-replay.md``). ``None`` (default): no shift.

    Notes
    -----
    ``now`` is the venue's time: every tape event before it has been applied (events *at* it may
    remain when :meth:`advance` stopped on a fill). A command must not be later than ``now``
    (advance first; :class:`VenueNotAdvancedError` otherwise); a command stamped earlier than
    ``now`` is applied at ``now``, as on the other venues. See the module docstring and
    ``docs/l3-replay.md`` for the replay rules.
    """

    def __init__(
        self,
        *,
        name: str,
        instrument: Instrument,
        batches: Iterable[np.ndarray],
        self_trade_prevention: str = "none",
        start_ns: int | None = None,
        capacity: int = 1 << 16,
        price_shift: Callable[[int], int] | None = None,
    ) -> None:
        self.name = str(name)
        self.instrument = instrument
        self._book = L3Book(capacity=capacity)
        self._engine = MatchingEngine(book=self._book, self_trade_prevention=self_trade_prevention)
        self._SH = np.zeros((64, _vk.NSH), dtype=np.int64)
        self._VM = np.zeros(_vk.VM_SIZE, dtype=np.int64)
        self._VM[_vk.V_SH_BITS] = 6
        self._FB = np.zeros((16, _vk.NFB), dtype=np.int64)
        self._it: Iterator[np.ndarray] = iter(batches)
        self._cols: tuple[np.ndarray, ...] | None = None
        self._pos = 0
        self._n = 0
        self._row0 = 0  # tape row (0-based) of the current batch's first event
        self._next_row0 = 0
        self._last_ts: int | None = None
        self._ours: dict[int, _Ours] = {}  # internal (negative) id -> our order
        self._iid_of: dict[int, int] = {}  # session id -> internal id, open orders
        self._seen: set[int] = set()  # session ids ever accepted
        self._touched: set[int] = set()  # internal ids whose leaves changed since the last _sync
        self._next_iid = -1
        self._now = 0
        self._price_shift = price_shift
        self._shift = 0
        if self._load():
            assert self._cols is not None
            self._now = int(self._cols[0][0])
            self._apply_snapshot_prefix()
        if start_ns is not None:
            self.advance(int(start_ns))

    # ------------------------------------------------------------------ tape plumbing
    def _where(self) -> str:
        return f"L3ReplayVenue {self.name!r} tape"

    def _load(self) -> bool:
        """Make the next non-empty batch current; False at the end of the tape."""
        for b in self._it:
            if not isinstance(b, np.ndarray) or b.dtype != EVENT_DTYPE or b.ndim != 1:
                got = b.dtype if isinstance(b, np.ndarray) else type(b).__name__
                raise DataError(
                    "expected 1-d batches of EVENT_DTYPE",
                    source=self._where(),
                    row=self._next_row0 + 1,
                    value=got,
                )
            self._row0 = self._next_row0
            self._next_row0 += len(b)
            if len(b) == 0:
                continue
            ts = np.ascontiguousarray(b["ts_event"])
            back = np.flatnonzero(np.diff(ts) < 0)
            if self._last_ts is not None and ts[0] < self._last_ts:
                raise TimeOrderError(
                    "event time goes backwards", source=self._where(), row=self._row0 + 1, value=int(ts[0])
                )
            if back.size:
                i = int(back[0]) + 1
                raise TimeOrderError(
                    "event time goes backwards",
                    source=self._where(),
                    row=self._row0 + i + 1,
                    value=int(ts[i]),
                )
            self._last_ts = int(ts[-1])
            self._cols = (
                ts,
                np.ascontiguousarray(b["kind"]),
                np.ascontiguousarray(b["side"]),
                np.ascontiguousarray(b["price"]),
                np.ascontiguousarray(b["qty"]),
                np.ascontiguousarray(b["order_id"]),
                np.ascontiguousarray(b["seq"]),
                np.ascontiguousarray(b["flags"]),
            )
            self._pos = 0
            self._n = len(b)
            return True
        self._cols = None
        self._pos = self._n = 0
        return False

    def _apply_snapshot_prefix(self) -> None:
        """Apply the leading events flagged F_SNAPSHOT (the initial book), possibly over batches."""
        while self._cols is not None:
            flags = self._cols[7]
            k = int(np.argmax((flags & F_SNAPSHOT) == 0)) if ((flags & F_SNAPSHOT) == 0).any() else self._n
            if k > 0:
                self._replay(_INT64_MAX, stop=k)
            if k < self._n:
                return
            if not self._load():
                return

    def _grow(self, code: int) -> None:
        if code == _vk.NEED_SHADOW:
            self._rehash_shadow(0)
        else:
            self._book._grow(code)

    def _rehash_shadow(self, extra: int) -> None:
        """Resize the shadow table so that ``extra`` more entries fit (at most half full)."""
        live = int(self._VM[_vk.V_SH_LIVE])
        size = self._SH.shape[0]
        while (live + extra + 2) * 4 > size:
            size *= 2
        old = self._SH
        self._SH = np.zeros((size, _vk.NSH), dtype=np.int64)
        _vk.sh_rebuild(old, self._SH, self._VM, size.bit_length() - 1)

    def _replay(self, until: int, *, stop: int | None = None) -> tuple[int, int, int]:
        """Run the kernel on the current batch from ``_pos``; return (code, nfb, last index)."""
        assert self._cols is not None
        cols = self._cols if stop is None else tuple(c[:stop] for c in self._cols)
        ts, kind, side, price, qty, oid, seq, flags = cols
        b = self._book
        while True:
            i, code, self._FB, nfb = _vk.replay(
                b._O, b._H, b._L, b._SK, b._SL, b._M, b._REJ, self._SH, self._VM, self._FB,
                ts, kind, side, price, qty, oid, seq, flags, self._pos, until,
            )  # fmt: skip
            self._pos = int(i)
            if code == _vk.NEED_SHADOW or code in _vk.NEED_CODES:
                self._grow(int(code))
                continue
            return int(code), int(nfb), int(i) - 1

    # ------------------------------------------------------------------ Venue protocol
    @property
    def now(self) -> int:
        """The venue's time (ns): every tape event before it has been applied."""
        return self._now

    def advance(self, until_ns: int) -> tuple[int, list[ExecutionReport]]:
        """Replay the tape up to ``until_ns`` (inclusive), stopping after a fill of ours.

        Returns
        -------
        (time reached, reports)
            ``(until_ns, [])`` when none of our orders filled; else the time of the tape event
            that filled them and its FILL reports (liquidity MAKER).
        """
        until = int(until_ns)
        if self._price_shift is not None:
            reps = self._update_shift()
            if reps:
                return self._now, reps
        if until < self._now:
            return self._now, []
        while self._cols is not None:
            if self._pos >= self._n:
                if not self._load():
                    break
                continue
            code, nfb, last = self._replay(until)
            if code == _vk.RC_FILLED:
                t = int(self._cols[0][last])
                self._now = max(self._now, t)
                return self._now, self._tape_fill_reports(nfb)
            if code == _vk.RC_REACHED:
                break
        self._now = until
        return self._now, []

    def handle(self, command: VenueCommand) -> list[ExecutionReport]:
        """Apply a command at ``command.ts_ns``; return the reports it causes, in order.

        Raises
        ------
        VenueNotAdvancedError
            When ``command.ts_ns`` is later than :attr:`now` (call :meth:`advance` first).
        """
        t = int(command.ts_ns)
        if t > self._now:
            raise VenueNotAdvancedError(
                f"venue {self.name!r} is at {self._now} ns but the command {command!r} is at {t} ns: "
                f"advance the venue to {t} first"
            )
        pre = self._update_shift() if self._price_shift is not None else []
        if isinstance(command, SubmitOrder):
            out = self._submit(command, self._now)
        elif isinstance(command, CancelOrder):
            out = self._cancel(command, self._now)
        elif isinstance(command, ModifyOrder):
            out = self._modify(command, self._now)
        else:
            raise TypeError(f"unknown venue command {command!r}")
        self._sync()
        return pre + out if pre else out

    def quote(self) -> Quote:
        """Best bid and offer now, in shifted ticks: visible quantity, our displayed orders
        included (pegs and iceberg reserves are not visible)."""
        bid = self._book.best_bid()
        ask = self._book.best_ask()
        s = self._shift
        return Quote(
            bid_px=bid[0] + s if bid else 0,
            bid_qty=bid[1] if bid else 0,
            ask_px=ask[0] + s if ask else 0,
            ask_qty=ask[1] if ask else 0,
        )

    # ------------------------------------------------------------------ queries
    @property
    def book(self) -> L3Book:
        """The shared book (tape orders and ours; ours have negative ids), in recorded ticks: our
        limit orders sit at their price minus :attr:`shift`. Read only."""
        return self._book

    @property
    def shift(self) -> int:
        """The price shift (ticks) in force since the last ``advance``/``handle`` call."""
        return self._shift

    @property
    def trading_status(self) -> TradingStatus:
        """The tape's trading status now (``trading`` until a HALT event says otherwise)."""
        return _STATUS_OF_CODE.get(int(self._book._M[_bk.M_STATUS]), TradingStatus.TRADING)

    @property
    def tape_exhausted(self) -> bool:
        """True when every tape event has been applied."""
        return self._cols is None

    def order(self, order_id: int) -> OrderView | None:
        """Our open order ``order_id`` as the book sees it (queue position included; the price
        in shifted ticks, as we submitted it), or None."""
        iid = self._iid_of.get(order_id)
        view = None if iid is None else self._book.order(iid)
        if view is None:
            return None
        return OrderView(
            order_id=order_id,
            side=view.side,
            price=view.price + self._shift if view.price else 0,
            qty=view.qty,
            hidden_qty=view.hidden_qty,
            qty_ahead=view.qty_ahead,
            orders_ahead=view.orders_ahead,
        )

    @property
    def stats(self) -> dict[str, int]:
        """Counters since construction (see ``docs/l3-replay.md``).

        ``events_applied``; our fills caused by the tape (``our_fills_from_tape``,
        ``our_filled_qty_from_tape``, by cause: ``fills_ahead_of_executed_order``,
        ``fills_trade_through``, ``fills_crossing_add``, ``fills_midpoint_peg``,
        ``fills_ahead_of_hidden_execution``); ``tape_qty_absorbed_by_us`` (tape execution / add /
        hidden-execution lots that went to us);
        ``crossing_adds``; ``tape_qty_consumed_by_us`` and ``anonymous_qty_consumed_by_us``
        (lots our aggressive orders took); ``shadow_events`` (tape events about a tape order we
        consumed), ``shadow_clamps`` / ``shadow_clamped_qty`` (reductions asking for more than
        was left); ``surplus_dropped_qty`` (lots a tape order still held here because we took
        executions meant for it, dropped when the tape ended the order); ``hidden_trades``;
        ``executions_while_halted`` (that could have reached our orders); ``bad_order_ids``
        (tape events with negative ids, skipped); the book's ``unknown_order_events``,
        ``inconsistent_reductions``, ``reveal_trims``, ``rejected_events``; and
        ``our_open_orders``.
        """
        out = {k: int(self._VM[i]) for k, i in _vk.STAT_NAMES.items()}
        bs = self._book.stats
        out.update({k: bs[k] for k in _BOOK_STATS})
        out["our_open_orders"] = len(self._ours)
        return out

    def __repr__(self) -> str:
        return (
            f"L3ReplayVenue(name={self.name!r}, now={self._now}, quote={self.quote()}, "
            f"open_orders={len(self._ours)})"
        )

    # ------------------------------------------------------------------ reports
    def _report(self, ts: int, order_id: int, kind: ReportKind, **kw: object) -> ExecutionReport:
        return ExecutionReport(ts_ns=ts, venue=self.name, order_id=order_id, kind=kind, **kw)  # type: ignore[arg-type]

    def _sync(self) -> None:
        """Forget finished orders; keep the kernels' count of ours resting on each side."""
        for iid in self._touched:
            o = self._ours.get(iid)
            if o is not None and o.leaves <= 0:
                del self._ours[iid]
                del self._iid_of[o.order_id]
                self._VM[_vk.V_OURS + (0 if o.side > 0 else 1)] -= 1
        self._touched.clear()

    def _tape_fill_reports(self, nfb: int) -> list[ExecutionReport]:
        out = []
        for row in self._FB[:nfb].tolist():
            ours = self._ours[row[_vk.FB_OID]]
            ours.leaves = row[_vk.FB_LEAVES]
            self._touched.add(row[_vk.FB_OID])
            out.append(
                self._report(
                    row[_vk.FB_TS],
                    ours.order_id,
                    ReportKind.FILL,
                    price=row[_vk.FB_PRICE] + self._shift,
                    qty=row[_vk.FB_QTY],
                    leaves_qty=row[_vk.FB_LEAVES],
                    liquidity=LiquiditySide.MAKER,
                    queue_ahead=row[_vk.FB_AHEAD],
                )
            )
        self._sync()
        return out

    def _engine_reports(
        self, res: MatchResult, t: int, *, maker_at: int | None = None, maker_ahead: int = 0
    ) -> list[ExecutionReport]:
        """FILL reports of our orders in an engine result (taker and, for self-trades or peg
        crosses, maker), self-trade cancels of our other orders; record consumed tape orders.

        Prices are shifted into the venue's ticks. With ``maker_at`` the fills of the order
        ``res`` is about are reported at that price as MAKER with ``queue_ahead=maker_ahead``
        (a resting order the impact shift made marketable, re-placed by :meth:`_update_shift`).
        """
        sh = self._shift
        out = []
        ids: list[int] = []
        qtys: list[int] = []
        sides: list[int] = []
        for f in res.fills:
            for iid, liq, ahead in (
                (f.taker_order_id, LiquiditySide.TAKER, 0),
                (f.maker_order_id, LiquiditySide.MAKER, f.maker_qty_ahead),
            ):
                if iid < 0:
                    ours = self._ours[iid]
                    ours.leaves -= f.qty
                    self._touched.add(iid)
                    px = f.price + sh
                    if maker_at is not None and iid == res.order_id:
                        px, liq, ahead = maker_at, LiquiditySide.MAKER, maker_ahead
                    out.append(
                        self._report(
                            t, ours.order_id, ReportKind.FILL, price=px, qty=f.qty,
                            leaves_qty=ours.leaves, liquidity=liq, queue_ahead=ahead,
                        )
                    )  # fmt: skip
            if f.maker_order_id >= 0:
                ids.append(f.maker_order_id)
                qtys.append(f.qty)
                sides.append(f.maker_side.code)
        for u in res.updates:
            if u.order_id < 0 and u.order_id != res.order_id and u.status is OrderStatus.CANCELLED:
                ours = self._ours[u.order_id]
                ours.leaves = 0
                self._touched.add(u.order_id)
                out.append(
                    self._report(
                        t,
                        ours.order_id,
                        ReportKind.CANCELLED,
                        qty=u.cancelled_qty,
                        leaves_qty=0,
                        reason=u.reason,
                    )
                )
        if ids:
            if (int(self._VM[_vk.V_SH_USED]) + len(ids) + 2) * 2 > self._SH.shape[0]:
                self._rehash_shadow(len(ids))
            _vk.record_consumed(
                self._SH,
                self._VM,
                np.array(ids, dtype=np.int64),
                np.array(qtys, dtype=np.int64),
                np.array(sides, dtype=np.int64),
            )
        return out

    # ------------------------------------------------------------------ commands
    def _halted_reason(self) -> str | None:
        st = self.trading_status
        return None if st is TradingStatus.TRADING else f"halted: the trading status is {st.value}"

    def _recorded(self, price: int | None) -> int | None:
        """Our (shifted) price in the book's recorded ticks; anything not an integer is passed
        on unchanged, for the engine to reject."""
        if self._shift and isinstance(price, int | np.integer) and not isinstance(price, bool):
            return int(price) - self._shift
        return price

    # ------------------------------------------------------------------ impact hook
    def _update_shift(self) -> list[ExecutionReport]:
        """Re-evaluate the price shift at ``now``; re-place our resting limit orders at their
        price minus the new shift, filling those the market moved through (docs/impact.md, rules
        5 and 6).

        Every re-placed order goes to the back of its new queue. One that now crosses the tape's
        contra side trades with it at once through the matching engine (the tape orders it takes
        are shadow-consumed as for any aggressive order of ours), but is reported as a MAKER
        fill at its own price: the market moved through a resting order. While the tape's
        trading status is not ``trading`` the old shift is kept (nothing of ours may fill).
        """
        assert self._price_shift is not None
        s = int(self._price_shift(self._now))
        old = self._shift
        if s == old or self._halted_reason() is not None:
            return []
        self._shift = s
        b = self._book
        # All our limit orders move by the same amount in recorded ticks, so they never cross
        # each other; moving the side that goes away from the contra side first keeps it so
        # while some have moved and others not. Within a side: price priority, then queue order.
        first = 1 if s > old else -1  # an up-shift lowers recorded prices: bids move away
        todo = []
        for iid, ours in self._ours.items():
            view = b.order(iid)
            if view is None or ours.price == 0:  # pegs follow the mid; market orders never rest
                continue
            key = (0 if ours.side == first else 1, -ours.price * ours.side, view.qty_ahead)
            todo.append((key, iid, ours, view.qty_ahead))
        todo.sort(key=lambda x: x[0])
        out: list[ExecutionReport] = []
        t = self._now
        for _key, iid, ours, ahead in todo:
            slot = int(_bk.h_find(b._H, b._M, iid))
            flags = int(b._O[slot, _bk.O_FLAGS])
            # a post-only order is not re-priced by the engine if it would take; here the market
            # moved, not the order, so it trades (and becomes post-only again if it rests)
            b._O[slot, _bk.O_FLAGS] = flags & ~_bk.FL_POST_ONLY
            res = self._engine.modify(iid, price=ours.price - s, ts=t)
            self._touched.add(iid)
            if res.status is OrderStatus.REJECTED:  # pragma: no cover - the engine has no reason to
                self._engine.cancel(iid, ts=t)
                out.append(
                    self._report(
                        t, ours.order_id, ReportKind.CANCELLED, qty=ours.leaves, leaves_qty=0,
                        reason=f"impact shift: the order could not be re-placed ({res.reason})",
                    )
                )  # fmt: skip
                ours.leaves = 0
                continue
            out += self._engine_reports(res, t, maker_at=ours.price, maker_ahead=ahead)
            slot = int(_bk.h_find(b._H, b._M, iid))
            if slot >= 0:
                b._O[slot, _bk.O_FLAGS] |= flags & _bk.FL_POST_ONLY
            if res.status is OrderStatus.CANCELLED and ours.leaves > 0:  # self-trade prevention
                out.append(
                    self._report(
                        t, ours.order_id, ReportKind.CANCELLED, qty=ours.leaves, leaves_qty=0,
                        reason=res.reason,
                    )
                )  # fmt: skip
                ours.leaves = 0
        self._sync()
        return out

    def _submit(self, c: SubmitOrder, t: int) -> list[ExecutionReport]:
        reason = None
        if c.order_id in self._seen:
            reason = "duplicate order id"
        elif c.min_qty > 0:
            reason = "a minimum quantity is not supported on a lit L3 replay venue"
        else:
            reason = self._halted_reason()
        if reason is not None:
            return [self._report(t, c.order_id, ReportKind.REJECTED, reason=reason)]
        iid = self._next_iid
        eprice = self._recorded(c.price)
        try:
            res = self._engine.submit(
                order_id=iid, side=c.side, qty=c.qty, price=eprice, order_type=c.order_type, tif=c.tif,
                post_only=c.post_only, display_qty=c.display_qty, owner=c.owner, ts=t,
            )  # fmt: skip
        except BookError as err:  # wrongly typed fields: a rejection, not a crash of the session
            return [self._report(t, c.order_id, ReportKind.REJECTED, reason=str(err))]
        if res.status is OrderStatus.REJECTED:
            return [self._report(t, c.order_id, ReportKind.REJECTED, reason=res.reason)]
        self._next_iid -= 1
        self._seen.add(c.order_id)
        price = c.price if c.order_type is OrderType.LIMIT and c.price is not None else 0
        self._ours[iid] = _Ours(order_id=c.order_id, side=Side(c.side).code, price=price, leaves=c.qty)
        self._iid_of[c.order_id] = iid
        self._touched.add(iid)
        self._VM[_vk.V_OURS + (0 if self._ours[iid].side > 0 else 1)] += 1
        out = [self._report(t, c.order_id, ReportKind.ACCEPTED, price=price, leaves_qty=c.qty)]
        out += self._engine_reports(res, t)
        ours = self._ours[iid]
        if res.status is OrderStatus.CANCELLED and ours.leaves > 0:
            out.append(
                self._report(
                    t, c.order_id, ReportKind.CANCELLED, qty=ours.leaves, leaves_qty=0, reason=res.reason
                )
            )
            ours.leaves = 0
        return out

    def _cancel(self, c: CancelOrder, t: int) -> list[ExecutionReport]:
        iid = self._iid_of.get(c.order_id)
        if iid is None:
            return [self._report(t, c.order_id, ReportKind.REJECTED, reason="unknown order")]
        try:
            res = self._engine.cancel(iid, qty=c.qty, ts=t)
        except BookError as err:
            return [self._report(t, c.order_id, ReportKind.REJECTED, reason=str(err))]
        if res.status is OrderStatus.REJECTED:
            return [self._report(t, c.order_id, ReportKind.REJECTED, reason=res.reason)]
        ours = self._ours[iid]
        ours.leaves = res.leaves_qty
        self._touched.add(iid)
        out = [
            self._report(
                t, c.order_id, ReportKind.CANCELLED, qty=res.cancelled_qty, leaves_qty=res.leaves_qty,
                reason=res.reason,
            )
        ]  # fmt: skip
        return out + self._engine_reports(res, t)

    def _modify(self, m: ModifyOrder, t: int) -> list[ExecutionReport]:
        iid = self._iid_of.get(m.order_id)
        if iid is None:
            return [self._report(t, m.order_id, ReportKind.REJECTED, reason="unknown order")]
        reason = self._halted_reason()
        if reason is not None:
            return [self._report(t, m.order_id, ReportKind.REJECTED, reason=reason)]
        ours = self._ours[iid]
        self._touched.add(iid)
        try:
            eprice = self._recorded(m.price)
            res = self._engine.modify(iid, price=eprice, qty=m.qty, ts=t)
        except BookError as err:
            return [self._report(t, m.order_id, ReportKind.REJECTED, reason=str(err))]
        if res.status is OrderStatus.REJECTED:
            return [self._report(t, m.order_id, ReportKind.REJECTED, reason=res.reason)]
        if m.price is not None:
            ours.price = m.price
        ours.leaves = ours.leaves if m.qty is None else m.qty
        out = [self._report(t, m.order_id, ReportKind.MODIFIED, price=ours.price, leaves_qty=ours.leaves)]
        out += self._engine_reports(res, t)
        if res.status is OrderStatus.CANCELLED and ours.leaves > 0:
            out.append(
                self._report(
                    t, m.order_id, ReportKind.CANCELLED, qty=ours.leaves, leaves_qty=0, reason=res.reason
                )
            )
            ours.leaves = 0
        return out
