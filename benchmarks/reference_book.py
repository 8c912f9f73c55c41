"""A plain pure-Python L2 book: the baseline every compiled book is measured against.

It is what one would write first: one :class:`sortedcontainers.SortedDict` per side (a dict
from price to quantity, with its keys kept in price order), and a Python loop over the events.
Its semantics are those of :class:`execsim.book.l2.L2Book` for the kinds an L2 book uses:

* ``SET_LEVEL``: the quantity at (side, price) becomes ``qty``; 0 removes the level (removing an
  absent level is harmless);
* ``CLEAR``: empties one side (``side`` ±1) or both (``side`` 0);
* ``TRADE``, ``HALT`` and order-level kinds change nothing.

It also serves as an independent oracle: the benchmarks fail loudly if its final top of book
differs from the compiled books'.
"""

from __future__ import annotations

import numpy as np
from sortedcontainers import SortedDict

from execsim.data.schema import EVENT_DTYPE, K_CLEAR, K_SET_LEVEL

__all__ = ["ReferenceL2Book"]


class ReferenceL2Book:
    """Price-level book in pure Python (``SortedDict`` per side)."""

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()
        self.asks: SortedDict = SortedDict()

    def apply(self, events: np.ndarray) -> int:
        """Apply canonical events in order; return how many were read.

        The events are turned into Python tuples first (``tolist``), which is part of the cost
        of replaying numpy data in Python and so is inside any timing of this method.
        """
        if events.dtype != EVENT_DTYPE:
            raise TypeError(f"expected EVENT_DTYPE events, got {events.dtype}")
        bids, asks = self.bids, self.asks
        n = 0
        for _te, _tr, _seq, kind, side, price, qty, _oid, _flags in events.tolist():
            n += 1
            if kind == K_SET_LEVEL:
                book = bids if side == 1 else asks
                if qty:
                    book[price] = qty
                else:
                    book.pop(price, None)
            elif kind == K_CLEAR:
                if side != -1:
                    bids.clear()
                if side != 1:
                    asks.clear()
        return n

    def best_bid(self) -> tuple[int, int] | None:
        """Best bid as ``(price, qty)``, or None when the side is empty."""
        return tuple(self.bids.peekitem(-1)) if self.bids else None

    def best_ask(self) -> tuple[int, int] | None:
        """Best ask as ``(price, qty)``, or None when the side is empty."""
        return tuple(self.asks.peekitem(0)) if self.asks else None

    def top(self, n_levels: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The best ``n_levels`` levels per side as ``(price, qty)`` lists, best first."""
        bids = [tuple(self.bids.peekitem(-1 - i)) for i in range(min(n_levels, len(self.bids)))]
        asks = [tuple(self.asks.peekitem(i)) for i in range(min(n_levels, len(self.asks)))]
        return bids, asks
