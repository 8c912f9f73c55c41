from __future__ import annotations

import numpy as np
import pytest

from execsim.agents import AGENT_ID_BASE, AgentMarketConfig, AgentMarketVenue, run_market
from execsim.book.l3 import L3Book
from execsim.core.errors import ConfigError
from execsim.data.schema import (
    F_LAST,
    F_SNAPSHOT,
    F_SYNTHETIC,
    K_ADD,
    K_CANCEL,
    K_CLEAR,
    K_DELETE,
    K_EXECUTE,
)
from execsim.model import Instrument, LiquiditySide, OrderType, Side, TimeInForce
from execsim.venues.base import CancelOrder, ModifyOrder, ReportKind, SubmitOrder, Venue, check_venue

S = 1_000_000_000
CFG = AgentMarketConfig(warmup_s=60)


def _venue(seed: int = 1, cfg: AgentMarketConfig = CFG) -> AgentMarketVenue:
    return AgentMarketVenue(
        name="ABM", instrument=cfg.instrument(), config=cfg, seed=np.random.SeedSequence(seed)
    )


def _mid2(v: AgentMarketVenue) -> int:
    m = v.quote().mid2
    assert m is not None
    return m


def test_the_venue_passes_the_venue_conformance_checks() -> None:
    check_venue(lambda: _venue(5))
    assert isinstance(_venue(5), Venue)


def test_same_seed_gives_an_identical_event_stream() -> None:
    a, b = _venue(3), _venue(3)
    a.advance(CFG.start_ns + 300 * S)
    b.advance(CFG.start_ns + 300 * S)
    ea, eb = a.drain_events(), b.drain_events()
    assert len(ea) > 1_000
    assert np.array_equal(ea, eb)
    c = _venue(4)
    c.advance(CFG.start_ns + 300 * S)
    assert not np.array_equal(c.drain_events()[: len(ea)], ea[: len(ea)])


def test_the_seed_sequence_passed_in_is_not_consumed() -> None:
    seed = np.random.SeedSequence(9)
    a = AgentMarketVenue(name="A", instrument=CFG.instrument(), config=CFG, seed=seed)
    b = AgentMarketVenue(name="B", instrument=CFG.instrument(), config=CFG, seed=seed)
    assert seed.n_children_spawned == 0
    assert np.array_equal(a.drain_events(), b.drain_events())


def test_the_stream_does_not_depend_on_how_advance_is_chunked() -> None:
    end = CFG.start_ns + 120 * S
    whole = _venue(2)
    whole.advance(end)
    steps = _venue(2)
    rng = np.random.default_rng(0)
    t = CFG.start_ns
    while t < end:
        t = min(end, t + int(rng.exponential(0.05 * S)))
        steps.advance(t)
    assert np.array_equal(whole.drain_events(), steps.drain_events())


def test_two_markets_in_one_process_do_not_interfere() -> None:
    solo = _venue(6)
    solo.advance(CFG.start_ns + 60 * S)
    a, b = _venue(6), _venue(7)
    for k in range(1, 61):
        a.advance(CFG.start_ns + k * S)
        b.advance(CFG.start_ns + k * S)
    assert np.array_equal(a.drain_events(), solo.drain_events())


def test_run_market_records_a_snapshot_then_every_event_in_order() -> None:
    ev = run_market(CFG, np.random.SeedSequence(1), 60 * S)
    assert ev[0]["kind"] == K_CLEAR
    assert ev[0]["flags"] & F_SNAPSHOT
    snap = (ev["flags"] & F_SNAPSHOT) != 0
    assert snap[: int(snap.sum())].all(), "the snapshot comes first"
    assert set(np.unique(ev["kind"][~snap]).tolist()) <= {K_ADD, K_CANCEL, K_DELETE, K_EXECUTE}
    assert np.array_equal(ev["seq"], np.arange(len(ev)))
    assert (np.diff(ev["ts_event"]) >= 0).all()
    assert ev["ts_event"][0] == CFG.start_ns
    assert ev["ts_event"][-1] <= CFG.start_ns + 60 * S
    assert (ev["flags"] & F_SYNTHETIC).all()
    assert ev[-1]["flags"] & F_LAST
    assert (ev["order_id"][ev["kind"] != K_CLEAR] >= AGENT_ID_BASE).all()


def test_the_stream_rebuilds_the_venue_book_and_it_is_never_crossed() -> None:
    v = _venue(8)
    v.advance(CFG.start_ns + 600 * S)
    ev = v.drain_events()
    book = L3Book()
    bp, bq, ap, aq = book.replay_top(ev, 1)
    last = (ev["flags"] & F_LAST) != 0
    both = last & (bq[:, 0] > 0) & (aq[:, 0] > 0)
    assert both.sum() > 0.99 * last.sum()
    assert (bp[both, 0] < ap[both, 0]).all()
    assert book.stats["unknown_order_events"] == 0
    assert book.stats["rejected_events"] == 0
    for got, want in zip(book.top(10), v.book.top(10), strict=True):
        assert np.array_equal(got, want)
    assert len(book) == len(v.book)


def test_every_agent_order_is_accounted_for() -> None:
    v = _venue(10)
    v.advance(CFG.start_ns + 600 * S)
    ev = v.drain_events()
    added: dict[int, int] = {}
    removed: dict[int, int] = {}
    for kind, oid, qty in zip(ev["kind"].tolist(), ev["order_id"].tolist(), ev["qty"].tolist(), strict=True):
        if kind == K_ADD:
            assert oid not in added, "an order id is used once"
            added[oid] = qty
        elif kind in (K_EXECUTE, K_CANCEL, K_DELETE):
            removed[oid] = removed.get(oid, 0) + qty
    assert set(removed) <= set(added)
    resting = 0
    for oid, qty in added.items():
        view = v.book.order(oid)
        left = 0 if view is None else view.qty + view.hidden_qty
        assert qty == removed.get(oid, 0) + left, f"order {oid}: added {qty}"
        resting += view is not None
    assert resting == len(v.book)


def test_a_resting_order_filled_by_the_agents_stops_advance_at_the_fill() -> None:
    v = _venue(11)
    q = v.quote()
    t0 = v.now
    reps = v.handle(SubmitOrder(ts_ns=t0, order_id=1, side=Side.BUY, qty=20, price=q.bid_px))
    assert [r.kind for r in reps] == [ReportKind.ACCEPTED]
    until = t0 + 3_600 * S
    reached, fills = v.advance(until)
    assert fills, "an hour of market orders reaches the best bid"
    assert reached < until
    assert v.now == reached
    f = fills[0]
    assert f.kind is ReportKind.FILL
    assert f.liquidity is LiquiditySide.MAKER
    assert f.order_id == 1
    assert f.ts_ns == reached
    assert f.price == q.bid_px
    assert 0 < f.qty <= 20
    assert f.leaves_qty == 20 - f.qty
    assert f.queue_ahead >= 0
    ev = v.drain_events()
    mine = ev[ev["order_id"] == 1]
    assert mine["kind"].tolist()[:2] == [K_ADD, K_EXECUTE]
    assert mine[0]["qty"] == 20
    assert mine[1]["qty"] == f.qty


def test_our_orders_appear_in_the_stream_under_our_ids() -> None:
    v = _venue(12)
    q = v.quote()
    t = v.now
    v.handle(SubmitOrder(ts_ns=t, order_id=42, side=Side.SELL, qty=30, price=q.ask_px + 50))
    reps = v.handle(ModifyOrder(ts_ns=t + S, order_id=42, qty=10))
    assert [(r.kind, r.leaves_qty) for r in reps] == [(ReportKind.MODIFIED, 10)]
    reps = v.handle(CancelOrder(ts_ns=t + 2 * S, order_id=42))
    assert [(r.kind, r.qty, r.leaves_qty) for r in reps] == [(ReportKind.CANCELLED, 10, 0)]
    ev = v.drain_events()
    mine = ev[ev["order_id"] == 42]
    assert [(int(k), int(x)) for k, x in zip(mine["kind"], mine["qty"], strict=True)] == [
        (K_ADD, 30),
        (K_CANCEL, 20),
        (K_DELETE, 10),
    ]
    assert (mine["flags"] & F_LAST).all()
    assert v.handle(CancelOrder(ts_ns=t + 3 * S, order_id=42))[0].kind is ReportKind.REJECTED


def test_a_marketable_modify_trades_at_the_book() -> None:
    v = _venue(13)
    q = v.quote()
    t = v.now
    v.handle(SubmitOrder(ts_ns=t, order_id=5, side=Side.BUY, qty=10, price=q.bid_px - 20))
    reps = v.handle(ModifyOrder(ts_ns=t, order_id=5, price=v.quote().ask_px))
    assert reps[0].kind is ReportKind.MODIFIED
    fills = [r for r in reps if r.kind is ReportKind.FILL]
    assert fills
    assert all(r.liquidity is LiquiditySide.TAKER for r in fills)
    assert sum(r.qty for r in fills) + reps[-1].leaves_qty == 10


@pytest.mark.parametrize(
    ("order", "why"),
    [
        ({"order_type": OrderType.MIDPOINT_PEG}, "not supported"),
        ({"price": 57_000, "display_qty": 5}, "iceberg"),
        ({"price": 57_000, "min_qty": 5}, "min_qty"),
        ({"price": 57_000, "order_id": AGENT_ID_BASE}, "order id must be in"),
        ({"price": 57_000, "order_type": OrderType.MARKET}, "takes no price"),
        ({"price": 57_000, "post_only": True, "tif": TimeInForce.IOC}, "post-only"),
    ],
)
def test_unsupported_orders_are_rejected_with_a_reason(order: dict[str, object], why: str) -> None:
    v = _venue(14)
    args: dict[str, object] = {"ts_ns": v.now, "order_id": 3, "side": Side.BUY, "qty": 5}
    args.update(order)
    reps = v.handle(SubmitOrder(**args))  # type: ignore[arg-type]
    assert [r.kind for r in reps] == [ReportKind.REJECTED]
    assert why in (reps[0].reason or "")


def test_an_order_id_is_used_once() -> None:
    v = _venue(15)
    p = v.quote().bid_px - 30
    v.handle(SubmitOrder(ts_ns=v.now, order_id=3, side=Side.BUY, qty=5, price=p))
    v.handle(CancelOrder(ts_ns=v.now, order_id=3))
    reps = v.handle(SubmitOrder(ts_ns=v.now, order_id=3, side=Side.BUY, qty=5, price=p))
    assert reps[0].kind is ReportKind.REJECTED
    assert reps[0].reason == "duplicate order id"


def test_post_only_and_fill_or_kill_follow_the_matching_rules() -> None:
    v = _venue(16)
    q = v.quote()
    reps = v.handle(
        SubmitOrder(ts_ns=v.now, order_id=1, side=Side.BUY, qty=5, price=q.ask_px, post_only=True)
    )
    assert reps[0].kind is ReportKind.REJECTED
    assert "post-only" in (reps[0].reason or "")
    huge = 10 * sum(int(x) for x in v.book.top(10)[3])
    reps = v.handle(
        SubmitOrder(ts_ns=v.now, order_id=2, side=Side.BUY, qty=huge, price=q.ask_px, tif=TimeInForce.FOK)
    )
    assert reps[0].kind is ReportKind.REJECTED
    assert "fill-or-kill" in (reps[0].reason or "")


def test_our_large_buy_moves_the_price_up_against_the_counterfactual() -> None:
    t1 = CFG.start_ns + 60 * S
    later = []
    for seed in (21, 22, 23):
        base, ours = _venue(seed), _venue(seed)
        base.advance(t1)
        ours.advance(t1)
        assert _mid2(base) == _mid2(ours)
        # take the whole best ask and a little more (latent sellers resting at the ask absorb a
        # buy smaller than their order without a move: pinning)
        qty = ours.quote().ask_qty + 100
        reps = ours.handle(
            SubmitOrder(ts_ns=t1, order_id=1, side=Side.BUY, qty=qty, order_type=OrderType.MARKET)
        )
        assert sum(r.qty for r in reps if r.kind is ReportKind.FILL) == qty
        base.advance(t1 + S // 1000)
        ours.advance(t1 + S // 1000)
        assert _mid2(ours) > _mid2(base)
        base.advance(t1 + 30 * S)
        ours.advance(t1 + 30 * S)
        later.append(_mid2(ours) - _mid2(base))
    # the market has moved on, differently in each run, but our buy is still in the price
    assert np.mean(later) > 0


def test_the_instrument_must_match_the_config() -> None:
    wrong = Instrument(symbol="SYN", venue="ABM", tick_size="0.05")
    with pytest.raises(ConfigError, match="tick"):
        AgentMarketVenue(name="ABM", instrument=wrong, config=CFG, seed=np.random.SeedSequence(1))
    with pytest.raises(ConfigError, match="SeedSequence"):
        AgentMarketVenue(name="ABM", instrument=CFG.instrument(), config=CFG, seed=1)  # type: ignore[arg-type]
