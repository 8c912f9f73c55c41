"""The TCA plug-in interface and the typed views of a run it works on.

A TCA metric is an object with a ``name`` and one method::

    compute(fills: FillsView, market: MarketState, context: TcaContext) -> Mapping[str, value]

``fills`` are the fills being analysed (one parent order's, or the whole run's), ``market`` the
run's market (:class:`~execsim.tca.market.MarketState`), and ``context`` the parent order, its
child orders, every fill of the run (our volume), the instrument and the :class:`TcaConfig`.
Values are floats (NaN = not available; the report writes it as ``null``), ints, strings,
booleans or nested mappings of these.

Units and signs (see docs/tca.md): prices are in ticks, quantities in lots; costs are reported
in basis points of the parent's decision (arrival) mid and in the instrument's currency
(``ticks × tick_size × lots × lot_size``); **a positive cost is worse for the client, for buys
and sells alike** — every price difference is multiplied by the side sign (+1 buy, −1 sell).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import Field

from execsim.core.config import FrozenConfig
from execsim.core.errors import DataError
from execsim.model.enums import Side
from execsim.model.instrument import Instrument

if TYPE_CHECKING:
    import pyarrow as pa

    from execsim.tca.market import MarketState

__all__ = [
    "FillsView",
    "MetricValue",
    "OrdersView",
    "ParentView",
    "TcaConfig",
    "TcaContext",
    "TcaMetric",
    "horizon_key",
]

MetricValue = float | int | str | bool | None | Mapping[str, Any]
"""What a metric returns per key: a number (NaN = not available), a label, or a nested mapping."""

BPS = 10_000.0


class TcaConfig(FrozenConfig):
    """Choices every TCA metric shares: horizons and reference prices."""

    markout_horizons_s: tuple[float, ...] = Field(
        default=(1.0, 10.0, 60.0, 300.0), description="markout horizons after each fill (s)"
    )
    impact_horizons_s: tuple[float, ...] = Field(
        default=(1.0, 15.0, 60.0, 300.0), description="price impact / realized spread horizons (s)"
    )
    reversion_horizons_s: tuple[float, ...] = Field(
        default=(60.0, 300.0), description="post-trade reversion horizons after the parent's end (s)"
    )
    opportunity_price: Literal["close", "end"] = Field(
        default="close",
        description="price the unfilled quantity is marked at: the session close, or the mid when "
        "the parent's last child was done",
    )
    close_price: Literal["mid", "trade"] = Field(
        default="mid", description="the session close: last consolidated mid, or last trade print"
    )
    our_fills_in_tape: bool = Field(
        default=False,
        description="whether market_trades already contains our fills (false for replayed data)",
    )
    participation_bucket_s: float = Field(default=60.0, gt=0, description="participation bucket length (s)")


def horizon_key(seconds: float) -> str:
    """The key fragment of a horizon: ``1s``, ``15s``, ``300s``, ``0.5s``."""
    return f"{seconds:g}s"


def _sign(side: np.ndarray) -> np.ndarray:
    s = np.where(side == Side.BUY.value, 1, np.where(side == Side.SELL.value, -1, 0)).astype(np.int8)
    return s


def _np(table: pa.Table, name: str, dtype: Any, fill: Any = None) -> np.ndarray:
    col = table.column(name)
    if fill is not None and col.null_count:
        col = col.fill_null(fill)
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=dtype)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Columns:
    """Shared behaviour of column views: length and row selection."""

    def __len__(self) -> int:
        return len(getattr(self, fields(self)[0].name))

    def select(self, mask: np.ndarray) -> Any:
        """The rows where ``mask`` is true (or at the given indices)."""
        kw = {f.name: getattr(self, f.name)[mask] for f in fields(self)}
        return type(self)(**kw)


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentView:
    """A parent order as TCA sees it.

    ``decision_mid`` is the benchmark of implementation shortfall (ticks): the mid of the
    arrival bid and ask recorded at the decision, or — when one side was empty — the market's
    consolidated mid as of the decision time (``decision_mid_source`` says which; NaN when
    neither exists).
    """

    parent_id: int
    index: int
    side: Side
    qty: int
    ts_decision: int
    arrival_bid: int
    arrival_ask: int
    limit_price: int | None
    algo: str
    venue: str
    decision_mid: float
    decision_mid_source: str

    @property
    def sign(self) -> int:
        """+1 for a buy, −1 for a sell: multiplies every price difference into a cost."""
        return 1 if self.side is Side.BUY else -1


@dataclass(frozen=True, slots=True, kw_only=True)
class OrdersView(_Columns):
    """Child orders as columns.

    ``ts_arrival`` is when the order reached its venue (its first venue report to the submit;
    ``ts_submit`` when unknown, with ``arrival_known`` false). ``arrival_bid``/``arrival_ask``
    are the venue's quote just before it handled the order (ticks; NaN when a side was empty or
    the quote is unknown).
    """

    order_id: np.ndarray
    parent_id: np.ndarray
    venue: np.ndarray
    sign: np.ndarray
    qty: np.ndarray
    filled_qty: np.ndarray
    ts_submit: np.ndarray
    ts_arrival: np.ndarray
    arrival_known: np.ndarray
    ts_done: np.ndarray
    arrival_bid: np.ndarray
    arrival_ask: np.ndarray

    @property
    def arrival_mid(self) -> np.ndarray:
        """Mid of the arrival quote (NaN unless two-sided)."""
        return (self.arrival_bid + self.arrival_ask) / 2.0

    @classmethod
    def from_tables(cls, orders: pa.Table, order_events: pa.Table | None, end_ns: int) -> OrdersView:
        """Build the view from the ``orders`` and ``order_events`` tables of a run.

        ``end_ns`` stands in for a missing completion time (an order still open at the end).
        """
        oid = _np(orders, "order_id", np.int64)
        ts_submit = _np(orders, "ts_submit", np.int64)
        ts_arrival = ts_submit.copy()
        known = np.zeros(len(oid), bool)
        if order_events is not None and order_events.num_rows and len(oid):
            cmd = _np(order_events, "command", object).astype(str)
            ev_oid = _np(order_events, "order_id", np.int64)[cmd == "submit"]
            ev_ts = _np(order_events, "ts_venue", np.int64)[cmd == "submit"]
            # the first report to an order's submit is sent when the venue handles it: its arrival
            first: dict[int, int] = {}
            for o, t in zip(ev_oid.tolist(), ev_ts.tolist(), strict=True):
                if o not in first or t < first[o]:
                    first[o] = t
            for i, o in enumerate(oid.tolist()):
                if o in first:
                    ts_arrival[i] = first[o]
                    known[i] = True

        def quote_side(px: str, qty: str) -> np.ndarray:
            if px not in orders.column_names:
                return np.full(len(oid), np.nan)
            p = _np(orders, px, np.float64, fill=0)
            q = _np(orders, qty, np.float64, fill=0)
            nul = np.asarray(orders.column(px).is_null().to_numpy(zero_copy_only=False), bool)
            return np.where((q > 0) & ~nul, p, np.nan)

        return cls(
            order_id=oid,
            parent_id=_np(orders, "parent_id", np.int64, fill=0),
            venue=_np(orders, "venue", object).astype(str),
            sign=_sign(_np(orders, "side", object).astype(str)),
            qty=_np(orders, "qty", np.int64),
            filled_qty=_np(orders, "filled_qty", np.int64),
            ts_submit=ts_submit,
            ts_arrival=ts_arrival,
            arrival_known=known,
            ts_done=_np(orders, "ts_done", np.int64, fill=end_ns),
            arrival_bid=quote_side("arrival_bid_px", "arrival_bid_qty"),
            arrival_ask=quote_side("arrival_ask_px", "arrival_ask_qty"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FillsView(_Columns):
    """Our fills as columns, each with its pre-trade reference quote.

    ``ts`` is the venue time of the fill. ``ref_bid``/``ref_ask`` (ticks, NaN when unknown) are
    the latest quote known strictly before the fill: the consolidated sample before ``ts``, or
    the quote the venue showed when the fill's order arrived, whichever is more recent (for an
    order that executes on arrival that is exactly the quote it met; for a resting order it is
    the last sample before the fill). A fill with neither (at the very first sample) uses the
    sample at its own time.
    """

    ts: np.ndarray
    order_id: np.ndarray
    parent_id: np.ndarray
    venue: np.ndarray
    sign: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    maker: np.ndarray
    fee: np.ndarray
    ref_bid: np.ndarray
    ref_ask: np.ndarray

    @property
    def ref_mid(self) -> np.ndarray:
        """Pre-trade reference mid of each fill (ticks, NaN when unknown)."""
        return (self.ref_bid + self.ref_ask) / 2.0

    @property
    def notional_ticks(self) -> float:
        """Σ price × qty (ticks × lots)."""
        return float(np.dot(self.price.astype(np.float64), self.qty.astype(np.float64)))

    @property
    def total_qty(self) -> int:
        """Σ qty (lots)."""
        return int(self.qty.sum())

    @classmethod
    def from_tables(cls, fills: pa.Table, orders: OrdersView, market: MarketState) -> FillsView:
        """Build the view from a run's ``fills`` table, its orders and its market."""
        ts = _np(fills, "ts_venue", np.int64)
        oid = _np(fills, "order_id", np.int64)
        n = len(ts)
        cons = market.consolidated
        idx = cons.index(ts, strict=True)
        has = idx >= 0
        j = np.where(has, idx, 0)
        if len(cons.ts):
            ref_bid = np.where(has, cons.bid[j], np.nan)
            ref_ask = np.where(has, cons.ask[j], np.nan)
            sample_ts = np.where(has, cons.ts[j], np.iinfo(np.int64).min)
        else:
            ref_bid, ref_ask = np.full(n, np.nan), np.full(n, np.nan)
            sample_ts = np.full(n, np.iinfo(np.int64).min, np.int64)
        pos = {o: i for i, o in enumerate(orders.order_id.tolist())}
        rows = np.array([pos.get(o, -1) for o in oid.tolist()], np.int64)
        if n and (rows < 0).any():
            bad = int(np.flatnonzero(rows < 0)[0])
            raise DataError("fill of an unknown order", source="fills", row=bad + 1, value=int(oid[bad]))
        if n:
            a_ts = orders.ts_arrival[rows]
            a_bid, a_ask = orders.arrival_bid[rows], orders.arrival_ask[rows]
            use = (
                orders.arrival_known[rows]
                & np.isfinite(a_bid)
                & np.isfinite(a_ask)
                & (a_ts <= ts)
                & (a_ts >= sample_ts)
            )
            ref_bid = np.where(use, a_bid, ref_bid)
            ref_ask = np.where(use, a_ask, ref_ask)
        if len(cons.ts):
            # a fill at the very first sample has no sample before it: use the one at its time
            lost = ~(np.isfinite(ref_bid) & np.isfinite(ref_ask))
            if lost.any():
                b_at, a_at = cons.at(ts[lost])
                ref_bid[lost], ref_ask[lost] = b_at, a_at
        return cls(
            ts=ts,
            order_id=oid,
            parent_id=_np(fills, "parent_id", np.int64, fill=0),
            venue=_np(fills, "venue", object).astype(str),
            sign=_sign(_np(fills, "side", object).astype(str)),
            price=_np(fills, "price", np.int64),
            qty=_np(fills, "qty", np.int64),
            maker=_np(fills, "liquidity", object).astype(str) == "maker",
            fee=_np(fills, "fee", np.float64, fill=0.0),
            ref_bid=ref_bid,
            ref_ask=ref_ask,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TcaContext:
    """Everything a metric may need besides the fills and the market.

    Parameters
    ----------
    instrument
        Converts ticks and lots to currency.
    config
        Horizons and reference-price choices.
    parent
        The parent order analysed (``None`` for run-level analyses such as the venue table).
    children
        The parent's child orders (every order of the run when ``parent`` is ``None``).
    our_fills
        Every fill of the run, whatever its parent: our volume in the market.
    t_start, t_end
        The execution interval (ns): from the decision to the moment the parent's last child
        order was done (its last fill, cancel or expiry).
    session_end_ns
        The end of the session (from the manifest).
    """

    instrument: Instrument
    config: TcaConfig
    parent: ParentView | None
    children: OrdersView
    our_fills: FillsView
    t_start: int
    t_end: int
    session_end_ns: int

    @property
    def ccy_per_tick_lot(self) -> float:
        """Currency value of one tick on one lot (``tick_size × lot_size``)."""
        return float(self.instrument.tick_size * self.instrument.lot_size)

    @property
    def reference_mid(self) -> float:
        """The bps denominator: the parent's decision mid (ticks; NaN without a parent)."""
        return self.parent.decision_mid if self.parent is not None else float("nan")

    def bps(self, ticks_per_unit: float) -> float:
        """A per-unit price difference (ticks) in bps of the decision mid."""
        ref = self.reference_mid
        if not np.isfinite(ref) or ref == 0:
            return float("nan")
        return float(ticks_per_unit) / ref * BPS

    def ticks_and_bps(self, key: str, ticks_per_unit: float) -> dict[str, float]:
        """The values ``{key}_ticks`` and ``{key}_bps`` of one per-unit price difference."""
        return {f"{key}_ticks": ticks_per_unit, f"{key}_bps": self.bps(ticks_per_unit)}


@runtime_checkable
class TcaMetric(Protocol):
    """A TCA metric plug-in: a name (the report section) and one method."""

    name: str

    def compute(
        self, fills: FillsView, market: MarketState, context: TcaContext
    ) -> Mapping[str, MetricValue]:
        """Compute the metric's values (cost positive = worse for the client)."""
        ...


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Σ w·v / Σ w over finite values (NaN when nothing is left)."""
    v = np.asarray(values, np.float64)
    w = np.asarray(weights, np.float64)
    ok = np.isfinite(v) & np.isfinite(w)
    tot = float(w[ok].sum())
    if not ok.any() or tot <= 0:
        return float("nan")
    return float(np.dot(v[ok], w[ok]) / tot)
