"""A small builder of hand-made run results for TCA tests (fixtures ``builder``, ``make_run``, ``at``).

Times are given in seconds after ``T0``; prices in ticks; quantities in lots. The tables have
the columns and types :meth:`execsim.backtest.RunResult.from_session` writes (the end-to-end
test checks that the two schemas agree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pytest

from execsim.backtest import RunResult
from execsim.execution import EVENT_LOG_SCHEMA
from execsim.model.instrument import Instrument

T0 = 1_704_205_800_000_000_000
"""Session start (ns)."""


def ns(t_s: float) -> int:
    """``t_s`` seconds after ``T0``, in ns."""
    return T0 + round(t_s * 1e9)


@dataclass
class _Order:
    order_id: int
    parent_id: int
    venue: str
    side: str
    qty: int
    price: int | None
    t_submit: int
    t_arrival: int | None
    arrival: tuple[int, int] | None
    t_done: int | None


@dataclass
class RunBuilder:
    """Collects quotes, trades, parents, orders and fills, then builds a :class:`RunResult`."""

    tick_size: str = "0.01"
    lot_size: str = "1"
    seed: int = 0
    name: str = "t"
    quotes: list[tuple[int, str, int, int, int, int]] = field(default_factory=list)
    cf_quotes: list[tuple[int, str, int, int, int, int]] = field(default_factory=list)
    trades: list[tuple[int, int, int, int]] = field(default_factory=list)
    parents: list[dict[str, Any]] = field(default_factory=list)
    orders: list[_Order] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)

    @property
    def instrument(self) -> Instrument:
        return Instrument(symbol="TST", venue="LIT", tick_size=self.tick_size, lot_size=self.lot_size)

    def quote(
        self, t_s: float, bid: int, ask: int, *, venue: str = "LIT", bid_qty: int = 10, ask_qty: int = 10
    ) -> RunBuilder:
        """A market sample of one venue's best bid and offer (qty 0 = side empty)."""
        self.quotes.append((ns(t_s), venue, bid, bid_qty, ask, ask_qty))
        return self

    def cf_quote(self, t_s: float, bid: int, ask: int, *, venue: str = "LIT") -> RunBuilder:
        """A sample of the counterfactual market."""
        self.cf_quotes.append((ns(t_s), venue, bid, 10, ask, 10))
        return self

    def trade(self, t_s: float, price: int, qty: int, side: int = 1) -> RunBuilder:
        """A market trade print (venue time)."""
        self.trades.append((ns(t_s), price, qty, side))
        return self

    def parent(self, side: str, qty: int, t_s: float, bid: int, ask: int, *, algo: str = "x") -> int:
        """Declare a parent decided at ``t_s`` with arrival quote ``bid``/``ask``; return its id."""
        pid = len(self.parents) + 1
        self.parents.append(
            {"parent_id": pid, "side": side, "qty": qty, "ts_decision": ns(t_s), "arrival_bid": bid,
             "arrival_ask": ask, "limit_price": None, "algo": algo, "venue": ""}
        )  # fmt: skip
        return pid

    def order(
        self,
        parent_id: int,
        side: str,
        qty: int,
        t_s: float,
        *,
        arrival: tuple[int, int] | None = None,
        arrival_s: float | None = None,
        venue: str = "LIT",
        price: int | None = None,
        done_s: float | None = None,
    ) -> int:
        """A child order sent at ``t_s`` reaching ``venue`` at ``arrival_s`` (default ``t_s``)
        where it met the quote ``arrival`` (None: unknown)."""
        oid = len(self.orders) + 1
        t_arr = ns(arrival_s if arrival_s is not None else t_s)
        self.orders.append(
            _Order(oid, parent_id, venue, side, qty, price, ns(t_s), t_arr, arrival,
                   None if done_s is None else ns(done_s))
        )  # fmt: skip
        return oid

    def fill(
        self, order_id: int, t_s: float, price: int, qty: int, *, maker: bool = False, fee: float = 0.0
    ) -> RunBuilder:
        """A fill of one of our orders at venue time ``t_s``."""
        o = self.orders[order_id - 1]
        self.fills.append(
            {"ts_venue": ns(t_s), "ts_recv": ns(t_s) + 200_000, "order_id": order_id,
             "parent_id": o.parent_id, "venue": o.venue, "side": o.side, "price": price, "qty": qty,
             "liquidity": "maker" if maker else "taker", "queue_ahead": 0, "fee": float(fee)}
        )  # fmt: skip
        return self

    def build(self, *, end_s: float | None = None) -> RunResult:
        """The run result (``end_s``: session end; default the last sample)."""
        i64, f64, s = pa.int64(), pa.float64(), pa.string()
        quotes = sorted(self.quotes, key=lambda q: q[0])
        end = ns(end_s) if end_s is not None else (quotes[-1][0] if quotes else T0)
        filled: dict[int, list[dict[str, Any]]] = {}
        for f in self.fills:
            filled.setdefault(f["order_id"], []).append(f)
        orows: dict[str, list[Any]] = {k: [] for k in (
            "order_id", "venue", "side", "order_type", "tif", "price", "qty", "filled_qty", "avg_price",
            "status", "ts_submit", "ts_done", "reason", "tag", "parent_id", "arrival_bid_px",
            "arrival_bid_qty", "arrival_ask_px", "arrival_ask_qty")}  # fmt: skip
        events: dict[str, list[Any]] = {k: [] for k in (
            "ts_venue", "ts_recv", "order_id", "venue", "kind", "command", "price", "qty", "leaves_qty",
            "reason")}  # fmt: skip

        def event(ts: int, o: _Order, kind: str, command: str, price: int, qty: int, leaves: int) -> None:
            for k, v in zip(events, (ts, ts + 200_000, o.order_id, o.venue, kind, command, price, qty,
                                     leaves, None), strict=True):  # fmt: skip
                events[k].append(v)

        for o in self.orders:
            fs = filled.get(o.order_id, [])
            fq = sum(f["qty"] for f in fs)
            done = o.t_done if o.t_done is not None else max([f["ts_venue"] for f in fs] + [o.t_arrival or 0])
            vals = {
                "order_id": o.order_id, "venue": o.venue, "side": o.side, "order_type": "limit",
                "tif": "gtc", "price": o.price, "qty": o.qty, "filled_qty": fq,
                "avg_price": sum(f["price"] * f["qty"] for f in fs) / fq if fq else None,
                "status": "filled" if fq >= o.qty else "cancelled", "ts_submit": o.t_submit,
                "ts_done": done, "reason": None, "tag": "", "parent_id": o.parent_id,
                "arrival_bid_px": o.arrival[0] if o.arrival else None,
                "arrival_bid_qty": (10 if o.arrival[0] else 0) if o.arrival else None,
                "arrival_ask_px": o.arrival[1] if o.arrival else None,
                "arrival_ask_qty": (10 if o.arrival[1] else 0) if o.arrival else None,
            }  # fmt: skip
            for k, v in vals.items():
                orows[k].append(v)
            if o.t_arrival is not None:
                event(o.t_arrival, o, "accepted", "submit", o.price or 0, 0, o.qty)
            left = o.qty
            for f in fs:
                left -= f["qty"]
                cmd = "submit" if f["ts_venue"] == o.t_arrival else "market"
                event(f["ts_venue"], o, "fill", cmd, f["price"], f["qty"], max(left, 0))
        types = {
            "order_id": i64, "price": i64, "qty": i64, "filled_qty": i64, "avg_price": f64,
            "ts_submit": i64, "ts_done": i64, "reason": s, "parent_id": i64, "arrival_bid_px": i64,
            "arrival_bid_qty": i64, "arrival_ask_px": i64, "arrival_ask_qty": i64,
        }  # fmt: skip
        orders = pa.table({k: pa.array(v, types.get(k, s)) for k, v in orows.items()})
        etypes = {
            "ts_venue": i64,
            "ts_recv": i64,
            "order_id": i64,
            "price": i64,
            "qty": i64,
            "leaves_qty": i64,
        }
        order_events = pa.table({k: pa.array(v, etypes.get(k, s)) for k, v in events.items()})
        ftypes = {"ts_venue": i64, "ts_recv": i64, "order_id": i64, "parent_id": i64, "price": i64,
                  "qty": i64, "queue_ahead": i64, "fee": f64}  # fmt: skip
        fcols = ("ts_venue", "ts_recv", "order_id", "parent_id", "venue", "side", "price", "qty", "liquidity",
                 "queue_ahead", "fee")  # fmt: skip
        fills = pa.table({k: pa.array([f[k] for f in self.fills], ftypes.get(k, s)) for k in fcols})
        ptypes = {"parent_id": i64, "qty": i64, "ts_decision": i64, "arrival_bid": i64, "arrival_ask": i64,
                  "limit_price": i64}  # fmt: skip
        pcols = ("parent_id", "side", "qty", "ts_decision", "arrival_bid", "arrival_ask", "limit_price",
                 "algo", "venue")  # fmt: skip
        parents = pa.table({k: pa.array([p[k] for p in self.parents], ptypes.get(k, s)) for k in pcols})

        def market(rows: list[tuple[int, str, int, int, int, int]]) -> pa.Table:
            rows = sorted(rows, key=lambda r: r[0])
            cols = list(zip(*rows, strict=True)) if rows else [[] for _ in range(6)]
            names = ("ts", "venue", "bid_px", "bid_qty", "ask_px", "ask_qty")
            return pa.table(
                {n: pa.array(c, s if n == "venue" else i64) for n, c in zip(names, cols, strict=True)}
            )

        tr = sorted(self.trades)
        trades = pa.table({
            "ts_event": pa.array([t[0] for t in tr], i64), "ts_local": pa.array([t[0] for t in tr], i64),
            "price": pa.array([t[1] for t in tr], i64), "qty": pa.array([t[2] for t in tr], i64),
            "side": pa.array([t[3] for t in tr], pa.int8()),
        })  # fmt: skip
        tables = {
            "parents": parents, "orders": orders, "fills": fills, "order_events": order_events,
            "market": market(self.quotes), "market_trades": trades,
            "strategy_log": pa.table({"ts": pa.array([], i64), "message": pa.array([], s)}),
            "oms_events": EVENT_LOG_SCHEMA.empty_table(),
        }  # fmt: skip
        if self.cf_quotes:
            tables["counterfactual_market"] = market(self.cf_quotes)
        manifest = {
            "config_id": f"{self.seed:064d}", "name": self.name, "seeds": {"root": self.seed, "streams": {}},
            "start_ns": T0, "end_ns": end, "instrument": self.instrument.to_dict(),
        }  # fmt: skip
        return RunResult(manifest=manifest, config={}, instrument=self.instrument, tables=tables)


@pytest.fixture
def builder() -> RunBuilder:
    """A fresh run builder (tick 0.01, lot 1)."""
    return RunBuilder()


@pytest.fixture(scope="session")
def make_run() -> type[RunBuilder]:
    """The builder class itself: for tests that need several builders, or Hypothesis tests
    (which may not use function-scoped fixtures)."""
    return RunBuilder


@pytest.fixture(scope="session")
def at() -> Any:
    """``at(t_s)``: ``t_s`` seconds after the session start, in ns."""
    return ns
