from __future__ import annotations

from pathlib import Path

import numpy as np

from execsim.book.aggregate import L3ToL2
from execsim.book.l2 import L2Book
from execsim.book.l3 import L3Book
from execsim.data.feeds.lobster import LobsterFeed
from execsim.data.schema import (
    F_LAST,
    K_ADD,
    K_CANCEL,
    K_DELETE,
    K_EXECUTE,
    K_SET_LEVEL,
    K_TRADE,
    empty_events,
)


def _ev(rows: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    ev = empty_events(len(rows))
    for i, (kind, side, price, qty, oid) in enumerate(rows):
        ev[i] = (i, i, i, kind, side, price, qty, oid, F_LAST)
    return ev


def test_each_l3_kind_becomes_the_level_update_a_depth_feed_would_carry() -> None:
    l3 = _ev(
        [
            (K_ADD, 1, 100, 5, 1),
            (K_ADD, 1, 100, 7, 2),
            (K_CANCEL, 1, 100, 2, 1),
            (K_EXECUTE, 1, 100, 3, 1),
            (K_DELETE, 1, 100, 7, 2),
        ]
    )
    out = L3ToL2().convert(l3)
    got = [
        (int(e["kind"]), int(e["side"]), int(e["price"]), int(e["qty"]), bool(e["flags"] & F_LAST))
        for e in out
    ]
    assert got == [
        (K_SET_LEVEL, 1, 100, 5, True),
        (K_SET_LEVEL, 1, 100, 12, True),
        (K_SET_LEVEL, 1, 100, 10, True),
        (K_TRADE, -1, 100, 3, False),  # the aggressor sold into the bid
        (K_SET_LEVEL, 1, 100, 7, True),
        (K_SET_LEVEL, 1, 100, 0, True),
    ]
    assert out["seq"].tolist() == list(range(6))


def test_goog_day_aggregated_to_l2_has_the_l3_books_best_levels_after_every_message(
    lobster_goog: tuple[Path, Path],
) -> None:
    feed = LobsterFeed(*lobster_goog)
    conv = L3ToL2()
    l3, l2 = L3Book(), L2Book()
    checked = 0
    for batch in feed.batches():
        bid_px, bid_qty, ask_px, ask_qty = l3.replay_top(batch, 1)
        last = (batch["flags"] & F_LAST) != 0
        bbo = l2.replay_bbo(conv.convert(batch))
        assert len(bbo) == int(last.sum())
        assert np.array_equal(bbo["bid_px"], bid_px[last, 0])
        assert np.array_equal(bbo["bid_qty"], bid_qty[last, 0])
        assert np.array_equal(bbo["ask_px"], ask_px[last, 0])
        assert np.array_equal(bbo["ask_qty"], ask_qty[last, 0])
        checked += len(bbo)
    assert checked == 147_916 + 1  # every message, and the initial snapshot
    assert conv.clamped_reductions == 0
    assert all(np.array_equal(x, y) for x, y in zip(l3.top(10), l2.top(10), strict=True))
