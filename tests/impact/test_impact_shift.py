"""shift_events: presenting replayed events under an impact shift."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execsim.book.l2 import L2Book
from execsim.book.l3 import L3Book
from execsim.data.schema import (
    F_LAST,
    K_ADD,
    K_CANCEL,
    K_CLEAR,
    K_DELETE,
    K_EXECUTE,
    K_HALT,
    K_SET_LEVEL,
    K_TRADE,
    empty_events,
)
from execsim.impact import AlmgrenChrissImpact, shift_events

ALL_KINDS = [K_ADD, K_CANCEL, K_DELETE, K_EXECUTE, K_TRADE, K_SET_LEVEL, K_CLEAR, K_HALT]


def one_of_each() -> np.ndarray:
    ev = empty_events(len(ALL_KINDS))
    ev["kind"] = ALL_KINDS
    ev["price"] = [100, 101, 102, 103, 104, 105, 0, 0]
    ev["qty"] = [5, 1, 5, 2, 3, 7, 0, 2]
    ev["side"] = [1, 1, 1, -1, 1, -1, 0, 0]
    ev["seq"] = np.arange(len(ALL_KINDS))
    ev["ts_event"] = 1_000 + np.arange(len(ALL_KINDS))
    return ev


def test_every_priced_kind_moves_and_clear_and_halt_do_not() -> None:
    ev = one_of_each()
    out = shift_events(ev, np.array([3, -2, 1, 4, -5, 6, 9, 9], dtype=np.int64))
    assert out["price"].tolist() == [103, 99, 103, 107, 99, 111, 0, 0]
    for name in ("ts_event", "seq", "kind", "side", "qty", "order_id", "flags"):
        assert (out[name] == ev[name]).all()


def test_the_input_is_not_modified_and_a_scalar_shift_applies_to_all() -> None:
    ev = one_of_each()
    before = ev.copy()
    out = shift_events(ev, 2)
    assert (ev == before).all()
    assert out["price"].tolist() == [102, 103, 104, 105, 106, 107, 0, 0]


def test_shift_events_rejects_wrong_inputs() -> None:
    ev = one_of_each()
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        shift_events(np.zeros(3), 1)
    with pytest.raises(ValueError, match="shape"):
        shift_events(ev, np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="integers"):
        shift_events(ev, np.full(len(ev), 0.5))


def test_shifts_from_a_state_drive_a_batch() -> None:
    st = AlmgrenChrissImpact(permanent=1.0, temporary=0.0).start(tick_size_price=0.01, rng=None)
    st.on_fill(1_000, 1, 3, 100)
    ev = one_of_each()
    out = shift_events(ev, st.shifts_at(ev["ts_event"]))
    assert out["price"][:6].tolist() == [103, 104, 105, 106, 107, 108]


def l2_snapshot(bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> np.ndarray:
    ev = empty_events(1 + len(bids) + len(asks))
    ev["kind"][0] = K_CLEAR
    rows = [(1, p, q) for p, q in bids] + [(-1, p, q) for p, q in asks]
    for i, (side, p, q) in enumerate(rows, start=1):
        ev[i]["kind"] = K_SET_LEVEL
        ev[i]["side"] = side
        ev[i]["price"] = p
        ev[i]["qty"] = q
    ev["seq"] = np.arange(len(ev))
    ev["flags"][-1] = F_LAST
    return ev


@settings(max_examples=40, deadline=None)
@given(
    mid=st.integers(1_000, 100_000),
    spread=st.integers(1, 30),
    depth=st.integers(1, 8),
    shift=st.integers(-500, 500),
)
def test_a_uniform_shift_moves_the_whole_l2_book_and_never_crosses_it(
    mid: int, spread: int, depth: int, shift: int
) -> None:
    bids = [(mid - i, 10 + i) for i in range(depth)]
    asks = [(mid + spread + i, 20 + i) for i in range(depth)]
    ev = l2_snapshot(bids, asks)
    a, b = L2Book(), L2Book()
    a.apply(ev)
    b.apply(shift_events(ev, shift))
    (bp, bq, ap, aq), (bp2, bq2, ap2, aq2) = a.top(depth), b.top(depth)
    assert (bp2 == bp + shift).all()
    assert (ap2 == ap + shift).all()
    assert (bq2 == bq).all()
    assert (aq2 == aq).all()
    assert bp2[0] < ap2[0]  # spread unchanged, so never crossed


def test_a_uniform_shift_moves_an_l3_book_level_by_level() -> None:
    ev = empty_events(4)
    ev["kind"] = K_ADD
    ev["side"] = [1, 1, -1, -1]
    ev["price"] = [99, 98, 101, 103]
    ev["qty"] = [5, 6, 7, 8]
    ev["order_id"] = [1, 2, 3, 4]
    ev["seq"] = np.arange(4)
    ev["flags"] = F_LAST
    a, b = L3Book(), L3Book()
    a.apply(ev)
    b.apply(shift_events(ev, -7))
    assert b.best_bid() == (92, 5)
    assert b.best_ask() == (94, 7)
    assert a.best_bid() == (99, 5)
