"""Vectorised checks of canonical event batches, shared by every feed handler and writer.

A batch is checked in a handful of numpy operations; the first offending record is reported
with its 1-based row (``row_offset + index + 1``, so a caller maps batch positions to file
rows by choosing ``row_offset``) and the offending value.

Rules (see :mod:`execsim.data.schema` for the meaning of each field):

* ``kind`` is a known :class:`~execsim.model.EventKind` code (1..8);
* ``side`` is ``-1``, ``0`` or ``1``; ``ADD`` and ``SET_LEVEL`` need a real side (±1);
* ``qty`` is never negative; ``ADD``, ``CANCEL``, ``EXECUTE`` and ``TRADE`` need ``qty > 0``;
  ``HALT`` carries a :class:`~execsim.model.TradingStatus` code (0, 1 or 2);
* ``ts_event`` never decreases and ``seq`` strictly increases, within the batch and across
  batches (:class:`EventValidator` carries the last values from one batch to the next).
"""

from __future__ import annotations

import numpy as np

from execsim.core.errors import ParseError, TimeOrderError
from execsim.data.schema import (
    EVENT_DTYPE,
    K_ADD,
    K_CANCEL,
    K_EXECUTE,
    K_HALT,
    K_SET_LEVEL,
    K_TRADE,
)
from execsim.model.enums import EventKind

__all__ = ["EventValidator", "validate_events"]

_MAX_KIND = max(k.code for k in EventKind)
_POSITIVE_QTY_KINDS = np.array([K_ADD, K_CANCEL, K_EXECUTE, K_TRADE], dtype=np.uint8)
_SIDED_KINDS = np.array([K_ADD, K_SET_LEVEL], dtype=np.uint8)


def _first(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def validate_events(
    events: np.ndarray,
    *,
    source: str,
    row_offset: int = 0,
    prev_ts_event: int | None = None,
    prev_seq: int | None = None,
) -> None:
    """Check one batch of canonical events; raise on the first bad record.

    Parameters
    ----------
    events
        An array of :data:`~execsim.data.schema.EVENT_DTYPE`.
    source
        The file or stream name, used in error messages.
    row_offset
        Rows before this batch: record ``i`` is reported as row ``row_offset + i + 1``.
    prev_ts_event, prev_seq
        The last ``ts_event`` and ``seq`` of the previous batch of the same stream, if any.

    Raises
    ------
    ParseError
        An unknown kind code, a bad side, a negative or zero quantity where it must be
        positive, or a HALT status code out of range.
    TimeOrderError
        ``ts_event`` decreases or ``seq`` does not increase.
    TypeError
        ``events`` is not an array of ``EVENT_DTYPE``.
    """
    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE:
        got = getattr(events, "dtype", type(events).__name__)
        raise TypeError(f"{source}: expected an array of EVENT_DTYPE, got {got}")
    n = events.shape[0]
    if n == 0:
        return
    kind = events["kind"]
    side = events["side"]
    qty = events["qty"]

    def fail(err: type[ParseError | TimeOrderError], i: int, what: str, value: object) -> None:
        raise err(what, source=source, row=row_offset + i + 1, value=value)

    i = _first((kind < 1) | (kind > _MAX_KIND))
    if i is not None:
        fail(ParseError, i, f"unknown event kind code (expected 1..{_MAX_KIND})", int(kind[i]))
    i = _first((side < -1) | (side > 1))
    if i is not None:
        fail(ParseError, i, "side must be -1, 0 or 1", int(side[i]))
    i = _first(np.isin(kind, _SIDED_KINDS) & (side == 0))
    if i is not None:
        fail(ParseError, i, f"{EventKind.from_code(int(kind[i])).name} needs side 1 or -1", int(side[i]))
    i = _first(qty < 0)
    if i is not None:
        fail(ParseError, i, "negative quantity", int(qty[i]))
    i = _first(np.isin(kind, _POSITIVE_QTY_KINDS) & (qty == 0))
    if i is not None:
        fail(ParseError, i, f"{EventKind.from_code(int(kind[i])).name} needs qty > 0", int(qty[i]))
    i = _first((kind == K_HALT) & (qty > 2))
    if i is not None:
        fail(ParseError, i, "HALT qty must be a trading-status code 0, 1 or 2", int(qty[i]))

    ts = events["ts_event"]
    if prev_ts_event is not None and ts[0] < prev_ts_event:
        fail(TimeOrderError, 0, f"ts_event goes backwards from {prev_ts_event}", int(ts[0]))
    i = _first(ts[1:] < ts[:-1])
    if i is not None:
        fail(TimeOrderError, i + 1, f"ts_event goes backwards from {int(ts[i])}", int(ts[i + 1]))
    seq = events["seq"]
    if prev_seq is not None and seq[0] <= prev_seq:
        fail(TimeOrderError, 0, f"seq does not increase after {prev_seq}", int(seq[0]))
    i = _first(seq[1:] <= seq[:-1])
    if i is not None:
        fail(TimeOrderError, i + 1, f"seq does not increase after {int(seq[i])}", int(seq[i + 1]))


class EventValidator:
    """Validate the successive batches of one stream, carrying time and seq across batches.

    Parameters
    ----------
    source
        The file or stream name used in error messages.

    Examples
    --------
    >>> from execsim.data.schema import empty_events
    >>> check = EventValidator("demo")
    >>> ev = empty_events(2); ev["kind"] = 7; ev["seq"] = [0, 1]
    >>> check(ev)          # rows 1..2
    >>> check.rows
    2
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.rows = 0
        self.last_ts_event: int | None = None
        self.last_seq: int | None = None

    def __call__(self, events: np.ndarray, *, row_offset: int | None = None) -> None:
        """Check the next batch; ``row_offset`` defaults to the rows checked so far."""
        validate_events(
            events,
            source=self.source,
            row_offset=self.rows if row_offset is None else row_offset,
            prev_ts_event=self.last_ts_event,
            prev_seq=self.last_seq,
        )
        if events.shape[0]:
            self.last_ts_event = int(events["ts_event"][-1])
            self.last_seq = int(events["seq"][-1])
        self.rows += int(events.shape[0])
