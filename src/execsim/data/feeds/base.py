"""What every feed handler shares: a streaming interface and an honest account of skips."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from execsim.model.instrument import Instrument

__all__ = ["DEFAULT_BATCH", "FeedHandler", "FeedReport"]

DEFAULT_BATCH = 65_536
"""Default number of events per yielded batch: bounded memory whatever the file length."""


@dataclass(slots=True)
class FeedReport:
    """What a handler read, emitted and skipped. Nothing is dropped without being counted here.

    Attributes
    ----------
    source
        The file(s) read.
    rows_read
        Input rows (lines, records) consumed.
    events_emitted
        Canonical events emitted, by :class:`~execsim.model.EventKind` value.
    skipped
        Input rows not turned into events, by reason (e.g. ``"diff older than snapshot"``).
    """

    source: str
    rows_read: int = 0
    events_emitted: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def total_emitted(self) -> int:
        """Number of events emitted."""
        return sum(self.events_emitted.values())

    @property
    def total_skipped(self) -> int:
        """Number of input rows skipped, all reasons together."""
        return sum(self.skipped.values())

    def summary(self) -> str:
        """One line: rows read, events emitted, and each skip reason with its count."""
        skips = ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items())) or "none"
        return (
            f"{self.source}: rows={self.rows_read} events={self.total_emitted} "
            f"skipped={self.total_skipped} ({skips})"
        )


@runtime_checkable
class FeedHandler(Protocol):
    """A source of canonical events.

    ``batches()`` yields arrays of :data:`~execsim.data.schema.EVENT_DTYPE` of at most
    ``batch_size`` records, in stream order, holding only O(batch) memory beyond the state the
    format itself requires (e.g. a live-order table for L3 logs). ``report`` is complete once
    the iterator is exhausted.
    """

    instrument: Instrument

    @property
    def report(self) -> FeedReport:
        """What the handler has read, emitted and skipped so far."""
        ...

    def batches(self, batch_size: int = DEFAULT_BATCH) -> Iterator[np.ndarray]:
        """Yield canonical event batches."""
        ...
