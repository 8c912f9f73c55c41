"""Replay verification: stream a feed through a book and compare it with the venue's own depth.

:func:`verify_lobster` rebuilds a LOBSTER day in the compiled :class:`~execsim.book.l3.L3Book`
and checks, after every message, that the top ``L`` levels on both sides (price and size) equal
the orderbook row LOBSTER published for that message.

The check is not circular. The feed takes sizes from the orderbook file only for *reveals*:
levels that enter the top-L window from outside it (where the message file is silent) and
levels found gone when the window reaches them again. Every other level's size comes from
replaying messages — the snapshot, then ADD / CANCEL / DELETE / EXECUTE — so a wrong, missing or
extra message shows up as a mismatch at the rows that follow it, until the level it corrupted
leaves the window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from execsim.book.l3 import L3Book
from execsim.core.errors import BookError
from execsim.data.feeds.lobster import LobsterFeed, LobsterReport
from execsim.data.schema import F_LAST, F_SNAPSHOT
from execsim.model.enums import Side
from execsim.model.instrument import Instrument

__all__ = ["LevelMismatch", "LobsterVerifyResult", "compare_top_levels", "verify_lobster"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelMismatch:
    """One level where the rebuilt book differs from the expected depth.

    Attributes
    ----------
    row
        1-based row (message and orderbook files alike).
    side
        ``Side.BUY`` (bid) or ``Side.SELL`` (ask).
    level
        1-based depth level (1 = best).
    expected_price, expected_qty
        From the depth file, in ticks and lots (0, 0 for an empty level).
    got_price, got_qty
        From the rebuilt book, in ticks and lots (0, 0 for an empty level).
    """

    row: int
    side: Side
    level: int
    expected_price: int
    expected_qty: int
    got_price: int
    got_qty: int

    def describe(self, instrument: Instrument | None = None) -> str:
        """One line, with decimal prices when ``instrument`` is given."""

        def px(ticks: int) -> str:
            if ticks == 0:
                return "-"
            # fixed-point: a normalised Decimal would print 100 as 1E+2
            return f"{instrument.ticks_to_price(ticks).normalize():f}" if instrument else str(ticks)

        name = "bid" if self.side is Side.BUY else "ask"
        return (
            f"row {self.row} {name} level {self.level}: expected {self.expected_qty} @ "
            f"{px(self.expected_price)}, got {self.got_qty} @ {px(self.got_price)}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LobsterVerifyResult:
    """Outcome of :func:`verify_lobster`.

    Attributes
    ----------
    rows
        Orderbook rows compared (one per message).
    mismatches
        Rows where any compared level differs (price or size, either side).
    first_mismatches
        The first differing levels, in row order (at most ``max_details``).
    report
        The feed's report: rows, events by kind, message types, reveals.
    book_stats
        :attr:`L3Book.stats` at the end of the replay.
    instrument
        The instrument the prices and sizes are expressed in.
    levels
        Levels per side compared.
    elapsed_s
        Wall-clock seconds of the verification (reading, parsing, replay and comparison).
    """

    rows: int
    mismatches: int
    first_mismatches: tuple[LevelMismatch, ...]
    report: LobsterReport
    book_stats: dict[str, int]
    instrument: Instrument
    levels: int
    elapsed_s: float

    @property
    def ok(self) -> bool:
        """``True`` when every row matched."""
        return self.mismatches == 0

    @property
    def messages_per_second(self) -> float:
        """Messages verified per wall-clock second."""
        return self.rows / self.elapsed_s if self.elapsed_s > 0 else float("inf")

    def summary_line(self) -> str:
        """``rows=<n> mismatches=<k>``."""
        return f"rows={self.rows} mismatches={self.mismatches}"


def compare_top_levels(
    got: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    expected: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    first_row: int = 1,
    max_details: int = 10,
) -> tuple[np.ndarray, list[LevelMismatch]]:
    """Compare two stacks of top-of-book levels row by row (vectorised).

    Parameters
    ----------
    got, expected
        ``(bid_px, bid_qty, ask_px, ask_qty)``, each of shape ``(rows, levels)``, best level
        first, empty levels as price 0 and size 0.
    first_row
        Row number of the first row, for the details.
    max_details
        At most this many :class:`LevelMismatch` are returned.

    Returns
    -------
    bad_rows, details
        A boolean array (``True`` where a row differs) and the first differing levels.
    """
    shapes = {a.shape for a in (*got, *expected)}
    if len(shapes) != 1:
        raise BookError(f"top-of-book arrays have different shapes: {sorted(shapes)}")
    bid_diff = (got[0] != expected[0]) | (got[1] != expected[1])
    ask_diff = (got[2] != expected[2]) | (got[3] != expected[3])
    bad_rows = bid_diff.any(axis=1) | ask_diff.any(axis=1)
    details: list[LevelMismatch] = []
    if max_details > 0 and bad_rows.any():
        for i in np.flatnonzero(bad_rows):
            for side, diff, base in ((Side.BUY, bid_diff, 0), (Side.SELL, ask_diff, 2)):
                for lvl in np.flatnonzero(diff[i]):
                    details.append(
                        LevelMismatch(
                            row=first_row + int(i),
                            side=side,
                            level=int(lvl) + 1,
                            expected_price=int(expected[base][i, lvl]),
                            expected_qty=int(expected[base + 1][i, lvl]),
                            got_price=int(got[base][i, lvl]),
                            got_qty=int(got[base + 1][i, lvl]),
                        )
                    )
                    if len(details) >= max_details:
                        return bad_rows, details
    return bad_rows, details


def verify_lobster(
    message_path: str | Path,
    orderbook_path: str | Path,
    *,
    progress: Callable[[int], None] | None = None,
    max_details: int = 10,
    rows_per_chunk: int | None = None,
    **feed_kwargs: Any,
) -> LobsterVerifyResult:
    """Rebuild a LOBSTER day in the L3 book and compare it with every orderbook row.

    Parameters
    ----------
    message_path, orderbook_path
        The LOBSTER file pair (plain or gzip).
    progress
        Called with the number of rows just verified, after each chunk.
    max_details
        How many differing levels to keep in :attr:`LobsterVerifyResult.first_mismatches`.
    rows_per_chunk
        Rows read, replayed and compared at a time (bounded memory); the feed's default when
        ``None``.
    **feed_kwargs
        Passed to :class:`~execsim.data.feeds.lobster.LobsterFeed` (``symbol``, ``date``,
        ``tick_size``, ``lot_size``, ``tz``, ``venue``).

    Returns
    -------
    LobsterVerifyResult
        ``mismatches == 0`` means every row matched at every level, price and size.

    Raises
    ------
    DataError
        The files are malformed (named with file, row and value); nothing is compared then.
    """
    start = time.perf_counter()
    feed = LobsterFeed(message_path, orderbook_path, **feed_kwargs)
    levels = feed.levels
    book = L3Book()
    rows = 0
    mismatches = 0
    details: list[LevelMismatch] = []
    for chunk in feed.chunks(rows_per_chunk):
        top = book.replay_top(chunk.events, levels)
        flags = chunk.events["flags"]
        # one F_LAST per message; the snapshot's F_LAST is the state before message 1
        at = np.flatnonzero(((flags & F_LAST) != 0) & ((flags & F_SNAPSHOT) == 0))
        if len(at) != chunk.rows:  # pragma: no cover - the feed guarantees one per message
            raise BookError(f"rows {chunk.first_row}..: {len(at)} message boundaries for {chunk.rows} rows")
        got = (top[0][at], top[1][at], top[2][at], top[3][at])
        expected = (chunk.bid_px, chunk.bid_qty, chunk.ask_px, chunk.ask_qty)
        bad, found = compare_top_levels(
            got, expected, first_row=chunk.first_row, max_details=max_details - len(details)
        )
        details += found
        mismatches += int(bad.sum())
        rows += chunk.rows
        if progress is not None:
            progress(chunk.rows)
    return LobsterVerifyResult(
        rows=rows,
        mismatches=mismatches,
        first_mismatches=tuple(details),
        report=feed.report,
        book_stats=book.stats,
        instrument=feed.instrument,
        levels=levels,
        elapsed_s=time.perf_counter() - start,
    )
