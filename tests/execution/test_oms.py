"""The OMS: the order lifecycle table (every legal transition, illegal ones raise), parent
ledgers, positions and P&L on hand-computed cases, the event log, the kill switch, and a
Hypothesis state machine driving the OMS against the mock venue."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

import hypothesis.strategies as st
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from execsim.core.errors import ExecsimError
from execsim.execution import (
    EVENT_LOG_SCHEMA,
    ORDER_STATE_TABLE,
    CancelRequest,
    IllegalTransitionError,
    KillScope,
    ModifyRequest,
    OmsEventKind,
    OrderDenied,
    OrderManager,
    OrderRequest,
    OrderSubmitted,
    RiskConfig,
)
from execsim.model.enums import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from execsim.model.instrument import Instrument
from execsim.venues.base import ExecutionReport, MockVenue, Quote, ReportKind, VenueCommand

S = OrderStatus
K = OmsEventKind
INS = Instrument(symbol="XYZ", venue="TEST", tick_size="0.01", lot_size="1")


def _oms(**risk: object) -> OrderManager:
    return OrderManager(INS, RiskConfig(**risk) if risk else None)  # type: ignore[arg-type]


def _req(side: Side = Side.BUY, qty: int = 10, price: int | None = 100, **kw: object) -> OrderRequest:
    return OrderRequest(venue=str(kw.pop("venue", "v")), side=side, qty=qty, price=price, **kw)  # type: ignore[arg-type]


def _new(oms: OrderManager, req: OrderRequest | None = None, now: int = 0, **kw: object) -> int:
    ev = oms.request_new(req or _req(), now=now, **kw)  # type: ignore[arg-type]
    assert isinstance(ev, OrderSubmitted), ev
    return ev.order_id


def _rep(
    oms: OrderManager, oid: int, kind: ReportKind, command: str, now: int = 1, fee: float = 0.0, **kw: object
):  # type: ignore[no-untyped-def]
    r = ExecutionReport(ts_ns=now, venue=oms.order(oid).venue, order_id=oid, kind=kind, **kw)  # type: ignore[arg-type]
    return oms.on_report(r, command=command, now=now, fee=fee)


# -- a small driver: steps that move one 10-lot buy order through its lifecycle ---------------------


def _leaves(oms: OrderManager, oid: int) -> int:
    o = oms.order(oid)
    return o.qty - o.filled_qty


def _step(oms: OrderManager, oid: int, step: str) -> object:
    """Apply one step; return the event (or request) it produced."""
    name, _, arg = step.partition(" ")
    n = int(arg) if arg else 0
    L = _leaves(oms, oid)
    o = oms.order(oid)
    if name == "accept":
        return _rep(oms, oid, ReportKind.ACCEPTED, "submit", leaves_qty=L)
    if name == "fill":
        return _rep(oms, oid, ReportKind.FILL, "market", price=100, qty=n, leaves_qty=L - n)
    if name == "fill_all":
        return _rep(oms, oid, ReportKind.FILL, "market", price=100, qty=L, leaves_qty=0)
    if name == "cancel":
        return oms.request_cancel(oid, now=1)
    if name == "reduce":
        return oms.request_cancel(oid, n, now=1)
    if name == "modify":
        return oms.request_modify(oid, qty=n, now=1)
    if name == "cancelled":
        return _rep(oms, oid, ReportKind.CANCELLED, "cancel", qty=L, leaves_qty=0)
    if name == "cancelled_market":
        return _rep(oms, oid, ReportKind.CANCELLED, "market", qty=L, leaves_qty=0)
    if name == "reduced":
        return _rep(oms, oid, ReportKind.CANCELLED, "cancel", qty=n, leaves_qty=L - n)
    if name == "reduced_market":
        return _rep(oms, oid, ReportKind.CANCELLED, "market", qty=n, leaves_qty=L - n)
    if name == "cancel_rejected":
        return _rep(oms, oid, ReportKind.REJECTED, "cancel", reason="too late")
    if name == "modified":
        return _rep(oms, oid, ReportKind.MODIFIED, "modify", price=o.price or 0, leaves_qty=n)
    if name == "modified_market":
        return _rep(oms, oid, ReportKind.MODIFIED, "market", price=o.price or 0, leaves_qty=n)
    if name == "replace_rejected":
        return _rep(oms, oid, ReportKind.REJECTED, "modify", reason="halted")
    if name == "rejected":
        return _rep(oms, oid, ReportKind.REJECTED, "submit", reason="bad")
    if name == "expired":
        return _rep(oms, oid, ReportKind.EXPIRED, "market", reason="day end")
    raise AssertionError(step)


# (setup steps, step under test, expected status before, event kind, expected status after)
CASES: list[tuple[str, str, OrderStatus, OmsEventKind, OrderStatus]] = [
    # submitted
    ("", "accept", S.SUBMITTED, K.ACCEPTED, S.ACCEPTED),
    ("", "rejected", S.SUBMITTED, K.REJECTED, S.REJECTED),
    ("", "fill 3", S.SUBMITTED, K.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    ("", "fill_all", S.SUBMITTED, K.FILLED, S.FILLED),
    ("", "cancel", S.SUBMITTED, K.CANCEL_REQUESTED, S.PENDING_CANCEL),
    ("", "modify 5", S.SUBMITTED, K.REPLACE_REQUESTED, S.PENDING_REPLACE),
    ("", "cancelled_market", S.SUBMITTED, K.CANCELLED, S.CANCELLED),
    ("", "expired", S.SUBMITTED, K.EXPIRED, S.EXPIRED),
    # accepted
    ("accept", "fill 3", S.ACCEPTED, K.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    ("accept", "fill_all", S.ACCEPTED, K.FILLED, S.FILLED),
    ("accept", "cancel", S.ACCEPTED, K.CANCEL_REQUESTED, S.PENDING_CANCEL),
    ("accept", "reduce 4", S.ACCEPTED, K.REPLACE_REQUESTED, S.PENDING_REPLACE),
    ("accept", "modify 5", S.ACCEPTED, K.REPLACE_REQUESTED, S.PENDING_REPLACE),
    ("accept", "cancelled_market", S.ACCEPTED, K.CANCELLED, S.CANCELLED),
    ("accept", "rejected", S.ACCEPTED, K.REJECTED, S.REJECTED),
    ("accept", "expired", S.ACCEPTED, K.EXPIRED, S.EXPIRED),
    ("accept", "reduced_market 4", S.ACCEPTED, K.REPLACED, S.ACCEPTED),
    ("accept", "modified_market 7", S.ACCEPTED, K.REPLACED, S.ACCEPTED),
    # partially filled
    ("accept,fill 3", "fill 3", S.PARTIALLY_FILLED, K.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    ("accept,fill 3", "fill_all", S.PARTIALLY_FILLED, K.FILLED, S.FILLED),
    ("accept,fill 3", "cancel", S.PARTIALLY_FILLED, K.CANCEL_REQUESTED, S.PENDING_CANCEL),
    ("accept,fill 3", "modify 2", S.PARTIALLY_FILLED, K.REPLACE_REQUESTED, S.PENDING_REPLACE),
    ("accept,fill 3", "cancelled_market", S.PARTIALLY_FILLED, K.CANCELLED, S.CANCELLED),
    ("accept,fill 3", "rejected", S.PARTIALLY_FILLED, K.REJECTED, S.REJECTED),
    ("accept,fill 3", "expired", S.PARTIALLY_FILLED, K.EXPIRED, S.EXPIRED),
    ("accept,fill 3", "reduced_market 2", S.PARTIALLY_FILLED, K.REPLACED, S.PARTIALLY_FILLED),
    # pending cancel
    ("cancel", "accept", S.PENDING_CANCEL, K.ACCEPTED, S.PENDING_CANCEL),
    ("accept,cancel", "fill 3", S.PENDING_CANCEL, K.PARTIALLY_FILLED, S.PENDING_CANCEL),
    ("accept,cancel", "fill_all", S.PENDING_CANCEL, K.FILLED, S.FILLED),
    ("accept,cancel", "cancelled", S.PENDING_CANCEL, K.CANCELLED, S.CANCELLED),
    ("cancel", "cancel_rejected", S.PENDING_CANCEL, K.CANCEL_REJECTED, S.SUBMITTED),
    ("accept,cancel", "cancel_rejected", S.PENDING_CANCEL, K.CANCEL_REJECTED, S.ACCEPTED),
    ("accept,fill 3,cancel", "cancel_rejected", S.PENDING_CANCEL, K.CANCEL_REJECTED, S.PARTIALLY_FILLED),
    ("accept,modify 5,cancel", "cancel_rejected", S.PENDING_CANCEL, K.CANCEL_REJECTED, S.PENDING_REPLACE),
    ("accept,modify 5,cancel", "modified 5", S.PENDING_CANCEL, K.REPLACED, S.PENDING_CANCEL),
    ("accept,modify 5,cancel", "replace_rejected", S.PENDING_CANCEL, K.REPLACE_REJECTED, S.PENDING_CANCEL),
    ("cancel", "rejected", S.PENDING_CANCEL, K.REJECTED, S.REJECTED),
    ("accept,cancel", "expired", S.PENDING_CANCEL, K.EXPIRED, S.EXPIRED),
    # pending replace
    ("modify 5", "accept", S.PENDING_REPLACE, K.ACCEPTED, S.PENDING_REPLACE),
    ("accept,modify 5", "fill 3", S.PENDING_REPLACE, K.PARTIALLY_FILLED, S.PENDING_REPLACE),
    ("accept,modify 5", "fill_all", S.PENDING_REPLACE, K.FILLED, S.FILLED),
    ("accept,modify 5", "modified 5", S.PENDING_REPLACE, K.REPLACED, S.ACCEPTED),
    ("accept,fill 3,modify 5", "modified 5", S.PENDING_REPLACE, K.REPLACED, S.PARTIALLY_FILLED),
    ("accept,modify 5,modify 6", "modified 5", S.PENDING_REPLACE, K.REPLACED, S.PENDING_REPLACE),
    ("accept,reduce 4", "reduced 4", S.PENDING_REPLACE, K.REPLACED, S.ACCEPTED),
    ("modify 5", "replace_rejected", S.PENDING_REPLACE, K.REPLACE_REJECTED, S.SUBMITTED),
    ("accept,modify 5", "replace_rejected", S.PENDING_REPLACE, K.REPLACE_REJECTED, S.ACCEPTED),
    ("accept,fill 3,modify 5", "replace_rejected", S.PENDING_REPLACE, K.REPLACE_REJECTED, S.PARTIALLY_FILLED),
    (
        "accept,modify 5,modify 6",
        "replace_rejected",
        S.PENDING_REPLACE,
        K.REPLACE_REJECTED,
        S.PENDING_REPLACE,
    ),
    ("accept,reduce 4", "cancel_rejected", S.PENDING_REPLACE, K.REPLACE_REJECTED, S.ACCEPTED),
    ("accept,modify 5", "cancel", S.PENDING_REPLACE, K.CANCEL_REQUESTED, S.PENDING_CANCEL),
    ("accept,modify 5", "modify 6", S.PENDING_REPLACE, K.REPLACE_REQUESTED, S.PENDING_REPLACE),
    ("accept,reduce 4", "cancelled", S.PENDING_REPLACE, K.CANCELLED, S.CANCELLED),
    ("modify 5", "rejected", S.PENDING_REPLACE, K.REJECTED, S.REJECTED),
    ("accept,modify 5", "expired", S.PENDING_REPLACE, K.EXPIRED, S.EXPIRED),
    # a cancel or modify answered after the order completed
    ("accept,cancel,fill_all", "cancel_rejected", S.FILLED, K.CANCEL_REJECTED, S.FILLED),
    ("accept,modify 5,fill_all", "replace_rejected", S.FILLED, K.REPLACE_REJECTED, S.FILLED),
    ("accept,cancelled_market", "cancel_rejected", S.CANCELLED, K.CANCEL_REJECTED, S.CANCELLED),
    ("accept,cancelled_market", "replace_rejected", S.CANCELLED, K.REPLACE_REJECTED, S.CANCELLED),
    ("rejected", "cancel_rejected", S.REJECTED, K.CANCEL_REJECTED, S.REJECTED),
    ("rejected", "replace_rejected", S.REJECTED, K.REPLACE_REJECTED, S.REJECTED),
    ("accept,expired", "cancel_rejected", S.EXPIRED, K.CANCEL_REJECTED, S.EXPIRED),
    ("accept,expired", "replace_rejected", S.EXPIRED, K.REPLACE_REJECTED, S.EXPIRED),
]


def _drive(setup: str) -> tuple[OrderManager, int]:
    oms = _oms()
    oid = _new(oms)
    for s in filter(None, setup.split(",")):
        _step(oms, oid, s)
    return oms, oid


@pytest.mark.parametrize(("setup", "step", "before", "kind", "after"), CASES)
def test_each_legal_transition_moves_the_order_as_the_table_says(
    setup: str, step: str, before: OrderStatus, kind: OmsEventKind, after: OrderStatus
) -> None:
    oms, oid = _drive(setup)
    assert oms.order(oid).status is before
    n = len(oms.events)
    _step(oms, oid, step)
    ev = oms.events[n]
    assert (ev.kind, ev.status_before, ev.status_after) == (kind, before, after)
    assert oms.order(oid).status is after
    assert after in ORDER_STATE_TABLE[(before, kind)]


def test_the_cases_cover_every_transition_of_the_table() -> None:
    table = {(s, e, t) for (s, e), ts in ORDER_STATE_TABLE.items() for t in ts}
    covered = {(b, k, a) for _, _, b, k, a in CASES}
    # the two transitions out of INITIALIZED happen inside request_new (tested below)
    covered |= {(S.INITIALIZED, K.SUBMITTED, S.SUBMITTED), (S.INITIALIZED, K.DENIED, S.REJECTED)}
    assert table - covered == set()
    assert covered - table == set()


def test_the_documented_transition_table_is_the_code_s() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "oms.md").read_text(encoding="utf-8")
    block = doc.split("<!-- transition-table -->")[1].split("<!-- /transition-table -->")[0]
    documented = set()
    for line in block.strip().splitlines()[2:]:
        state, event, targets = (c.strip() for c in line.strip("|").split("|"))
        for t in targets.split(","):
            documented.add((S(state), K(event), S(t.strip())))
    assert documented == {(s, e, t) for (s, e), ts in ORDER_STATE_TABLE.items() for t in ts}


def test_a_new_order_is_submitted_or_denied_out_of_initialized() -> None:
    oms = _oms(max_order_qty=10)
    ok = oms.request_new(_req(qty=10), now=5)
    assert isinstance(ok, OrderSubmitted)
    assert (ok.status_before, ok.status_after) == (S.INITIALIZED, S.SUBMITTED)
    assert ok.to_command(7).ts_ns == 7
    assert ok.to_command(7).order_id == ok.order_id
    no = oms.request_new(_req(qty=11), now=6)
    assert isinstance(no, OrderDenied)
    assert (no.status_before, no.status_after) == (S.INITIALIZED, S.REJECTED)
    assert oms.order(no.order_id).status is S.REJECTED
    assert no.order_id == ok.order_id + 1  # a denied order has an id too
    _, ts_done, reason = oms.all_orders()[1]
    assert ts_done == 6
    assert reason is not None
    assert reason.startswith("denied: max_order_qty")


@pytest.mark.parametrize(
    ("setup", "step", "match"),
    [
        ("accept,cancelled", "fill 3", "partially_filled not allowed in state cancelled"),
        ("accept", "accept", "accepted not allowed in state accepted"),
        ("accept,cancel", "accept", "accepted twice"),
        ("accept,modify 4", "accept", "accepted twice"),
        ("accept,fill_all", "modified 4", "replaced not allowed in state filled"),
        ("accept,expired", "cancelled", "cancelled not allowed in state expired"),
        ("accept", "fill 11", "does not add up"),
        ("accept", "cancel_rejected", "none is in flight"),
        ("accept", "replace_rejected", "none is in flight"),
        ("rejected", "accept", "accepted not allowed in state rejected"),
    ],
)
def test_an_illegal_report_raises_and_changes_nothing(setup: str, step: str, match: str) -> None:
    oms, oid = _drive(setup)
    before, n, pos = oms.order(oid), len(oms.events), oms.position
    with pytest.raises(IllegalTransitionError, match=match):
        _step(oms, oid, step)
    assert oms.order(oid) == before
    assert len(oms.events) == n
    assert oms.position == pos


def test_a_fill_whose_leaves_disagree_and_a_report_from_another_venue_raise() -> None:
    oms, oid = _drive("accept")
    with pytest.raises(IllegalTransitionError, match="does not add up"):
        _rep(oms, oid, ReportKind.FILL, "market", price=100, qty=3, leaves_qty=6)
    bad = ExecutionReport(ts_ns=1, venue="elsewhere", order_id=oid, kind=ReportKind.FILL, qty=1, leaves_qty=9)
    with pytest.raises(IllegalTransitionError, match="elsewhere"):
        oms.on_report(bad, command="market", now=1)
    with pytest.raises(ExecsimError, match="unknown order id 99"):
        oms.on_report(
            ExecutionReport(ts_ns=1, venue="v", order_id=99, kind=ReportKind.ACCEPTED), command="x", now=1
        )


def test_cancel_and_modify_of_a_done_or_cancelling_order_are_denied_not_sent() -> None:
    oms, oid = _drive("accept,fill_all")
    d = oms.request_cancel(oid, now=2)
    assert isinstance(d, OrderDenied)
    assert d.rule == "order_not_open"
    assert d.action == "cancel"
    d = oms.request_modify(oid, price=99, now=2)
    assert isinstance(d, OrderDenied)
    assert d.rule == "order_not_open"
    oms, oid = _drive("accept,cancel")
    d = oms.request_cancel(oid, now=2)
    assert isinstance(d, OrderDenied)
    assert d.rule == "cancel_pending"
    assert isinstance(oms.request_modify(oid, qty=3, now=2), OrderDenied)
    assert oms.order(oid).status is S.PENDING_CANCEL
    assert isinstance(oms.request_cancel(_new(oms), 2, now=3), CancelRequest)


def test_modify_changes_price_and_open_quantity_when_confirmed() -> None:
    oms, oid = _drive("accept,fill 4")
    req = oms.request_modify(oid, price=98, qty=3, now=2)
    assert isinstance(req, ModifyRequest)
    assert (req.price, req.qty, req.venue) == (98, 3, "v")
    cmd = req.to_command(5)
    assert (cmd.ts_ns, cmd.order_id, cmd.price, cmd.qty) == (5, oid, 98, 3)
    assert oms.order(oid).price == 100  # unchanged until the venue confirms
    _rep(oms, oid, ReportKind.MODIFIED, "modify", price=98, leaves_qty=3)
    o = oms.order(oid)
    assert (o.price, o.qty, o.filled_qty, o.leaves_qty, o.status) == (98, 7, 4, 3, S.PARTIALLY_FILLED)


def test_a_partial_cancel_reduces_the_order() -> None:
    oms, oid = _drive("accept")
    req = oms.request_cancel(oid, 4, now=2)
    assert isinstance(req, CancelRequest)
    assert req.qty == 4
    assert req.to_command(3).qty == 4
    _step(oms, oid, "reduced 4")
    o = oms.order(oid)
    assert (o.qty, o.leaves_qty, o.status) == (6, 6, S.ACCEPTED)


def test_expire_open_ends_every_live_order_at_the_session_end() -> None:
    oms = _oms()
    a, b, c = _new(oms), _new(oms), _new(oms)
    _step(oms, a, "accept")
    _step(oms, b, "rejected")
    _step(oms, c, "accept")
    oms.request_cancel(c, now=2)
    evs = oms.expire_open(10)
    assert [e.order_id for e in evs] == [a, c]
    assert {oms.order(i).status for i in (a, c)} == {S.EXPIRED}
    assert oms.all_orders()[0][1:] == (10, "session end")
    assert oms.report_log[-1][4:6] == ("expired", "session")
    assert oms.open_orders() == []


# -- parents ----------------------------------------------------------------------------------------


def test_parent_ledger_tracks_filled_working_and_average_price() -> None:
    oms = _oms()
    p = oms.new_parent(Side.BUY, 30, now=0, arrival_bid=99, arrival_ask=101, limit_price=105, algo="twap")
    assert (p.parent_id, p.qty, p.info.ts_decision, p.info.arrival_ask) == (1, 30, 0, 101)
    a = _new(oms, _req(qty=10, price=101, parent_id=1))
    b = _new(oms, _req(qty=10, price=100, parent_id=1))
    _rep(oms, a, ReportKind.FILL, "submit", price=101, qty=10, leaves_qty=0)
    _rep(oms, b, ReportKind.ACCEPTED, "submit", leaves_qty=10)
    _rep(oms, b, ReportKind.FILL, "market", price=100, qty=5, leaves_qty=5)
    s = oms.parent(1)
    assert s.children == (a, b)
    assert (s.filled_qty, s.working_qty, s.remaining_qty, s.unallocated_qty) == (15, 5, 15, 10)
    assert s.avg_price == pytest.approx((101 * 10 + 100 * 5) / 15)
    assert oms.algo_of(a) == "twap"  # the parent's algo names its children's algorithm
    assert [e.kind for e in oms.events.query(parent_id=1)][:2] == [K.PARENT_CREATED, K.SUBMITTED]


def test_children_may_fill_the_parent_exactly_and_one_lot_more_is_denied() -> None:
    oms = _oms()
    oms.new_parent(Side.SELL, 20, now=0)
    a = _new(oms, _req(Side.SELL, qty=12, price=100, parent_id=1))
    d = oms.request_new(_req(Side.SELL, qty=9, price=100, parent_id=1), now=1)
    assert isinstance(d, OrderDenied)
    assert (d.rule, d.limit, d.value) == ("parent_allocation", 20, 21)
    assert isinstance(oms.request_new(_req(Side.SELL, qty=8, price=100, parent_id=1), now=1), OrderSubmitted)
    # a cancelled child frees its allocation; its fills stay allocated
    _rep(oms, a, ReportKind.FILL, "submit", price=100, qty=2, leaves_qty=10)
    _rep(oms, a, ReportKind.CANCELLED, "market", qty=10, leaves_qty=0)
    assert oms.parent(1).unallocated_qty == 10
    assert isinstance(oms.request_new(_req(Side.SELL, qty=10, price=100, parent_id=1), now=2), OrderSubmitted)
    assert oms.parent(1).unallocated_qty == 0


def test_a_size_up_counts_against_the_parent_while_in_flight() -> None:
    oms = _oms()
    oms.new_parent(Side.BUY, 30, now=0)
    a = _new(oms, _req(qty=10, parent_id=1))
    # a modify sets the open quantity: the 10 lots open now may fill before the venue applies
    # it, which then opens 21 more, so 31 lots are at stake
    d = oms.request_modify(a, qty=21, now=1)
    assert isinstance(d, OrderDenied)
    assert (d.rule, d.value) == ("parent_allocation", 31)
    assert isinstance(oms.request_modify(a, qty=15, now=1), ModifyRequest)
    assert oms.parent(1).working_qty == 25  # what is open now plus the new size, until answered
    assert isinstance(oms.request_new(_req(qty=6, parent_id=1), now=2), OrderDenied)
    _rep(oms, a, ReportKind.REJECTED, "modify", reason="no")
    assert oms.parent(1).working_qty == 10


def test_a_modify_racing_a_fill_cannot_overallocate_the_parent() -> None:
    # found by the state machine below: a child's modify (open quantity 9) is sent before the
    # venue fills 8 of its 9 lots; the venue then reopens 9, so the order's total becomes 17
    m = OmsAgainstMockVenue()
    m.setup()
    m.new_order(side=Side.BUY, qty=9, price=101, ioc=False, child=True)
    m.new_order(side=Side.BUY, qty=9, price=97, ioc=False, child=True)
    r = m.oms.request_modify(1, qty=9, now=m._now())
    assert isinstance(r, ModifyRequest)
    m.pipe.commands.append((r.to_command(m.t), "modify"))
    m.new_order(side=Side.BUY, qty=35, price=97, ioc=False, child=True)  # 9 + 9 + 9 + 35 > 60: denied
    m.venue_and_oms_catch_up()
    p = m.oms.parent(1)
    assert (p.filled_qty, p.working_qty) == (8, 18)
    m.books_balance()


def test_children_on_the_wrong_side_or_through_the_parent_limit_are_denied() -> None:
    oms = _oms()
    oms.new_parent(Side.BUY, 20, now=0, limit_price=100)
    d = oms.request_new(_req(Side.SELL, qty=1, price=100, parent_id=1), now=1)
    assert isinstance(d, OrderDenied)
    assert (d.rule, d.limit, d.value) == ("parent_side", "buy", "sell")
    d = oms.request_new(_req(qty=1, price=101, parent_id=1), now=1)
    assert isinstance(d, OrderDenied)
    assert (d.rule, d.limit, d.value) == ("parent_limit", 100, 101)
    assert isinstance(oms.request_new(_req(qty=1, price=100, parent_id=1), now=1), OrderSubmitted)
    mkt = _req(qty=1, price=None, order_type=OrderType.MARKET, parent_id=1)
    assert isinstance(oms.request_new(mkt, now=1), OrderSubmitted)
    with pytest.raises(ExecsimError, match="unknown parent id 7"):
        oms.request_new(_req(parent_id=7), now=1)
    with pytest.raises(ExecsimError, match="positive quantity"):
        oms.new_parent(Side.BUY, 0, now=0)


# -- positions and P&L ----------------------------------------------------------------------------------


def _fill(oms: OrderManager, side: Side, qty: int, price: int, fee: float = 0.0) -> None:
    oid = _new(oms, _req(side, qty=qty, price=price))
    _rep(oms, oid, ReportKind.FILL, "submit", price=price, qty=qty, leaves_qty=0, fee=fee)


def test_position_cash_and_pnl_of_a_long_round_trip() -> None:
    oms = _oms()
    _fill(oms, Side.BUY, 10, 100, fee=0.5)
    _fill(oms, Side.BUY, 10, 110, fee=0.5)
    _fill(oms, Side.SELL, 15, 120, fee=1.0)
    # average cost 105; realised (120 − 105) × 15 = 225; 5 left
    assert oms.position == 5
    assert oms.cash == -1000 - 1100 + 1800
    p = oms.pnl(100)
    assert (p.position, p.avg_price, p.realised, p.unrealised) == (5, 105.0, 225.0, -25.0)
    assert p.total == oms.cash + oms.position * 100
    assert p.fees == 2.0
    # tick 0.01 × lot 1: one tick-lot is one cent
    assert p.realised_ccy == pytest.approx(2.25)
    assert p.unrealised_ccy == pytest.approx(-0.25)
    assert p.net_ccy == pytest.approx(2.25 - 0.25 - 2.0)
    pos = oms.position_state()
    assert (pos.qty, pos.bought_qty, pos.sold_qty, pos.avg_price, pos.currency) == (5, 20, 15, 105.0, "USD")


def test_pnl_of_a_short_that_flips_long() -> None:
    oms = _oms()
    _fill(oms, Side.SELL, 10, 100)
    _fill(oms, Side.SELL, 10, 90)  # short 20 at an average 95
    _fill(oms, Side.BUY, 25, 80)  # covers 20: realised (95 − 80) × 20 = 300; long 5 at 80
    p = oms.pnl(84.5)
    assert (p.position, p.avg_price, p.realised) == (5, 80.0, 300.0)
    assert p.unrealised == pytest.approx(4.5 * 5)
    assert p.total == pytest.approx(oms.cash + 5 * 84.5)
    assert oms.cash == 1000 + 900 - 2000


def test_a_flat_book_has_no_average_price_and_no_unrealised_pnl() -> None:
    oms = _oms()
    _fill(oms, Side.BUY, 3, 100)
    _fill(oms, Side.SELL, 3, 97)
    p = oms.pnl(500)
    assert (p.position, p.avg_price, p.realised, p.unrealised) == (0, None, -9.0, 0.0)


def test_fills_array_has_the_results_columns() -> None:
    oms = _oms()
    oms.new_parent(Side.BUY, 10, now=0)
    oid = _new(oms, _req(qty=4, parent_id=1))
    _rep(oms, oid, ReportKind.FILL, "submit", price=100, qty=4, leaves_qty=0, fee=0.25,
         liquidity=LiquiditySide.MAKER, queue_ahead=7)  # fmt: skip
    f = oms.fills_array()
    assert f["parent_id"].tolist() == [1]
    assert f["liquidity"].tolist() == ["maker"]
    assert f["queue_ahead"].tolist() == [7]
    assert f["fee"].tolist() == [0.25]
    assert oms.fills[0].qty == 4


# -- event log ------------------------------------------------------------------------------------------


def test_the_event_log_is_queryable_and_converts_to_arrow() -> None:
    oms = _oms(max_order_qty=5)
    oms.new_parent(Side.BUY, 10, now=0, algo="pov")
    a = _new(oms, _req(qty=5, parent_id=1), now=10)
    oms.request_new(_req(qty=6), now=20)
    _rep(oms, a, ReportKind.ACCEPTED, "submit", now=30, leaves_qty=5)
    _rep(oms, a, ReportKind.FILL, "market", now=40, price=100, qty=5, leaves_qty=0)
    log = oms.events
    assert [e.seq for e in log] == list(range(len(log)))
    assert [e.kind for e in log.query(order_id=a)] == [K.SUBMITTED, K.ACCEPTED, K.FILLED]
    assert [e.kind for e in log.query(kind="denied")] == [K.DENIED]
    assert [e.ts for e in log.query(since=20, until=40)] == [20, 30]
    assert len(log.query(kind=[K.ACCEPTED, K.FILLED], algo="pov")) == 2
    assert log.query(parent_id=1, venue="nowhere") == []
    with pytest.raises(ValueError, match="unknown event kind"):
        log.query(kind="fil")
    t = log.to_arrow()
    assert t.schema == EVENT_LOG_SCHEMA
    assert t.num_rows == len(log)
    rows = t.to_pylist()
    assert rows[2]["rule"] == "max_order_qty"
    assert rows[2]["limit"] == 5.0
    assert rows[2]["value"] == 6.0
    assert rows[4]["status_before"] == "accepted"
    assert rows[4]["filled_qty"] == 5
    assert log.to_arrow(log.query(kind="filled")).num_rows == 1
    assert isinstance(pa.Table.from_pylist(log.rows()), pa.Table)


# -- kill switch ----------------------------------------------------------------------------------------


def _three_algos() -> tuple[OrderManager, dict[str, int]]:
    oms = _oms()
    oms.new_parent(Side.BUY, 100, now=0, algo="twap")
    ids = {
        "twap@lit": _new(oms, _req(qty=5, parent_id=1, venue="lit")),
        "mm@lit": _new(oms, _req(qty=5, tag="mm", venue="lit")),
        "mm@dark": _new(oms, _req(qty=5, tag="mm", venue="dark")),
    }
    for oid in ids.values():
        _rep(oms, oid, ReportKind.ACCEPTED, "submit", leaves_qty=5)
    return oms, ids


@pytest.mark.parametrize(
    ("scope", "hit"),
    [
        (KillScope(algo="mm"), {"mm@lit", "mm@dark"}),
        (KillScope(venue="lit"), {"twap@lit", "mm@lit"}),
        (KillScope(instrument="XYZ"), {"twap@lit", "mm@lit", "mm@dark"}),
        (KillScope(instrument="OTHER"), set()),
        (KillScope(), {"twap@lit", "mm@lit", "mm@dark"}),
        (KillScope(algo="mm", venue="dark"), {"mm@dark"}),
    ],
)
def test_kill_cancels_the_open_orders_of_its_scope_and_denies_new_ones(
    scope: KillScope, hit: set[str]
) -> None:
    oms, ids = _three_algos()
    reqs = oms.kill(scope, now=5, reason="runaway", by="risk desk")
    assert {r.order_id for r in reqs} == {ids[k] for k in hit}
    assert all(r.qty is None and r.ts == 5 for r in reqs)
    for k, oid in ids.items():
        assert oms.order(oid).status is (S.PENDING_CANCEL if k in hit else S.ACCEPTED)
    kill = oms.events.query(kind="kill")[0]
    assert (kill.by, kill.reason, kill.cancelled) == ("risk desk", "runaway", tuple(r.order_id for r in reqs))  # type: ignore[attr-defined]
    assert {o.order_id for o in oms.open_orders(scope)} == {ids[k] for k in hit}
    # new orders: denied inside the scope, allowed outside
    for algo_tag, venue in (("mm", "lit"), ("mm", "dark"), ("x", "lit"), ("x", "dark")):
        ev = oms.request_new(_req(qty=1, tag=algo_tag, venue=venue), now=6)
        inside = scope.matches(algo=algo_tag, instrument="XYZ", venue=venue)
        assert isinstance(ev, OrderDenied) == inside
        if inside:
            assert ev.rule == "kill_switch"
            assert ev.limit == str(scope)


def test_kill_skips_orders_already_cancelling_and_reset_lifts_the_scope() -> None:
    oms, ids = _three_algos()
    oms.request_cancel(ids["mm@lit"], now=1)
    reqs = oms.kill(KillScope(algo="mm"), now=2, reason="r")
    assert [r.order_id for r in reqs] == [ids["mm@dark"]]
    assert isinstance(oms.request_modify(ids["mm@dark"], price=90, now=3), OrderDenied)
    assert oms.killed == (KillScope(algo="mm"),)
    assert oms.reset(KillScope(algo="lit"), now=4, reason="typo", by="ops") is False
    assert oms.reset(KillScope(algo="mm"), now=5, reason="fixed", by="ops") is True
    assert oms.killed == ()
    assert isinstance(oms.request_new(_req(qty=1, tag="mm", venue="lit"), now=6), OrderSubmitted)
    resets = oms.events.query(kind="reset")
    assert [(e.by, e.reason, e.was_active) for e in resets] == [
        ("ops", "typo", False),
        ("ops", "fixed", True),
    ]  # type: ignore[attr-defined]
    # the kill's cancel is answered like any other
    _rep(oms, ids["mm@dark"], ReportKind.CANCELLED, "cancel", qty=5, leaves_qty=0)
    assert oms.order(ids["mm@dark"]).status is S.CANCELLED


# -- a state machine against the mock venue ---------------------------------------------------------------


@dataclass
class _Pipe:
    commands: deque[tuple[VenueCommand, str]]
    reports: deque[tuple[ExecutionReport, str]]


class OmsAgainstMockVenue(RuleBasedStateMachine):
    """Random requests, venue steps, market fills and report deliveries (each queue in order);
    after every step the OMS's books must balance."""

    @initialize()
    def setup(self) -> None:
        self.oms = OrderManager(INS, RiskConfig(max_order_qty=40))
        self.venue = MockVenue(
            name="v", instrument=INS, book=Quote(bid_px=99, bid_qty=8, ask_px=101, ask_qty=8)
        )
        self.pipe = _Pipe(deque(), deque())
        self.t = 0
        self.done_seen: dict[int, OrderStatus] = {}
        self.delivered_fills = 0
        self.oms.new_parent(Side.BUY, 60, now=0, algo="p")

    def _now(self) -> int:
        self.t += 1
        return self.t

    @rule(
        side=st.sampled_from([Side.BUY, Side.SELL]),
        qty=st.integers(1, 45),
        price=st.integers(97, 103),
        ioc=st.booleans(),
        child=st.booleans(),
    )
    def new_order(self, side: Side, qty: int, price: int, ioc: bool, child: bool) -> None:
        req = OrderRequest(
            venue="v", side=Side.BUY if child else side, qty=qty, price=price,
            tif=TimeInForce.IOC if ioc else TimeInForce.GTC, parent_id=1 if child else 0,
        )  # fmt: skip
        ev = self.oms.request_new(req, now=self._now())
        if isinstance(ev, OrderSubmitted):
            self.pipe.commands.append((ev.to_command(self.t), "submit"))
        else:
            assert ev.rule in ("max_order_qty", "parent_allocation")

    def _pick_open(self, data: st.DataObject) -> int | None:
        live = self.oms.open_orders()
        return data.draw(st.sampled_from([o.order_id for o in live])) if live else None

    @rule(data=st.data(), partial=st.integers(0, 6))
    def cancel(self, data: st.DataObject, partial: int) -> None:
        oid = self._pick_open(data)
        if oid is None:
            return
        r = self.oms.request_cancel(oid, partial or None, now=self._now())
        if isinstance(r, CancelRequest):
            self.pipe.commands.append((r.to_command(self.t), "cancel"))
        else:
            assert r.rule == "cancel_pending"

    @rule(data=st.data(), qty=st.integers(1, 12), price=st.none() | st.integers(97, 103))
    def modify(self, data: st.DataObject, qty: int, price: int | None) -> None:
        oid = self._pick_open(data)
        if oid is None:
            return
        r = self.oms.request_modify(oid, qty=qty, price=price, now=self._now())
        if isinstance(r, ModifyRequest):
            self.pipe.commands.append((r.to_command(self.t), "modify"))

    @rule(dice=st.integers(0, 7))
    def sometimes_kill_everything_and_reset(self, dice: int) -> None:
        if dice:
            return
        for r in self.oms.kill(KillScope(), now=self._now(), reason="test"):
            self.pipe.commands.append((r.to_command(self.t), "cancel"))
        self.oms.reset(KillScope(), now=self.t)

    @precondition(lambda self: bool(self.pipe.commands))
    @rule(n=st.integers(1, 4))
    def venue_handles_next_commands(self, n: int) -> None:
        for _ in range(min(n, len(self.pipe.commands))):
            cmd, what = self.pipe.commands.popleft()
            for r in self.venue.handle(cmd):
                self.pipe.reports.append((r, what))

    @rule(data=st.data(), qty=st.integers(1, 10))
    def market_fills_a_resting_order(self, data: st.DataObject, qty: int) -> None:
        resting = sorted(self.venue._open)
        if resting:
            oid = data.draw(st.sampled_from(resting))
            for r in self.venue.trade_through(oid, qty):
                self.pipe.reports.append((r, "market"))

    @precondition(lambda self: bool(self.pipe.reports))
    @rule(n=st.integers(1, 6))
    def deliver_next_reports(self, n: int) -> None:
        for _ in range(min(n, len(self.pipe.reports))):
            r, what = self.pipe.reports.popleft()
            fee = 0.01 if r.kind is ReportKind.FILL else 0.0
            ev = self.oms.on_report(r, command=what, now=self._now(), fee=fee)
            if ev.fill is not None:
                self.delivered_fills += 1

    @rule()
    def venue_and_oms_catch_up(self) -> None:
        while self.pipe.commands or self.pipe.reports:
            self.venue_handles_next_commands(len(self.pipe.commands))
            self.deliver_next_reports(len(self.pipe.reports))

    @rule(data=st.data())
    def an_illegal_report_raises_and_changes_nothing(self, data: st.DataObject) -> None:
        done = [o for o in self.oms.orders() if not o.is_open]
        if not done:
            return
        o = data.draw(st.sampled_from(done))
        kind = data.draw(st.sampled_from([ReportKind.FILL, ReportKind.ACCEPTED, ReportKind.MODIFIED]))
        n = len(self.oms.events)
        bad = ExecutionReport(
            ts_ns=self.t, venue="v", order_id=o.order_id, kind=kind, price=100, qty=1, leaves_qty=1
        )
        with pytest.raises(IllegalTransitionError):
            self.oms.on_report(bad, command="market", now=self.t)
        assert self.oms.order(o.order_id) == o
        assert len(self.oms.events) == n

    @invariant()
    def books_balance(self) -> None:
        oms = self.oms
        for o in oms.orders():
            assert 0 <= o.filled_qty <= o.qty
            if o.is_open:
                assert o.leaves_qty == o.qty - o.filled_qty > 0
            if o.order_id in self.done_seen:  # done orders stay done, as they were
                assert o.status is self.done_seen[o.order_id]
            elif not o.is_open:
                self.done_seen[o.order_id] = o.status
        signed = sum(f.qty if f.side is Side.BUY else -f.qty for f in oms.fills)
        assert oms.position == signed
        assert oms.cash == -sum((f.qty if f.side is Side.BUY else -f.qty) * f.price for f in oms.fills)
        assert len(oms.fills) == self.delivered_fills
        for o in oms.orders():
            filled = sum(f.qty for f in oms.fills if f.order_id == o.order_id)
            assert filled == o.filled_qty
        p = oms.parent(1)
        assert p.filled_qty + p.working_qty <= p.qty
        pnl = oms.pnl(100)
        assert pnl.total == pytest.approx(oms.cash + oms.position * 100)
        # what the venue holds is what the OMS thinks is open (once every report is delivered)
        if not self.pipe.reports and not self.pipe.commands:
            venue_open = {oid: leaves for oid, (_, leaves) in self.venue._open.items()}
            oms_open = {o.order_id: o.leaves_qty for o in oms.open_orders()}
            assert venue_open == oms_open


OmsAgainstMockVenue.TestCase.settings = settings(
    max_examples=60, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_oms_against_the_mock_venue = OmsAgainstMockVenue.TestCase
