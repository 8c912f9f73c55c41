"""Turn an order-by-order (L3) stream into the price-level (L2) stream a depth feed would carry.

Each L3 event that changes a level becomes a ``SET_LEVEL`` with the level's new aggregate
quantity; an execution of a resting order becomes a ``TRADE`` print (aggressor side = the
opposite of the resting side) followed by that ``SET_LEVEL``, as depth-plus-trades feeds
publish them. Hidden trades, CLEAR and HALT records pass through. ``F_LAST`` marks the last
record produced from each input record that carried it, so message boundaries are kept.

Aggregates are kept from the L3 records' own quantities (ADD +qty; CANCEL, DELETE, EXECUTE
−qty; SET_LEVEL sets), which is exact for streams whose DELETE carries the remaining
quantity, as LOBSTER's do; a level never goes below zero (a reduction larger than the level
is clamped and counted).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from numba import types
from numba.typed import Dict

from execsim.core.jit import njit
from execsim.data.schema import (
    EVENT_DTYPE,
    F_LAST,
    K_ADD,
    K_CANCEL,
    K_CLEAR,
    K_DELETE,
    K_EXECUTE,
    K_SET_LEVEL,
    K_TRADE,
)

__all__ = ["L3ToL2"]

_OFFSET = np.int64(1) << np.int64(62)


@njit(cache=True)
def _key(side: np.int64, price: np.int64) -> np.int64:
    return price * 2 + (1 if side > 0 else 0)


@njit(cache=True)
def _aggregate(ev, levels, out, clamps):  # type: ignore[no-untyped-def]
    n = 0
    for i in range(len(ev)):
        e = ev[i]
        kind = e["kind"]
        last = e["flags"] & F_LAST
        if kind == K_CLEAR:
            side = e["side"]
            keys = list(levels.keys())
            for k in keys:
                if side == 0 or ((k & 1) == 1) == (side > 0):
                    del levels[k]
            out[n] = e
            n += 1
            continue
        if kind == K_TRADE or (
            kind != K_ADD
            and kind != K_CANCEL
            and kind != K_DELETE
            and kind != K_EXECUTE
            and kind != K_SET_LEVEL
        ):
            out[n] = e
            n += 1
            continue
        side = np.int64(e["side"])
        price = np.int64(e["price"])
        k = _key(side, price)
        cur = levels.get(k, np.int64(0))
        if kind == K_SET_LEVEL:
            new = np.int64(e["qty"])
        elif kind == K_ADD:
            new = cur + e["qty"]
        else:
            new = cur - e["qty"]
            if new < 0:
                clamps[0] += 1
                new = np.int64(0)
        if new > 0:
            levels[k] = new
        elif k in levels:
            del levels[k]
        if kind == K_EXECUTE:
            out[n] = e
            out[n]["kind"] = K_TRADE
            out[n]["side"] = -e["side"]
            out[n]["flags"] = e["flags"] & ~F_LAST
            n += 1
        out[n] = e
        out[n]["kind"] = K_SET_LEVEL
        out[n]["qty"] = new
        out[n]["order_id"] = 0
        out[n]["flags"] = (e["flags"] & ~F_LAST) | last
        n += 1
    return n


class L3ToL2:
    """Streaming L3 → L2 converter; keeps the aggregate book between batches.

    Examples
    --------
    >>> conv = L3ToL2()
    >>> l2_batches = [conv.convert(b) for b in l3_batches]  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self._levels = Dict.empty(key_type=types.int64, value_type=types.int64)
        self._clamps = np.zeros(1, np.int64)
        self._seq = 0

    @property
    def clamped_reductions(self) -> int:
        """Reductions larger than their level (clamped at zero)."""
        return int(self._clamps[0])

    def convert(self, events: np.ndarray) -> np.ndarray:
        """Convert one batch (in stream order); ``seq`` is renumbered for the L2 stream."""
        if events.dtype != EVENT_DTYPE:
            raise TypeError(f"expected EVENT_DTYPE events, got {events.dtype}")
        buf: np.ndarray = np.zeros(2 * len(events), EVENT_DTYPE)
        n = _aggregate(events, self._levels, buf, self._clamps)
        out: np.ndarray = buf[:n]
        out["seq"] = np.arange(self._seq, self._seq + n)
        self._seq += n
        return out

    def stream(self, batches: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Convert a whole stream lazily."""
        for b in batches:
            yield self.convert(b)
