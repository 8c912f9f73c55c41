"""Market state as of any time, from a run's sampled quotes and trade prints.

A run records each venue's best bid and offer every ``sample_interval_ns`` (the ``market``
table) and every market trade print of the replayed data (``market_trades``). TCA needs the
quote *as of* a time (the last sample at or before it), interval VWAPs, the TWAP of the mid and a
close price; :class:`MarketState` answers these with binary searches over sorted arrays.

Conventions
-----------
- Prices are in ticks (floats, so a mid can be a half tick); a quote side with quantity 0 is
  empty and reads as NaN, and a mid exists only when both sides do.
- *As of* ``t`` means the last sample with ``ts <= t``; ``strict=True`` asks for the last sample
  with ``ts < t`` (the quote *before* something that happened at ``t``: the session samples a
  venue after handling the orders that arrive at the same nanosecond, so a sample at exactly a
  fill's time already shows the fill).
- The consolidated quote is the best bid (highest) and best offer (lowest) over each venue's
  latest sample; venues with an empty side (a dark pool's quote is always empty) do not
  contribute that side.
- Market trades are placed in time by their venue time ``ts_event`` (the clock our fills'
  ``ts_venue`` uses). In a replay our fills are *not* on the tape (the recorded market trades
  were printed without us), so "VWAP with our volume" adds our fills to the tape; with a market
  that does print our trades, pass ``our_fills_in_tape=True`` and they are taken out instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa

from execsim.core.errors import DataError, TimeOrderError

__all__ = ["MarketState", "QuoteSeries"]


def _col(table: pa.Table, name: str, source: str, dtype: type | np.dtype) -> np.ndarray:
    if name not in table.column_names:
        raise DataError(f"the table has no column {name!r}", source=source, value=table.column_names)
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=dtype)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteSeries:
    """One quote path: sample times (sorted) and best bid/ask in ticks (NaN: side empty)."""

    ts: np.ndarray
    bid: np.ndarray
    ask: np.ndarray

    @property
    def mid(self) -> np.ndarray:
        """Mid of each sample (NaN unless both sides exist)."""
        return (self.bid + self.ask) / 2.0

    def index(self, ts: np.ndarray, *, strict: bool = False) -> np.ndarray:
        """Index of the sample as of each time (-1 before the first sample)."""
        return np.searchsorted(self.ts, ts, side="left" if strict else "right") - 1

    def at(self, ts: np.ndarray, *, strict: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(bid, ask) as of each time (NaN before the first sample)."""
        i = self.index(ts, strict=strict)
        ok = i >= 0
        j = np.where(ok, i, 0)
        if len(self.ts) == 0:
            nan = np.full(len(i), np.nan)
            return nan, nan.copy()
        return np.where(ok, self.bid[j], np.nan), np.where(ok, self.ask[j], np.nan)


class MarketState:
    """Quotes (per venue and consolidated), trade prints and, when the run has one, the
    counterfactual market path, with as-of look-ups.

    Parameters
    ----------
    market
        The ``market`` table: ``ts, venue, bid_px, bid_qty, ask_px, ask_qty``.
    trades
        The ``market_trades`` table: ``ts_event, price, qty`` (``side`` is not needed).
    counterfactual
        The ``counterfactual_market`` table (same columns as ``market``), or ``None``.
    source
        Name used in error messages.

    Raises
    ------
    TimeOrderError
        When one venue's samples go back in time.
    """

    def __init__(
        self,
        market: pa.Table,
        trades: pa.Table | None = None,
        counterfactual: pa.Table | None = None,
        *,
        source: str = "market",
    ) -> None:
        self.venue_series: dict[str, QuoteSeries] = {}
        ts = _col(market, "ts", source, np.int64)
        venue = _col(market, "venue", source, object).astype(str)
        bid = _col(market, "bid_px", source, np.float64)
        ask = _col(market, "ask_px", source, np.float64)
        bid_q = _col(market, "bid_qty", source, np.float64)
        ask_q = _col(market, "ask_qty", source, np.float64)
        bid = np.where(bid_q > 0, bid, np.nan)
        ask = np.where(ask_q > 0, ask, np.nan)
        for v in sorted(set(venue.tolist())):
            rows = np.flatnonzero(venue == v)
            vts = ts[rows]
            back = np.flatnonzero(np.diff(vts) < 0)
            if len(back):
                r = int(rows[back[0] + 1])
                raise TimeOrderError(
                    f"samples of venue {v!r} go back in time", source=source, row=r + 1, value=int(ts[r])
                )
            self.venue_series[v] = QuoteSeries(ts=vts, bid=bid[rows], ask=ask[rows])
        self.consolidated = self._consolidate()
        if trades is None or trades.num_rows == 0:
            self.trade_ts: np.ndarray = np.zeros(0, np.int64)
            self.trade_px: np.ndarray = np.zeros(0, np.float64)
            self.trade_qty: np.ndarray = np.zeros(0, np.float64)
        else:
            src = f"{source}_trades" if source == "market" else source
            tts = _col(trades, "ts_event", src, np.int64)
            order = np.argsort(tts, kind="stable")
            self.trade_ts = tts[order]
            self.trade_px = _col(trades, "price", src, np.float64)[order]
            self.trade_qty = _col(trades, "qty", src, np.float64)[order]
        self.counterfactual: MarketState | None = (
            None
            if counterfactual is None
            else MarketState(counterfactual, None, None, source="counterfactual_market")
        )

    def _consolidate(self) -> QuoteSeries:
        series = list(self.venue_series.values())
        if not series:
            empty = np.zeros(0)
            return QuoteSeries(ts=np.zeros(0, np.int64), bid=empty, ask=empty.copy())
        if len(series) == 1:
            return series[0]
        union = np.unique(np.concatenate([s.ts for s in series]))
        bids, asks = zip(*(s.at(union) for s in series), strict=True)
        # fmax/fmin skip NaN (an empty side) without the warnings nanmax gives on all-NaN columns
        return QuoteSeries(
            ts=union, bid=np.fmax.reduce(np.vstack(bids), axis=0), ask=np.fmin.reduce(np.vstack(asks), axis=0)
        )

    # -- time span -------------------------------------------------------------------------
    @property
    def venues(self) -> tuple[str, ...]:
        """Venues with quote samples, sorted."""
        return tuple(self.venue_series)

    @property
    def start_ns(self) -> int | None:
        """Time of the first quote sample (None without samples)."""
        ts = self.consolidated.ts
        return int(ts[0]) if len(ts) else None

    @property
    def end_ns(self) -> int | None:
        """Time of the last quote sample: marks later than this are not available."""
        ts = self.consolidated.ts
        return int(ts[-1]) if len(ts) else None

    # -- quotes ----------------------------------------------------------------------------
    def series(self, venue: str | None = None) -> QuoteSeries:
        """The quote path of one venue, or the consolidated one (``venue=None``)."""
        if venue is None:
            return self.consolidated
        try:
            return self.venue_series[venue]
        except KeyError:
            raise DataError(
                f"no quote samples for venue {venue!r}; venues: {list(self.venue_series)}"
            ) from None

    def quote(
        self, ts: np.ndarray | int, venue: str | None = None, *, strict: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best bid and ask (ticks, NaN when empty or before the first sample) as of ``ts``."""
        return self.series(venue).at(np.atleast_1d(np.asarray(ts, np.int64)), strict=strict)

    def mid(self, ts: np.ndarray | int, venue: str | None = None, *, strict: bool = False) -> np.ndarray:
        """Mid (ticks) as of ``ts``: NaN unless both sides exist."""
        b, a = self.quote(ts, venue, strict=strict)
        return (b + a) / 2.0

    def mid_at(self, t: int, venue: str | None = None, *, strict: bool = False) -> float:
        """Mid (ticks) as of one time."""
        return float(self.mid(int(t), venue, strict=strict)[0])

    def mark(self, ts: np.ndarray, horizon_s: float, venue: str | None = None) -> np.ndarray:
        """Mid (ticks) as of ``ts + horizon``; NaN where that lies after the last sample (the
        path beyond the data is unknown, so the last mid is not carried forward)."""
        s = self.series(venue)
        t = np.asarray(ts, np.int64) + np.int64(round(horizon_s * 1e9))
        m = self.mid(t, venue)
        if len(s.ts) == 0:
            return m
        return np.where(t <= s.ts[-1], m, np.nan)

    def twap(self, t0: int, t1: int, venue: str | None = None) -> float:
        """Time-weighted average of the mid over ``[t0, t1]`` (the mid is a step function of
        the samples; spans without a mid are left out; the mid at ``t0`` when ``t1 == t0``)."""
        if t1 < t0:
            raise DataError(f"TWAP interval ends before it starts: [{t0}, {t1}]")
        s = self.series(venue)
        if t1 == t0:
            return self.mid_at(t0, venue)
        inside = s.ts[(s.ts > t0) & (s.ts < t1)]
        knots = np.concatenate([np.array([t0], np.int64), inside])
        mids = self.mid(knots, venue)
        # durations in ns as exact integers, then float (timestamps themselves never go to float)
        dur = np.diff(np.concatenate([knots, np.array([t1], np.int64)])).astype(np.float64)
        ok = np.isfinite(mids)
        if not ok.any() or dur[ok].sum() <= 0:
            return float("nan")
        return float(np.dot(mids[ok], dur[ok]) / dur[ok].sum())

    def close(self, kind: Literal["mid", "trade"] = "mid") -> float:
        """The session's close: the last consolidated mid, or the last trade print's price."""
        if kind == "trade":
            return float(self.trade_px[-1]) if len(self.trade_px) else float("nan")
        if kind != "mid":
            raise DataError(f"close kind must be 'mid' or 'trade', got {kind!r}")
        m = self.consolidated.mid
        ok = np.flatnonzero(np.isfinite(m))
        return float(m[ok[-1]]) if len(ok) else float("nan")

    # -- trade prints ------------------------------------------------------------------------
    def _slice(self, t0: int, t1: int) -> slice:
        i0 = int(np.searchsorted(self.trade_ts, t0, side="left"))
        i1 = int(np.searchsorted(self.trade_ts, t1, side="right"))
        return slice(i0, i1)

    def trades_between(self, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ts_event, price, qty) of the market trade prints with ``t0 <= ts_event <= t1``."""
        sl = self._slice(t0, t1)
        return self.trade_ts[sl], self.trade_px[sl], self.trade_qty[sl]

    def tape_sums(self, t0: int, t1: int) -> tuple[float, float]:
        """(Σ price × qty, Σ qty) of the market trade prints with ``t0 <= ts_event <= t1``."""
        sl = self._slice(t0, t1)
        return float(np.dot(self.trade_px[sl], self.trade_qty[sl])), float(self.trade_qty[sl].sum())

    def volume(self, t0: int, t1: int) -> float:
        """Market volume (lots) printed in ``[t0, t1]``."""
        return self.tape_sums(t0, t1)[1]

    def vwap(
        self,
        t0: int,
        t1: int,
        *,
        ours: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        with_ours: bool = False,
        our_fills_in_tape: bool = False,
    ) -> float:
        """Volume-weighted average trade price (ticks) over ``[t0, t1]``.

        Parameters
        ----------
        t0, t1
            The interval (inclusive), venue time.
        ours
            Our fills as ``(ts, price, qty)`` arrays (any interval; those inside are used).
        with_ours
            Whether the VWAP includes our volume.
        our_fills_in_tape
            Whether the tape already contains our fills (a market that prints our trades). In a
            replay it does not: then "with ours" adds our fills and "without" is the tape as is;
            otherwise "with ours" is the tape and "without" takes our fills out.
        """
        pq, q = self.tape_sums(t0, t1)
        if ours is not None:
            ts, px, qty = ours
            inside = (ts >= t0) & (ts <= t1)
            o_pq = float(np.dot(px[inside].astype(np.float64), qty[inside].astype(np.float64)))
            o_q = float(qty[inside].sum())
            if with_ours and not our_fills_in_tape:
                pq, q = pq + o_pq, q + o_q
            elif not with_ours and our_fills_in_tape:
                pq, q = pq - o_pq, q - o_q
        return pq / q if q > 0 else float("nan")
