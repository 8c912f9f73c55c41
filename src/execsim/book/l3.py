"""The L3 (order-by-order) book: price-time priority, compiled event replay.

State lives in numpy arrays (see :mod:`execsim.book._l3_kernels` for the layout) and every
operation runs in numba-compiled kernels; this class owns the arrays, grows them when a
kernel asks for room, and turns kernel state into Python records.

Event semantics (canonical events, :mod:`execsim.data.schema`)
--------------------------------------------------------------
ADD
    Appends ``order_id`` at the back of the (side, price) queue.
CANCEL / EXECUTE
    Remove ``qty`` lots from ``order_id``; it leaves the book when nothing is left.
DELETE
    Removes ``order_id`` whatever its quantity (the event's ``qty`` is informational).
TRADE
    Changes nothing visible (counted in ``stats["trades"]`` / ``stats["traded_qty"]``).
SET_LEVEL
    Sets the level's total visible quantity to ``qty``: the *anonymous* quantity becomes
    ``qty`` − (known orders at the level). When the known orders alone exceed ``qty``, they
    are trimmed from the back of the queue (newest first); each trimmed order counts in
    ``stats["reveal_trims"]``.
CLEAR
    Empties one side (``side`` ±1) or both (``side`` 0).
HALT
    Changes nothing in the book; :attr:`L3Book.trading_status` records the status.

Orders unknown to the book (they rested before the data window, or outside a recorded depth
window, as in LOBSTER files): a CANCEL / DELETE / EXECUTE whose ``order_id`` is unknown takes
``qty`` from the *anonymous* quantity at (side, price), which sits at the head of the queue
(it arrived before any order the book saw). Each such event counts in
``stats["unknown_order_events"]``; when the anonymous quantity (or a known order) is smaller
than ``qty``, the reduction is clamped at zero and counted in ``stats["inconsistent_reductions"]``.

Invalid events never raise from the compiled loop: an ADD whose ``order_id`` is already
resting, with ``qty <= 0`` or ``side`` 0, a CANCEL / EXECUTE with ``qty <= 0``, a SET_LEVEL with
``side`` 0, a CLEAR with a side other than -1/0/1 and an unknown kind are skipped and counted in
``stats["rejected_events"]``; the first 64 are listed, with their seq and reason, in
:attr:`L3Book.rejected`.
"""

from __future__ import annotations

import numpy as np

from execsim.book import _l3_kernels as _k
from execsim.book.orders import LevelView, OrderView
from execsim.core.errors import BookError
from execsim.data.schema import EVENT_DTYPE
from execsim.model.enums import Side, TradingStatus

__all__ = ["L3Book"]

_STATUS_OF_CODE = {s.code: s for s in TradingStatus}
_MIN_LEVELS = 256


def _pow2_at_least(n: int) -> int:
    return 1 << max(4, (int(n) - 1).bit_length())


class L3Book:
    """An order-by-order book with price-time priority and compiled event replay.

    Parameters
    ----------
    capacity
        Initial number of order slots; the book grows automatically (doubling) when more
        orders rest at once, so this only sizes the first allocation.

    Notes
    -----
    Price levels are kept per side in arrays sorted by price with the best level last, so
    sparse and wide price ranges (LOBSTER's $0.0001 units, stub quotes far from the touch)
    cost nothing extra; orders live in pre-allocated slot arrays, each level's queue is a
    doubly linked FIFO list, and order ids map to slots through an open-addressing hash table.
    See the module docstring for the semantics of each event kind.
    """

    def __init__(self, *, capacity: int = 1 << 16) -> None:
        if capacity < 1:
            raise BookError(f"L3Book capacity must be >= 1 (got {capacity!r})")
        cap = int(capacity)
        lcap = max(_MIN_LEVELS, min(cap, 1 << 12))
        self._O = np.zeros((cap, _k.NOF), dtype=np.int64)
        self._L = np.zeros((lcap, _k.NLF), dtype=np.int64)
        self._SK = np.zeros((2, lcap), dtype=np.int64)
        self._SL = np.zeros((2, lcap), dtype=np.int64)
        self._M = np.zeros(_k.META_SIZE, dtype=np.int64)
        self._REJ = np.zeros((_k.REJ_CAP, 2), dtype=np.int64)
        self._M[_k.M_OFREE] = -1
        self._M[_k.M_LFREE] = -1
        self._M[_k.M_STATUS] = -1
        self._M[_k.M_PH : _k.M_PH + 2] = -1
        self._M[_k.M_PT : _k.M_PT + 2] = -1
        self._H = np.empty((0, 2), dtype=np.int64)
        self._rehash(_pow2_at_least(4 * cap))

    # ------------------------------------------------------------------ capacity
    def _rehash(self, size: int) -> None:
        self._H = np.empty((size, 2), dtype=np.int64)
        _k.h_rebuild(self._O, self._H, self._M, size.bit_length() - 1)

    def _grow(self, code: int) -> None:
        """Make room after a kernel stopped with a ``NEED_*`` code."""
        if code == _k.NEED_ORDERS:
            old = self._O
            self._O = np.zeros((2 * old.shape[0], _k.NOF), dtype=np.int64)
            self._O[: old.shape[0]] = old
            self._rehash(max(self._H.shape[0], _pow2_at_least(4 * self._O.shape[0])))
        elif code == _k.NEED_HASH:
            # mostly tombstones: rebuild at the same size; else double
            live = int(self._M[_k.M_HLIVE])
            size = self._H.shape[0]
            self._rehash(size if 4 * (live + 1) <= size else 2 * size)
        elif code == _k.NEED_LEVELS:
            old_l = self._L
            n = 2 * old_l.shape[0]
            self._L = np.zeros((n, _k.NLF), dtype=np.int64)
            self._L[: old_l.shape[0]] = old_l
            for name in ("_SK", "_SL"):
                old = getattr(self, name)
                new = np.zeros((2, n), dtype=np.int64)
                new[:, : old.shape[1]] = old
                setattr(self, name, new)
        else:  # pragma: no cover - kernels only return the codes above
            raise BookError(f"L3 kernel returned an unknown status code {code!r}")

    @staticmethod
    def _check(events: np.ndarray) -> None:
        if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
            got = events.dtype if isinstance(events, np.ndarray) else type(events).__name__
            raise BookError(f"expected a numpy array of EVENT_DTYPE, got {got}")
        if events.ndim != 1:
            raise BookError(f"expected a 1-d event array, got shape {events.shape}")

    # ------------------------------------------------------------------ replay
    def apply(self, events: np.ndarray) -> None:
        """Apply canonical events in order (one compiled loop, growing pools as needed).

        Parameters
        ----------
        events
            A 1-d array of :data:`~execsim.data.schema.EVENT_DTYPE`.
        """
        self._check(events)
        cols = (
            events["kind"],
            events["side"],
            events["price"],
            events["qty"],
            events["order_id"],
            events["seq"],
        )
        i = 0
        n = len(events)
        while i < n:
            i, code = _k.apply_events(
                self._O, self._H, self._L, self._SK, self._SL, self._M, self._REJ, *cols, i
            )
            if code != _k.OK:
                self._grow(code)

    def replay_top(
        self, events: np.ndarray, n_levels: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Apply events one by one and record the top of the book after each.

        Parameters
        ----------
        events
            A 1-d array of :data:`~execsim.data.schema.EVENT_DTYPE`.
        n_levels
            Number of visible price levels per side to record.

        Returns
        -------
        bid_px, bid_qty, ask_px, ask_qty
            ``int64`` arrays of shape ``(len(events), n_levels)``: row ``i`` is the book after
            event ``i``, best level first; an empty level has price 0 and quantity 0.
        """
        self._check(events)
        if n_levels < 1:
            raise BookError(f"n_levels must be >= 1 (got {n_levels!r})")
        n = len(events)
        out = tuple(np.zeros((n, n_levels), dtype=np.int64) for _ in range(4))
        cols = (
            events["kind"],
            events["side"],
            events["price"],
            events["qty"],
            events["order_id"],
            events["seq"],
        )
        i = 0
        while i < n:
            i, code = _k.replay_top_events(
                self._O,
                self._H,
                self._L,
                self._SK,
                self._SL,
                self._M,
                self._REJ,
                *cols,
                i,
                int(n_levels),
                *out,
            )
            if code != _k.OK:
                self._grow(code)
        return out[0], out[1], out[2], out[3]

    # ------------------------------------------------------------------ queries
    def top(self, n_levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(bid_px, bid_qty, ask_px, ask_qty)`` of the best ``n_levels`` levels now.

        Each is an ``int64`` array of shape ``(n_levels,)``, best first; empty levels are 0.
        """
        if n_levels < 1:
            raise BookError(f"n_levels must be >= 1 (got {n_levels!r})")
        out = tuple(np.zeros((1, n_levels), dtype=np.int64) for _ in range(4))
        _k.write_top(self._L, self._SL, self._M, int(n_levels), 0, *out)
        return out[0][0], out[1][0], out[2][0], out[3][0]

    def _best(self, si: int) -> tuple[int, int] | None:
        n = int(self._M[_k.M_NB + si])
        if n == 0:
            return None
        lv = int(self._SL[si, n - 1])
        return int(self._L[lv, _k.L_PRICE]), int(self._L[lv, _k.L_QTY])

    def best_bid(self) -> tuple[int, int] | None:
        """Return ``(price, qty)`` of the best bid level, or ``None`` if there is no bid."""
        return self._best(0)

    def best_ask(self) -> tuple[int, int] | None:
        """Return ``(price, qty)`` of the best ask level, or ``None`` if there is no ask."""
        return self._best(1)

    def order(self, order_id: int) -> OrderView | None:
        """Return the resting order ``order_id`` with its queue position, or ``None``."""
        o = int(_k.h_find(self._H, self._M, int(order_id)))
        if o < 0:
            return None
        row = self._O[o]
        ahead_qty, ahead_n = _k.queue_position(self._O, self._L, o)
        price = int(row[_k.O_PRICE])
        if row[_k.O_FLAGS] & _k.FL_PEG:
            ok, mid = _k.mid_price(self._L, self._SL, self._M)
            price = int(mid) if ok else 0
        return OrderView(
            order_id=int(row[_k.O_ID]),
            side=Side.from_code(int(row[_k.O_SIDE])),
            price=price,
            qty=int(row[_k.O_QTY]),
            hidden_qty=int(row[_k.O_HIDDEN]),
            qty_ahead=int(ahead_qty),
            orders_ahead=int(ahead_n),
        )

    def level(self, side: Side, price: int) -> LevelView | None:
        """Return the visible level at (``side``, ``price``) with its queue, or ``None``."""
        code = Side(side).code
        if code == 0:
            raise BookError(f"a level needs side BUY or SELL (got {side!r})")
        lv = int(_k.lvl_find(self._SK, self._SL, self._M, code, int(price)))
        if lv < 0:
            return None
        out = np.zeros((int(self._L[lv, _k.L_NORD]), 2), dtype=np.int64)
        n = _k.level_orders(self._O, self._L, lv, out)
        return LevelView(
            side=Side.from_code(code),
            price=int(price),
            qty=int(self._L[lv, _k.L_QTY]),
            anonymous_qty=int(self._L[lv, _k.L_ANON]),
            orders=tuple((int(a), int(b)) for a, b in out[:n]),
        )

    def n_levels(self, side: Side) -> int:
        """Number of visible price levels on ``side``."""
        code = Side(side).code
        if code == 0:
            raise BookError(f"n_levels needs side BUY or SELL (got {side!r})")
        return int(self._M[_k.M_NB + (0 if code > 0 else 1)])

    @property
    def stats(self) -> dict[str, int]:
        """Counters since construction.

        ``events_applied``, one counter per kind (``adds``, ``cancels``, ``deletes``,
        ``executes``, ``trades``, ``set_levels``, ``clears``, ``halts``),
        ``unknown_order_events``, ``inconsistent_reductions``, ``reveal_trims``,
        ``rejected_events``, ``executed_qty`` (lots removed by EXECUTE) and ``traded_qty``
        (lots of TRADE prints).
        """
        return {name: int(self._M[i]) for name, i in _k.STAT_NAMES.items()}

    @property
    def rejected(self) -> list[tuple[int, str]]:
        """``(seq, reason)`` of the first 64 rejected events (``stats`` has the full count)."""
        n = min(int(self._M[_k.S_REJECTED]), _k.REJ_CAP)
        return [(int(s), _k.REJECT_REASONS[int(r)]) for s, r in self._REJ[:n]]

    @property
    def trading_status(self) -> TradingStatus | None:
        """Status of the last HALT event, ``None`` if none was seen (or its code is unknown)."""
        return _STATUS_OF_CODE.get(int(self._M[_k.M_STATUS]))

    @property
    def capacity(self) -> int:
        """Current number of order slots (grows automatically)."""
        return int(self._O.shape[0])

    def __len__(self) -> int:
        """Number of resting orders the book knows (anonymous quantity is not counted)."""
        return int(self._M[_k.M_NORD])

    def copy(self) -> L3Book:
        """Return an independent deep copy (e.g. to replay a counterfactual from here)."""
        new = L3Book.__new__(L3Book)
        for name in ("_O", "_H", "_L", "_SK", "_SL", "_M", "_REJ"):
            setattr(new, name, getattr(self, name).copy())
        return new

    def __repr__(self) -> str:
        return (
            f"L3Book(orders={len(self)}, bid={self.best_bid()}, ask={self.best_ask()}, "
            f"events={int(self._M[_k.S_EVENTS])})"
        )
