"""The trade tape: trades with their aggressor sign and the mid-price around them.

Every calibration in :mod:`execsim.impact.calibration` reads a :class:`TradeTape`, built once from
canonical events by :func:`trade_tape` (replaying them through a book) or directly from arrays
(synthetic data, a precomputed table).

How trades are read from canonical events
-----------------------------------------
* ``EXECUTE`` events are executions of a resting order: the aggressor is the *other* side,
  ``sign = −side``. ``TRADE`` events carry the aggressor side directly (``sign = side``); a
  TRADE with side 0 (an auction cross, an unknown aggressor) has no sign and is skipped and
  counted (``skipped["trade_side_unknown"]``).
* With ``aggregate=True`` (the default), consecutive executions with the same timestamp and the
  same sign are one aggressive order (a market order sweeping several resting orders, as
  LOBSTER and ITCH report them): one trade with the summed quantity and notional.
* The mid before a trade is the book's mid after the last complete venue message (an event
  carrying ``F_LAST``) strictly before the trade's first execution; a trade with a one-sided or
  empty book before it is skipped and counted (``skipped["no_mid_before"]``).
* The quote series keeps the mid after every ``F_LAST`` event where it changed, so the mid at
  any time (:meth:`TradeTape.mid_at`) is available to bucket calibrations.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from execsim.book.l2 import L2Book
from execsim.book.l3 import L3Book
from execsim.core.errors import DataError, TimeOrderError
from execsim.data.schema import (
    EVENT_DTYPE,
    F_LAST,
    K_ADD,
    K_CANCEL,
    K_DELETE,
    K_EXECUTE,
    K_TRADE,
)

__all__ = ["TradeTape", "as_trade_tape", "trade_tape"]

_L3_KINDS = np.array([K_ADD, K_CANCEL, K_DELETE, K_EXECUTE], dtype=np.uint8)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TradeTape:
    """Trades (aggressive orders) with their sign, size and the mid-price before each.

    Attributes
    ----------
    ts_ns
        ``int64`` trade times (ns, non-decreasing).
    sign
        ``int8`` aggressor sign: +1 buyer-initiated, −1 seller-initiated.
    qty
        ``int64`` traded quantity (lots, > 0).
    notional
        ``float64`` sum of price × qty (ticks × lots); ``notional / qty`` is the trade's VWAP.
    mid_before
        ``float64`` mid-price (ticks, a multiple of 0.5) just before the trade.
    quote_ts, quote_mid
        The mid-price series: ``quote_mid[i]`` (ticks; NaN when a side is empty) holds from
        ``quote_ts[i]`` on.
    t_start_ns, t_end_ns
        The span the data covers (first and last event time).
    tick_size
        The price of one tick of the data, when known (rescales fitted models, see
        :meth:`ImpactModel.start <execsim.impact.ImpactModel.start>`).
    n_executions
        Execution events read (before aggregation and skips).
    skipped
        What was left out, by reason (counts).
    """

    ts_ns: np.ndarray
    sign: np.ndarray
    qty: np.ndarray
    notional: np.ndarray
    mid_before: np.ndarray
    quote_ts: np.ndarray
    quote_mid: np.ndarray
    t_start_ns: int
    t_end_ns: int
    tick_size: float | None = None
    n_executions: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.ts_ns.shape[0]
        for name in ("sign", "qty", "notional", "mid_before"):
            if getattr(self, name).shape != (n,):
                raise DataError(
                    f"TradeTape.{name} has shape {getattr(self, name).shape}, ts_ns has {n} trades"
                )
        if self.quote_ts.shape != self.quote_mid.shape:
            raise DataError("TradeTape.quote_ts and quote_mid differ in length")
        if n > 1 and np.any(np.diff(self.ts_ns) < 0):
            i = int(np.flatnonzero(np.diff(self.ts_ns) < 0)[0]) + 1
            raise TimeOrderError("TradeTape.ts_ns goes backwards", row=i + 1, value=int(self.ts_ns[i]))
        if self.quote_ts.shape[0] > 1 and np.any(np.diff(self.quote_ts) < 0):
            raise TimeOrderError("TradeTape.quote_ts goes backwards")
        if n and not np.all(np.isin(self.sign, (-1, 1))):
            raise DataError(
                "TradeTape.sign must be +1 or -1", value=self.sign[~np.isin(self.sign, (-1, 1))][0]
            )
        if n and np.any(self.qty <= 0):
            raise DataError("TradeTape.qty must be positive", value=int(self.qty[self.qty <= 0][0]))
        if self.t_end_ns < self.t_start_ns:
            raise TimeOrderError("TradeTape ends before it starts", value=(self.t_start_ns, self.t_end_ns))

    @classmethod
    def from_arrays(
        cls,
        *,
        ts_ns: Any,
        sign: Any,
        qty: Any,
        mid_before: Any,
        price: Any = None,
        quote_ts: Any = None,
        quote_mid: Any = None,
        t_start_ns: int | None = None,
        t_end_ns: int | None = None,
        tick_size: float | None = None,
    ) -> TradeTape:
        """Build a tape from plain arrays (a precomputed trade/mid table, synthetic data).

        ``price`` (per-trade VWAP in ticks) defaults to the mid; the quote series defaults to the
        mids before the trades, at the trade times.
        """
        ts = np.ascontiguousarray(ts_ns, dtype=np.int64)
        q = np.ascontiguousarray(qty, dtype=np.int64)
        mid = np.ascontiguousarray(mid_before, dtype=np.float64)
        px = mid if price is None else np.ascontiguousarray(price, dtype=np.float64)
        qts = ts if quote_ts is None else np.ascontiguousarray(quote_ts, dtype=np.int64)
        qmid = mid if quote_mid is None else np.ascontiguousarray(quote_mid, dtype=np.float64)
        return cls(
            ts_ns=ts,
            sign=np.ascontiguousarray(sign, dtype=np.int8),
            qty=q,
            notional=px * q,
            mid_before=mid,
            quote_ts=qts,
            quote_mid=qmid,
            t_start_ns=int(t_start_ns if t_start_ns is not None else (ts[0] if ts.size else 0)),
            t_end_ns=int(t_end_ns if t_end_ns is not None else (ts[-1] if ts.size else 0)),
            tick_size=tick_size,
            n_executions=int(ts.shape[0]),
        )

    @property
    def n_trades(self) -> int:
        """Number of trades on the tape."""
        return int(self.ts_ns.shape[0])

    @property
    def span_s(self) -> float:
        """Seconds covered by the data."""
        return (self.t_end_ns - self.t_start_ns) / 1e9

    @property
    def vwap(self) -> np.ndarray:
        """Per-trade volume-weighted price (ticks)."""
        return self.notional / self.qty

    def mid_at(self, ts_ns: np.ndarray | int) -> np.ndarray:
        """Mid-price (ticks) as of strictly before each time (NaN before the first quote)."""
        t = np.atleast_1d(np.asarray(ts_ns, dtype=np.int64))
        idx = np.searchsorted(self.quote_ts, t, side="left") - 1
        out = np.full(t.shape[0], np.nan)
        ok = idx >= 0
        out[ok] = self.quote_mid[idx[ok]]
        return out

    def summary(self) -> str:
        """One line: trades, executions, span, skips."""
        skips = ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items()) if v) or "none"
        return (
            f"{self.n_trades} trades from {self.n_executions} executions over "
            f"{self.span_s:.0f} s; skipped: {skips}"
        )


def _as_batches(data: Any) -> Iterator[np.ndarray]:
    if isinstance(data, np.ndarray):
        yield data
        return
    if hasattr(data, "batches") and callable(data.batches):
        yield from data.batches()
        return
    if isinstance(data, Iterable):
        yield from data
        return
    raise TypeError(
        f"expected canonical events (an EVENT_DTYPE array, an iterable of them or a feed), "
        f"got {type(data).__name__}"
    )


def trade_tape(data: Any, *, tick_size: float | None = None, aggregate: bool = True) -> TradeTape:
    """Build a :class:`TradeTape` from canonical events (see the module docstring for the rules).

    Parameters
    ----------
    data
        An :data:`~execsim.data.schema.EVENT_DTYPE` array, an iterable of such batches, or a
        feed handler (its ``batches()`` are read; its instrument's tick size is used when
        ``tick_size`` is not given).
    tick_size
        The price of one tick of the data.
    aggregate
        Merge consecutive executions with the same time and sign into one trade.

    Raises
    ------
    TimeOrderError
        ``ts_event`` goes backwards (the message names the 1-based event row).
    DataError
        A batch is not a canonical event array, or an L2 stream later carries L3 events.
    """
    if tick_size is None and hasattr(data, "instrument"):
        tick_size = float(data.instrument.tick_size)
    book: L3Book | L2Book | None = None
    skipped: Counter[str] = Counter()
    ex_parts: list[tuple[np.ndarray, ...]] = []
    q_ts_parts: list[np.ndarray] = []
    q_mid_parts: list[np.ndarray] = []
    last_mid = np.nan
    last_ts: int | None = None
    first_ts: int | None = None
    offset = 0
    for batch in _as_batches(data):
        if not isinstance(batch, np.ndarray) or batch.dtype != EVENT_DTYPE or batch.ndim != 1:
            raise DataError(
                "trade_tape expects canonical event batches (1-d EVENT_DTYPE arrays)",
                value=getattr(batch, "dtype", type(batch).__name__),
            )
        n = batch.shape[0]
        if n == 0:
            continue
        ts = batch["ts_event"]
        back = np.flatnonzero(np.diff(ts) < 0)
        if last_ts is not None and int(ts[0]) < last_ts:
            raise TimeOrderError("ts_event goes backwards", row=offset + 1, value=int(ts[0]))
        if back.size:
            i = int(back[0]) + 1
            raise TimeOrderError("ts_event goes backwards", row=offset + i + 1, value=int(ts[i]))
        if first_ts is None:
            first_ts = int(ts[0])
        last_ts = int(ts[-1])
        kinds = batch["kind"]
        has_l3 = bool(np.isin(kinds, _L3_KINDS).any())
        if book is None:
            book = L3Book() if has_l3 else L2Book()
        elif has_l3 and isinstance(book, L2Book):
            raise DataError(
                "L3 events (ADD/CANCEL/DELETE/EXECUTE) after an L2-only start: the stream mixes "
                "L2 and L3 data",
                row=offset + int(np.flatnonzero(np.isin(kinds, _L3_KINDS))[0]) + 1,
            )
        # mid after every complete message (F_LAST), as positions within the batch
        if isinstance(book, L3Book):
            bid, bq, ask, aq = book.replay_top(batch, 1)
            pos = np.flatnonzero(batch["flags"] & F_LAST)
            bid, bq, ask, aq = bid[pos, 0], bq[pos, 0], ask[pos, 0], aq[pos, 0]
        else:
            bbo = book.replay_bbo(batch)
            seq = batch["seq"]
            if n > 1 and np.any(np.diff(seq) <= 0):
                raise DataError("seq must increase strictly within a stream", row=offset + 1)
            pos = np.searchsorted(seq, bbo["seq"])
            bid, bq, ask, aq = bbo["bid_px"], bbo["bid_qty"], bbo["ask_px"], bbo["ask_qty"]
        mids = np.where((bq > 0) & (aq > 0), (bid + ask) / 2.0, np.nan)
        q_ts_parts.append(ts[pos])
        q_mid_parts.append(mids)
        # executions and the mid before each
        is_ex = (kinds == K_EXECUTE) | (kinds == K_TRADE)
        ex = np.flatnonzero(is_ex)
        if ex.size:
            side = batch["side"][ex].astype(np.int8)
            sign = np.where(kinds[ex] == K_EXECUTE, -side, side).astype(np.int8)
            qty = batch["qty"][ex]
            k = np.searchsorted(pos, ex, side="left") - 1
            mid_b = np.where(k >= 0, mids[np.maximum(k, 0)], last_mid)
            keep = (sign != 0) & (qty > 0)
            skipped["trade_side_unknown"] += int(np.count_nonzero(sign == 0))
            skipped["trade_qty_not_positive"] += int(np.count_nonzero((sign != 0) & (qty <= 0)))
            ex_parts.append(
                (
                    ts[ex][keep],
                    sign[keep],
                    qty[keep],
                    batch["price"][ex][keep].astype(np.float64) * qty[keep],
                    mid_b[keep],
                )
            )
        if mids.size:
            last_mid = float(mids[-1])
        offset += n
    if first_ts is None or last_ts is None:
        raise DataError("trade_tape: no events")
    cols: list[np.ndarray]
    if ex_parts:
        cols = [np.concatenate([p[i] for p in ex_parts]) for i in range(5)]
    else:
        cols = [
            np.zeros(0, np.int64),
            np.zeros(0, np.int8),
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
            np.zeros(0, np.float64),
        ]
    t, s, q, notional, mid_b = cols
    n_exec = int(t.shape[0]) + skipped["trade_side_unknown"] + skipped["trade_qty_not_positive"]
    if aggregate and t.shape[0]:
        new = np.ones(t.shape[0], dtype=bool)
        new[1:] = (t[1:] != t[:-1]) | (s[1:] != s[:-1])
        starts = np.flatnonzero(new)
        t, s, mid_b = t[starts], s[starts], mid_b[starts]
        q = np.add.reduceat(q, starts)
        notional = np.add.reduceat(notional, starts)
    ok = np.isfinite(mid_b)
    skipped["no_mid_before"] += int(np.count_nonzero(~ok))
    q_ts = np.concatenate(q_ts_parts) if q_ts_parts else np.zeros(0, np.int64)
    q_mid = np.concatenate(q_mid_parts) if q_mid_parts else np.zeros(0, np.float64)
    if q_mid.shape[0] > 1:
        # keep the first quote and every change (NaN to NaN is no change)
        prev, cur = q_mid[:-1], q_mid[1:]
        changed = ~((prev == cur) | (np.isnan(prev) & np.isnan(cur)))
        keep_q = np.concatenate([[True], changed])
        q_ts, q_mid = q_ts[keep_q], q_mid[keep_q]
    return TradeTape(
        ts_ns=np.ascontiguousarray(t[ok], dtype=np.int64),
        sign=np.ascontiguousarray(s[ok], dtype=np.int8),
        qty=np.ascontiguousarray(q[ok], dtype=np.int64),
        notional=np.ascontiguousarray(notional[ok], dtype=np.float64),
        mid_before=np.ascontiguousarray(mid_b[ok], dtype=np.float64),
        quote_ts=np.ascontiguousarray(q_ts, dtype=np.int64),
        quote_mid=np.ascontiguousarray(q_mid, dtype=np.float64),
        t_start_ns=first_ts,
        t_end_ns=last_ts,
        tick_size=tick_size,
        n_executions=n_exec,
        skipped={k: v for k, v in skipped.items() if v},
    )


def as_trade_tape(X: Any, *, tick_size: float | None = None) -> TradeTape:
    """``X`` as a tape: a :class:`TradeTape` is returned as is (``tick_size`` overrides its own)."""
    if isinstance(X, TradeTape):
        if tick_size is not None and tick_size != X.tick_size:
            return dataclasses.replace(X, tick_size=tick_size)
        return X
    return trade_tape(X, tick_size=tick_size)
