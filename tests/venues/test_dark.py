"""The dark midpoint pool and its contra-flow models: hand cases, determinism, conformance."""

from __future__ import annotations

import numpy as np
import pytest

from execsim.core.errors import ConfigError, DataError
from execsim.model import Instrument, LiquiditySide, OrderType, Side, TimeInForce
from execsim.venues.base import (
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    Quote,
    ReportKind,
    SubmitOrder,
    VenueConformanceError,
    check_venue,
)
from execsim.venues.contra_flow import (
    CONTRA_DTYPE,
    ContraFlowConfig,
    ContraFlowModel,
    PoissonContraFlow,
    ScheduledContraFlow,
)
from execsim.venues.dark import DarkMidpointPool, DarkPoolConfig, check_dark_venue

BUY, SELL = Side.BUY, Side.SELL
INST = Instrument(symbol="X", venue="DARK", tick_size="0.01")
LIT = Quote(bid_px=100, bid_qty=500, ask_px=102, ask_qty=500)  # mid 101, on the grid
S = 10**9


def contra(rows: list[tuple[int, int, int, int]]) -> ScheduledContraFlow:
    """(ts, side code of the contra, qty, its min qty)."""
    return ScheduledContraFlow(np.array(rows, dtype=CONTRA_DTYPE))


def pool(flow: ContraFlowModel, lit: Quote | None = LIT, **kw: object) -> DarkMidpointPool:
    q = Quote() if lit is None else lit
    return DarkMidpointPool(
        "DARK", INST, lit_quote=lambda: q, contra=flow, rng=np.random.default_rng(0), **kw
    )  # type: ignore[arg-type]


def peg(oid: int, side: Side, qty: int, t: int = 0, **kw: object) -> SubmitOrder:
    return SubmitOrder(ts_ns=t, order_id=oid, side=side, qty=qty, order_type=OrderType.MIDPOINT_PEG, **kw)  # type: ignore[arg-type]


def fills(reps: list[ExecutionReport]) -> list[tuple[int, int, int, int]]:
    """(order id, price, qty, leaves) of each fill."""
    return [(r.order_id, r.price, r.qty, r.leaves_qty) for r in reps if r.kind is ReportKind.FILL]


# ------------------------------------------------------------------------------- hand cases
def test_contra_arrival_fills_our_resting_order_at_the_lit_mid() -> None:
    p = pool(contra([(100, -1, 50, 0)]))
    assert p.quote() == Quote()  # nothing is shown
    assert [r.kind for r in p.handle(peg(1, BUY, 30))] == [ReportKind.ACCEPTED]
    reached, reps = p.advance(1_000)
    assert reached == 100  # stopped at the fill
    assert reps == [
        ExecutionReport(
            ts_ns=100,
            venue="DARK",
            order_id=1,
            kind=ReportKind.FILL,
            price=101,
            qty=30,
            leaves_qty=0,
            liquidity=LiquiditySide.MAKER,
        )
    ]
    assert p.advance(1_000) == (1_000, [])
    assert p.stats["matched"] == 1


def test_partial_fill_leaves_the_rest_resting() -> None:
    p = pool(contra([(100, -1, 20, 0), (200, -1, 20, 0)]))
    p.handle(peg(1, BUY, 30))
    assert fills(p.advance(1_000)[1]) == [(1, 101, 20, 10)]
    assert fills(p.advance(1_000)[1]) == [(1, 101, 10, 0)]


def test_minimum_quantities_prevent_fills() -> None:
    # ours: min 40 > contra 30
    p = pool(contra([(100, -1, 30, 0)]))
    p.handle(peg(1, BUY, 100, min_qty=40))
    assert p.advance(1_000) == (1_000, [])
    assert p.stats["min_qty"] == 1
    # the contra's own minimum: 40 > our 30
    p = pool(contra([(100, -1, 100, 40)]))
    p.handle(peg(1, BUY, 30))
    assert p.advance(1_000) == (1_000, [])
    # the pool's minimum applies to both: contra 30 < 50
    p = pool(contra([(100, -1, 30, 0)]), min_qty=50)
    p.handle(peg(1, BUY, 100))
    assert p.advance(1_000) == (1_000, [])
    assert p.stats["contra_below_pool_min"] == 1
    # ... but an order whose leaves are below the minimum may fill its leaves
    p = pool(contra([(100, -1, 30, 0), (200, -1, 30, 0)]))
    p.handle(peg(1, BUY, 50, min_qty=25))
    assert fills(p.advance(1_000)[1]) == [(1, 101, 30, 20)]
    assert fills(p.advance(1_000)[1]) == [(1, 101, 20, 0)]


def test_an_order_whose_minimum_cannot_be_met_is_passed_over() -> None:
    p = pool(contra([(100, -1, 30, 0)]))
    p.handle(peg(1, BUY, 100, min_qty=40))  # first in time, but needs 40
    p.handle(peg(2, BUY, 100))
    assert fills(p.advance(1_000)[1]) == [(2, 101, 30, 70)]


def test_mid_moves_between_arrivals() -> None:
    flow = contra([(100, -1, 10, 0), (300, -1, 10, 0)])
    p: DarkMidpointPool

    def lit() -> Quote:  # the lit book as of the pool's clock
        return LIT if p.now < 200 else Quote(bid_px=104, bid_qty=5, ask_px=106, ask_qty=5)

    p = DarkMidpointPool("DARK", INST, lit_quote=lit, contra=flow, rng=np.random.default_rng(0))
    p.handle(peg(1, BUY, 50))
    assert fills(p.advance(1_000)[1]) == [(1, 101, 10, 40)]
    assert fills(p.advance(1_000)[1]) == [(1, 105, 10, 30)]


def test_one_sided_locked_or_crossed_lit_book_gives_no_fill() -> None:
    for lit, reason in (
        (None, "lit_one_sided"),
        (Quote(bid_px=100, bid_qty=5), "lit_one_sided"),
        (Quote(bid_px=101, bid_qty=5, ask_px=101, ask_qty=5), "lit_locked_or_crossed"),
        (Quote(bid_px=103, bid_qty=5, ask_px=101, ask_qty=5), "lit_locked_or_crossed"),
    ):
        p = pool(contra([(100, -1, 10, 0)]), lit=lit)
        p.handle(peg(1, BUY, 10))
        assert p.advance(1_000) == (1_000, []), lit
        assert p.stats[reason] == 1


def test_half_tick_mid_skips_by_default_or_rounds_against_us() -> None:
    odd = Quote(bid_px=100, bid_qty=5, ask_px=101, ask_qty=5)  # mid 100.5
    flow = [(100, -1, 10, 0), (200, 1, 10, 0)]
    p = pool(contra(flow), lit=odd)
    p.handle(peg(1, BUY, 10))
    p.handle(peg(2, SELL, 10))
    assert p.advance(1_000) == (1_000, [])
    assert p.stats["mid_off_grid"] == 2
    p = pool(contra(flow), lit=odd, off_grid="round_against")
    p.handle(peg(1, BUY, 10))
    p.handle(peg(2, SELL, 10))
    assert fills(p.advance(1_000)[1]) == [(1, 101, 10, 0)]  # our buy pays the upper tick
    assert fills(p.advance(1_000)[1]) == [(2, 100, 10, 0)]  # our sell gets the lower tick
    assert p.stats["mid_rounded_against_us"] == 2


def test_price_time_priority_among_our_orders_and_caps() -> None:
    p = pool(contra([(100, -1, 25, 0)]))
    p.handle(SubmitOrder(ts_ns=0, order_id=1, side=BUY, qty=10, price=101))  # cap at the mid
    p.handle(SubmitOrder(ts_ns=0, order_id=2, side=BUY, qty=10, price=100))  # cap below: never at 101
    p.handle(SubmitOrder(ts_ns=0, order_id=3, side=BUY, qty=10, price=103))
    p.handle(peg(4, BUY, 10))  # uncapped: first
    assert fills(p.advance(1_000)[1]) == [(4, 101, 10, 0), (3, 101, 10, 0), (1, 101, 5, 5)]


def test_our_orders_never_cross_each_other() -> None:
    p = pool(contra([(100, 1, 10, 0)]))
    assert [r.kind for r in p.handle(peg(1, BUY, 10))] == [ReportKind.ACCEPTED]
    assert [r.kind for r in p.handle(peg(2, SELL, 10))] == [ReportKind.ACCEPTED]
    assert fills(p.advance(1_000)[1]) == [(2, 101, 10, 0)]  # the contra buyer meets our sell only
    assert p.open_qty(1) == 10


def test_order_types_that_make_no_sense_in_the_dark_are_rejected() -> None:
    p = pool(contra([]), min_qty=5)
    cases = {
        1: (SubmitOrder(ts_ns=0, order_id=1, side=BUY, qty=10, order_type=OrderType.MARKET), "market"),
        2: (peg(2, BUY, 10, display_qty=2), "iceberg"),
        3: (peg(3, BUY, 10, tif=TimeInForce.FOK), "fill-or-kill"),
        4: (peg(4, BUY, 4), "below the pool's minimum"),
        5: (peg(5, BUY, 10, min_qty=11), "min_qty"),
        6: (SubmitOrder(ts_ns=0, order_id=6, side=BUY, qty=10), "without price"),
    }
    for oid, (cmd, why) in cases.items():
        reps = p.handle(cmd)
        assert [r.kind for r in reps] == [ReportKind.REJECTED], oid
        assert why in (reps[0].reason or ""), (oid, reps[0].reason)
    reps = p.handle(peg(7, BUY, 10, tif=TimeInForce.IOC))
    assert [(r.kind, r.qty, r.leaves_qty) for r in reps] == [
        (ReportKind.ACCEPTED, 0, 10),
        (ReportKind.CANCELLED, 10, 0),
    ]
    assert p.handle(peg(8, BUY, 10, post_only=True))[0].kind is ReportKind.ACCEPTED


def test_cancel_and_modify_priority() -> None:
    p = pool(contra([(100, -1, 10, 0)]))
    p.handle(peg(1, BUY, 10))
    p.handle(peg(2, BUY, 10))
    assert p.handle(CancelOrder(ts_ns=1, order_id=1, qty=4))[0].leaves_qty == 6  # keeps its place
    assert p.handle(ModifyOrder(ts_ns=2, order_id=1, qty=5))[0].kind is ReportKind.MODIFIED  # size-down
    assert fills(p.advance(1_000)[1]) == [(1, 101, 5, 0), (2, 101, 5, 5)]
    p = pool(contra([(100, -1, 10, 0)]))
    p.handle(peg(1, BUY, 10))
    p.handle(peg(2, BUY, 10))
    p.handle(ModifyOrder(ts_ns=2, order_id=1, qty=12))  # size-up: to the back
    assert fills(p.advance(1_000)[1]) == [(2, 101, 10, 0)]
    assert p.handle(CancelOrder(ts_ns=1_000, order_id=2))[0].reason == "unknown order"  # filled


def test_halted_pool_rejects_submits_allows_cancels_and_does_not_fill() -> None:
    p = pool(contra([(100, -1, 10, 0), (300, -1, 10, 0)]))
    p.handle(peg(1, BUY, 30))
    assert p.halt(50) == []
    assert p.halted
    assert p.handle(peg(2, BUY, 10, t=60))[0].reason == "halted"
    assert p.advance(200) == (200, [])
    assert p.stats["halted"] == 1
    p.resume(250)
    assert fills(p.advance(1_000)[1]) == [(1, 101, 10, 20)]
    p.halt(400)
    assert p.handle(CancelOrder(ts_ns=400, order_id=1))[0].kind is ReportKind.CANCELLED


def test_commands_meet_due_arrivals_first() -> None:
    p = pool(contra([(100, -1, 10, 0)]))
    p.handle(peg(1, BUY, 10))
    reps = p.handle(CancelOrder(ts_ns=500, order_id=1))
    assert [(r.kind, r.ts_ns) for r in reps] == [(ReportKind.FILL, 100), (ReportKind.REJECTED, 500)]


# ---------------------------------------------------------------------------- determinism
def _run(seed: int, steps: list[int]) -> list[ExecutionReport]:
    p = DarkMidpointPool(
        "DARK",
        INST,
        lit_quote=lambda: LIT,
        contra=PoissonContraFlow(rate_per_s=2.0, median_qty_lots=50),
        rng=np.random.default_rng(seed),
        min_qty=5,
    )
    p.handle(peg(1, BUY, 10_000, min_qty=20))
    p.handle(peg(2, SELL, 10_000))
    out: list[ExecutionReport] = []
    for t in steps:
        while p.now < t:
            out += p.advance(t)[1]
    return out


def test_same_seed_same_fills_however_the_pool_is_stepped() -> None:
    one_go = _run(7, [60 * S])
    small_steps = _run(7, list(range(S // 3, 60 * S + 1, S // 3)))
    assert one_go == small_steps
    assert len(fills(one_go)) > 50  # ~120 arrivals, minimum sizes block some
    assert fills(one_go) != fills(_run(8, [60 * S]))


def test_next_arrival_peeks_without_changing_the_stream() -> None:
    flow = PoissonContraFlow(rate_per_s=1.0)
    a = DarkMidpointPool("D", INST, lit_quote=lambda: LIT, contra=flow, rng=np.random.default_rng(3))
    b = DarkMidpointPool("D", INST, lit_quote=lambda: LIT, contra=flow, rng=np.random.default_rng(3))
    for p in (a, b):
        p.handle(peg(1, BUY, 10**6))
        p.handle(peg(2, SELL, 10**6))
    t = a.next_arrival_ns(10 * S)
    assert t is not None
    assert 0 < t <= 10 * S
    assert a.next_arrival_ns(t - 1) is None
    reached, reps = a.advance(10 * S)
    assert reached == t
    assert reps
    assert b.advance(10 * S) == (reached, reps)


# ------------------------------------------------------------------------------ contra flow
def test_poisson_contra_flow_has_the_configured_rate_sides_and_sizes() -> None:
    flow = ContraFlowConfig(rate_per_s=0.5, median_qty_lots=200, buy_probability=0.3, min_qty_lots=7).build()
    rng = np.random.default_rng(11)
    arr = np.concatenate([flow.arrivals(k * S, (k + 1) * S, rng) for k in range(10_000)])
    n = arr.size  # Poisson(5000): sd ~71
    assert abs(n - 5_000) < 300
    assert (np.diff(arr["ts"]) >= 0).all()
    assert abs((arr["side"] == 1).mean() - 0.3) < 0.03
    assert abs(np.median(arr["qty"]) - 200) < 15
    assert (arr["min_qty"] == 7).all()
    one = flow.arrivals(5, 6, rng)
    assert ((one["ts"] > 5) & (one["ts"] <= 6)).all()
    with pytest.raises(ConfigError, match="unknown key 'rate'"):
        ContraFlowConfig.from_dict({"rate": 1})


def test_a_contra_model_returning_bad_arrivals_fails_fast() -> None:
    class Outside(ContraFlowModel):
        def arrivals(self, t0_ns: int, t1_ns: int, rng: np.random.Generator) -> np.ndarray:
            return np.array([(t0_ns + 1, 1, 5, 0), (t1_ns + 1, 1, 5, 0)], dtype=CONTRA_DTYPE)

    p = pool(Outside())
    with pytest.raises(DataError, match="row 2: arrival outside the window"):
        p.advance(10)
    with pytest.raises(DataError, match="side must be"):
        contra([(1, 0, 5, 0)])


def test_pool_from_config_uses_the_configured_flow_and_minimum() -> None:
    cfg = DarkPoolConfig.from_dict({"min_qty_lots": 50, "contra": {"rate_per_s": 3.0}})
    p = DarkMidpointPool.from_config("D", INST, cfg, lit_quote=lambda: LIT, rng=np.random.default_rng(0))
    assert p.min_qty == 50
    assert isinstance(p.contra, PoissonContraFlow)
    assert p.contra.rate_per_s == 3.0
    assert p.handle(peg(1, BUY, 49))[0].kind is ReportKind.REJECTED
    with pytest.raises(ConfigError, match="off_grid"):
        DarkPoolConfig.from_dict({"off_grid": "nearest"})


# ------------------------------------------------------------------------------ conformance
def _conformant() -> DarkMidpointPool:
    return DarkMidpointPool(
        "DARK",
        INST,
        lit_quote=lambda: LIT,
        contra=PoissonContraFlow(rate_per_s=0.5),
        rng=np.random.default_rng(1),
        min_qty=10,
    )


def test_dark_pool_passes_the_dark_conformance_checks() -> None:
    check_dark_venue(_conformant)
    odd = Quote(bid_px=100, bid_qty=5, ask_px=101, ask_qty=5)
    check_dark_venue(
        lambda: DarkMidpointPool(
            "D",
            INST,
            lit_quote=lambda: odd,
            contra=PoissonContraFlow(),
            rng=np.random.default_rng(2),
            off_grid="round_against",
        )
    )


def test_check_venue_does_not_apply_to_a_dark_pool() -> None:
    with pytest.raises(VenueConformanceError, match="both sides quoted"):
        check_venue(_conformant)


def test_dark_conformance_catches_fills_away_from_the_mid_and_a_visible_quote() -> None:
    class Skewed(DarkMidpointPool):
        def _price(self, our_side: Side) -> tuple[int | None, bool]:
            px, r = super()._price(our_side)
            return (None if px is None else px + 1), r

    with pytest.raises(VenueConformanceError, match="not at the lit midpoint"):
        check_dark_venue(
            lambda: Skewed(
                "S", INST, lit_quote=lambda: LIT, contra=PoissonContraFlow(), rng=np.random.default_rng(1)
            )
        )

    class Lit(DarkMidpointPool):
        def quote(self) -> Quote:
            return LIT

    with pytest.raises(VenueConformanceError, match="must not quote"):
        check_dark_venue(
            lambda: Lit(
                "L", INST, lit_quote=lambda: LIT, contra=PoissonContraFlow(), rng=np.random.default_rng(1)
            )
        )
