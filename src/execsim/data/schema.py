"""The canonical market event: one flat record that every feed handler emits.

It is close to what LOBSTER, ITCH, Databento MBO and hftbacktest carry, and holds both L3
(order-by-order) and L2 (price-level) information. It exists as a numpy structured dtype
(:data:`EVENT_DTYPE`, for compiled kernels) and an Arrow schema (:data:`ARROW_SCHEMA`, for
Parquet); the two have the same fields, in the same order, with the same types.

Fields
------
ts_event : int64
    Venue time, nanoseconds since the epoch, UTC: when the venue says the event happened.
ts_recv : int64
    Receive time, nanoseconds UTC: when an agent could first see the event (the capture
    clock for recorded feeds; equal to ``ts_event`` when the source has no receive time).
seq : int64
    Position of the record in its stream, strictly increasing (0, 1, 2, … for a file).
    With ``ts_event`` it orders events from one source totally.
kind : uint8
    :class:`~execsim.model.EventKind` code, see the table below.
side : int8
    ``1`` buy / bid, ``-1`` sell / ask, ``0`` unknown or not applicable.
price : int64
    Price in ticks of the instrument (``Instrument.tick_size``).
qty : int64
    Quantity in lots of the instrument (``Instrument.lot_size``); meaning depends on ``kind``.
order_id : int64
    Venue order reference for L3 kinds; trade id for ``TRADE`` where the venue has one; the
    venue's last update id for ``SET_LEVEL`` where the venue has one; else 0.
flags : uint16
    Bit set, see ``F_*`` below.

Kinds (code: meaning of side / price / qty / order_id)
-------------------------------------------------------
1 ADD : a new resting order ``order_id`` of ``qty`` at ``price`` on ``side``.
2 CANCEL : partial cancel; ``qty`` lots removed from ``order_id`` (which stays).
3 DELETE : ``order_id`` leaves the book; ``qty`` is the quantity it had left (informational).
4 EXECUTE : resting ``order_id`` on ``side`` (the passive side) is executed for ``qty`` at ``price``.
5 TRADE : a trade print that does not touch a visible resting order of the stream (hidden
    execution, auction cross, an exchange trade feed); ``side`` is the aggressor side, 0 if unknown.
6 SET_LEVEL : L2; the aggregate quantity at (``side``, ``price``) is now ``qty`` (0 removes it).
7 CLEAR : the book is emptied (``side`` 0: both sides, else that side) before a snapshot.
8 HALT : trading status change; ``qty`` holds a :class:`~execsim.model.TradingStatus` code
    (0 halted, 1 quoting, 2 trading).

A record whose ``flags`` lacks :data:`F_LAST` is part of a batch that the venue published as one
message (a Binance depth diff, a snapshot): a book is consistent only after the batch's last
record, so consumers sample books on ``F_LAST`` boundaries.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa

from execsim.model.enums import EventKind

__all__ = [
    "ARROW_SCHEMA",
    "EVENT_DTYPE",
    "FIELD_NAMES",
    "F_CROSS",
    "F_HIDDEN",
    "F_LAST",
    "F_REVEAL",
    "F_SNAPSHOT",
    "F_SYNTHETIC",
    "K_ADD",
    "K_CANCEL",
    "K_CLEAR",
    "K_DELETE",
    "K_EXECUTE",
    "K_HALT",
    "K_SET_LEVEL",
    "K_TRADE",
    "empty_events",
    "events_from_arrow",
    "events_to_arrow",
]

EVENT_DTYPE: Final = np.dtype(
    [
        ("ts_event", np.int64),
        ("ts_recv", np.int64),
        ("seq", np.int64),
        ("kind", np.uint8),
        ("side", np.int8),
        ("price", np.int64),
        ("qty", np.int64),
        ("order_id", np.int64),
        ("flags", np.uint16),
    ]
)
"""numpy structured dtype of a canonical event (unaligned, 51 bytes)."""

FIELD_NAMES: Final = tuple(EVENT_DTYPE.names or ())

ARROW_SCHEMA: Final = pa.schema(
    [
        pa.field("ts_event", pa.int64(), nullable=False),
        pa.field("ts_recv", pa.int64(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("kind", pa.uint8(), nullable=False),
        pa.field("side", pa.int8(), nullable=False),
        pa.field("price", pa.int64(), nullable=False),
        pa.field("qty", pa.int64(), nullable=False),
        pa.field("order_id", pa.int64(), nullable=False),
        pa.field("flags", pa.uint16(), nullable=False),
    ]
)
"""Arrow schema of a canonical event; Parquet files carry the instrument in schema metadata."""

# Kind codes for compiled kernels (the single mapping is EventKind.code).
K_ADD: Final = EventKind.ADD.code
K_CANCEL: Final = EventKind.CANCEL.code
K_DELETE: Final = EventKind.DELETE.code
K_EXECUTE: Final = EventKind.EXECUTE.code
K_TRADE: Final = EventKind.TRADE.code
K_SET_LEVEL: Final = EventKind.SET_LEVEL.code
K_CLEAR: Final = EventKind.CLEAR.code
K_HALT: Final = EventKind.HALT.code

F_LAST: Final = 1 << 0
"""Last record of a venue message / batch: the book is consistent after it."""
F_SNAPSHOT: Final = 1 << 1
"""Part of a snapshot (an initial book, a REST depth snapshot, a periodic full-book message)."""
F_HIDDEN: Final = 1 << 2
"""Execution of a hidden (non-displayed) order."""
F_CROSS: Final = 1 << 3
"""Auction cross trade."""
F_REVEAL: Final = 1 << 4
"""A price level learnt from a depth file as it entered the recorded window (LOBSTER)."""
F_SYNTHETIC: Final = 1 << 5
"""Generated by execsim (synthetic data), not recorded from a venue."""


def empty_events(n: int) -> np.ndarray:
    """Return a zero-filled array of ``n`` canonical events."""
    return np.zeros(n, dtype=EVENT_DTYPE)


def events_to_arrow(events: np.ndarray) -> pa.Table:
    """Convert a canonical event array to an Arrow table with :data:`ARROW_SCHEMA`."""
    if events.dtype != EVENT_DTYPE:
        raise TypeError(f"expected an array of EVENT_DTYPE, got dtype {events.dtype}")
    cols = [
        pa.array(np.ascontiguousarray(events[name]), type=ARROW_SCHEMA.field(name).type)
        for name in FIELD_NAMES
    ]
    return pa.Table.from_arrays(cols, schema=ARROW_SCHEMA)


def events_from_arrow(table: pa.Table | pa.RecordBatch) -> np.ndarray:
    """Convert an Arrow table or batch with the canonical columns to an event array."""
    missing = [n for n in FIELD_NAMES if n not in table.schema.names]
    if missing:
        raise ValueError(f"not a canonical event table: missing column(s) {missing}")
    out = empty_events(table.num_rows)
    for name in FIELD_NAMES:
        col = table.column(name)
        if col.null_count:
            raise ValueError(f"column {name!r} has {col.null_count} null value(s)")
        out[name] = col.to_numpy()
    return out
