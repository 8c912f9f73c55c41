"""The L2 (price-level) book: aggregate quantity per (side, price), compiled event replay.

State lives in numpy arrays and every operation runs in numba-compiled kernels (see
:mod:`execsim.book._l2_kernels` for the layout and the cost model); this class owns the state
tuple and turns it into Python values.

Event semantics (canonical events, :mod:`execsim.data.schema`)
--------------------------------------------------------------
SET_LEVEL
    The aggregate quantity at (``side``, ``price``) becomes ``qty`` (absolute, not a delta);
    ``qty`` 0 removes the level (removing an absent level is harmless and counted in
    ``stats["absent_deletes"]``).
CLEAR
    Empties one side (``side`` ±1) or both (``side`` 0), e.g. before a snapshot.
TRADE
    Changes nothing (an L2 book learns about executions from the following SET_LEVELs).
HALT
    Changes nothing in the book; :attr:`L2Book.trading_status` records the status.
ADD / CANCEL / DELETE / EXECUTE
    Order-level kinds an L2 book cannot use: skipped, counted in ``stats["ignored_events"]``.

Invalid events (a SET_LEVEL with ``side`` 0 or a negative ``qty``, a price beyond ±2**62 ticks, a
CLEAR with a side other than -1/0/1) never raise from the compiled loop: they are skipped and
counted in ``stats["rejected_events"]``; the first 64 are listed in :attr:`L2Book.rejected`.

Window choice
-------------
Levels near the touch live in a dense array of ``window`` ticks per side (O(1) updates), levels
outside it in small sorted overflow arrays (never dropped). When the touch leaves the window
the window re-centres on the mid, doubling its width while the spread is wider than half of it
(up to 4M ticks). So a REST snapshot's 1000th level or a stub quote at 1 USDT costs a binary
search, and nothing is lost.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from execsim.book import _l2_kernels as _k
from execsim.data.schema import EVENT_DTYPE, F_LAST
from execsim.model.enums import Side, TradingStatus

__all__ = ["BBO_DTYPE", "L2Book"]

BBO_DTYPE: Final = np.dtype(
    [
        ("seq", np.int64),
        ("bid_px", np.int64),
        ("bid_qty", np.int64),
        ("ask_px", np.int64),
        ("ask_qty", np.int64),
    ]
)
"""Best bid and offer after an event: prices in ticks, quantities in lots (0, 0 when empty)."""

_STATUS_OF_CODE = {s.code: s for s in TradingStatus}
_REJECT_REASON = {
    _k.REJ_SIDE: "invalid side",
    _k.REJ_NEG_QTY: "negative qty",
    _k.REJ_PRICE: "price out of range",
}
_STATS: Final = {
    "events_applied": _k.M_APPLIED,
    "set_level": _k.M_SET_LEVEL,
    "clears": _k.M_CLEAR,
    "trades": _k.M_TRADE,
    "halts": _k.M_HALT,
    "ignored_events": _k.M_IGNORED,
    "rejected_events": _k.M_REJECTED,
    "bid_levels": _k.M_LV_BID,
    "ask_levels": _k.M_LV_ASK,
    "overflow_bid_levels": _k.M_N_OB,
    "overflow_ask_levels": _k.M_N_OA,
    "overflow_ops": _k.M_OVERFLOW_OPS,
    "absent_deletes": _k.M_ABSENT_DELETES,
    "recentres": _k.M_RECENTRES,
    "window_grows": _k.M_GROWS,
    "crossed_at_last": _k.M_CROSSED,
    "scan_steps": _k.M_SCAN_STEPS,
}
_EMPTY_OUT = np.zeros((0, _k.NB), np.int64)


def _side_code(side: int | Side) -> int:
    code = side.code if isinstance(side, Side) else int(side)
    if code not in (1, -1):
        raise ValueError(f"side must be Side.BUY/Side.SELL or 1/-1, got {side!r}")
    return code


class L2Book:
    """A price-level book (aggregate quantity per side and price) with compiled replay.

    Parameters
    ----------
    window
        Initial width of the dense price window, in ticks. The window follows the touch and
        doubles when the spread needs it, so this only sizes the first allocation; levels
        outside it are kept in sorted overflow arrays.

    Notes
    -----
    Prices are integer ticks and quantities integer lots. The compiled entry points
    (:func:`execsim.book._l2_kernels.l2_apply` and friends) take and return the state tuple
    exposed as :attr:`state`, so other numba code can drive the same book without Python calls.

    Examples
    --------
    >>> import numpy as np
    >>> from execsim.data.schema import EVENT_DTYPE, K_SET_LEVEL, F_LAST
    >>> ev = np.zeros(2, EVENT_DTYPE)
    >>> ev["kind"] = K_SET_LEVEL
    >>> ev["side"] = [1, -1]
    >>> ev["price"] = [100, 101]
    >>> ev["qty"] = [5, 7]
    >>> ev["flags"][1] = F_LAST
    >>> book = L2Book()
    >>> book.apply(ev)
    2
    >>> book.best_bid(), book.best_ask()
    ((100, 5), (101, 7))
    """

    def __init__(self, *, window: int = 1 << 16) -> None:
        window = int(window)
        if not 1 <= window <= _k.MAX_WINDOW:
            raise ValueError(f"window must be between 1 and {_k.MAX_WINDOW} ticks, got {window}")
        self._state: tuple[np.ndarray, ...] = _k.new_l2_state(window)
        self._rej = np.zeros((_k.REJ_CAP, 2), np.int64)

    # -- replay ---------------------------------------------------------------------------
    @staticmethod
    def _check(events: np.ndarray) -> np.ndarray:
        if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
            got = getattr(events, "dtype", type(events).__name__)
            raise TypeError(f"expected a numpy array of EVENT_DTYPE, got {got}")
        if events.ndim != 1:
            raise ValueError(f"expected a 1-D event array, got shape {events.shape}")
        return events

    def apply(self, events: np.ndarray) -> int:
        """Apply canonical events in order; return the number applied.

        SET_LEVEL, CLEAR, TRADE and HALT count as applied; other kinds are counted in
        ``stats["ignored_events"]`` and invalid events in ``stats["rejected_events"]``.
        """
        ev = self._check(events)
        self._state, applied, _ = _k.l2_apply(self._state, ev, _EMPTY_OUT, False, self._rej)
        return int(applied)

    def replay_bbo(self, events: np.ndarray) -> np.ndarray:
        """Apply events and return the best bid and offer after each event carrying ``F_LAST``.

        Returns
        -------
        numpy.ndarray
            Structured array of :data:`BBO_DTYPE`, one row per applied event (SET_LEVEL, CLEAR,
            TRADE, HALT) carrying ``F_LAST``, in order (ignored and rejected events give no
            row); an empty side reads price 0, qty 0.
        """
        ev = self._check(events)
        n_last = int(np.count_nonzero(ev["flags"] & F_LAST))
        out = np.zeros((n_last, _k.NB), np.int64)
        self._state, _, n_out = _k.l2_apply(self._state, ev, out, True, self._rej)
        res = np.empty(int(n_out), BBO_DTYPE)
        for col, name in enumerate(BBO_DTYPE.names or ()):
            res[name] = out[:n_out, col]
        return res

    # -- queries --------------------------------------------------------------------------
    def top(self, n_levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(bid_px, bid_qty, ask_px, ask_qty)`` of the best ``n_levels`` per side.

        Best first; missing levels are padded with price 0 and quantity 0.
        """
        if n_levels < 0:
            raise ValueError(f"n_levels must be >= 0, got {n_levels}")
        bpx, bq, apx, aq = _k.l2_top(self._state, int(n_levels))
        return bpx, bq, apx, aq

    def best_bid(self) -> tuple[int, int] | None:
        """Best bid as ``(price, qty)``, or None when the bid side is empty."""
        px = int(self._state[0][_k.M_BEST_BID])
        if px == _k.NO_BID:
            return None
        return px, int(_k.l2_qty_at(self._state, 1, px))

    def best_ask(self) -> tuple[int, int] | None:
        """Best ask as ``(price, qty)``, or None when the ask side is empty."""
        px = int(self._state[0][_k.M_BEST_ASK])
        if px == _k.NO_ASK:
            return None
        return px, int(_k.l2_qty_at(self._state, -1, px))

    def qty_at(self, side: int | Side, price: int) -> int:
        """Aggregate quantity (lots) at ``price`` (ticks) on ``side``; 0 when there is no level."""
        return int(_k.l2_qty_at(self._state, _side_code(side), int(price)))

    @property
    def trading_status(self) -> TradingStatus | None:
        """Status of the last HALT event (None until one is seen)."""
        code = int(self._state[0][_k.M_STATUS])
        return _STATUS_OF_CODE.get(code)

    @property
    def stats(self) -> dict[str, int]:
        """Counters: events applied by kind, ignored / rejected events, levels, window moves."""
        M = self._state[0]
        out = {name: int(M[slot]) for name, slot in _STATS.items()}
        out["window"] = int(self._state[1].shape[0])
        return out

    @property
    def rejected(self) -> list[tuple[int, str]]:
        """The first 64 rejected events as ``(seq, reason)``."""
        n = min(int(self._state[0][_k.M_REJECTED]), _k.REJ_CAP)
        return [(int(s), _REJECT_REASON.get(int(r), f"code {int(r)}")) for s, r in self._rej[:n]]

    @property
    def state(self) -> tuple[np.ndarray, ...]:
        """The kernel state tuple ``(M, BW, AW, BOP, BOQ, AOP, AOQ)`` (see ``_l2_kernels``)."""
        return self._state

    def __repr__(self) -> str:
        return (
            f"L2Book(best_bid={self.best_bid()}, best_ask={self.best_ask()}, window={self.stats['window']})"
        )
