"""The strategy's view of the market: a book that sees each event at its receive time.

Venues replay the tape at venue time (``ts_event``). The strategy sees the same tape later, at
``local_ts = ts_event + market-data delay`` (kept non-decreasing: a feed is FIFO), through its
own book. Advancing the view to a time applies, in one compiled call per batch, every event
whose ``local_ts`` is not later — no Python runs per event.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from execsim.book.l2 import L2Book
from execsim.book.l3 import L3Book
from execsim.data.schema import K_EXECUTE, K_TRADE
from execsim.execution.strategy import TradeInfo
from execsim.model.enums import Side
from execsim.venues.latency import LatencyModel

__all__ = ["TRADES_DTYPE", "MarketView"]

TRADES_DTYPE = np.dtype(
    [
        ("ts_event", np.int64),
        ("ts_local", np.int64),
        ("price", np.int64),
        ("qty", np.int64),
        ("side", np.int8),
    ]
)
"""Market trade prints seen by the view (recorded for TCA)."""


@dataclass(slots=True)
class _Batch:
    events: np.ndarray
    local_ts: np.ndarray
    trade_idx: np.ndarray
    pos: int = 0


class MarketView:
    """A book advanced at the strategy's receive time.

    Parameters
    ----------
    batches
        The event stream (a fresh iterator over the same data the venue replays), or ``None``
        for a live stream whose events the session pushes as a reactive venue makes them.
    book
        An empty :class:`L2Book` or :class:`L3Book` to maintain.
    md_latency
        The market-data latency model.
    """

    def __init__(
        self, batches: Iterator[np.ndarray] | None, book: L2Book | L3Book, md_latency: LatencyModel
    ) -> None:
        self.book = book
        self._it: Iterator[np.ndarray] = iter(()) if batches is None else batches
        self.live = batches is None  # events are pushed by the session as a live venue makes them
        self._latency = md_latency
        self._pending: deque[_Batch] = deque()
        self._carry = np.iinfo(np.int64).min  # running max of local_ts across batches
        self._exhausted_source = False
        self._trades: list[np.ndarray] = []
        self.events_applied = 0
        self.traded_volume = 0
        self.last_local_ts: int | None = None

    # -- reading ahead --------------------------------------------------------------------
    def push(self, ev: np.ndarray) -> None:
        """Append events made by a live venue (in time order) to the stream."""
        if len(ev):
            self._enqueue(ev)

    def _enqueue(self, ev: np.ndarray) -> None:
        delays = self._latency.delays(ev["ts_event"], ts_recv_ns=ev["ts_recv"])
        local = np.maximum.accumulate(np.maximum(ev["ts_event"] + delays, self._carry))
        self._carry = int(local[-1])
        trade_idx = np.flatnonzero((ev["kind"] == K_TRADE) | (ev["kind"] == K_EXECUTE))
        self._pending.append(_Batch(ev, local, trade_idx))

    def _load(self) -> bool:
        """Read one more batch from the source; False when it is exhausted (or, live, empty)."""
        if self._exhausted_source:
            return False
        for ev in self._it:
            if len(ev) == 0:
                continue
            self._enqueue(ev)
            return True
        self._exhausted_source = not self.live
        return False

    def _head(self) -> _Batch | None:
        while not self._pending or self._pending[0].pos >= len(self._pending[0].events):
            if self._pending:
                self._pending.popleft()
            if not self._pending and not self._load():
                return None
        return self._pending[0]

    @property
    def exhausted(self) -> bool:
        """True once every event of the stream has been applied (never, for a live stream)."""
        return self._head() is None and not self.live

    # -- applying -------------------------------------------------------------------------
    def _apply(self, b: _Batch, stop: int) -> None:
        if stop <= b.pos:
            return
        chunk = b.events[b.pos : stop]
        self.book.apply(chunk)
        lo, hi = np.searchsorted(b.trade_idx, [b.pos, stop])
        if hi > lo:
            idx = b.trade_idx[lo:hi]
            t = np.empty(len(idx), TRADES_DTYPE)
            t["ts_event"] = b.events["ts_event"][idx]
            t["ts_local"] = b.local_ts[idx]
            t["price"] = b.events["price"][idx]
            t["qty"] = b.events["qty"][idx]
            # an EXECUTE names the resting side; the aggressor is the other one
            side = b.events["side"][idx]
            t["side"] = np.where(b.events["kind"][idx] == K_EXECUTE, -side, side)
            self._trades.append(t)
            self.traded_volume += int(t["qty"].sum())
        self.events_applied += stop - b.pos
        self.last_local_ts = int(b.local_ts[stop - 1])
        b.pos = stop

    def advance_to(self, t_ns: int) -> None:
        """Apply every event with ``local_ts <= t_ns``."""
        while (b := self._head()) is not None:
            stop = int(np.searchsorted(b.local_ts, t_ns, side="right"))
            self._apply(b, max(stop, b.pos))
            if stop < len(b.events):
                return

    def next_trade_time(self) -> int | None:
        """Local time of the next trade print not yet applied (reads ahead as needed)."""
        i = 0
        while True:
            if i >= len(self._pending) and not self._load():
                return None
            b = self._pending[i]
            k = int(np.searchsorted(b.trade_idx, b.pos))
            if k < len(b.trade_idx):
                return int(b.local_ts[b.trade_idx[k]])
            i += 1

    def pop_trade(self) -> TradeInfo:
        """Apply events up to and including the next trade print; return that print."""
        while (b := self._head()) is not None:
            k = int(np.searchsorted(b.trade_idx, b.pos))
            if k < len(b.trade_idx):
                j = int(b.trade_idx[k])
                self._apply(b, j + 1)
                ev = b.events[j]
                return TradeInfo(
                    ts_event=int(ev["ts_event"]),
                    ts_recv=int(b.local_ts[j]),
                    price=int(ev["price"]),
                    qty=int(ev["qty"]),
                    side=Side.from_code(-int(ev["side"]) if ev["kind"] == K_EXECUTE else int(ev["side"])),
                )
            self._apply(b, len(b.events))
        raise LookupError("no trade print left in the stream")

    def trades(self) -> np.ndarray:
        """Every trade print applied so far."""
        if not self._trades:
            return np.empty(0, TRADES_DTYPE)
        if len(self._trades) > 1:
            self._trades = [np.concatenate(self._trades)]
        return self._trades[0]
