"""The matching engine: price-time priority over the compiled L3 book.

The engine works on the same state as :class:`~execsim.book.l3.L3Book` (one book type): the
market-data orders replayed into the book and the orders submitted here share its queues, so a
simulated order waits behind the real ones that arrived before it. Matching runs in compiled
kernels (:mod:`execsim.book._matching_kernels`); this class validates parameters and turns the
kernels' compact arrays into :class:`~execsim.book.orders.MatchResult` records.

Rules (``docs/matching.md`` has the numbered conformance cases)
-------------------------------------------------------------
* Price-time priority: an aggressor takes the best price first and, at one price, the
  anonymous quantity first (it is older than any order the book saw), then orders first come,
  first served. Fills are at the resting order's price.
* LIMIT rests what it cannot fill (GTC; DAY is treated as GTC: the engine has no session end).
  MARKET sweeps until filled or the contra side is empty; the remainder is cancelled (reason
  "no contra liquidity"). IOC cancels the remainder. FOK fills completely or is rejected before
  any fill.
* Post-only: *rejected* when it would take liquidity (no re-pricing).
* Iceberg (``display_qty``): shows ``display_qty`` lots, keeps the rest as a hidden reserve
  (never in top-of-book views). When the displayed part is used up it is refilled from the
  reserve and moves to the back of its level's queue (it loses time priority).
* Midpoint peg: non-displayed, kept in a per-side FIFO outside the price levels; it trades only
  at the exact midpoint of the lit book, and only when that midpoint is on the tick grid (the
  spread is an even number of ticks) and both lit sides are present. With a 1-tick spread it
  does not trade: if half-tick mids matter, use an instrument whose tick is half the venue
  tick. Because the mid is then strictly inside the spread, a peg never trades through the
  book's best bid or offer, and it always has price priority over the contra lit best. Pegs
  take no price (no limit cap). Two pegs resting on opposite sides (possible only while the mid
  is off the grid) are crossed by the next engine operation that finds the mid on the grid;
  the later arrival is the taker.
* Cancel removes the order, or sizes it down by ``qty`` lots (reserve first) keeping its place.
  Modify: a size-down at the same price keeps priority; a size-up moves the order to the back of
  its queue; a price change takes it out and re-enters it as a new limit order (it may trade).
* Self-trade prevention by owner id (owner 0 means "no owner" and is never checked): when the
  next resting order belongs to the aggressor's owner, ``cancel_newest`` cancels the
  aggressor's remainder, ``cancel_oldest`` cancels the resting order and matching goes on,
  ``cancel_both`` cancels both.
* Rejections (unknown order, duplicate id, post-only would take, FOK not fillable, qty <= 0,
  a limit without price, …) are results with status ``REJECTED`` and a reason, never
  exceptions; only programming errors (wrong argument types) raise :class:`BookError`.
* Order id 0 is reserved: fills against anonymous quantity report maker id 0.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import numpy as np

from execsim.book import _l3_kernels as _k
from execsim.book import _matching_kernels as _mk
from execsim.book.l3 import L3Book
from execsim.book.orders import Fill, MatchResult, OrderUpdate
from execsim.core.errors import BookError
from execsim.data.schema import K_ADD
from execsim.model.enums import OrderStatus, OrderType, Side, TimeInForce

__all__ = ["MatchingEngine", "SelfTradePrevention"]


class SelfTradePrevention(StrEnum):
    """What to do when an aggressor would trade with a resting order of the same owner."""

    NONE = "none"
    CANCEL_NEWEST = "cancel_newest"
    CANCEL_OLDEST = "cancel_oldest"
    CANCEL_BOTH = "cancel_both"


# ---- the one mapping between Python enums / words and kernel codes
_STP_CODE = {
    SelfTradePrevention.NONE: _mk.STP_NONE,
    SelfTradePrevention.CANCEL_NEWEST: _mk.STP_CANCEL_NEWEST,
    SelfTradePrevention.CANCEL_OLDEST: _mk.STP_CANCEL_OLDEST,
    SelfTradePrevention.CANCEL_BOTH: _mk.STP_CANCEL_BOTH,
}
_OT_CODE = {
    OrderType.LIMIT: _mk.OT_LIMIT,
    OrderType.MARKET: _mk.OT_MARKET,
    OrderType.MIDPOINT_PEG: _mk.OT_PEG,
}
_TIF_CODE = {
    TimeInForce.GTC: _mk.TIF_GTC,
    TimeInForce.DAY: _mk.TIF_GTC,
    TimeInForce.IOC: _mk.TIF_IOC,
    TimeInForce.FOK: _mk.TIF_FOK,
}
_STATUS = {
    _mk.ST_ACCEPTED: OrderStatus.ACCEPTED,
    _mk.ST_PARTIAL: OrderStatus.PARTIALLY_FILLED,
    _mk.ST_FILLED: OrderStatus.FILLED,
    _mk.ST_CANCELLED: OrderStatus.CANCELLED,
    _mk.ST_REJECTED: OrderStatus.REJECTED,
}
_REASON: dict[int, str | None] = {
    _mk.R_NONE: None,
    _mk.R_UNKNOWN_ORDER: "unknown order id",
    _mk.R_DUPLICATE_ID: "duplicate order id: an order with this id is resting",
    _mk.R_POST_ONLY: "post-only order would take liquidity",
    _mk.R_FOK: "fill-or-kill order cannot be filled completely",
    _mk.R_NO_LIQUIDITY: "market order remainder cancelled: no contra liquidity",
    _mk.R_IOC_REMAINDER: "immediate-or-cancel remainder cancelled",
    _mk.R_SELF_TRADE: "self-trade prevention",
    _mk.R_USER_CANCEL: "cancelled by request",
    _mk.R_BAD_QTY: "quantity must be > 0",
    _mk.R_PEG_PRICE: "a midpoint peg has no price to change",
}
_SIDE_OF_CODE = {1: Side.BUY, -1: Side.SELL}
_BUF = 64


def _int(name: str, value: object) -> int:
    if type(value) is int:  # the common case, first
        return value
    # bool is an int subclass but never a valid quantity, price or id
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise BookError(f"{name} must be an integer (got {value!r} of type {type(value).__name__})")
    return int(value)


def _enum(cls: type, name: str, value: object) -> object:
    if type(value) is cls:
        return value
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(m.value for m in cls)  # type: ignore[attr-defined]
        raise BookError(f"{name} must be one of {choices} (got {value!r})") from None


class MatchingEngine:
    """Price-time priority matching over an :class:`~execsim.book.l3.L3Book`.

    Parameters
    ----------
    book
        The book to match on (e.g. one being fed market data); a new empty book if ``None``.
    self_trade_prevention
        ``"none"``, ``"cancel_newest"``, ``"cancel_oldest"`` or ``"cancel_both"``
        (:class:`SelfTradePrevention`), applied between orders of the same non-zero owner.

    See the module docstring for the matching rules.
    """

    def __init__(self, *, book: L3Book | None = None, self_trade_prevention: str = "none") -> None:
        if book is not None and not isinstance(book, L3Book):
            raise BookError(f"book must be an L3Book (got {type(book).__name__})")
        self._book = book if book is not None else L3Book()
        stp = _enum(SelfTradePrevention, "self_trade_prevention", self_trade_prevention)
        self._stp_policy = SelfTradePrevention(str(stp))
        self._stp = _STP_CODE[self._stp_policy]
        self._F = np.zeros((_BUF, _mk.NFF), dtype=np.int64)
        self._U = np.zeros((_BUF, _mk.NUF), dtype=np.int64)

    @property
    def book(self) -> L3Book:
        """The book the engine matches on."""
        return self._book

    @property
    def self_trade_prevention(self) -> SelfTradePrevention:
        """The self-trade prevention policy."""
        return self._stp_policy

    # ------------------------------------------------------------------ helpers
    def _make_room(self) -> None:
        b = self._book
        M = b._M.tolist()
        # the common case, checked in Python: a free order slot, hash room, a free level slot
        if (
            (M[_k.M_OFREE] >= 0 or M[_k.M_OHWM] < b._O.shape[0])
            and (M[_k.M_HUSED] + 1) * 2 <= b._H.shape[0]
            and (M[_k.M_LFREE] >= 0 or M[_k.M_LHWM] < b._L.shape[0])
        ):
            return
        while (code := _k.room_for(b._O, b._H, b._L, b._M, K_ADD)) != _k.OK:
            b._grow(int(code))

    def _result(self, order_id: int, out: tuple[Any, ...]) -> MatchResult:
        status, reason, filled, cancelled, leaves, F, nf, U, nu = out
        self._F, self._U = F, U
        fills = (
            ()
            if nf == 0
            else tuple(
                Fill(
                    taker_order_id=int(r[_mk.F_TAKER]),
                    maker_order_id=int(r[_mk.F_MAKER]),
                    price=int(r[_mk.F_PRICE]),
                    qty=int(r[_mk.F_QTY]),
                    aggressor_side=_SIDE_OF_CODE[int(r[_mk.F_SIDE])],
                    taker_owner=int(r[_mk.F_TAKER_OWNER]),
                    maker_owner=int(r[_mk.F_MAKER_OWNER]),
                    maker_qty_ahead=int(r[_mk.F_AHEAD_QTY]),
                    maker_orders_ahead=int(r[_mk.F_AHEAD_N]),
                    maker_is_peg=bool(r[_mk.F_MAKER_FLAGS] & _k.FL_PEG),
                    maker_is_iceberg=bool(r[_mk.F_MAKER_FLAGS] & _k.FL_ICEBERG),
                    ts=int(r[_mk.F_TS]),
                )
                for r in F[:nf].tolist()
            )
        )
        updates = tuple(
            OrderUpdate(
                order_id=r[_mk.U_ID],
                status=_STATUS[r[_mk.U_STATUS]],
                reason=_REASON[r[_mk.U_REASON]],
                filled_qty=r[_mk.U_FILLED],
                cancelled_qty=r[_mk.U_CANCELLED],
                leaves_qty=r[_mk.U_LEAVES],
                cum_filled_qty=r[_mk.U_CUM],
                ts=r[_mk.U_TS],
            )
            for r in U[:nu].tolist()
        )
        return MatchResult(
            order_id=order_id,
            status=_STATUS[int(status)],
            reason=_REASON[int(reason)],
            filled_qty=int(filled),
            cancelled_qty=int(cancelled),
            leaves_qty=int(leaves),
            fills=fills,
            updates=updates,
        )

    @staticmethod
    def _reject(order_id: int, reason: str, ts: int) -> MatchResult:
        upd = OrderUpdate(order_id=order_id, status=OrderStatus.REJECTED, reason=reason, ts=ts)
        return MatchResult(order_id=order_id, status=OrderStatus.REJECTED, reason=reason, updates=(upd,))

    # ------------------------------------------------------------------ operations
    def submit(
        self,
        *,
        order_id: int,
        side: Side,
        qty: int,
        price: int | None = None,
        order_type: OrderType = OrderType.LIMIT,
        tif: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        display_qty: int | None = None,
        owner: int = 0,
        ts: int = 0,
    ) -> MatchResult:
        """Submit a new order: match what is marketable, then rest or cancel the remainder.

        Parameters
        ----------
        order_id
            Unique among resting orders; 0 is reserved for anonymous liquidity.
        side
            ``Side.BUY`` or ``Side.SELL``.
        qty
            Lots, > 0.
        price
            Limit price in ticks: required for LIMIT, absent for MARKET and MIDPOINT_PEG.
        order_type
            LIMIT, MARKET or MIDPOINT_PEG.
        tif
            GTC / DAY (rest), IOC (cancel the remainder), FOK (all or nothing).
        post_only
            Reject instead of taking liquidity (resting LIMIT or MIDPOINT_PEG, GTC/DAY only).
        display_qty
            Iceberg: lots shown at a time (LIMIT only); the rest is a hidden reserve.
        owner
            Owner id for self-trade prevention (0: none).
        ts
            Time of the request (ns), copied into fills and updates.

        Returns
        -------
        MatchResult
            Status, reason, fills and updates; rejections are results, not exceptions.
        """
        oid = _int("order_id", order_id)
        q = _int("qty", qty)
        own = _int("owner", owner)
        t = _int("ts", ts)
        sd: Side = _enum(Side, "side", side)  # type: ignore[assignment]
        ot: OrderType = _enum(OrderType, "order_type", order_type)  # type: ignore[assignment]
        tf: TimeInForce = _enum(TimeInForce, "tif", tif)  # type: ignore[assignment]
        if not isinstance(post_only, bool | np.bool_):
            raise BookError(f"post_only must be a bool (got {post_only!r})")
        px = None if price is None else _int("price", price)
        peak = None if display_qty is None else _int("display_qty", display_qty)

        why = None
        if oid == 0:
            why = "order id 0 is reserved for anonymous liquidity"
        elif sd is Side.NONE:
            why = "side must be buy or sell"
        elif q <= 0:
            why = _REASON[_mk.R_BAD_QTY]
        elif ot is OrderType.LIMIT and px is None:
            why = "a limit order needs a price"
        elif ot is OrderType.MARKET and px is not None:
            why = "a market order takes no price"
        elif ot is OrderType.MIDPOINT_PEG and px is not None:
            why = "a midpoint peg takes no price (it trades at the mid)"
        elif post_only and (ot is OrderType.MARKET or tf in (TimeInForce.IOC, TimeInForce.FOK)):
            why = "post-only needs an order that can rest (limit or peg, GTC/DAY)"
        elif peak is not None and peak <= 0:
            why = "display_qty must be > 0"
        elif peak is not None and ot is not OrderType.LIMIT:
            why = "display_qty (iceberg) needs a limit order"
        if why is not None:
            return self._reject(oid, why, t)

        self._make_room()
        b = self._book
        out = _mk.submit(
            b._O, b._H, b._L, b._SK, b._SL, b._M, self._F, self._U,
            oid, sd.code, q, 0 if px is None else px, _OT_CODE[ot], _TIF_CODE[tf],
            bool(post_only), 0 if peak is None else peak, own, t, self._stp,
        )  # fmt: skip
        return self._result(oid, out)

    def cancel(self, order_id: int, *, qty: int | None = None, ts: int = 0) -> MatchResult:
        """Cancel an order, or size it down by ``qty`` lots keeping its queue position.

        A ``qty`` at least the order's remaining quantity cancels it entirely.
        """
        oid = _int("order_id", order_id)
        t = _int("ts", ts)
        q = None if qty is None else _int("qty", qty)
        b = self._book
        out = _mk.cancel(
            b._O, b._H, b._L, b._SK, b._SL, b._M, self._F, self._U,
            oid, 0 if q is None else q, q is not None, t, self._stp,
        )  # fmt: skip
        return self._result(oid, out)

    def modify(
        self, order_id: int, *, price: int | None = None, qty: int | None = None, ts: int = 0
    ) -> MatchResult:
        """Change a resting order's price and/or remaining quantity (displayed + reserve).

        A size-down at the same price keeps the order's place; a size-up sends it to the back
        of its queue; a new price re-enters it as a limit order at that price, at the back of
        the queue, and it may trade. A post-only order is refused a price at which it would
        take liquidity (it stays as it was).
        """
        oid = _int("order_id", order_id)
        t = _int("ts", ts)
        px = None if price is None else _int("price", price)
        q = None if qty is None else _int("qty", qty)
        self._make_room()
        b = self._book
        out = _mk.modify(
            b._O, b._H, b._L, b._SK, b._SL, b._M, self._F, self._U,
            oid, 0 if px is None else px, px is not None, 0 if q is None else q, q is not None,
            t, self._stp,
        )  # fmt: skip
        return self._result(oid, out)

    # ------------------------------------------------------------------ queries
    def peg_orders(self, side: Side) -> tuple[tuple[int, int], ...]:
        """``(order_id, qty)`` of the resting midpoint pegs on ``side``, in time priority."""
        code = Side(side).code
        if code == 0:
            raise BookError(f"peg_orders needs side BUY or SELL (got {side!r})")
        si = 0 if code > 0 else 1
        b = self._book
        out = np.zeros((int(b._M[_k.M_NPEG + si]), 2), dtype=np.int64)
        n = _mk.peg_orders(b._O, b._M, si, out)
        return tuple((int(a), int(c)) for a, c in out[:n])

    def midpoint(self) -> int | None:
        """The mid at which pegs would trade now, or ``None`` (a side empty, or off the grid)."""
        b = self._book
        ok, mid = _k.mid_price(b._L, b._SL, b._M)
        return int(mid) if ok else None

    def __repr__(self) -> str:
        return f"MatchingEngine(book={self._book!r}, self_trade_prevention={self._stp_policy.value!r})"
