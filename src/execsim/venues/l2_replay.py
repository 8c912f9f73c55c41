"""A lit venue replayed from L2 (price-level) data, with our orders living in it.

The venue replays a canonical L2 tape (``SET_LEVEL`` / ``CLEAR`` / ``TRADE`` / ``HALT`` batches,
e.g. from :meth:`~execsim.data.feeds.binance.BinanceFeed.batches` or
:func:`~execsim.data.synthetic.iter_synthetic_l2`) into an :class:`~execsim.book.l2.L2Book`
at venue time (``ts_event``), and keeps our resting orders in compact arrays beside it, each with
a queue-position estimate from a :mod:`queue model <execsim.venues.queue_models>`. The replay,
the queue updates and the fill detection run in one compiled loop
(:mod:`execsim.venues._l2_venue_kernels`) with no Python call per market event.

Rules (``docs/queue-models.md``, section "L2 replay venue and queue models", says more)
------------------------------------------------------------------------------------------
* **Time.** ``advance(until)`` applies every tape event with ``ts_event <= until``. It stops
  early after the *message* (the records up to the next ``F_LAST``) in which one of our orders
  filled, and returns that time and the fills. ``handle(cmd)`` first applies the tape up to
  ``cmd.ts_ns`` (events at exactly that time come first), returning any fills this causes
  ahead of the command's own reports.
* **Passive fills** (reported ``MAKER`` at our price, ``queue_ahead`` = the estimate before
  the fill): a trade at our price by an aggressor of the other side takes the queue ahead,
  then fills us (partially if it is short); a trade *through* our price (a sell printing below
  our bid, a buy above our ask) fills the whole order; so does the opposite side's best
  reaching our price (checked at message ends, when the book is consistent). Several of our
  orders at one price fill in our own time priority.
* **Taking liquidity.** A marketable order walks the replayed levels best first at their
  prices, up to its limit: FOK fills completely or is rejected, post-only is rejected if it
  would take, a market order's remainder is cancelled, an IOC's too; a limit order's remainder
  rests at the back of its level (``queue_ahead`` = the level's quantity). Our own resting
  orders are not contra liquidity (the venue never self-matches).
* **What our trades do to the replayed depth.** The tape's ``SET_LEVEL`` records are absolute
  quantities recorded without us, so our trades can have no lasting effect on the replay
  (hftbacktest's choice, ``depletion="none"``: every order sees the full recorded depth).
  The default ``depletion="until_update"`` remembers what we took from each level and hides it
  until the tape next sets that level (or clears its side): two orders in a row cannot take the
  same lots, and once the tape moves on the recorded depth is back.
* **Halts.** While the last ``HALT`` event says halted (or quoting only), new orders and
  price/size-up modifications are rejected with reason ``"halted"`` and nothing fills (trades
  printed during the halt are ignored); cancels and size-downs still work.
* **Modify** keeps the queue position on a size-down at the same price; a size-up or a price
  change goes to the back of the queue (a price change re-enters the order and may trade).
* **Impact hook.** With ``price_shift`` (a function of time in ns → ticks) the venue presents
  every replayed price as ``price + shift``: quotes, fills and our orders' prices are in shifted
  ticks, the book itself stays in recorded ticks (absolute ``SET_LEVEL`` updates would corrupt
  a shifted copy). The shift is evaluated at the start of each ``advance`` and ``handle`` call
  (at the venue's time then) and held constant in between: the granularity is the session's
  decision points. When it changes, each resting order keeps its shifted price, so it now sits
  at another recorded level: it joins that level at the back, and if the opposite side now
  crosses it (the market moved through it) it trades at its own price against the crossing
  levels, as far as their depth goes (``docs/impact.md``, rules 5 and 6).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from execsim.book import _l2_kernels as _bk
from execsim.book.l2 import L2Book
from execsim.core.errors import ConfigError
from execsim.data.schema import EVENT_DTYPE
from execsim.model.enums import LiquiditySide, OrderType, Side, TimeInForce, TradingStatus
from execsim.model.instrument import Instrument
from execsim.venues import _l2_venue_kernels as _k
from execsim.venues.base import (
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    Quote,
    ReportKind,
    SubmitOrder,
    VenueCommand,
    lit_order_problem,
)
from execsim.venues.queue_models import QueueModel, QueueModelConfig, RiskAverseQueue, queue_model_from_config

__all__ = ["Depletion", "L2ReplayVenue", "RestingOrder"]

Depletion = Literal["until_update", "none"]

_FILL_CAP: Final = 256
_EMPTY_OUT: Final = np.zeros((0, _bk.NB), np.int64)
_R_HALTED: Final = "halted"
_R_POST_ONLY: Final = "post-only order would take liquidity"
_R_FOK: Final = "fill-or-kill order cannot be filled completely"
_R_MARKET_REST: Final = "market order remainder cancelled: no contra liquidity"
_R_IOC_REST: Final = "immediate-or-cancel remainder cancelled"
_R_USER: Final = "cancelled by request"
_R_UNKNOWN: Final = "unknown order id"
# constants read on every call, bound once
_M_BASE: Final = _bk.M_BASE
_M_BEST_BID: Final = _bk.M_BEST_BID
_M_BEST_ASK: Final = _bk.M_BEST_ASK
_M_STATUS: Final = _bk.M_STATUS
_NO_BID: Final = _bk.NO_BID
_NO_ASK: Final = _bk.NO_ASK
_V_NOV: Final = _k.V_NOV
_HALTED: Final = TradingStatus.HALTED.code
_QUOTING: Final = TradingStatus.QUOTING.code


@dataclass(frozen=True, slots=True, kw_only=True)
class RestingOrder:
    """One of our orders resting at the venue, with its queue estimate.

    ``price`` is in the venue's (shifted) ticks; ``level_qty`` is the recorded quantity of its
    price level (without us); ``queue_ahead`` the queue model's estimate of the lots ahead.
    """

    order_id: int
    side: Side
    price: int
    leaves_qty: int
    queue_ahead: float
    level_qty: int


class _ReplayBook(L2Book):
    """The venue's L2 book: the compiled loop replaces its state tuple, this lets it do so."""

    def _adopt(self, state: tuple[np.ndarray, ...]) -> None:
        self._state = state

    @property
    def _rejects(self) -> np.ndarray:
        return self._rej


class L2ReplayVenue:
    """A lit venue replaying an L2 tape, with queue-model fills for our resting orders.

    Parameters
    ----------
    batches
        Canonical event arrays (``EVENT_DTYPE``) in stream order, e.g. ``feed.batches()``.
        Consumed lazily, once.
    instrument
        The instrument the tape is in (ticks and lots).
    name
        The venue's name in reports (default: the instrument's venue).
    queue_model
        A :class:`~execsim.venues.queue_models.QueueModel` or its config (default:
        :class:`~execsim.venues.queue_models.RiskAverseQueue`).
    depletion
        ``"until_update"`` (default) or ``"none"``: see the module docstring.
    price_shift
        Optional impact hook, ``shift(t_ns) -> ticks`` added to every replayed price.
    window
        Initial dense window of the book, in ticks (it grows and moves as needed).

    Examples
    --------
    >>> from execsim.data.synthetic import default_instrument, iter_synthetic_l2
    >>> v = L2ReplayVenue(iter_synthetic_l2(seed=1, n_events=20_000), default_instrument())
    >>> _ = v.advance(v.first_ts())
    >>> q = v.quote()
    >>> q.bid_px < q.ask_px
    True
    """

    def __init__(
        self,
        batches: Iterable[np.ndarray],
        instrument: Instrument,
        *,
        name: str | None = None,
        queue_model: QueueModel | QueueModelConfig | None = None,
        depletion: Depletion = "until_update",
        price_shift: Callable[[int], int] | None = None,
        window: int = 1 << 12,
    ) -> None:
        if not isinstance(instrument, Instrument):
            raise ConfigError(f"instrument must be an Instrument, got {type(instrument).__name__}")
        if depletion not in ("until_update", "none"):
            raise ConfigError(f"depletion must be 'until_update' or 'none', got {depletion!r}")
        if queue_model is None:
            queue_model = RiskAverseQueue()
        elif isinstance(queue_model, QueueModelConfig):
            queue_model = queue_model_from_config(queue_model)
        elif not isinstance(queue_model, QueueModel):
            raise ConfigError(
                f"queue_model must be a QueueModel or QueueModelConfig, got {type(queue_model).__name__}"
            )
        self.name: str = name if name is not None else instrument.venue
        self.instrument: Instrument = instrument
        self.queue_model: QueueModel = queue_model
        self.depletion: Depletion = depletion
        self._price_shift = price_shift
        self._shift = 0
        self._book = _ReplayBook(window=window)
        self._S: tuple[np.ndarray, ...] = self._book.state
        self._rej = self._book._rejects
        self._batches: Iterator[np.ndarray] = iter(batches)
        self._ev: np.ndarray = np.zeros(0, EVENT_DTYPE)
        self._ts: np.ndarray = self._ev["ts_event"]
        self._n_ev = 0
        self._i = 0
        self._exhausted = False
        self._now = 0
        self._QP = queue_model.params()
        cap = 16
        self._OI = np.zeros((cap, _k.NO), np.int64)
        self._QA = np.zeros(cap, np.float64)
        self._OV = np.zeros((16, 3), np.int64)
        self._VS = np.zeros(_k.N_VS, np.int64)
        self._F = np.zeros((_FILL_CAP, _k.NF), np.int64)
        self._FQ = np.zeros(_FILL_CAP, np.float64)
        self._rows: dict[int, int] = {}
        self._seen: set[int] = set()
        self._prio = 0

    # -- the Venue protocol ------------------------------------------------------------------
    @property
    def now(self) -> int:
        """Venue time (ns): the last tape time applied, or the last time advanced to."""
        return self._now

    def quote(self) -> Quote:
        """The replayed best bid and offer now, in the venue's (shifted) ticks.

        Lots we took and that the tape has not re-set since are not shown
        (``depletion="until_update"``); a level we emptied is skipped.
        """
        bp, bq = self._best(1)
        ap, aq = self._best(-1)
        s = self._shift
        return Quote(bp + s if bq else 0, bq, ap + s if aq else 0, aq)

    def advance(self, until_ns: int) -> tuple[int, list[ExecutionReport]]:
        """Replay the tape up to ``until_ns`` (inclusive); stop early after a message that filled us.

        Returns ``(time reached, fill reports)``; without fills the time reached is ``until_ns``
        (or ``now`` when ``until_ns`` lies in the past, which replays what is left at ``now``).
        """
        until = int(until_ns)
        if until < self._now:
            until = self._now
        if self._price_shift is not None:
            reps = self._update_shift(self._now)
            if reps:
                return self._now, reps
        VS = self._VS
        n_rows = len(self._rows)
        VS[_k.V_NROWS] = n_rows
        if self._F.shape[0] < 2 * n_rows + _FILL_CAP:
            # one event fills each order at most once and the loop stops while n_rows rows are
            # still free, so no fill can ever be dropped for want of room
            self._F = np.zeros((2 * n_rows + _FILL_CAP, _k.NF), np.int64)
            self._FQ = np.zeros(2 * n_rows + _FILL_CAP, np.float64)
        kernel = _k.venue_advance
        while True:
            if self._i >= self._n_ev and not self._next_batch():
                break
            S = self._S
            i, code = kernel(
                S[0], S[1], S[2], S[3], S[4], S[5], S[6],
                self._ev, self._i, until,
                self._OI, self._QA, VS, self._QP, self._OV, self._F, self._FQ, self._rej, _EMPTY_OUT,
            )  # fmt: skip
            self._i = i
            if VS[_k.V_NEED]:
                self._fix_book()
            if code == _k.C_FILLED or code == _k.C_REACHED:
                break
        if VS[_k.V_NFILL]:
            ts = int(VS[_k.V_TS])
            if ts > self._now:
                self._now = ts
            return self._now, self._collect_fills()
        self._now = until
        return until, []

    def handle(self, command: VenueCommand) -> list[ExecutionReport]:
        """Apply a command at ``command.ts_ns``; return the reports (tape fills up to then first)."""
        t = command.ts_ns
        pre: list[ExecutionReport] = []
        if t > self._now or self._tape_due(t):
            while True:
                _, reps = self.advance(t)  # without fills it replays everything up to t
                if not reps:
                    break
                pre += reps
        if self._price_shift is not None:
            pre += self._update_shift(self._now)
        cls = type(command)
        if cls is SubmitOrder:
            out = self._submit(command)  # type: ignore[arg-type]
        elif cls is CancelOrder:
            out = self._cancel(command)  # type: ignore[arg-type]
        elif cls is ModifyOrder:
            out = self._modify(command)  # type: ignore[arg-type]
        else:
            raise TypeError(f"not a venue command: {command!r}")
        return pre + out if pre else out

    # -- extras --------------------------------------------------------------------------------
    @property
    def book(self) -> L2Book:
        """The replayed book, in recorded ticks (no shift, no depletion, without our orders)."""
        return self._book

    @property
    def shift(self) -> int:
        """The price shift (ticks) in force since the last ``advance``/``handle`` call."""
        return self._shift

    @property
    def exhausted(self) -> bool:
        """Whether the whole tape has been replayed."""
        return self._exhausted and self._i >= self._n_ev

    @property
    def stats(self) -> dict[str, int]:
        """Counters: tape events replayed, events that touched our orders, open orders."""
        return {
            "events": int(self._VS[_k.V_EVENTS]),
            "relevant_events": int(self._VS[_k.V_RELEVANT]),
            "open_orders": len(self._rows),
            "overlay_levels": int(self._VS[_k.V_NOV]),
        }

    def first_ts(self) -> int:
        """``ts_event`` of the next tape event not yet replayed (``now`` when the tape is done)."""
        if self._i >= self._n_ev and not self._next_batch():
            return self._now
        return int(self._ts[self._i])

    def open_orders(self) -> list[RestingOrder]:
        """Our resting orders, oldest first, with their queue estimates."""
        OI, s = self._OI, self._shift
        rows = sorted(self._rows.values(), key=lambda r: int(OI[r, _k.O_PRIO]))
        return [
            RestingOrder(
                order_id=int(OI[r, _k.O_ID]),
                side=Side.from_code(int(OI[r, _k.O_SIDE])),
                price=int(OI[r, _k.O_PRICE]) + s,
                leaves_qty=int(OI[r, _k.O_LEAVES]),
                queue_ahead=float(self._QA[r]),
                level_qty=int(OI[r, _k.O_LVL]),
            )
            for r in rows
        ]

    def __repr__(self) -> str:
        return (
            f"L2ReplayVenue(name={self.name!r}, now={self._now}, queue_model={self.queue_model!r}, "
            f"open_orders={len(self._rows)})"
        )

    # -- tape ------------------------------------------------------------------------------------
    def _next_batch(self) -> bool:
        while not self._exhausted:
            try:
                ev = next(self._batches)
            except StopIteration:
                self._exhausted = True
                break
            if not isinstance(ev, np.ndarray) or ev.dtype != EVENT_DTYPE or ev.ndim != 1:
                got = getattr(ev, "dtype", type(ev).__name__)
                raise TypeError(f"{self.name}: tape batches must be 1-D EVENT_DTYPE arrays, got {got}")
            if ev.shape[0]:
                self._ev = np.ascontiguousarray(ev)
                self._ts = self._ev["ts_event"]
                self._n_ev = self._ev.shape[0]
                self._i = 0
                return True
        return False

    def _tape_due(self, t: int) -> bool:
        """Whether a tape event with ``ts_event <= t`` is still to be replayed."""
        if self._i >= self._n_ev and not self._next_batch():
            return False
        return bool(self._ts[self._i] <= t)

    def _fix_book(self) -> None:
        """Grow or move the book's arrays as the compiled loop asked, and hand them to the book."""
        VS = self._VS
        self._S = _k.fix_state(self._S, int(VS[_k.V_NEED]))
        VS[_k.V_NEED] = 0
        self._book._adopt(self._S)

    # -- book reads (recorded ticks) ----------------------------------------------------------
    def _level(self, side: int, price: int) -> int:
        """Recorded quantity at (side, price); reads the dense window directly when it can."""
        st = self._S
        W = st[1] if side == 1 else st[2]
        j = price - int(st[0][_M_BASE])
        if 0 <= j < W.shape[0]:
            return int(W[j])
        return int(_bk.l2_qty_at(st, side, price))

    def _taken(self, side: int, price: int) -> int:
        OV = self._OV
        for j in range(int(self._VS[_V_NOV])):
            if OV[j, 0] == side and OV[j, 1] == price:
                return int(OV[j, 2])
        return 0

    def _effective(self, side: int, price: int) -> int:
        q = self._level(side, price)
        if q and self._VS[_V_NOV]:
            q = max(q - self._taken(side, price), 0)
        return q

    def _best_raw(self, side: int) -> int | None:
        """Best recorded price of a side (ignoring depletion), None when the side is empty."""
        M = self._S[0]
        if side == 1:
            p = int(M[_M_BEST_BID])
            return None if p == _NO_BID else p
        p = int(M[_M_BEST_ASK])
        return None if p == _NO_ASK else p

    def _levels(self, side: int) -> Iterator[tuple[int, int]]:
        """(price, effective qty) of one side, best first, skipping levels we emptied."""
        best = self._best_raw(side)
        if best is None:
            return
        q = self._effective(side, best)
        if q:
            yield best, q
        k = 8
        done = 1
        while True:
            bpx, bq, apx, aq = _bk.l2_top(self._S, k)
            px, qs = (bpx, bq) if side == 1 else (apx, aq)
            for j in range(done, k):
                if qs[j] <= 0:
                    return
                p = int(px[j])
                e = int(qs[j]) - (self._taken(side, p) if self._VS[_V_NOV] else 0)
                if e > 0:
                    yield p, e
            done = k
            k *= 4

    def _best(self, side: int) -> tuple[int, int]:
        best = self._best_raw(side)
        if best is None:
            return 0, 0
        if not self._VS[_V_NOV]:
            return best, self._level(side, best)
        for p, q in self._levels(side):
            return p, q
        return 0, 0

    def _halted(self) -> bool:
        st = self._S[0][_M_STATUS]
        return st in (_HALTED, _QUOTING)

    # -- reports ------------------------------------------------------------------------------------
    def _rep(self, order_id: int, kind: ReportKind, **kw: object) -> ExecutionReport:
        return ExecutionReport(ts_ns=self._now, venue=self.name, order_id=order_id, kind=kind, **kw)  # type: ignore[arg-type]

    def _collect_fills(self) -> list[ExecutionReport]:
        VS, s, name = self._VS, self._shift, self.name
        n = int(VS[_k.V_NFILL])
        VS[_k.V_NFILL] = 0
        out = []
        # one conversion to Python ints per call instead of one numpy read per field
        for (_, oid, px, qty, leaves, ts, _), qa in zip(
            self._F[:n].tolist(), self._FQ[:n].tolist(), strict=True
        ):
            out.append(
                ExecutionReport(
                    ts_ns=ts,
                    venue=name,
                    order_id=oid,
                    kind=ReportKind.FILL,
                    price=px + s,
                    qty=qty,
                    leaves_qty=leaves,
                    liquidity=LiquiditySide.MAKER,
                    queue_ahead=round(qa),
                )
            )
            if leaves <= 0 and oid in self._rows:
                self._remove(oid)
        return out

    # -- our orders ---------------------------------------------------------------------------------
    def _remove(self, order_id: int) -> None:
        rows = self._rows
        row = rows.pop(order_id)
        last = len(rows)  # rows are 0..n-1: move the last one into the hole
        if row != last:
            OI = self._OI
            OI[row] = OI[last]
            self._QA[row] = self._QA[last]
            rows[int(OI[row, _k.O_ID])] = row
        # rows >= len(rows) are never read (the kernel gets the count), so no need to zero them

    def _rest(self, order_id: int, side: int, raw_price: int, qty: int, post_only: bool) -> None:
        n = len(self._rows)
        if n >= self._OI.shape[0]:
            cap = 2 * self._OI.shape[0]
            OI = np.zeros((cap, _k.NO), np.int64)
            OI[:n] = self._OI[:n]
            QA = np.zeros(cap, np.float64)
            QA[:n] = self._QA[:n]
            self._OI, self._QA = OI, QA
        self._prio += 1
        lvl = self._level(side, raw_price)
        # columns: id, side, price, leaves, lvl, pend, prio, live, cleared, post (see _k.O_*)
        self._OI[n] = (order_id, side, raw_price, qty, lvl, 0, self._prio, 1, 0, int(post_only))
        # we join the back of the queue: everything resting there now is ahead of us
        self._QA[n] = lvl if not (lvl and self._VS[_V_NOV]) else self._effective(side, raw_price)
        self._rows[order_id] = n

    def _requeue(self, row: int) -> None:
        """Send a row to the back of its (possibly new) level."""
        OI = self._OI
        side, price = int(OI[row, _k.O_SIDE]), int(OI[row, _k.O_PRICE])
        self._prio += 1
        OI[row, _k.O_PRIO] = self._prio
        OI[row, _k.O_LVL] = self._level(side, price)
        OI[row, _k.O_PEND] = 0
        OI[row, _k.O_CLEARED] = 0
        self._QA[row] = float(self._effective(side, price))

    def _take(
        self, order_id: int, side: int, raw_limit: int | None, qty: int, leaves: int
    ) -> tuple[list[ExecutionReport], int]:
        """Walk the contra levels up to the limit; return (TAKER fills, lots left)."""
        fills: list[ExecutionReport] = []
        contra = -side
        for p, q in self._levels(contra):
            if qty <= 0:
                break
            if raw_limit is not None and (p > raw_limit if side == 1 else p < raw_limit):
                break
            x = min(q, qty)
            qty -= x
            leaves -= x
            if self.depletion == "until_update":
                self._deplete(contra, p, x)
            fills.append(
                self._rep(
                    order_id,
                    ReportKind.FILL,
                    price=p + self._shift,
                    qty=x,
                    leaves_qty=leaves,
                    liquidity=LiquiditySide.TAKER,
                )
            )
        return fills, qty

    def _available(self, side: int, raw_limit: int | None, need: int) -> int:
        got = 0
        for p, q in self._levels(-side):
            if raw_limit is not None and (p > raw_limit if side == 1 else p < raw_limit):
                break
            got += q
            if got >= need:
                break
        return got

    def _deplete(self, side: int, price: int, qty: int) -> None:
        n = int(self._VS[_k.V_NOV])
        OV = self._OV
        for j in range(n):
            if OV[j, 0] == side and OV[j, 1] == price:
                OV[j, 2] += qty
                return
        if n >= OV.shape[0]:
            grown = np.zeros((2 * OV.shape[0], 3), np.int64)
            grown[:n] = OV[:n]
            self._OV = OV = grown
        OV[n, 0], OV[n, 1], OV[n, 2] = side, price, qty
        self._VS[_k.V_NOV] = n + 1

    def _marketable(self, side: int, raw_limit: int | None) -> bool:
        return self._available(side, raw_limit, 1) > 0

    def _submit(self, o: SubmitOrder) -> list[ExecutionReport]:
        oid = o.order_id

        def reject(why: str) -> list[ExecutionReport]:
            return [self._rep(oid, ReportKind.REJECTED, reason=why)]

        why = lit_order_problem(
            o,
            self._seen,
            venue="the L2 replay venue",
            type_reason="midpoint peg orders are not supported by the L2 replay venue",
        )
        if why is not None:
            return reject(why)
        if self._halted():
            return reject(_R_HALTED)
        side = 1 if o.side is Side.BUY else -1
        raw = None if o.price is None else o.price - self._shift
        # depletion only ever hides lots, so an order that does not cross the recorded best
        # cannot take anything: the common passive case needs no walk of the book
        contra = self._best_raw(-side)
        crosses = contra is not None and (raw is None or (contra <= raw if side == 1 else contra >= raw))
        if crosses and o.post_only and self._marketable(side, raw):
            return reject(_R_POST_ONLY)
        if o.tif is TimeInForce.FOK and (not crosses or self._available(side, raw, o.qty) < o.qty):
            return reject(_R_FOK)
        self._seen.add(oid)
        out = [self._rep(oid, ReportKind.ACCEPTED, leaves_qty=o.qty)]
        left = o.qty
        if crosses:
            fills, left = self._take(oid, side, raw, o.qty, o.qty)
            out += fills
        if left:
            if o.order_type is OrderType.MARKET:
                out.append(self._rep(oid, ReportKind.CANCELLED, qty=left, reason=_R_MARKET_REST))
            elif o.tif in (TimeInForce.IOC, TimeInForce.FOK):
                out.append(self._rep(oid, ReportKind.CANCELLED, qty=left, reason=_R_IOC_REST))
            else:
                assert raw is not None  # a limit order (checked above)
                self._rest(oid, side, raw, left, o.post_only)
        return out

    def _cancel(self, c: CancelOrder) -> list[ExecutionReport]:
        oid = c.order_id
        row = self._rows.get(oid)
        if row is None:
            return [self._rep(oid, ReportKind.REJECTED, reason=_R_UNKNOWN)]
        leaves = int(self._OI[row, _k.O_LEAVES])
        if c.qty is not None and c.qty <= 0:
            return [self._rep(oid, ReportKind.REJECTED, reason=f"cancel quantity must be > 0, got {c.qty}")]
        if c.qty is None or c.qty >= leaves:
            self._remove(oid)
            return [self._rep(oid, ReportKind.CANCELLED, qty=leaves, leaves_qty=0, reason=_R_USER)]
        self._OI[row, _k.O_LEAVES] = leaves - c.qty  # a size-down keeps the queue position
        return [self._rep(oid, ReportKind.CANCELLED, qty=c.qty, leaves_qty=leaves - c.qty, reason=_R_USER)]

    def _modify(self, m: ModifyOrder) -> list[ExecutionReport]:
        oid = m.order_id
        row = self._rows.get(oid)
        if row is None:
            return [self._rep(oid, ReportKind.REJECTED, reason=_R_UNKNOWN)]
        OI = self._OI
        side = int(OI[row, _k.O_SIDE])
        leaves = int(OI[row, _k.O_LEAVES])
        old_raw = int(OI[row, _k.O_PRICE])
        new_qty = leaves if m.qty is None else int(m.qty)
        if new_qty <= 0:
            return [self._rep(oid, ReportKind.REJECTED, reason=f"quantity must be > 0, got {new_qty}")]
        new_raw = old_raw if m.price is None else int(m.price) - self._shift
        if new_raw == old_raw and new_qty <= leaves:
            OI[row, _k.O_LEAVES] = new_qty  # size-down (or nothing): keeps its place
            return [self._rep(oid, ReportKind.MODIFIED, price=new_raw + self._shift, leaves_qty=new_qty)]
        if self._halted():
            return [self._rep(oid, ReportKind.REJECTED, reason=_R_HALTED)]
        if new_raw == old_raw:  # size-up: back of the queue
            OI[row, _k.O_LEAVES] = new_qty
            self._requeue(row)
            return [self._rep(oid, ReportKind.MODIFIED, price=new_raw + self._shift, leaves_qty=new_qty)]
        post_only = bool(OI[row, _k.O_POST])
        if post_only and self._marketable(side, new_raw):
            return [self._rep(oid, ReportKind.REJECTED, reason=_R_POST_ONLY)]
        # a price change re-enters the order: it may trade, then rests at the back of its level
        self._remove(oid)
        out = [self._rep(oid, ReportKind.MODIFIED, price=new_raw + self._shift, leaves_qty=new_qty)]
        fills, left = self._take(oid, side, new_raw, new_qty, new_qty)
        out += fills
        if left:
            self._rest(oid, side, new_raw, left, post_only)
        return out

    # -- impact hook ----------------------------------------------------------------------------------
    def _update_shift(self, t: int) -> list[ExecutionReport]:
        """Re-evaluate the price shift at ``t``; move our orders to their new recorded levels.

        An order the new shift leaves marketable (the market moved through it) trades at its own
        price against the levels that cross it, best first, as far as their depth goes (maker);
        the rest stays at the back of its new level (docs/impact.md, rules 5 and 6).
        """
        if self._price_shift is None:
            return []
        s = int(self._price_shift(t))
        old = self._shift
        if s == old:
            return []
        self._shift = s
        OI = self._OI
        out: list[ExecutionReport] = []
        done: list[int] = []
        for oid, row in sorted(self._rows.items(), key=lambda kv: int(OI[kv[1], _k.O_PRIO])):
            qa_before = round(float(self._QA[row]))
            OI[row, _k.O_PRICE] += old - s  # the same shifted price is another recorded level
            self._requeue(row)
            side, raw = int(OI[row, _k.O_SIDE]), int(OI[row, _k.O_PRICE])
            leaves = int(OI[row, _k.O_LEAVES])
            got = 0
            for p, q in self._levels(-side):
                if (p > raw if side == 1 else p < raw) or got == leaves:
                    break
                x = min(q, leaves - got)
                got += x
                if self.depletion == "until_update":
                    self._deplete(-side, p, x)
            if got:
                OI[row, _k.O_LEAVES] = leaves - got
                out.append(
                    self._rep(
                        oid,
                        ReportKind.FILL,
                        price=raw + s,
                        qty=got,
                        leaves_qty=leaves - got,
                        liquidity=LiquiditySide.MAKER,
                        queue_ahead=qa_before,
                    )
                )
                if got == leaves:
                    done.append(oid)
        for oid in done:
            self._remove(oid)
        return out
