"""Verify a Binance capture: rebuild the L2 book and compare it with the bookTicker stream.

The feed (:class:`~execsim.data.feeds.binance.BinanceFeed`) turns the REST snapshot and the
depth diffs into canonical events; :class:`~execsim.book.l2.L2Book` replays them; every
bookTicker whose book state the replay *exactly* reproduces is compared with the rebuilt best
bid and best ask, price and quantity.

Which bookTickers are checkable
-------------------------------
A bookTicker with update id ``u_b`` shows the book after update ``u_b``. The replay knows the
book exactly only at the update ids the feed delivers as states:

* the snapshot: the book at ``lastUpdateId`` ``L``;
* each applied diff ``[U_d, u_d]``: the book after ``u_d`` — and, since the next applied diff
  starts at ``U_{d+1}`` and the chain (spot ``U == prev u + 1``, futures ``pu == prev u``)
  proves that no update of this book lies in between, also at every id in
  ``[u_d, U_{d+1})``. For spot ``U_{d+1} = u_d + 1``, so that is ``u_d`` alone; futures ids
  are shared across symbols and jump, so the interval may be wider.

A bookTicker with ``u_b`` in one of those intervals is *checked*: the rebuilt best bid/ask
(price and quantity) must equal it. Any other bookTicker is *not checkable*, counted by reason:

``inside a conflated diff``
    ``U_d <= u_b < u_d`` for some diff: Binance merged the updates ``U_d..u_d`` into one
    message (100 ms on spot), so the book at ``u_b`` never existed in the replay.
``before the snapshot``
    ``u_b < L``: the book is unknown before the snapshot.
``after the last diff``
    ``u_b`` beyond the last applied diff when the capture ends.
``book out of sync (after a gap)``
    Between a gap (``on_gap="resync"``) and the next snapshot.
``state no longer retained``
    A bookTicker arriving so late that its state was dropped from the bounded history
    (the last 100,000 states are kept).

bookTickers are matched by update id, not by arrival: a bookTicker usually arrives before the
diff that contains its update, so undecided ones wait (bounded by the stream's own lag).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from execsim.book.l2 import L2Book
from execsim.data.feeds.base import DEFAULT_BATCH
from execsim.data.feeds.binance import (
    BOOK_TICKER_DTYPE,
    U_DIFF,
    U_RESET,
    U_SNAPSHOT,
    BinanceFeed,
    BinanceFeedReport,
    BinanceMarket,
)
from execsim.model.instrument import Instrument

__all__ = ["BboMismatch", "BinanceVerifyResult", "verify_binance"]

NC_CONFLATED: Final = "inside a conflated diff"
NC_BEFORE: Final = "before the snapshot"
NC_AFTER: Final = "after the last diff"
NC_OUT_OF_SYNC: Final = "book out of sync (after a gap)"
NC_DROPPED: Final = "state no longer retained"

_KEEP_STATES = 100_000
_OPEN = np.iinfo(np.int64).max  # valid_to of the newest state: not known until the next diff


@dataclass(frozen=True, slots=True, kw_only=True)
class BboMismatch:
    """A bookTicker whose best bid/offer differs from the rebuilt book's.

    Attributes
    ----------
    file, line
        Where the bookTicker is (1-based line).
    update_id
        Its ``u``.
    expected
        ``(bid_px, bid_qty, ask_px, ask_qty)`` of the bookTicker (ticks, lots).
    got
        The same from the rebuilt book.
    """

    file: str
    line: int
    update_id: int
    expected: tuple[int, int, int, int]
    got: tuple[int, int, int, int]

    def describe(self, instrument: Instrument | None = None) -> str:
        """One line, with decimal prices and quantities when ``instrument`` is given."""

        def fmt(v: tuple[int, int, int, int]) -> str:
            if instrument is None:
                return f"{v[1]}@{v[0]} / {v[3]}@{v[2]}"
            i = instrument
            bid = f"{i.lots_to_qty(v[1])}@{i.ticks_to_price(v[0])}"
            return f"{bid} / {i.lots_to_qty(v[3])}@{i.ticks_to_price(v[2])}"

        return (
            f"{self.file}:{self.line} u={self.update_id}: bookTicker {fmt(self.expected)}, "
            f"book {fmt(self.got)}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BinanceVerifyResult:
    """Outcome of :func:`verify_binance`.

    Attributes
    ----------
    checked
        bookTickers compared with the rebuilt book (their state is exactly known).
    mismatches
        Compared bookTickers that differ (price or quantity, bid or ask).
    not_checkable
        bookTickers not compared, by reason (see the module docstring).
    first_mismatches
        The first differing bookTickers, in file order.
    report
        The feed's report.
    book_stats
        :attr:`L2Book.stats` at the end.
    instrument, market
        What the capture was read as.
    final_bbo
        ``(bid_px, bid_qty, ask_px, ask_qty)`` of the book at the end (ticks, lots).
    elapsed_s
        Wall-clock seconds (reading, parsing, replay, comparison).
    """

    checked: int
    mismatches: int
    not_checkable: dict[str, int]
    first_mismatches: tuple[BboMismatch, ...]
    report: BinanceFeedReport
    book_stats: dict[str, int]
    instrument: Instrument
    market: BinanceMarket
    final_bbo: tuple[int, int, int, int]
    elapsed_s: float

    @property
    def ok(self) -> bool:
        """True when something was checked and nothing differed."""
        return self.checked > 0 and self.mismatches == 0

    @property
    def book_tickers(self) -> int:
        """All bookTickers read: checked + not checkable."""
        return self.checked + sum(self.not_checkable.values())

    def summary_line(self) -> str:
        """``checked=<n> mismatches=<k>``."""
        return f"checked={self.checked} mismatches={self.mismatches}"


class _States:
    """Book states the replay knows exactly: ``[u, valid_to)`` → best bid/offer (bounded)."""

    def __init__(self) -> None:
        self.u = np.zeros(1024, np.int64)
        self.valid_to = np.zeros(1024, np.int64)
        self.bbo = np.zeros((1024, 4), np.int64)
        self.in_sync = np.zeros(1024, np.bool_)
        self.n = 0
        self.dropped = False

    def append(self, u: int, valid_to: int, bbo: np.ndarray, in_sync: bool) -> None:
        # a state never precedes the one before it (a resync snapshot older than the gap point
        # replaces the out-of-sync marker)
        while self.n and self.u[self.n - 1] >= u:
            self.n -= 1
        if self.n == self.u.shape[0]:
            cap = 2 * self.n
            self.u = np.resize(self.u, cap)
            self.valid_to = np.resize(self.valid_to, cap)
            self.bbo = np.resize(self.bbo, (cap, 4))
            self.in_sync = np.resize(self.in_sync, cap)
        i = self.n
        self.u[i] = u
        self.valid_to[i] = valid_to
        self.bbo[i] = bbo
        self.in_sync[i] = in_sync
        self.n += 1

    def close_last(self, valid_to: int) -> None:
        """Set the end of the newest state's interval, if still open."""
        if self.n and self.valid_to[self.n - 1] == _OPEN:
            self.valid_to[self.n - 1] = max(valid_to, self.u[self.n - 1] + 1)

    def last_bbo(self) -> np.ndarray:
        return self.bbo[self.n - 1] if self.n else np.zeros(4, np.int64)

    def trim(self) -> None:
        if self.n > 2 * _KEEP_STATES:
            drop = self.n - _KEEP_STATES
            for arr in (self.u, self.valid_to, self.bbo, self.in_sync):
                arr[: self.n - drop] = arr[drop : self.n]
            self.n -= drop
            self.dropped = True


def verify_binance(
    paths: Sequence[str | Path] | str | Path,
    *,
    progress: Callable[[int], None] | None = None,
    batch_size: int = DEFAULT_BATCH,
    max_details: int = 10,
    window: int = 1 << 16,
    **feed_kwargs: Any,
) -> BinanceVerifyResult:
    """Replay a Binance capture through :class:`L2Book` and check it against its bookTickers.

    Parameters
    ----------
    paths
        The capture files, in order (see :class:`BinanceFeed`).
    progress
        Called with the number of input bytes (as on disk) consumed since its last call.
    batch_size
        Events per replay chunk.
    max_details
        How many mismatching bookTickers to keep in ``first_mismatches``.
    window
        Initial window of the L2 book, in ticks.
    **feed_kwargs
        Passed to :class:`BinanceFeed` (``symbol``, ``market``, ``tick_size``, ``lot_size``,
        ``on_gap``, ...).

    Returns
    -------
    BinanceVerifyResult
        Counts of checked and not-checkable bookTickers and the mismatches.
    """
    t0 = time.perf_counter()
    feed = BinanceFeed(paths, **feed_kwargs)
    book = L2Book(window=window)
    states = _States()
    pending = np.empty(0, BOOK_TICKER_DTYPE)
    nc: Counter[str] = Counter()
    checked = 0
    mismatches = 0
    details: list[BboMismatch] = []
    files = [str(p) for p in feed.paths]

    def resolve(tk: np.ndarray, final: bool) -> np.ndarray:
        """Check or classify what can be decided; return the bookTickers still undecided."""
        nonlocal checked, mismatches
        if tk.shape[0] == 0:
            return tk
        n = states.n
        if n == 0:
            if final:
                nc[NC_BEFORE] += tk.shape[0]
                return tk[:0]
            return tk
        su = states.u[:n]
        ub = tk["update_id"]
        j = np.searchsorted(su, ub, side="right") - 1
        jj = np.maximum(j, 0)
        vt = states.valid_to[:n][jj]
        exact = (j >= 0) & (su[jj] == ub)
        inside = (j >= 0) & (ub < vt) & (vt != _OPEN)
        known = exact | inside
        # undecided: past the newest state, whose interval end (or successor) is not known yet
        wait = (j == n - 1) & ~known
        before = j < 0
        if before.any():
            nc[NC_DROPPED if states.dropped else NC_BEFORE] += int(np.count_nonzero(before))
        sync = states.in_sync[:n][jj]
        nc[NC_OUT_OF_SYNC] += int(np.count_nonzero(known & ~sync))
        nc[NC_CONFLATED] += int(np.count_nonzero(~before & ~known & ~wait))
        if final:
            nc[NC_AFTER] += int(np.count_nonzero(wait))
            wait[:] = False
        cmp = known & sync
        idx = np.flatnonzero(cmp)
        if idx.size:
            got = states.bbo[:n][jj[idx]]
            exp = np.stack(
                [tk["bid_px"][idx], tk["bid_qty"][idx], tk["ask_px"][idx], tk["ask_qty"][idx]], axis=1
            )
            bad = np.flatnonzero((got != exp).any(axis=1))
            checked += int(idx.size)
            mismatches += int(bad.size)
            for b in bad[: max(0, max_details - len(details))]:
                r = tk[idx[b]]
                details.append(
                    BboMismatch(
                        file=files[int(r["file"])],
                        line=int(r["line"]),
                        update_id=int(r["update_id"]),
                        expected=tuple(int(x) for x in exp[b]),  # type: ignore[arg-type]
                        got=tuple(int(x) for x in got[b]),  # type: ignore[arg-type]
                    )
                )
        return tk[wait]

    for chunk in feed.chunks(batch_size, progress=progress):
        bbo = book.replay_bbo(chunk.events)
        bbo_seq = bbo["seq"]
        bbo_cols = np.stack([bbo["bid_px"], bbo["bid_qty"], bbo["ask_px"], bbo["ask_qty"]], axis=1)
        for up in chunk.updates.tolist():
            kind, first_id, last_id, seq_last = up[0], up[1], up[2], up[3]
            if seq_last >= 0:
                row = int(np.searchsorted(bbo_seq, seq_last))
                state_bbo = bbo_cols[row]
            else:  # a diff without levels leaves the book as it was
                state_bbo = states.last_bbo()
            if kind == U_SNAPSHOT:
                # after a reset, everything up to the new snapshot was out of sync
                states.close_last(last_id if states.n and not states.in_sync[states.n - 1] else 0)
                states.append(last_id, last_id + 1, state_bbo, True)
            elif kind == U_DIFF:
                states.close_last(first_id)
                states.append(last_id, _OPEN, state_bbo, True)
            elif kind == U_RESET:
                states.close_last(0)
                states.append(first_id, _OPEN, state_bbo, False)
        pending = resolve(np.concatenate([pending, chunk.book_tickers]), final=False)
        states.trim()
    resolve(pending, final=True)
    best_b = book.best_bid() or (0, 0)
    best_a = book.best_ask() or (0, 0)
    return BinanceVerifyResult(
        checked=checked,
        mismatches=mismatches,
        not_checkable={k: v for k, v in nc.most_common() if v},
        first_mismatches=tuple(details),
        report=feed.report,
        book_stats=book.stats,
        instrument=feed.instrument,
        market=feed.market,
        final_bbo=(best_b[0], best_b[1], best_a[0], best_a[1]),
        elapsed_s=time.perf_counter() - t0,
    )
