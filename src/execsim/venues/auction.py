"""Call auctions: the uncrossing algorithm and a call-auction venue (opening or closing cross).

During a *call phase* orders accumulate without trading; at the auction time the book is
*uncrossed* at one price, the way NASDAQ, the LSE and Xetra run their opening and closing
auctions. :func:`uncross` is that algorithm as a pure function; :class:`CallAuctionVenue` is a
venue (the :class:`~execsim.venues.base.Venue` protocol) that collects our orders and
background orders during the call and uncrosses them at ``auction_ts_ns``. ``docs/venues.md``
has the rules and the numbered hand-worked cases (A1…) that the tests check.

Price determination (:func:`uncross`)
-------------------------------------
With ``D(p)`` the buy quantity willing to trade at ``p`` (market buys plus limit buys priced
``>= p``) and ``S(p)`` the sell quantity (market sells plus limit sells priced ``<= p``), the
executable volume at ``p`` is ``min(D(p), S(p))`` and the surplus (imbalance) ``D(p) − S(p)``.
Candidates are every tick from the lowest to the highest limit price in the book. Among them:

1. the maximum executable volume;
2. then the minimum absolute surplus;
3. then market pressure: a buy surplus at every remaining price → the highest, a sell surplus
   at every remaining price → the lowest;
4. then (no surplus, or surpluses on both sides) the price closest to ``reference_price``;
5. without a reference price, the price closest to the middle of the remaining range;
6. finally, of two equally close prices, the lower.

The volume and surplus only change at limit prices, so the work is a sort and cumulative sums
over the distinct limit prices plus one interval per gap between them, O(n log n); prices
strictly between two limit prices *are* candidates (a market-order-only balance is uncrossed at
the reference price, not at an arbitrary limit). With market orders only (no limit price at
all) the auction trades at ``reference_price``, or not at all without one.

Allocation at the chosen price is price-time priority on each side: market orders first
(absolute priority), then the better limit, then the earlier ``priority`` (arrival time or
sequence), then the lower order id. The side without a surplus fills completely; the side with
the surplus is rationed down that order, so the marginal orders (usually those limited exactly
at the auction price) are filled first come, first served and the last one may fill partially.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

import numpy as np
from pydantic import Field

from execsim.core.config import FrozenConfig
from execsim.core.errors import ConfigError, DataError
from execsim.data.schema import K_HALT
from execsim.model.enums import LiquiditySide, OrderType, Side, TimeInForce, TradingStatus
from execsim.model.instrument import Instrument
from execsim.venues.base import (
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    Quote,
    ReportKind,
    SubmitOrder,
    Venue,
    VenueCommand,
    VenueConformanceError,
    check_rejections,
)

__all__ = [
    "AUCTION_ORDER_DTYPE",
    "BACKGROUND_ORDER_DTYPE",
    "AuctionBackgroundConfig",
    "AuctionFill",
    "AuctionOrder",
    "AuctionRemainder",
    "AuctionResult",
    "AuctionVenue",
    "CallAuctionConfig",
    "CallAuctionVenue",
    "PriceRule",
    "check_auction_venue",
    "generate_background_orders",
    "uncross",
]

AUCTION_ORDER_DTYPE = np.dtype(
    [
        ("order_id", np.int64),
        ("price", np.int64),  # ticks; ignored when ``market`` is set
        ("qty", np.int64),  # lots, > 0
        ("priority", np.int64),  # time priority: lower is earlier
        ("market", np.bool_),
    ]
)
"""One side's orders as a numpy structured array, the array form :func:`uncross` accepts."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuctionOrder:
    """An order in a call auction; ``price=None`` is a market order."""

    order_id: int
    qty: int
    price: int | None = None
    priority: int = 0


class PriceRule(StrEnum):
    """Which rule of the price determination settled the auction price."""

    MAX_VOLUME = "max_volume"
    MIN_SURPLUS = "min_surplus"
    MARKET_PRESSURE = "market_pressure"
    REFERENCE = "reference"
    MIDPOINT = "midpoint"
    LOWER = "lower"
    MARKET_ONLY = "market_only"
    NO_TRADE = "no_trade"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuctionFill:
    """Quantity of one order executed in the uncross (at the auction price)."""

    order_id: int
    side: Side
    qty: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuctionRemainder:
    """Quantity of one order left unexecuted by the uncross."""

    order_id: int
    side: Side
    qty: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuctionResult:
    """The outcome (or, during the call, the indicative outcome) of an uncross.

    Attributes
    ----------
    price
        The auction price in ticks; ``None`` when nothing can trade.
    volume
        Lots executed on each side.
    surplus_side, surplus_qty
        The side with unexecuted interest at ``price`` and its size (``D − S`` or ``S − D``);
        ``Side.NONE`` and 0 when balanced.
    buy_qty, sell_qty
        ``D(price)`` and ``S(price)``: the interest willing to trade at the price.
    rule
        The rule that settled the price (the docs' step number, by name).
    fills
        Executed quantity per order, in allocation order (buys, then sells).
    unfilled
        Unexecuted remainder per order (whole orders included), in priority order per side.
    """

    price: int | None
    volume: int
    surplus_side: Side
    surplus_qty: int
    buy_qty: int
    sell_qty: int
    rule: PriceRule
    fills: tuple[AuctionFill, ...] = ()
    unfilled: tuple[AuctionRemainder, ...] = ()


# ------------------------------------------------------------------------------ the algorithm
@dataclass(slots=True)
class _SideArrays:
    ids: np.ndarray
    price: np.ndarray
    qty: np.ndarray
    prio: np.ndarray
    market: np.ndarray


def _as_arrays(orders: Sequence[AuctionOrder] | np.ndarray, source: str) -> _SideArrays:
    if isinstance(orders, np.ndarray):
        if orders.dtype.names is None or not set(AUCTION_ORDER_DTYPE.names or ()) <= set(orders.dtype.names):
            raise DataError(
                f"expected a structured array with fields {AUCTION_ORDER_DTYPE.names}",
                source=source,
                value=orders.dtype,
            )
        a = _SideArrays(
            ids=orders["order_id"].astype(np.int64),
            price=orders["price"].astype(np.int64),
            qty=orders["qty"].astype(np.int64),
            prio=orders["priority"].astype(np.int64),
            market=orders["market"].astype(bool),
        )
    else:
        n = len(orders)
        a = _SideArrays(
            ids=np.fromiter((o.order_id for o in orders), np.int64, n),
            price=np.fromiter((0 if o.price is None else o.price for o in orders), np.int64, n),
            qty=np.fromiter((o.qty for o in orders), np.int64, n),
            prio=np.fromiter((o.priority for o in orders), np.int64, n),
            market=np.fromiter((o.price is None for o in orders), bool, n),
        )
    bad = np.flatnonzero(a.qty <= 0)
    if bad.size:
        i = int(bad[0])
        raise DataError("order quantity must be positive", source=source, row=i + 1, value=int(a.qty[i]))
    a.price = np.where(a.market, 0, a.price)
    return a


def _levels(a: _SideArrays, prices: np.ndarray, *, buy: bool) -> np.ndarray:
    """``D(p)`` (buy) or ``S(p)`` (sell) at each of ``prices``, by sort + cumulative sums."""
    lim = ~a.market
    mkt = int(a.qty[a.market].sum())
    px = a.price[lim]
    order = np.argsort(px, kind="stable")
    px_sorted = px[order]
    cum = np.concatenate(([0], np.cumsum(a.qty[lim][order])))
    if buy:  # limit buys priced >= p: total minus those priced < p
        return mkt + cum[-1] - cum[np.searchsorted(px_sorted, prices, side="left")]
    return mkt + cum[np.searchsorted(px_sorted, prices, side="right")]


def _pick(
    lo: np.ndarray, hi: np.ndarray, sur: np.ndarray, reference_price: int | None
) -> tuple[int, PriceRule]:
    """Rules 3–6 over tied candidate intervals ``[lo, hi]`` (same volume, same |surplus|)."""
    if (sur > 0).all():
        return int(hi.max()), PriceRule.MARKET_PRESSURE
    if (sur < 0).all():
        return int(lo.min()), PriceRule.MARKET_PRESSURE
    if reference_price is not None:
        # the reference itself, doubled so a midpoint target below stays in integers
        target2, rule = 2 * int(reference_price), PriceRule.REFERENCE
    else:
        target2, rule = int(lo.min()) + int(hi.max()), PriceRule.MIDPOINT
    # the closest point of each interval to target2 / 2, trying both neighbours of a half tick
    pts = np.concatenate(
        (np.clip(target2 // 2, lo, hi), np.clip(-((-target2) // 2), lo, hi))
    )  # floor and ceil of the target, clipped into each interval
    dist = np.abs(2 * pts - target2)
    best = np.unique(pts[dist == dist.min()])
    if best.size == 1:
        return int(best[0]), rule
    return int(best[0]), PriceRule.LOWER


def _allocate(a: _SideArrays, price: int, volume: int, *, buy: bool) -> tuple[np.ndarray, np.ndarray]:
    """Price-time priority order of one side and each order's executed quantity in it."""
    # lexsort: the last key is the primary one
    price_key = -a.price if buy else a.price
    order = np.lexsort((a.ids, a.prio, price_key, ~a.market))
    q = a.qty[order]
    eligible = a.market[order] | ((a.price[order] >= price) if buy else (a.price[order] <= price))
    q_elig = np.where(eligible, q, 0)
    before = np.cumsum(q_elig) - q_elig
    filled = np.clip(volume - before, 0, q_elig)
    return order, filled


def uncross(
    bids: Sequence[AuctionOrder] | np.ndarray,
    asks: Sequence[AuctionOrder] | np.ndarray,
    *,
    reference_price: int | None = None,
) -> AuctionResult:
    """Uncross a call-auction book: the auction price, volume, surplus and allocation.

    Parameters
    ----------
    bids, asks
        The buy and sell orders: :class:`AuctionOrder` records or structured arrays of
        :data:`AUCTION_ORDER_DTYPE`. Order ids must be unique over both sides.
    reference_price
        The reference for rule 4 (the last trade, the previous close), in ticks.

    Returns
    -------
    AuctionResult
        Price ``None`` and volume 0 when nothing can trade.

    Raises
    ------
    DataError
        A quantity that is not positive (naming the side and 1-based row) or a duplicate id.
    """
    b = _as_arrays(bids, "bids")
    s = _as_arrays(asks, "asks")
    ids = np.concatenate((b.ids, s.ids))
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise DataError("order ids must be unique over bids and asks", value=int(uniq[counts > 1][0]))

    limit_px = np.unique(np.concatenate((b.price[~b.market], s.price[~s.market])))
    if limit_px.size == 0:
        mb, ms = int(b.qty.sum()), int(s.qty.sum())
        if mb and ms and reference_price is not None:
            price, rule = int(reference_price), PriceRule.MARKET_ONLY
            dq, sq = mb, ms
        else:
            return _no_trade(b, s)
    else:
        # candidate intervals: each limit price, and each gap strictly between two of them
        d_pts = _levels(b, limit_px, buy=True)
        s_pts = _levels(s, limit_px, buy=False)
        gap = np.diff(limit_px) >= 2
        lo = np.concatenate((limit_px, limit_px[:-1][gap] + 1))
        hi = np.concatenate((limit_px, limit_px[1:][gap] - 1))
        dd = np.concatenate((d_pts, d_pts[1:][gap]))  # D is constant on (p_i, p_i+1]: D(p_i+1)
        ss = np.concatenate((s_pts, s_pts[:-1][gap]))  # S is constant on [p_i, p_i+1): S(p_i)
        vol = np.minimum(dd, ss)
        vmax = int(vol.max())
        if vmax == 0:
            return _no_trade(b, s)
        cand = vol == vmax
        if cand.sum() == 1 and lo[cand][0] == hi[cand][0]:
            i = int(np.flatnonzero(cand)[0])
            price, rule = int(lo[i]), PriceRule.MAX_VOLUME
        else:
            imb = np.abs(dd - ss)
            cand &= imb == imb[cand].min()
            if cand.sum() == 1 and lo[cand][0] == hi[cand][0]:
                price, rule = int(lo[cand][0]), PriceRule.MIN_SURPLUS
            else:
                price, rule = _pick(lo[cand], hi[cand], (dd - ss)[cand], reference_price)
        dq = int(_levels(b, np.array([price]), buy=True)[0])
        sq = int(_levels(s, np.array([price]), buy=False)[0])

    volume = min(dq, sq)
    fills: list[AuctionFill] = []
    rest: list[AuctionRemainder] = []
    for arr, side in ((b, Side.BUY), (s, Side.SELL)):
        order, filled = _allocate(arr, price, volume, buy=side is Side.BUY)
        for oid, q, f in zip(arr.ids[order].tolist(), arr.qty[order].tolist(), filled.tolist(), strict=True):
            if f:
                fills.append(AuctionFill(order_id=oid, side=side, qty=f))
            if q > f:
                rest.append(AuctionRemainder(order_id=oid, side=side, qty=q - f))
    surplus = dq - sq
    return AuctionResult(
        price=price,
        volume=volume,
        surplus_side=Side.BUY if surplus > 0 else Side.SELL if surplus < 0 else Side.NONE,
        surplus_qty=abs(surplus),
        buy_qty=dq,
        sell_qty=sq,
        rule=rule,
        fills=tuple(fills),
        unfilled=tuple(rest),
    )


def _no_trade(b: _SideArrays, s: _SideArrays) -> AuctionResult:
    rest = []
    for arr, side in ((b, Side.BUY), (s, Side.SELL)):
        order, _ = _allocate(arr, 0, 0, buy=side is Side.BUY)
        rest += [
            AuctionRemainder(order_id=oid, side=side, qty=q)
            for oid, q in zip(arr.ids[order].tolist(), arr.qty[order].tolist(), strict=True)
        ]
    return AuctionResult(
        price=None,
        volume=0,
        surplus_side=Side.NONE,
        surplus_qty=0,
        buy_qty=0,
        sell_qty=0,
        rule=PriceRule.NO_TRADE,
        unfilled=tuple(rest),
    )


# ------------------------------------------------------------------------ background orders
BACKGROUND_ORDER_DTYPE = np.dtype(
    [
        ("ts", np.int64),  # arrival time at the venue, ns
        ("side", np.int8),  # 1 buy, -1 sell
        ("price", np.int64),  # ticks; ignored when ``market`` is set
        ("qty", np.int64),  # lots
        ("market", np.bool_),
    ]
)
"""Other participants' auction orders: arrival time, side code, price, size, market flag."""


class AuctionBackgroundConfig(FrozenConfig):
    """A seeded generator of other participants' auction orders around a reference price.

    Arrival times are uniform over the call phase; sides are buy with ``buy_probability``; a
    fraction ``market_fraction`` are market orders; limit prices are the reference plus a
    normal deviate of ``price_sd_ticks`` (rounded, at least 1 tick), so buys above the reference
    and sells below it cross and the uncross lands near the reference; sizes are lognormal
    with median ``median_qty_lots`` and log-sd ``qty_sigma`` (at least 1 lot).
    """

    n_orders: int = Field(default=200, ge=0, description="orders over the whole call phase")
    price_sd_ticks: float = Field(default=10.0, ge=0.0, description="sd of limit prices around the reference")
    buy_probability: float = Field(default=0.5, ge=0.0, le=1.0)
    market_fraction: float = Field(default=0.05, ge=0.0, le=1.0)
    median_qty_lots: float = Field(default=100.0, gt=0.0)
    qty_sigma: float = Field(default=1.0, ge=0.0)


def generate_background_orders(
    config: AuctionBackgroundConfig,
    *,
    start_ns: int,
    end_ns: int,
    reference_price: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw background auction orders arriving in ``[start_ns, end_ns]`` (sorted by time)."""
    if end_ns < start_ns:
        raise ConfigError(f"background window ends before it starts: [{start_ns}, {end_ns}]")
    n = config.n_orders
    out = np.empty(n, dtype=BACKGROUND_ORDER_DTYPE)
    out["ts"] = np.sort(start_ns + np.floor(rng.random(n) * (end_ns - start_ns + 1)).astype(np.int64))
    out["side"] = np.where(rng.random(n) < config.buy_probability, 1, -1)
    out["market"] = rng.random(n) < config.market_fraction
    px = np.rint(reference_price + rng.normal(0.0, 1.0, n) * config.price_sd_ticks)
    out["price"] = np.maximum(px, 1).astype(np.int64)
    qty = np.rint(config.median_qty_lots * np.exp(rng.normal(0.0, 1.0, n) * config.qty_sigma))
    out["qty"] = np.maximum(qty, 1).astype(np.int64)
    return out


# ---------------------------------------------------------------------------------- the venue
class CallAuctionConfig(FrozenConfig):
    """A call-auction venue: when it uncrosses, its reference price and background flow."""

    kind: Literal["opening", "closing"] = "opening"
    auction_ts_ns: int = Field(description="the scheduled uncross time, UTC ns")
    reference_price: int | None = Field(default=None, description="ticks: previous close / last trade")
    reopen_call_ns: int = Field(
        default=300_000_000_000, ge=0, description="call period after a resume before the re-opening uncross"
    )
    background: AuctionBackgroundConfig | None = None


@dataclass(slots=True)
class _Entry:
    uid: int
    ours: bool
    order_id: int
    side: Side
    price: int | None
    leaves: int
    prio: int
    tif: TimeInForce = TimeInForce.DAY


class CallAuctionVenue:
    """A call-auction venue (opening or closing cross) with trading halts.

    * **Call phase** (from creation until the uncross): limit and market orders rest without
      trading. Background orders (``background``) join the book at their arrival times, before
      any command at the same time. :meth:`indicative` is the uncross of the book as it stands
      (price, volume, surplus), the information real venues publish during the call.
      :meth:`quote` is empty: nothing is executable continuously, and an indicative price must
      not enter a consolidated BBO.
    * **Rejected with a reason**: IOC and FOK (nothing can trade on arrival), post-only,
      midpoint pegs, a minimum quantity, quantity <= 0, a limit without price, a duplicate id,
      submits and modifies while halted ("halted"), anything after the auction ("auction
      closed"). Iceberg orders are accepted and take part with their full quantity. DAY and
      GTC are both accepted.
    * **Cancel and modify** as on a lit book: a partial cancel or a size-down at the same price
      keeps time priority; a price change or size-up takes a new one.
    * **Uncross** at ``auction_ts_ns`` inside :meth:`advance` (which stops there when our orders
      were involved), by :func:`uncross` with ``reference_price``. Our fills are reported at the
      auction price with liquidity ``NONE`` (auction fills are neither maker nor taker). Every
      remainder then leaves the venue: DAY orders EXPIRED, GTC orders CANCELLED, with a reason;
      this venue does not carry an opening-auction remainder into continuous trading.
    * **Halts**: :meth:`halt` / :meth:`resume`, or HALT records of a canonical tape
      (``status_events``). While halted, submits and modifies are rejected ("halted"), cancels
      are allowed, background arrivals are turned away (counted in :attr:`skipped`) and no
      uncross happens. :meth:`resume` reopens the call for ``reopen_call_ns``, then uncrosses
      (a re-opening auction) at ``max(auction_ts_ns, resume + reopen_call_ns)``. On a tape,
      ``QUOTING`` reopens the call and waits, ``TRADING`` uncrosses at ``max(auction_ts_ns, ts)``.

    Parameters
    ----------
    name, instrument
        The venue's name (on every report) and instrument.
    auction_ts_ns
        Scheduled uncross time.
    start_ns
        Venue time at creation (the call opens).
    kind
        ``"opening"`` or ``"closing"`` (only the remainder's reason differs).
    reference_price
        Ticks; rule 4 of the price determination and the price of a market-only uncross.
    background
        Background orders, a structured array of :data:`BACKGROUND_ORDER_DTYPE` sorted by time.
    status_events
        Canonical events (:data:`~execsim.data.schema.EVENT_DTYPE`), HALT records only.
    reopen_call_ns
        Length of the call after :meth:`resume`.
    """

    def __init__(
        self,
        name: str,
        instrument: Instrument,
        *,
        auction_ts_ns: int,
        start_ns: int = 0,
        kind: Literal["opening", "closing"] = "opening",
        reference_price: int | None = None,
        background: np.ndarray | None = None,
        status_events: np.ndarray | None = None,
        reopen_call_ns: int = 300_000_000_000,
    ) -> None:
        if auction_ts_ns < start_ns:
            raise ConfigError(f"auction_ts_ns {auction_ts_ns} is before the venue starts at {start_ns}")
        if kind not in ("opening", "closing"):
            raise ConfigError(f"kind must be 'opening' or 'closing', got {kind!r}")
        self.name = name
        self.instrument = instrument
        self.auction_ts_ns = int(auction_ts_ns)
        self.kind = kind
        self.reference_price = reference_price
        self.reopen_call_ns = int(reopen_call_ns)
        self._now = int(start_ns)
        self._bg = self._check_background(background)
        self._bg_i = 0
        self._status = self._check_status(status_events)
        self._status_i = 0
        self._book: dict[int, _Entry] = {}
        self._ours: dict[int, int] = {}  # our order id -> uid
        self._seen: set[int] = set()
        self._next_uid = 0
        self._halted = False
        self._uncross_at: int | None = self.auction_ts_ns
        self._result: AuctionResult | None = None
        self._indicative: AuctionResult | None = None
        self.skipped: Counter[str] = Counter()
        """Background orders turned away, by reason ("halted", "after auction")."""

    # ------------------------------------------------------------------ construction helpers
    @classmethod
    def from_config(
        cls,
        name: str,
        instrument: Instrument,
        config: CallAuctionConfig,
        *,
        start_ns: int = 0,
        rng: np.random.Generator | None = None,
        background: np.ndarray | None = None,
        status_events: np.ndarray | None = None,
    ) -> CallAuctionVenue:
        """Build from a config; generated background orders need ``rng`` and a reference price."""
        if config.background is not None:
            if background is not None:
                raise ConfigError("give background orders either explicitly or as a config, not both")
            if rng is None or config.reference_price is None:
                raise ConfigError("generated background orders need an rng and config.reference_price")
            background = generate_background_orders(
                config.background,
                start_ns=start_ns,
                end_ns=config.auction_ts_ns,
                reference_price=config.reference_price,
                rng=rng,
            )
        return cls(
            name,
            instrument,
            auction_ts_ns=config.auction_ts_ns,
            start_ns=start_ns,
            kind=config.kind,
            reference_price=config.reference_price,
            background=background,
            status_events=status_events,
            reopen_call_ns=config.reopen_call_ns,
        )

    @staticmethod
    def _check_background(bg: np.ndarray | None) -> np.ndarray:
        if bg is None:
            return np.empty(0, dtype=BACKGROUND_ORDER_DTYPE)
        if bg.dtype.names is None or not set(BACKGROUND_ORDER_DTYPE.names or ()) <= set(bg.dtype.names):
            raise DataError(
                f"background orders need fields {BACKGROUND_ORDER_DTYPE.names}",
                source="background",
                value=bg.dtype,
            )
        checks = (
            (np.concatenate(([False], np.diff(bg["ts"]) < 0)), "arrival times go backwards"),
            (bg["qty"] <= 0, "quantity must be positive"),
            (~np.isin(bg["side"], (1, -1)), "side must be 1 (buy) or -1 (sell)"),
        )
        for bad, what in checks:
            idx = np.flatnonzero(bad)
            if idx.size:
                i = int(idx[0])
                raise DataError(what, source="background", row=i + 1, value=bg[i].tolist())
        return bg

    @staticmethod
    def _check_status(ev: np.ndarray | None) -> np.ndarray:
        if ev is None:
            return np.empty(0, dtype=np.dtype([("ts_event", np.int64), ("qty", np.int64)]))
        other = np.flatnonzero(ev["kind"] != K_HALT)
        if other.size:
            i = int(other[0])
            raise DataError(
                "status_events must hold HALT records only",
                source="status_events",
                row=i + 1,
                value=int(ev["kind"][i]),
            )
        back = np.flatnonzero(np.diff(ev["ts_event"]) < 0)
        if back.size:
            i = int(back[0]) + 1
            raise DataError(
                "times go backwards", source="status_events", row=i + 1, value=int(ev["ts_event"][i])
            )
        codes = {s.code for s in TradingStatus}
        unknown = np.flatnonzero(~np.isin(ev["qty"], list(codes)))
        if unknown.size:
            i = int(unknown[0])
            raise DataError(
                "unknown trading status code", source="status_events", row=i + 1, value=int(ev["qty"][i])
            )
        return ev

    # ---------------------------------------------------------------------------- public API
    @property
    def now(self) -> int:
        return self._now

    @property
    def halted(self) -> bool:
        """Whether the venue is halted now."""
        return self._halted

    @property
    def result(self) -> AuctionResult | None:
        """The uncross that happened (``None`` before it)."""
        return self._result

    @property
    def uncross_ts_ns(self) -> int | None:
        """When the uncross is due now (``None``: done, or waiting for a resume)."""
        return self._uncross_at

    def quote(self) -> Quote:
        """Empty: a call auction has no continuous quote (see :meth:`indicative`)."""
        return Quote()

    def indicative(self) -> AuctionResult:
        """The uncross of the book as it stands now, without executing it."""
        if self._result is not None:
            return self._result
        if self._indicative is None:
            self._indicative = self._uncross_book()
        return self._indicative

    def advance(self, until_ns: int) -> tuple[int, list[ExecutionReport]]:
        """Admit background orders and status changes up to ``until_ns``; uncross when due.

        Stops at the uncross time when the uncross produced reports for our orders.
        """
        reached, reps = self._run_until(until_ns, stop_on_reports=True)
        return reached, reps

    def handle(self, command: VenueCommand) -> list[ExecutionReport]:
        """Apply a command; market activity due before it (an uncross) is reported first."""
        out = self._run_until(command.ts_ns, stop_on_reports=False)[1]
        if isinstance(command, SubmitOrder):
            out += self._submit(command)
        elif isinstance(command, CancelOrder):
            out += self._cancel(command)
        else:
            out += self._modify(command)
        return out

    def halt(self, ts_ns: int) -> list[ExecutionReport]:
        """Halt trading at ``ts_ns``; returns reports of market activity due before it."""
        out = self._run_until(ts_ns, stop_on_reports=False)[1]
        self._set_halted()
        return out

    def resume(self, ts_ns: int) -> list[ExecutionReport]:
        """Lift a halt at ``ts_ns``: the call reopens and uncrosses after ``reopen_call_ns``."""
        out = self._run_until(ts_ns, stop_on_reports=False)[1]
        if self._halted:
            self._halted = False
            if self._result is None:
                self._uncross_at = max(self.auction_ts_ns, ts_ns + self.reopen_call_ns)
        return out

    # ------------------------------------------------------------------------------ timeline
    def _set_halted(self) -> None:
        self._halted = True
        if self._result is None:
            self._uncross_at = None

    def _apply_status(self, ts: int, code: int) -> None:
        if self._result is not None:
            return
        if code == TradingStatus.HALTED.code:
            self._set_halted()
        elif code == TradingStatus.QUOTING.code:
            self._halted = False
            self._uncross_at = None
        else:  # TRADING: the (re-)opening cross is due now, or at the scheduled time
            self._halted = False
            self._uncross_at = max(self.auction_ts_ns, ts)

    def _run_until(self, until_ns: int, *, stop_on_reports: bool) -> tuple[int, list[ExecutionReport]]:
        until_ns = int(until_ns)
        if until_ns < self._now:
            until_ns = self._now  # never backwards; a late command is applied at the venue's time
        out: list[ExecutionReport] = []
        big = np.iinfo(np.int64).max
        while True:
            t_status = (
                int(self._status["ts_event"][self._status_i]) if self._status_i < len(self._status) else big
            )
            t_bg = int(self._bg["ts"][self._bg_i]) if self._bg_i < len(self._bg) else big
            t_x = self._uncross_at if self._uncross_at is not None else big
            t = min(t_status, t_bg, t_x)
            if t > until_ns:
                break
            self._now = max(self._now, t)
            # at one instant: status changes, then arrivals, then the uncross
            if t_status == t:
                self._apply_status(t, int(self._status["qty"][self._status_i]))
                self._status_i += 1
            elif t_bg == t:
                self._admit_background(self._bg[self._bg_i])
                self._bg_i += 1
            else:
                reps = self._do_uncross()
                out += reps
                if reps and stop_on_reports:
                    return self._now, out
        self._now = until_ns
        return self._now, out

    def _admit_background(self, rec: np.void) -> None:
        if self._result is not None:
            self.skipped["after auction"] += 1
            return
        if self._halted:
            self.skipped["halted"] += 1
            return
        uid = self._new_uid()
        self._book[uid] = _Entry(
            uid=uid,
            ours=False,
            order_id=-1,
            side=Side.BUY if int(rec["side"]) == 1 else Side.SELL,
            price=None if bool(rec["market"]) else int(rec["price"]),
            leaves=int(rec["qty"]),
            prio=uid,
        )
        self._indicative = None

    def _new_uid(self) -> int:
        self._next_uid += 1
        return self._next_uid

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for side in (Side.BUY, Side.SELL):
            es = [e for e in self._book.values() if e.side is side]
            a = np.empty(len(es), dtype=AUCTION_ORDER_DTYPE)
            a["order_id"] = [e.uid for e in es]
            a["price"] = [0 if e.price is None else e.price for e in es]
            a["qty"] = [e.leaves for e in es]
            a["priority"] = [e.prio for e in es]
            a["market"] = [e.price is None for e in es]
            out.append(a)
        return out[0], out[1]

    def _uncross_book(self) -> AuctionResult:
        bids, asks = self._arrays()
        return uncross(bids, asks, reference_price=self.reference_price)

    def _do_uncross(self) -> list[ExecutionReport]:
        res = self._uncross_book()
        self._result = res
        self._uncross_at = None
        out: list[ExecutionReport] = []
        for f in res.fills:
            e = self._book[f.order_id]
            e.leaves -= f.qty
            if e.ours:
                out.append(
                    self._report(
                        e.order_id,
                        ReportKind.FILL,
                        price=res.price or 0,
                        qty=f.qty,
                        leaves_qty=e.leaves,
                        liquidity=LiquiditySide.NONE,
                    )
                )
        why = (
            "opening auction over: remainder not carried into continuous trading"
            if self.kind == "opening"
            else "closing auction over: the trading day has ended"
        )
        for e in sorted(self._book.values(), key=lambda x: x.uid):
            if e.ours and e.leaves > 0:
                kind = ReportKind.EXPIRED if e.tif is TimeInForce.DAY else ReportKind.CANCELLED
                out.append(self._report(e.order_id, kind, qty=e.leaves, leaves_qty=0, reason=why))
        self._book.clear()
        self._ours.clear()
        return out

    # ------------------------------------------------------------------------------ commands
    def _report(self, order_id: int, kind: ReportKind, **kw: object) -> ExecutionReport:
        return ExecutionReport(ts_ns=self._now, venue=self.name, order_id=order_id, kind=kind, **kw)  # type: ignore[arg-type]

    def _reject(self, order_id: int, reason: str) -> list[ExecutionReport]:
        return [self._report(order_id, ReportKind.REJECTED, reason=reason)]

    def _submit(self, o: SubmitOrder) -> list[ExecutionReport]:
        reason = None
        if self._result is not None:
            reason = "auction closed"
        elif self._halted:
            reason = "halted"
        elif o.qty <= 0:
            reason = f"qty must be positive, got {o.qty}"
        elif o.order_id in self._seen:
            reason = "duplicate order id"
        elif o.order_type is OrderType.MIDPOINT_PEG:
            reason = "midpoint peg orders are not accepted in a call auction"
        elif o.order_type is OrderType.LIMIT and o.price is None:
            reason = "limit order without price"
        elif o.tif in (TimeInForce.IOC, TimeInForce.FOK):
            reason = (
                f"{o.tif.value.upper()} orders are not accepted in a call auction (nothing trades on arrival)"
            )
        elif o.post_only:
            reason = "post-only orders are not accepted in a call auction"
        elif o.min_qty > 0:
            reason = "a minimum quantity is not supported in a call auction"
        if reason is not None:
            return self._reject(o.order_id, reason)
        self._seen.add(o.order_id)
        uid = self._new_uid()
        self._book[uid] = _Entry(
            uid=uid,
            ours=True,
            order_id=o.order_id,
            side=o.side,
            price=None if o.order_type is OrderType.MARKET else o.price,
            leaves=o.qty,
            prio=uid,
            tif=o.tif,
        )
        self._ours[o.order_id] = uid
        self._indicative = None
        return [self._report(o.order_id, ReportKind.ACCEPTED, price=o.price or 0, leaves_qty=o.qty)]

    def _cancel(self, c: CancelOrder) -> list[ExecutionReport]:
        uid = self._ours.get(c.order_id)
        if uid is None:
            return self._reject(c.order_id, "unknown order")
        e = self._book[uid]
        if c.qty is not None and c.qty <= 0:
            return self._reject(c.order_id, f"cancel qty must be positive, got {c.qty}")
        cut = e.leaves if c.qty is None else min(c.qty, e.leaves)
        e.leaves -= cut
        if e.leaves == 0:
            del self._book[uid]
            del self._ours[c.order_id]
        self._indicative = None
        return [self._report(c.order_id, ReportKind.CANCELLED, qty=cut, leaves_qty=e.leaves)]

    def _modify(self, m: ModifyOrder) -> list[ExecutionReport]:
        uid = self._ours.get(m.order_id)
        if uid is None:
            return self._reject(m.order_id, "unknown order")
        if self._halted:
            return self._reject(m.order_id, "halted")
        e = self._book[uid]
        new_qty = e.leaves if m.qty is None else m.qty
        if new_qty <= 0:
            return self._reject(m.order_id, f"qty must be positive, got {new_qty}")
        if e.price is None and m.price is not None:
            return self._reject(m.order_id, "cannot give a market order a price")
        new_px = e.price if m.price is None else m.price
        if new_px != e.price or new_qty > e.leaves:
            # a price change or size-up loses time priority
            del self._book[uid]
            uid = self._new_uid()
            e = dataclasses.replace(e, uid=uid, prio=uid)
            self._book[uid] = e
            self._ours[m.order_id] = uid
        e.price, e.leaves = new_px, new_qty
        self._indicative = None
        return [self._report(m.order_id, ReportKind.MODIFIED, price=new_px or 0, leaves_qty=new_qty)]


# ---------------------------------------------------------------------------- conformance
@runtime_checkable
class AuctionVenue(Venue, Protocol):
    """A call-auction venue: a :class:`Venue` with a scheduled uncross and indicative state."""

    auction_ts_ns: int

    def indicative(self) -> AuctionResult:
        """The uncross of the book as it stands, not executed."""
        ...


def check_auction_venue(make_venue: Callable[[], AuctionVenue]) -> None:
    """Run the venue contract checks adapted to call auctions; raise on a breach.

    :func:`~execsim.venues.base.check_venue` assumes continuous trading (a two-sided quote, a
    marketable IOC that fills), which a call auction has not. The venue from ``make_venue`` must
    be in its call phase with sell interest that a market buy can execute against at the
    uncross. Checks: bad orders, IOC and FOK are rejected with a reason; an unknown cancel is
    rejected; a passive order rests and can be cancelled; a market buy does not fill before the
    auction and fills at one price at the uncross, with leaves adding up and nothing left open;
    reports carry the venue's name and non-decreasing times; after the auction submits are
    rejected; ``advance`` never goes backwards.
    """
    v = make_venue()

    def fail(msg: str) -> None:
        raise VenueConformanceError(f"{type(v).__name__}: {msg}")

    if not isinstance(v, AuctionVenue):
        raise VenueConformanceError(f"{type(v).__name__} does not implement the AuctionVenue protocol")
    t0 = v.now
    if t0 >= v.auction_ts_ns:
        fail("check_auction_venue needs a venue in its call phase")
    bad = (
        SubmitOrder(ts_ns=t0, order_id=1, side=Side.BUY, qty=0, price=100),
        SubmitOrder(ts_ns=t0, order_id=2, side=Side.BUY, qty=1, price=None),
        SubmitOrder(ts_ns=t0, order_id=3, side=Side.BUY, qty=1, price=100, tif=TimeInForce.IOC),
        SubmitOrder(ts_ns=t0, order_id=4, side=Side.SELL, qty=1, price=100, tif=TimeInForce.FOK),
    )
    check_rejections(v, t0, bad, fail)
    reps = v.handle(SubmitOrder(ts_ns=t0, order_id=10, side=Side.BUY, qty=3, price=1))
    if [r.kind for r in reps] != [ReportKind.ACCEPTED]:
        fail(f"a limit order in the call must be ACCEPTED only, got {reps}")
    reps = v.handle(CancelOrder(ts_ns=t0, order_id=10))
    if [r.kind for r in reps] != [ReportKind.CANCELLED] or reps[0].qty != 3 or reps[0].leaves_qty != 0:
        fail(f"cancelling a resting 3-lot order must report CANCELLED qty=3 leaves=0, got {reps}")

    mkt = SubmitOrder(ts_ns=t0, order_id=11, side=Side.BUY, qty=5, order_type=OrderType.MARKET)
    reps = v.handle(mkt)
    if [r.kind for r in reps] != [ReportKind.ACCEPTED]:
        fail(f"a market order in the call must be ACCEPTED without fills, got {reps}")
    target = v.auction_ts_ns
    collected: list[ExecutionReport] = []
    last = v.now
    for _ in range(10_000):
        reached, reps = v.advance(target)
        if reached < last:
            fail(f"advance went backwards: {reached} < {last}")
        if any(r.ts_ns != reached for r in reps):
            fail(f"reports must carry the time advance reached ({reached}): {reps}")
        last = reached
        collected += reps
        if reached >= target:
            break
    else:
        fail(f"advance({target}) never reached the auction time")
    open_qty = mkt.qty
    prices = set()
    for r in collected:
        if r.venue != v.name or r.order_id != 11:
            fail(f"report names the wrong venue or order: {r}")
        if r.kind is ReportKind.FILL:
            prices.add(r.price)
        if r.kind in (ReportKind.FILL, ReportKind.CANCELLED, ReportKind.EXPIRED):
            open_qty -= r.qty
            if r.leaves_qty != open_qty:
                fail(f"leaves_qty {r.leaves_qty} != open quantity {open_qty} after {r}")
    if not prices:
        fail(f"a market buy must fill at the uncross when sell interest exists, got {collected}")
    if len(prices) != 1 or (v.indicative().price is not None and prices != {v.indicative().price}):
        fail(f"auction fills must all be at the auction price, got {sorted(prices)}")
    if open_qty != 0:
        fail(f"nothing may stay open after the uncross, {open_qty} lots left: {collected}")
    reps = v.handle(SubmitOrder(ts_ns=v.now, order_id=12, side=Side.BUY, qty=1, price=100))
    if [r.kind for r in reps] != [ReportKind.REJECTED] or not reps[0].reason:
        fail(f"a submit after the auction must be rejected with a reason, got {reps}")
