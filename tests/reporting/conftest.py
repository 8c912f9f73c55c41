"""Hand-made runs for report tests, a real small session, and the golden-file helper.

Golden files live in ``tests/reporting/golden/``. They are compared byte for byte; to rewrite
them after a deliberate change, run the tests with ``EXECSIM_UPDATE_GOLDEN=1`` and review the
diff (the update flag is explicit: without it a mismatch fails).

The hand-made run (``hand_run``), tick 0.01, lot 1, prices in ticks, times in seconds after T0:

- LIT quotes 9999 / 10001 (mid 10000) every second from 0 s to 400 s; DARK has no quote.
- Parent 1, buy 100 lots at 10 s (arrival 9999 / 10001, algo ``handbuy``):
  order 1 on LIT, 60 lots, arrives 10.001 s, filled 60 @ 10001 taker (fee 0.30);
  order 2 on DARK, 40 lots, arrives 10.001 s, filled 30 @ 10000 maker at 20 s; 10 never filled.
- Parent 2, sell 50 lots at 100 s (arrival 9999 / 10001, algo ``handsell``):
  order 3 on LIT, 50 lots, filled 50 @ 9990 taker at 100.001 s.
- Order 4 on LIT, no parent: buy 5, filled 5 @ 10001 taker at 200 s.
- Market trades: 1000 lots @ 10000 at 15 s and at 105 s.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from execsim.backtest import RunConfig, RunResult, run_session
from execsim.execution.strategy import Strategy, StrategyContext
from execsim.model.enums import Side, TimeInForce
from execsim.model.instrument import Instrument

T0 = 1_704_205_800_000_000_000
S = 1_000_000_000
GOLDEN = Path(__file__).parent / "golden"
UPDATE_FLAG = "EXECSIM_UPDATE_GOLDEN"


def ns(t_s: float) -> int:
    """``t_s`` seconds after T0 (ns)."""
    return T0 + round(t_s * S)


def _t(cols: dict[str, tuple[pa.DataType, list[Any]]]) -> pa.Table:
    return pa.table({k: pa.array(v, t) for k, (t, v) in cols.items()})


I64, STR, F64 = pa.int64(), pa.string(), pa.float64()


def hand_result(
    *, name: str = "hand", seed: int = 1, sell_px: int = 9990, fee: float = 0.30, algo: str | None = None
) -> RunResult:
    """The hand-made run of the module docstring (``sell_px``: parent 2's fill price; ``algo``:
    one algorithm name for both parents instead of ``handbuy`` / ``handsell``)."""
    inst = Instrument(symbol="TST", venue="LIT", tick_size="0.01", lot_size="1")
    qts = list(range(401))
    market = _t(
        {
            "ts": (I64, [ns(t) for t in qts] + [ns(t) for t in qts]),
            "venue": (STR, ["LIT"] * len(qts) + ["DARK"] * len(qts)),
            "bid_px": (I64, [9999] * len(qts) + [0] * len(qts)),
            "bid_qty": (I64, [10] * len(qts) + [0] * len(qts)),
            "ask_px": (I64, [10001] * len(qts) + [0] * len(qts)),
            "ask_qty": (I64, [10] * len(qts) + [0] * len(qts)),
        }
    )
    market = market.take(pa.array(sorted(range(market.num_rows), key=lambda i: (market["ts"][i].as_py(), i))))
    parents = _t(
        {
            "parent_id": (I64, [1, 2]),
            "side": (STR, ["buy", "sell"]),
            "qty": (I64, [100, 50]),
            "ts_decision": (I64, [ns(10), ns(100)]),
            "arrival_bid": (I64, [9999, 9999]),
            "arrival_ask": (I64, [10001, 10001]),
            "limit_price": (I64, [None, None]),
            "algo": (STR, ["handbuy", "handsell"] if algo is None else [algo, algo]),
            "venue": (STR, ["LIT", "LIT"]),
        }
    )
    # order_id, venue, side, type, tif, price, qty, filled, avg, status, submit, done, tag, parent
    rows = [
        (1, "LIT", "buy", "limit", "ioc", 10001, 60, 60, 10001.0, "filled", 10.0, 10.001, "agg", 1),
        (2, "DARK", "buy", "midpoint", "day", None, 40, 30, 10000.0, "cancelled", 10.0, 60.0, "dark", 1),
        (3, "LIT", "sell", "limit", "ioc", 9990, 50, 50, float(sell_px), "filled", 100.0, 100.001, "agg", 2),
        (4, "LIT", "buy", "limit", "ioc", 10001, 5, 5, 10001.0, "filled", 200.0, 200.001, "stray", 0),
    ]
    arrival = {1: 10.001, 2: 10.001, 3: 100.001, 4: 200.001}
    orders = _t(
        {
            "order_id": (I64, [r[0] for r in rows]),
            "venue": (STR, [r[1] for r in rows]),
            "side": (STR, [r[2] for r in rows]),
            "order_type": (STR, [r[3] for r in rows]),
            "tif": (STR, [r[4] for r in rows]),
            "price": (I64, [r[5] for r in rows]),
            "qty": (I64, [r[6] for r in rows]),
            "filled_qty": (I64, [r[7] for r in rows]),
            "avg_price": (F64, [r[8] for r in rows]),
            "status": (STR, [r[9] for r in rows]),
            "ts_submit": (I64, [ns(r[10]) for r in rows]),
            "ts_done": (I64, [ns(r[11]) for r in rows]),
            "reason": (STR, [None, "cancel", None, None]),
            "tag": (STR, [r[12] for r in rows]),
            "parent_id": (I64, [r[13] for r in rows]),
            "arrival_bid_px": (I64, [9999, None, 9999, 9999]),
            "arrival_bid_qty": (I64, [10, None, 10, 10]),
            "arrival_ask_px": (I64, [10001, None, 10001, 10001]),
            "arrival_ask_qty": (I64, [10, None, 10, 10]),
        }
    )
    events = _t(
        {
            "ts_venue": (I64, [ns(arrival[o]) for o in (1, 2, 3, 4)]),
            "ts_recv": (I64, [ns(arrival[o] + 0.0002) for o in (1, 2, 3, 4)]),
            "order_id": (I64, [1, 2, 3, 4]),
            "venue": (STR, ["LIT", "DARK", "LIT", "LIT"]),
            "kind": (STR, ["accepted"] * 4),
            "command": (STR, ["submit"] * 4),
            "price": (I64, [10001, None, 9990, 10001]),
            "qty": (I64, [60, 40, 50, 5]),
            "leaves_qty": (I64, [60, 40, 50, 5]),
            "reason": (STR, [None] * 4),
        }
    )
    # ts, order, parent, venue, side, price, qty, liquidity, fee
    f = [
        (10.001, 1, 1, "LIT", "buy", 10001, 60, "taker", fee),
        (20.0, 2, 1, "DARK", "buy", 10000, 30, "maker", 0.0),
        (100.001, 3, 2, "LIT", "sell", sell_px, 50, "taker", 0.0),
        (200.001, 4, 0, "LIT", "buy", 10001, 5, "taker", 0.0),
    ]
    fills = _t(
        {
            "ts_venue": (I64, [ns(x[0]) for x in f]),
            "ts_recv": (I64, [ns(x[0] + 0.0002) for x in f]),
            "order_id": (I64, [x[1] for x in f]),
            "parent_id": (I64, [x[2] for x in f]),
            "venue": (STR, [x[3] for x in f]),
            "side": (STR, [x[4] for x in f]),
            "price": (I64, [x[5] for x in f]),
            "qty": (I64, [x[6] for x in f]),
            "liquidity": (STR, [x[7] for x in f]),
            "queue_ahead": (I64, [0] * len(f)),
            "fee": (F64, [x[8] for x in f]),
        }
    )
    trades = _t(
        {
            "ts_event": (I64, [ns(15), ns(105)]),
            "ts_local": (I64, [ns(15), ns(105)]),
            "price": (I64, [10000, 10000]),
            "qty": (I64, [1000, 1000]),
            "side": (pa.int8(), [1, -1]),
        }
    )
    log = _t(
        {"ts": (I64, [ns(10)]), "message": (STR, ["handbuy: parent 1 buy 100 lots, until " + str(ns(70))])}
    )
    manifest = {
        "config_id": f"{name}{seed}".ljust(64, "0"),
        "name": name,
        "seeds": {"root": seed},
        "data": {"description": "hand-made"},
        "start_ns": ns(0),
        "end_ns": ns(400),
        "instrument": inst.to_dict(),
        "session": {"book": "l2", "venues": {"LIT": "HandVenue", "DARK": "HandDark"}, "impact": "none"},
    }
    return RunResult(
        manifest=manifest,
        config={"name": name, "seed": seed},
        instrument=inst,
        tables={
            "parents": parents,
            "orders": orders,
            "fills": fills,
            "order_events": events,
            "market": market,
            "market_trades": trades,
            "strategy_log": log,
        },
    )


@pytest.fixture
def hand_run() -> RunResult:
    return hand_result()


@pytest.fixture(scope="session")
def make_hand_run() -> Callable[..., RunResult]:
    """:func:`hand_result` itself (keyword arguments ``name``, ``seed``, ``sell_px``, ``fee``, ``algo``)."""
    return hand_result


class TwoVenueParents(Strategy):
    """A buy parent worked on LIT (a passive child at the bid, then a marketable IOC) and B (an
    IOC), then one unparented IOC on B."""

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer(ctx.now + 5 * S, "go")
        ctx.set_timer(ctx.now + 40 * S, "cross")
        ctx.set_timer(ctx.now + 60 * S, "stray")

    def on_timer(self, ctx: StrategyContext, payload: Any) -> None:
        book = ctx.book()
        bid, ask = book.best_bid(), book.best_ask()
        assert bid is not None
        assert ask is not None
        if payload == "go":
            self.p = ctx.new_parent(Side.BUY, 60, algo="hand")
            ctx.submit(Side.BUY, 20, bid[0], venue="LIT", parent_id=self.p.parent_id)
            ctx.submit(Side.BUY, 20, ask[0] + 3, tif=TimeInForce.IOC, venue="B", parent_id=self.p.parent_id)
        elif payload == "cross":
            ctx.submit(Side.BUY, 20, ask[0] + 3, tif=TimeInForce.IOC, venue="LIT", parent_id=self.p.parent_id)
        elif payload == "stray":
            ctx.submit(Side.BUY, 3, ask[0] + 3, tif=TimeInForce.IOC, venue="B")


@pytest.fixture(scope="session")
def real_run() -> RunResult:
    """A small real session: synthetic data, two L2 replay venues, one parent plus a stray order."""
    cfg = RunConfig.from_dict(
        {
            "name": "hand-real",
            "seed": 4,
            "data": {"kind": "synthetic", "n_events": 40_000, "minutes": 3},
            "venues": [
                {"name": "LIT", "kind": "replay", "fees": {"taker_bps": 0.5}},
                {"name": "B", "kind": "replay", "fees": {"taker_bps": 0.3}},
            ],
            "strategy": {"class": "execsim.backtest.strategies:SliceTaker"},  # names the run only
        }
    )
    return run_session(cfg, strategy=TwoVenueParents())


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, text)``: compare ``text`` with ``golden/<name>`` (rewrite it with the flag)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get(UPDATE_FLAG) == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        if not path.is_file():
            pytest.fail(f"golden file {path} is missing; create it with {UPDATE_FLAG}=1 and review it")
        want = path.read_text(encoding="utf-8")
        if text != want:
            diff = "".join(
                difflib.unified_diff(
                    want.splitlines(True), text.splitlines(True), "golden/" + name, "actual", n=2
                )
            )
            pytest.fail(f"{name} differs from its golden file ({UPDATE_FLAG}=1 rewrites it):\n{diff[:4000]}")

    return check
