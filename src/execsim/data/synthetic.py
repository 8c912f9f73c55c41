"""A seeded synthetic L2 depth feed: a consistent, reproducible stream of canonical events.

The stream looks like a real price-level feed of a liquid instrument: an initial snapshot,
then depth updates near the touch and trade prints. It is produced by a compiled state machine
that tracks the book it implies, so the book never crosses, every trade is printed at the
touch of the passive side and is followed by the depth update that reduces (or removes) that
level, and the mid price follows a random walk driven by touch depletions, cancellations and
quotes inside the spread (with the occasional sweep through several levels).

Records
-------
* ``seq`` 0: ``CLEAR`` (both sides), then ``n_levels`` bid and ``n_levels`` ask ``SET_LEVEL``
  records, all flagged :data:`~execsim.data.schema.F_SNAPSHOT` and stamped ``start_ns``; the
  snapshot is one message, so only its last record carries ``F_LAST``.
* then ``SET_LEVEL`` (absolute quantity, 0 removes the level) and ``TRADE`` (``side`` is the
  aggressor, ``order_id`` a trade id counting from 1), each its own message (``F_LAST``).
* every record carries :data:`~execsim.data.schema.F_SYNTHETIC`; ``seq`` counts from 0;
  ``ts_event`` never decreases and stays below ``start_ns + duration_ns``; ``ts_recv`` is
  ``ts_event`` plus a latency in ``[latency_ns, 2 latency_ns)``, never decreasing either.
* each side keeps its levels within ``n_levels`` ticks of its own touch: when a quote improves
  the touch, levels pushed out of that window are removed by explicit ``SET_LEVEL 0`` records,
  so the book stays bounded however far the mid wanders.

Determinism: the stream is a pure function of its arguments. Randomness comes from one
:class:`numpy.random.SeedSequence` (``seed``); the same arguments give byte-identical arrays,
and :func:`iter_synthetic_l2` yields exactly the same records as :func:`synthetic_l2_stream`
whatever the batch size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import numpy as np

from execsim.core.timeutil import NS_PER_S
from execsim.data import _synthetic_kernels as _k
from execsim.data.feeds.base import DEFAULT_BATCH
from execsim.data.schema import (
    F_LAST,
    F_SNAPSHOT,
    F_SYNTHETIC,
    K_CLEAR,
    K_SET_LEVEL,
    empty_events,
)
from execsim.model.instrument import Instrument

__all__ = [
    "SYNTHETIC_START_NS",
    "default_instrument",
    "iter_synthetic_l2",
    "synthetic_l2_stream",
]

SYNTHETIC_START_NS: Final = 1_704_205_800 * NS_PER_S
"""Default start of a synthetic stream: 2024-01-02 14:30:00 UTC (09:30 in New York)."""

_CHUNK_ROWS: Final = 1 << 15  # actions per block of pre-drawn uniforms (2 MiB)

# Shape of the market, fixed so that streams stay comparable across releases.
_P_SWEEP: Final = 0.03  # share of trades that take 1-3 whole levels, then part of the next
_P_DEPLETE: Final = 0.15  # share of trades that take exactly the whole touch level
_P_REMOVE: Final = 0.15  # a depth update behind the touch removes its level
_P_REMOVE_TOUCH: Final = 0.05  # a depth update at the touch removes it (the touch moves away)
_P_IMPROVE: Final = 0.05  # per tick of spread beyond one: chance of a quote inside the spread
_MEAN_OFFSET: Final = 3.0  # mean distance (ticks) of a depth update from the touch


def default_instrument() -> Instrument:
    """Return the instrument of synthetic streams: ``SYN`` on ``SYNTH``, tick 0.01, lot 1."""
    return Instrument(symbol="SYN", venue="SYNTH", tick_size="0.01", lot_size="1")


def _trade_probability(trade_share: float) -> float:
    """Probability that an action is a trade, so that ``TRADE`` records are ``trade_share`` of all.

    A trade action prints ``T`` trades (1, or 2-4 for a sweep) and as many depth updates; other
    actions emit about one record. Solving ``share = p T / (p 2T + (1 - p))`` for ``p``.
    """
    trades_per_action = 1.0 + _P_SWEEP * 2.0
    return trade_share / (trades_per_action - trade_share * (2.0 * trades_per_action - 1.0))


class _Machine:
    """The generator's state between kernel calls (private: the public API is functions)."""

    def __init__(
        self,
        *,
        seed: int | np.random.SeedSequence,
        n_events: int,
        duration_ns: int,
        start_ns: int,
        mid_ticks: int,
        n_levels: int,
        trade_share: float,
        mean_size: float,
        latency_ns: int,
    ) -> None:
        if n_levels < 2:
            raise ValueError(f"n_levels must be at least 2, got {n_levels!r}")
        snapshot = 2 * n_levels + 1
        if n_events < snapshot:
            raise ValueError(
                f"n_events must be at least the snapshot size 2 * n_levels + 1 = {snapshot}, got {n_events!r}"
            )
        if duration_ns <= 0:
            raise ValueError(f"duration_ns must be positive, got {duration_ns!r}")
        if mid_ticks < 4 * n_levels:
            raise ValueError(f"mid_ticks must be at least 4 * n_levels, got {mid_ticks!r}")
        if not 0.0 <= trade_share <= 0.4:
            raise ValueError(f"trade_share must lie in [0, 0.4], got {trade_share!r}")
        if not mean_size >= 1.0:
            raise ValueError(f"mean_size must be at least 1 lot, got {mean_size!r}")
        if latency_ns < 0:
            raise ValueError(f"latency_ns must not be negative, got {latency_ns!r}")
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        self.rng = np.random.default_rng(ss)
        self.n_events = int(n_events)
        self.n_levels = int(n_levels)
        self.start_ns = int(start_ns)
        self.latency_ns = int(latency_ns)

        self.P = np.zeros(_k.N_PARAMS, dtype=np.float64)
        self.P[_k.P_TRADE] = _trade_probability(trade_share)
        self.P[_k.P_SWEEP] = _P_SWEEP
        self.P[_k.P_DEPLETE] = _P_DEPLETE
        self.P[_k.P_REMOVE] = _P_REMOVE
        self.P[_k.P_REMOVE_TOUCH] = _P_REMOVE_TOUCH
        self.P[_k.P_IMPROVE] = _P_IMPROVE
        self.P[_k.MEAN_OFFSET] = _MEAN_OFFSET
        self.P[_k.MEAN_SIZE] = float(mean_size)

        # initial book: spread of two ticks centred on mid_ticks, every level of the window full
        sizes = 1 + np.floor(-np.log1p(-self.rng.random((2, n_levels))) * mean_size)
        self.lv = sizes.astype(np.int64)
        self.st = np.zeros(_k.N_STATE, dtype=np.int64)
        self.st[_k.S_BEST_BID] = mid_ticks - 1
        self.st[_k.S_BEST_ASK] = mid_ticks + 1
        self.st[_k.S_COUNT_BID] = n_levels
        self.st[_k.S_COUNT_ASK] = n_levels
        self.st[_k.S_TIME] = start_ns
        self.st[_k.S_LAST_RECV] = start_ns + latency_ns
        self.st[_k.S_END] = start_ns + duration_ns
        self.st[_k.S_LATENCY] = latency_ns
        # the deepest bid level is n_levels - 1 ticks below the touch: keep it at 1 tick or more
        self.st[_k.S_MIN_BID] = n_levels + 1
        self.U: np.ndarray = np.empty((0, _k.N_UNIFORMS), dtype=np.float64)
        self.row = 0

    def snapshot(self, out: np.ndarray) -> int:
        """Write the initial snapshot into ``out[0:]``; return the number of records."""
        n = self.n_levels
        m = 2 * n + 1
        snap = out[:m]
        snap["ts_event"] = self.start_ns
        snap["ts_recv"] = self.start_ns + self.latency_ns
        snap["seq"] = np.arange(m)
        snap["kind"] = K_SET_LEVEL
        snap["kind"][0] = K_CLEAR
        snap["side"][0] = 0
        snap["price"][0] = 0
        snap["qty"][0] = 0
        k = np.arange(n)
        snap["side"][1 : n + 1] = 1
        snap["price"][1 : n + 1] = self.st[_k.S_BEST_BID] - k
        snap["qty"][1 : n + 1] = self.lv[0]
        snap["side"][n + 1 :] = -1
        snap["price"][n + 1 :] = self.st[_k.S_BEST_ASK] + k
        snap["qty"][n + 1 :] = self.lv[1]
        snap["order_id"] = 0
        snap["flags"] = F_SNAPSHOT | F_SYNTHETIC
        snap["flags"][-1] |= F_LAST
        self.st[_k.S_PRODUCED] = m
        # the clock's records-per-action estimate starts at 1: count snapshot records as actions
        self.st[_k.S_ACTIONS] = m
        return m

    @property
    def done(self) -> bool:
        return int(self.st[_k.S_PRODUCED]) >= self.n_events

    def fill(self, out: np.ndarray, pos: int) -> int:
        """Fill ``out[pos:]`` as far as it goes (or to the end of the stream); return the new pos."""
        while not self.done:
            if self.row >= self.U.shape[0]:
                self.U = self.rng.random((_CHUNK_ROWS, _k.N_UNIFORMS))
                self.row = 0
            new_pos, self.row = _k.fill(out, pos, self.U, self.row, self.lv, self.st, self.n_events, self.P)
            if new_pos == pos and self.row < self.U.shape[0]:
                break  # out has no room for the next action
            pos = new_pos
        return pos


def synthetic_l2_stream(
    *,
    seed: int | np.random.SeedSequence,
    n_events: int = 5_000_000,
    duration_ns: int = 3_600 * NS_PER_S,
    start_ns: int = SYNTHETIC_START_NS,
    mid_ticks: int = 100_000,
    n_levels: int = 20,
    trade_share: float = 0.05,
    mean_size: float = 50.0,
    latency_ns: int = 200_000,
) -> np.ndarray:
    """Generate a synthetic L2 depth feed as one array of canonical events.

    Parameters
    ----------
    seed
        Seed of the stream (an ``int`` or a :class:`numpy.random.SeedSequence` spawned from a
        run's root sequence). The same arguments always give byte-identical output.
    n_events
        Records in the stream, the initial snapshot included (exactly this many).
    duration_ns
        Time the stream spans: every ``ts_event`` lies in ``[start_ns, start_ns + duration_ns)``.
    start_ns
        Time of the snapshot, UTC nanoseconds (default 2024-01-02 14:30 UTC).
    mid_ticks
        Initial mid price in ticks (the initial spread is two ticks around it).
    n_levels
        Price levels per side in the snapshot; each side keeps its levels within this many
        ticks of its touch.
    trade_share
        Approximate fraction of ``TRADE`` records among all records (0 to 0.4).
    mean_size
        Mean size, in lots, of a freshly quoted level.
    latency_ns
        Base feed latency: ``ts_recv - ts_event`` lies in ``[latency_ns, 2 latency_ns)`` (or is
        larger where it must, to keep ``ts_recv`` non-decreasing).

    Returns
    -------
    numpy.ndarray
        ``n_events`` records of :data:`~execsim.data.schema.EVENT_DTYPE` (51 bytes each).

    Examples
    --------
    >>> ev = synthetic_l2_stream(seed=7, n_events=10_000)
    >>> len(ev), int(ev["seq"][-1])
    (10000, 9999)
    """
    machine = _Machine(
        seed=seed,
        n_events=n_events,
        duration_ns=duration_ns,
        start_ns=start_ns,
        mid_ticks=mid_ticks,
        n_levels=n_levels,
        trade_share=trade_share,
        mean_size=mean_size,
        latency_ns=latency_ns,
    )
    out = empty_events(n_events)
    pos = machine.fill(out, machine.snapshot(out))
    if pos != n_events:  # an internal invariant, not an input error
        raise RuntimeError(f"synthetic generator wrote {pos} of {n_events} records")
    return out


def iter_synthetic_l2(
    *,
    seed: int | np.random.SeedSequence,
    n_events: int = 5_000_000,
    duration_ns: int = 3_600 * NS_PER_S,
    start_ns: int = SYNTHETIC_START_NS,
    mid_ticks: int = 100_000,
    n_levels: int = 20,
    trade_share: float = 0.05,
    mean_size: float = 50.0,
    latency_ns: int = 200_000,
    batch_size: int = DEFAULT_BATCH,
) -> Iterator[np.ndarray]:
    """Yield the stream of :func:`synthetic_l2_stream` in batches, in bounded memory.

    The parameters are those of :func:`synthetic_l2_stream`, plus ``batch_size``: every batch
    but the last holds exactly that many records. Concatenated, the batches equal
    ``synthetic_l2_stream(...)`` with the same arguments, byte for byte.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size!r}")
    machine = _Machine(
        seed=seed,
        n_events=n_events,
        duration_ns=duration_ns,
        start_ns=start_ns,
        mid_ticks=mid_ticks,
        n_levels=n_levels,
        trade_share=trade_share,
        mean_size=mean_size,
        latency_ns=latency_ns,
    )
    # room for one batch plus the snapshot or the largest action, whichever is bigger
    buf = empty_events(batch_size + max(2 * n_levels + 1, _k.MAX_RECORDS))
    pos = machine.snapshot(buf)
    while True:
        pos = machine.fill(buf, pos)
        while pos >= batch_size:
            yield buf[:batch_size].copy()
            rest = pos - batch_size
            buf[:rest] = buf[batch_size:pos]
            pos = rest
        if machine.done:
            break
    if pos:
        yield buf[:pos].copy()
