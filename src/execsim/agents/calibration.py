"""Order-flow statistics of an L3 stream: what the agent market's parameters are measured from.

:func:`order_flow_stats` reads a canonical L3 event stream (LOBSTER, or the agent market's own)
and measures what the noise traders' parameters stand for: the rates of limit orders,
cancellations and market orders, the size distributions, where limit orders are placed
relative to the touch (inside the spread, at the best price, behind it) and how long they live.
The defaults of :class:`~execsim.agents.config.NoiseTraderConfig` (size tables, placement
shares, rates) come from this function on the LOBSTER GOOG day; running it on the synthetic
market checks that the agents reproduce what they were given.

Conventions: a *market order* is the set of ``EXECUTE`` events with the same time and the same
aggressor side (LOBSTER and the agent market print one execution per resting order hit);
``TRADE`` prints (hidden executions) are counted apart. Placement is measured against the book
just before the ``ADD`` (replayed through :class:`~execsim.book.L3Book`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from execsim.book.l3 import L3Book
from execsim.core.errors import DataError
from execsim.data.schema import EVENT_DTYPE, F_SNAPSHOT, K_ADD, K_CANCEL, K_DELETE, K_EXECUTE, K_TRADE

__all__ = ["OrderFlowStats", "order_flow_stats", "size_table"]


def size_table(sizes: np.ndarray, n: int = 32) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """A discrete size distribution of ``n`` equally likely quantiles, equal sizes merged.

    The quantiles are observed sizes (the midpoints of ``n`` equal-probability bins), so point
    masses such as round lots of 100 keep their weight and the tail keeps its shape.
    """
    s = np.asarray(sizes, dtype=np.int64)
    if s.size == 0:
        raise ValueError("size_table needs at least one size")
    q = np.quantile(s, (np.arange(n) + 0.5) / n, method="inverted_cdf").astype(np.int64)
    v, c = np.unique(q, return_counts=True)
    return tuple(int(x) for x in v), tuple(float(x) / n for x in c)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFlowStats:
    """Order-flow statistics of a stream (rates per second, sizes in lots, distances in ticks).

    ``p_inside`` / ``p_at_best`` / ``p_behind`` are the shares of limit orders placed strictly
    inside the spread, at the same-side best price, and behind it (both sides present);
    ``inside_improvement_median`` and ``behind_distance_quantiles`` (25/50/75/90 %) describe
    the distances. ``median_life_s`` is the median time from ``ADD`` to ``DELETE`` or the last
    ``EXECUTE`` per placement class (orders still resting at the end are left out), and
    ``share_life_below_1s`` the share of those lifetimes under one second.
    """

    duration_s: float
    limit_rate: float
    cancel_rate: float
    market_order_rate: float
    hidden_trade_rate: float
    limit_sizes: tuple[tuple[int, ...], tuple[float, ...]]
    market_sizes: tuple[tuple[int, ...], tuple[float, ...]]
    mean_limit_size: float
    mean_market_size: float
    p_inside: float
    p_at_best: float
    p_behind: float
    inside_improvement_median: float
    behind_distance_quantiles: tuple[float, float, float, float]
    median_life_s: dict[str, float]
    share_life_below_1s: float

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "duration_s": self.duration_s,
            "limit_rate": self.limit_rate,
            "cancel_rate": self.cancel_rate,
            "market_order_rate": self.market_order_rate,
            "hidden_trade_rate": self.hidden_trade_rate,
            "limit_sizes": [list(self.limit_sizes[0]), list(self.limit_sizes[1])],
            "market_sizes": [list(self.market_sizes[0]), list(self.market_sizes[1])],
            "mean_limit_size": self.mean_limit_size,
            "mean_market_size": self.mean_market_size,
            "p_inside": self.p_inside,
            "p_at_best": self.p_at_best,
            "p_behind": self.p_behind,
            "inside_improvement_median": self.inside_improvement_median,
            "behind_distance_quantiles": list(self.behind_distance_quantiles),
            "median_life_s": dict(self.median_life_s),
            "share_life_below_1s": self.share_life_below_1s,
        }


def order_flow_stats(
    events: np.ndarray, *, price_per_tick: int = 1, n_sizes: int = 32, skip_snapshot: bool = True
) -> OrderFlowStats:
    """Measure the order flow of a canonical L3 stream.

    Parameters
    ----------
    events
        One ``EVENT_DTYPE`` array (the whole stream, in order).
    price_per_tick
        Event price units per tick (100 for LOBSTER prices in $0.0001 with a $0.01 tick).
    n_sizes
        Entries of the size tables.
    skip_snapshot
        Leave the ``F_SNAPSHOT`` records out of the counts (they build the book, no one sent them).
    """
    if not isinstance(events, np.ndarray) or events.dtype != EVENT_DTYPE or events.size == 0:
        raise DataError("order_flow_stats needs a non-empty EVENT_DTYPE array")
    bp, _bq, ap, _aq = L3Book().replay_top(events, 1)
    # the book before event i is the one after event i-1
    prev_b = np.concatenate(([0], bp[:-1, 0]))
    prev_a = np.concatenate(([0], ap[:-1, 0]))
    live = np.ones(events.size, bool)
    if skip_snapshot:
        live = (events["flags"] & F_SNAPSHOT) == 0
    ev = events[live]
    pb, pa = prev_b[live], prev_a[live]
    ts = ev["ts_event"]
    # the time span of the whole stream: a snapshot marks when the market was first seen
    duration = float((events["ts_event"][-1] - events["ts_event"][0]) / 1e9)
    kind = ev["kind"]
    side = ev["side"].astype(np.int64)
    price = ev["price"]
    qty = ev["qty"]
    oid = ev["order_id"]
    per_s = 1.0 / duration if duration > 0 else float("nan")

    add = np.flatnonzero(kind == K_ADD)
    both = (pb[add] > 0) & (pa[add] > 0) & (pa[add] > pb[add])
    a = add[both]
    # distance behind the same-side best in ticks (negative: inside the spread)
    dist = np.where(side[a] > 0, pb[a] - price[a], price[a] - pa[a]) / price_per_tick
    n_placed = max(a.size, 1)
    inside = dist < 0
    at = dist == 0
    behind = dist > 0
    q = np.percentile(dist[behind], [25, 50, 75, 90]) if behind.any() else np.full(4, np.nan)

    ex = np.flatnonzero(kind == K_EXECUTE)
    if ex.size:
        new = np.concatenate(([True], (np.diff(ts[ex]) != 0) | (np.diff(side[ex]) != 0)))
        mo_sizes = np.add.reduceat(qty[ex], np.flatnonzero(new))
    else:
        mo_sizes = np.zeros(0, np.int64)

    # lifetimes: ADD to DELETE or to the last EXECUTE that emptied it (approximated by the last
    # DELETE / EXECUTE seen for the id)
    ends = np.flatnonzero((kind == K_DELETE) | (kind == K_EXECUTE))
    end_t: dict[int, int] = dict(zip(oid[ends].tolist(), ts[ends].tolist(), strict=True))
    lives: dict[str, list[float]] = {"inside": [], "at_best": [], "behind": []}
    for i, d in zip(a.tolist(), dist.tolist(), strict=True):
        t_end = end_t.get(int(oid[i]))
        if t_end is None or t_end < ts[i]:
            continue
        cls = "inside" if d < 0 else ("at_best" if d == 0 else "behind")
        lives[cls].append((t_end - int(ts[i])) / 1e9)
    all_lives = np.array([x for v in lives.values() for x in v])
    return OrderFlowStats(
        duration_s=duration,
        limit_rate=add.size * per_s,
        cancel_rate=int(np.count_nonzero((kind == K_DELETE) | (kind == K_CANCEL))) * per_s,
        market_order_rate=mo_sizes.size * per_s,
        hidden_trade_rate=int(np.count_nonzero(kind == K_TRADE)) * per_s,
        limit_sizes=size_table(qty[add], n_sizes) if add.size else ((), ()),
        market_sizes=size_table(mo_sizes, n_sizes) if mo_sizes.size else ((), ()),
        mean_limit_size=float(qty[add].mean()) if add.size else float("nan"),
        mean_market_size=float(mo_sizes.mean()) if mo_sizes.size else float("nan"),
        p_inside=float(inside.sum() / n_placed),
        p_at_best=float(at.sum() / n_placed),
        p_behind=float(behind.sum() / n_placed),
        inside_improvement_median=float(np.median(-dist[inside])) if inside.any() else float("nan"),
        behind_distance_quantiles=(float(q[0]), float(q[1]), float(q[2]), float(q[3])),
        median_life_s={k: float(np.median(v)) if v else float("nan") for k, v in lives.items()},
        share_life_below_1s=float(np.mean(all_lives < 1.0)) if all_lives.size else float("nan"),
    )
