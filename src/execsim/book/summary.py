"""A compact account of a replayed L2 stream: what the demo prints.

The replay runs through the compiled :class:`~execsim.book.l2.L2Book` batch by batch; the
statistics that need every event (trade volume, VWAP, spread at each consistent book state)
are vectorised numpy over each batch, so memory stays bounded by the batch size.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from execsim.book.l2 import L2Book
from execsim.data.schema import K_TRADE
from execsim.model.enums import EventKind
from execsim.model.instrument import Instrument

__all__ = ["ReplaySummary", "summarize_l2_replay"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaySummary:
    """Statistics of one replayed L2 stream (prices in ticks, quantities in lots).

    Spread statistics are taken over every consistent book state (after each ``F_LAST``
    record) with both sides present; ``spread_median`` is the upper median.
    """

    instrument: Instrument
    events: int
    events_by_kind: dict[str, int]
    ts_first: int
    ts_last: int
    trades: int
    trade_volume: int
    trade_notional_ticks: int
    trade_high: int | None
    trade_low: int | None
    spread_samples: int
    spread_mean: float
    spread_median: float
    spread_max: int
    crossed_states: int
    final_top: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = field(repr=False)
    replay_cpu_s: float

    @property
    def vwap_ticks(self) -> float | None:
        """Volume-weighted average trade price in ticks."""
        return self.trade_notional_ticks / self.trade_volume if self.trade_volume else None


def summarize_l2_replay(
    batches: Iterable[np.ndarray],
    instrument: Instrument,
    *,
    depth: int = 5,
    progress: Callable[[int], None] | None = None,
) -> ReplaySummary:
    """Replay canonical L2 events through an :class:`L2Book` and summarise the stream.

    Parameters
    ----------
    batches
        Canonical event batches in stream order.
    instrument
        The instrument the ticks and lots refer to.
    depth
        Number of levels per side kept in ``final_top``.
    progress
        Called with the number of events after each batch.
    """
    book = L2Book()
    kinds: dict[str, int] = {}
    n = trades = volume = notional = 0
    high: int | None = None
    low: int | None = None
    ts_first = ts_last = 0
    spreads: list[np.ndarray] = []
    crossed = 0
    spread_max = 0
    cpu = 0.0
    for batch in batches:
        if len(batch) == 0:
            continue
        if n == 0:
            ts_first = int(batch["ts_event"][0])
        ts_last = int(batch["ts_event"][-1])
        n += len(batch)
        codes, counts = np.unique(batch["kind"], return_counts=True)
        for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
            name = EventKind.from_code(code).value
            kinds[name] = kinds.get(name, 0) + count
        tr = batch[batch["kind"] == K_TRADE]
        if len(tr):
            trades += len(tr)
            volume += int(tr["qty"].sum())
            notional += int((tr["price"] * tr["qty"]).sum())
            hi, lo = int(tr["price"].max()), int(tr["price"].min())
            high = hi if high is None else max(high, hi)
            low = lo if low is None else min(low, lo)
        t0 = time.process_time()
        bbo = book.replay_bbo(batch)
        cpu += time.process_time() - t0
        both = (bbo["bid_qty"] > 0) & (bbo["ask_qty"] > 0)
        spread = (bbo["ask_px"] - bbo["bid_px"])[both]
        crossed += int((spread <= 0).sum())
        if len(spread):
            spread_max = max(spread_max, int(spread.max()))
        # a histogram keeps memory bounded; spreads wider than 1,000 ticks share the last bin
        spreads.append(np.bincount(np.clip(spread, 0, 1_000).astype(np.int64), minlength=1_001))
        if progress is not None:
            progress(len(batch))
    hist = np.sum(spreads, axis=0) if spreads else np.zeros(1_001, dtype=np.int64)
    samples = int(hist.sum())
    ticks = np.arange(hist.size)
    mean = float((hist * ticks).sum() / samples) if samples else float("nan")
    median = float(np.searchsorted(np.cumsum(hist), (samples + 1) / 2)) if samples else float("nan")
    return ReplaySummary(
        instrument=instrument,
        events=n,
        events_by_kind=kinds,
        ts_first=ts_first,
        ts_last=ts_last,
        trades=trades,
        trade_volume=volume,
        trade_notional_ticks=notional,
        trade_high=high,
        trade_low=low,
        spread_samples=samples,
        spread_mean=mean,
        spread_median=median,
        spread_max=spread_max,
        crossed_states=crossed,
        final_top=book.top(depth),
        replay_cpu_s=cpu,
    )
