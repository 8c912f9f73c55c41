from __future__ import annotations

import numpy as np

from execsim.book.summary import summarize_l2_replay
from execsim.data.schema import K_CLEAR, K_SET_LEVEL, K_TRADE
from execsim.data.synthetic import default_instrument, iter_synthetic_l2, synthetic_l2_stream


def _reference_book(events: np.ndarray) -> tuple[dict[int, int], dict[int, int], list[int]]:
    """A plain dict book and the spread after every F_LAST record."""
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    spreads = []
    for ev in events.tolist():
        _, _, _, kind, side, price, qty, _, flags = ev
        if kind == K_CLEAR:
            bids.clear()
            asks.clear()
        elif kind == K_SET_LEVEL:
            book = bids if side == 1 else asks
            if qty:
                book[price] = qty
            else:
                book.pop(price, None)
        if flags & 1 and bids and asks:
            spreads.append(min(asks) - max(bids))
    return bids, asks, spreads


def test_summary_matches_a_reference_computed_independently() -> None:
    events = synthetic_l2_stream(seed=3, n_events=30_000)
    batches = [events[i : i + 4_096] for i in range(0, len(events), 4_096)]
    s = summarize_l2_replay(batches, default_instrument(), depth=3)

    trades = events[events["kind"] == K_TRADE]
    assert s.events == len(events)
    assert s.trades == len(trades)
    assert s.trade_volume == int(trades["qty"].sum())
    assert s.vwap_ticks == float((trades["price"] * trades["qty"]).sum() / trades["qty"].sum())
    assert s.trade_high == int(trades["price"].max())
    assert s.events_by_kind["trade"] == len(trades)

    bids, asks, spreads = _reference_book(events)
    assert s.spread_samples == len(spreads)
    assert s.spread_max == max(spreads)
    assert s.spread_median == sorted(spreads)[len(spreads) // 2]  # the upper median
    assert abs(s.spread_mean - float(np.mean(spreads))) < 1e-9
    assert s.crossed_states == sum(1 for x in spreads if x <= 0)
    bid_px, bid_qty, ask_px, ask_qty = s.final_top
    top_bids = sorted(bids, reverse=True)[:3]
    top_asks = sorted(asks)[:3]
    assert bid_px.tolist() == top_bids
    assert bid_qty.tolist() == [bids[p] for p in top_bids]
    assert ask_px.tolist() == top_asks
    assert ask_qty.tolist() == [asks[p] for p in top_asks]


def test_summary_is_the_same_whatever_the_batch_size() -> None:
    a = summarize_l2_replay(
        iter_synthetic_l2(seed=5, n_events=20_000, batch_size=1_000), default_instrument()
    )
    b = summarize_l2_replay(
        iter_synthetic_l2(seed=5, n_events=20_000, batch_size=7_777), default_instrument()
    )
    assert (a.trades, a.trade_volume, a.spread_samples, a.spread_mean) == (
        b.trades,
        b.trade_volume,
        b.spread_samples,
        b.spread_mean,
    )
    assert all(np.array_equal(x, y) for x, y in zip(a.final_top, b.final_top, strict=True))
