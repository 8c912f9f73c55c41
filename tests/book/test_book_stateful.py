"""Hypothesis state machine over the matching engine: random submits, cancels and modifies of
every order type, checking after each step that the book is sane and every rule held."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from execsim.book.matching import MatchingEngine
from execsim.book.orders import MatchResult
from execsim.model.enums import OrderStatus, OrderType, Side, TimeInForce

SIDES = st.sampled_from([Side.BUY, Side.SELL])
PRICES = st.integers(97, 103)
# limit prices as a distance from the far side: buys at 96..101, sells at 99..104, so that
# queues build up at each price and about a third of the orders cross
OFFSETS = st.sampled_from(range(6))
QTYS = st.sampled_from(range(1, 10))
OWNERS = st.sampled_from([0, 1, 2])


@dataclass
class Acct:
    """What the model knows about one order, from the engine's own reports."""

    side: Side
    peg: bool
    submitted: int = 0
    filled: int = 0
    cancelled: int = 0

    @property
    def leaves(self) -> int:
        return self.submitted - self.filled - self.cancelled


Snapshot = dict[str, object]


class MatchingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.e = MatchingEngine()
        self.acct: dict[int, Acct] = {}
        self.next_id = 1

    @initialize(policy=st.sampled_from(["none", "cancel_newest", "cancel_oldest", "cancel_both"]))
    def pick_policy(self, policy: str) -> None:
        self.e = MatchingEngine(self_trade_prevention=policy)
        # a few resting orders on each side (owners 0-2, one iceberg each) to trade against
        for i, (bid, ask) in enumerate([(99, 101), (99, 101), (98, 102), (97, 103)]):
            for side, px in ((Side.BUY, bid), (Side.SELL, ask)):
                kw = {"display_qty": 2} if i == 1 else {}
                self.do_submit(self.new_id(), side, False, 5, price=px, owner=i % 3, **kw)

    # ------------------------------------------------------------------ helpers
    def live(self) -> list[int]:
        return [o for o, a in self.acct.items() if a.leaves > 0]

    def snapshot(self) -> Snapshot:
        """Contra-relevant state before an operation: FIFO queues by side and price, pegs."""
        b = self.e.book
        levels: dict[Side, list[tuple[int, list[int]]]] = {}
        shown: dict[int, int] = {}
        for side in (Side.BUY, Side.SELL):
            n = b.n_levels(side)
            out = []
            if n:
                px = b.top(n)[0 if side is Side.BUY else 2]
                for p in px.tolist():
                    lv = b.level(side, p)
                    assert lv is not None
                    out.append((p, [oid for oid, _ in lv.orders]))
                    shown.update(lv.orders)
            levels[side] = out
        pegs = {s: [oid for oid, _ in self.e.peg_orders(s)] for s in (Side.BUY, Side.SELL)}
        return {
            "levels": levels,
            "shown": shown,
            "pegs": pegs,
            "bid": b.best_bid(),
            "ask": b.best_ask(),
        }

    def book_keeping(self, r: MatchResult) -> None:
        for f in r.fills:
            assert f.qty > 0
            self.acct[f.taker_order_id].filled += f.qty
            self.acct[f.maker_order_id].filled += f.qty
        for u in r.updates:
            if u.status is not OrderStatus.REJECTED:
                self.acct[u.order_id].cancelled += u.cancelled_qty

    def check_priority(self, oid: int, side: Side, pre: Snapshot, r: MatchResult) -> None:
        """Fills of the aggressor ``oid`` followed price-time priority over ``pre``."""
        contra = side.opposite
        own = [f for f in r.fills if f.taker_order_id == oid]
        stp_cancelled = {
            u.order_id for u in r.updates if u.reason == "self-trade prevention" and u.order_id != oid
        }
        lit = [f for f in own if not f.maker_is_peg]
        better = (lambda a, b: a < b) if side is Side.BUY else (lambda a, b: a > b)
        # lit fills take prices best first, and clear every better level completely
        for a, b in itertools.pairwise(lit):
            assert not better(b.price, a.price), f"price priority broken: {a} then {b}"
        if lit:
            worst = lit[-1].price
            for p, q in pre["levels"][contra]:  # type: ignore[index]
                if better(p, worst):
                    for m in q:
                        assert m == oid or self.e.book.order(m) is None, (
                            f"order {m} at better price {p} survived a fill at {worst}"
                        )
        # at each price (and in the peg queue), makers are hit in FIFO order
        queues = dict(pre["levels"][contra])  # type: ignore[arg-type,index]
        seen: dict[object, list[int]] = {}
        for f in own:
            key = "peg" if f.maker_is_peg else f.price
            lst = seen.setdefault(key, [])
            if f.maker_order_id not in lst:
                lst.append(f.maker_order_id)
        for key, makers in seen.items():
            q = pre["pegs"][contra] if key == "peg" else queues.get(key, [])  # type: ignore[index]
            # skip own orders that self-trade prevention cancelled before they were reached
            hit = {f.maker_order_id for f in own}
            q = [m for m in q if m != oid and (m not in stp_cancelled or m in hit)]
            assert makers == q[: len(makers)], f"FIFO broken at {key}: hit {makers}, queue {q}"
        # pegs trade exactly at the mid of the lit book at that moment, inside the spread
        # the aggressor's own side as matching saw it (a re-priced order left it first)
        own_levels = pre["levels"][side]  # type: ignore[index]
        own_best = next(((p, 0) for p, q in own_levels if [m for m in q if m != oid]), None)
        contra_prices = {p for p, _ in pre["levels"][contra]}  # type: ignore[index]
        for i, f in enumerate(own):
            if not f.maker_is_peg:
                continue
            assert own_best is not None
            # the contra best at that moment was a pre-existing contra level c, with mid (own + c)/2
            c = 2 * f.price - own_best[0]
            assert c in contra_prices, f"peg fill at {f.price} is not a mid of the lit book"
            lo, hi = sorted((own_best[0], c))
            assert lo < f.price < hi
            assert all(not better(g.price, c) for g in own[i + 1 :] if not g.maker_is_peg)
            assert all(not better(c, g.price) for g in own[:i] if not g.maker_is_peg)

    def check_iceberg_refreshes(self, pre: Snapshot, r: MatchResult) -> None:
        """An iceberg whose displayed part was used up went behind the orders it was ahead of."""
        took: dict[int, int] = {}
        for f in r.fills:
            if not f.maker_is_peg:
                took[f.maker_order_id] = took.get(f.maker_order_id, 0) + f.qty
        shown: dict[int, int] = pre["shown"]  # type: ignore[assignment]
        for m, q in took.items():
            o = self.e.book.order(m)
            if o is None or m not in shown or q < shown[m]:
                continue  # gone, or displayed part not used up: no refresh
            lv = self.e.book.level(o.side, o.price)
            assert lv is not None
            queue = [x for x, _ in lv.orders]
            untouched = [x for x in queue if x in shown and x not in took]
            for x in untouched:
                assert queue.index(x) < queue.index(m), (
                    f"refreshed iceberg {m} kept priority over {x} in {queue}"
                )

    def check_crossed_pegs(self, oid: int, r: MatchResult) -> None:
        for f in r.fills:
            if f.taker_order_id != oid:  # resting pegs crossed after the operation
                assert f.maker_is_peg
                bid, ask = self.e.book.best_bid(), self.e.book.best_ask()
                assert bid is not None
                assert ask is not None
                assert 2 * f.price == bid[0] + ask[0]

    def do_submit(self, oid: int, side: Side, peg: bool, qty: int, **kw: object) -> MatchResult:
        pre = self.snapshot()
        r = self.e.submit(order_id=oid, side=side, qty=qty, **kw)  # type: ignore[arg-type]
        if r.accepted:
            self.acct[oid] = Acct(side=side, peg=peg, submitted=qty)
            self.book_keeping(r)
            self.check_priority(oid, side, pre, r)
            self.check_iceberg_refreshes(pre, r)
            self.check_crossed_pegs(oid, r)
        else:
            assert r.fills == ()
        return r

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    # ------------------------------------------------------------------ rules
    @rule(
        side=SIDES,
        off=OFFSETS,
        qty=QTYS,
        tif=st.sampled_from([TimeInForce.GTC] * 4 + [TimeInForce.IOC, TimeInForce.FOK, TimeInForce.DAY]),
        post_only=st.sampled_from([False, False, False, True]),
        display=st.none() | st.integers(1, 4),
        owner=OWNERS,
    )
    def submit_limit(
        self,
        side: Side,
        off: int,
        qty: int,
        tif: TimeInForce,
        post_only: bool,
        display: int | None,
        owner: int,
    ) -> None:
        px = 96 + off if side is Side.BUY else 104 - off
        pre_bid, pre_ask = self.e.book.best_bid(), self.e.book.best_ask()
        r = self.do_submit(
            self.new_id(), side, False, qty, price=px, tif=tif, post_only=post_only,
            display_qty=display, owner=owner,
        )  # fmt: skip
        if post_only and tif in (TimeInForce.GTC, TimeInForce.DAY):
            crosses = (side is Side.BUY and pre_ask is not None and px >= pre_ask[0]) or (
                side is Side.SELL and pre_bid is not None and px <= pre_bid[0]
            )
            if crosses:
                assert r.status is OrderStatus.REJECTED
            assert not [f for f in r.fills if f.taker_order_id == r.order_id], "post-only took"
        if tif is TimeInForce.FOK:
            assert r.status in (OrderStatus.FILLED, OrderStatus.REJECTED)
            assert r.filled_qty in (0, qty)
        if tif in (TimeInForce.IOC, TimeInForce.FOK):
            assert r.leaves_qty == 0

    @rule(side=SIDES, off=st.sampled_from(range(4)), qty=QTYS, display=st.none() | st.just(2), owner=OWNERS)
    def add_liquidity(self, side: Side, off: int, qty: int, display: int | None, owner: int) -> None:
        px = 99 - off if side is Side.BUY else 101 + off
        self.do_submit(self.new_id(), side, False, qty, price=px, display_qty=display, owner=owner)

    @rule(
        side=SIDES,
        qty=st.integers(1, 25),
        owner=OWNERS,
        tif=st.sampled_from([TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
    )
    def submit_market(self, side: Side, qty: int, owner: int, tif: TimeInForce) -> None:
        r = self.do_submit(self.new_id(), side, False, qty, order_type=OrderType.MARKET, owner=owner, tif=tif)
        assert r.leaves_qty == 0
        if tif is TimeInForce.FOK:
            assert r.filled_qty in (0, qty)

    @rule(side=SIDES, qty=QTYS, owner=OWNERS, post_only=st.booleans())
    def submit_peg(self, side: Side, qty: int, owner: int, post_only: bool) -> None:
        r = self.do_submit(
            self.new_id(), side, True, qty, order_type=OrderType.MIDPOINT_PEG, owner=owner,
            post_only=post_only,
        )  # fmt: skip
        if post_only:
            assert not [f for f in r.fills if f.taker_order_id == r.order_id]

    @precondition(lambda self: bool(self.live()))
    @rule(data=st.data(), partial=st.none() | st.integers(1, 6))
    def cancel(self, data: st.DataObject, partial: int | None) -> None:
        oid = data.draw(st.sampled_from(self.live()))
        before = self.acct[oid].leaves
        pos = self.e.book.order(oid)
        assert pos is not None
        r = self.e.cancel(oid, qty=partial)
        assert r.accepted
        self.book_keeping(r)
        self.check_crossed_pegs(oid, r)
        if partial is None or partial >= before:
            assert r.status is OrderStatus.CANCELLED
            assert r.cancelled_qty == before
        else:  # a size-down keeps the queue position
            assert r.leaves_qty == before - partial
            now = self.e.book.order(oid)
            assert now is not None
            assert (now.qty_ahead, now.orders_ahead) == (pos.qty_ahead, pos.orders_ahead)

    @rule(oid=st.integers(10**6, 10**6 + 5))
    def cancel_unknown(self, oid: int) -> None:
        assert self.e.cancel(oid).status is OrderStatus.REJECTED

    @precondition(lambda self: bool(self.live()))
    @rule(data=st.data(), px=st.none() | PRICES, qty=st.none() | st.integers(1, 12))
    def modify(self, data: st.DataObject, px: int | None, qty: int | None) -> None:
        oid = data.draw(st.sampled_from(self.live()))
        a = self.acct[oid]
        before = self.e.book.order(oid)
        assert before is not None
        old_total = before.qty + before.hidden_qty
        if a.peg:
            px = None  # a peg has no price to change
        same_price = px is None or px == before.price
        pre = self.snapshot()
        r = self.e.modify(oid, price=px, qty=qty)
        if not r.accepted:
            assert r.reason == "post-only order would take liquidity"
            assert r.fills == ()
            return
        new_total = old_total if qty is None else qty
        a.submitted += max(0, new_total - old_total)
        self.book_keeping(r)
        self.check_crossed_pegs(oid, r)
        after = self.e.book.order(oid)
        if same_price:
            assert r.fills == () or all(f.taker_order_id != oid for f in r.fills)
            assert after is not None
            if new_total <= old_total:  # size-down keeps the queue position
                assert (after.qty_ahead, after.orders_ahead) == (
                    before.qty_ahead,
                    before.orders_ahead,
                )
            else:  # size-up: to the back of the queue
                self.assert_at_back(oid, after.side, after.price, a.peg)
        else:
            assert px is not None
            self.check_priority(oid, a.side, pre, r)
            self.check_iceberg_refreshes(pre, r)
            if after is not None:  # re-priced and resting: last in its new queue
                assert after.price == px
                self.assert_at_back(oid, after.side, px, False)

    @precondition(lambda self: any(self.acct[o].leaves > 1 for o in self.live()))
    @rule(data=st.data())
    def modify_size_down(self, data: st.DataObject) -> None:
        oid = data.draw(st.sampled_from([o for o in self.live() if self.acct[o].leaves > 1]))
        before = self.e.book.order(oid)
        assert before is not None
        new = data.draw(st.integers(1, self.acct[oid].leaves - 1))
        r = self.e.modify(oid, qty=new)
        assert (r.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED), r.fills) == (True, ())
        self.book_keeping(r)
        after = self.e.book.order(oid)
        assert after is not None
        assert after.qty + after.hidden_qty == new
        assert (after.qty_ahead, after.orders_ahead) == (before.qty_ahead, before.orders_ahead)

    def assert_at_back(self, oid: int, side: Side, px: int, peg: bool) -> None:
        if peg:
            q = [o for o, _ in self.e.peg_orders(side)]
        else:
            lv = self.e.book.level(side, px)
            assert lv is not None
            q = [o for o, _ in lv.orders]
        assert q[-1] == oid, f"order {oid} should be last in {q}"

    # ------------------------------------------------------------------ invariants
    @invariant()
    def book_is_not_crossed(self) -> None:
        bid, ask = self.e.book.best_bid(), self.e.book.best_ask()
        if bid is not None and ask is not None:
            assert bid[0] < ask[0], f"crossed book: bid {bid} ask {ask}"

    @invariant()
    def quantity_is_conserved(self) -> None:
        total_sub = total_fill = total_rest = total_canc = 0
        for oid, a in self.acct.items():
            assert a.leaves >= 0, f"order {oid} over-filled: {a}"
            o = self.e.book.order(oid)
            resting = 0 if o is None else o.qty + o.hidden_qty
            assert resting == a.leaves, f"order {oid}: book has {resting}, accounts say {a}"
            total_sub += a.submitted
            total_fill += a.filled
            total_rest += resting
            total_canc += a.cancelled
        assert total_sub == total_fill + total_rest + total_canc
        assert len(self.e.book) == len(self.live())

    @invariant()
    def visible_levels_hold_only_displayed_quantity(self) -> None:
        b = self.e.book
        for side in (Side.BUY, Side.SELL):
            n = b.n_levels(side)
            if not n:
                continue
            px = b.top(n)[0 if side is Side.BUY else 2].tolist()
            for p in px:
                lv = b.level(side, p)
                assert lv is not None
                assert lv.anonymous_qty == 0
                assert lv.qty == sum(q for _, q in lv.orders) > 0

    @invariant()
    def pegs_could_not_trade(self) -> None:
        # resting pegs on both sides only while the mid is unusable
        if self.e.peg_orders(Side.BUY) and self.e.peg_orders(Side.SELL):
            assert self.e.midpoint() is None


MatchingMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_matching_engine_state_machine = MatchingMachine.TestCase
