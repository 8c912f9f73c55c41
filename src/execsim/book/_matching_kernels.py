# mypy: allow-untyped-defs
# (numba types the kernels from their arguments; annotations would only restate the layout)
"""Compiled matching kernels over the L3 book state. Private: use :class:`execsim.book.MatchingEngine`.

They work on the arrays of :mod:`execsim.book._l3_kernels` (one book type) and write what
happened into two growable ``int64`` buffers:

``F`` (n, NFF) fills, columns ``F_*``; ``U`` (n, NUF) order updates, columns ``U_*``.

Each kernel returns the (possibly re-allocated) buffers with their fill counts; the caller keeps
the returned arrays. Codes (order type, time in force, status, reason, self-trade policy) are the
``OT_*``, ``TIF_*``, ``ST_*``, ``R_*`` and ``STP_*`` constants below; their mapping to the
Python enums lives in :mod:`execsim.book.matching` only.
"""

from __future__ import annotations

from execsim.book._l3_kernels import (
    FL_ICEBERG,
    FL_PEG,
    FL_POST_ONLY,
    L_ANON,
    L_HEAD,
    L_HIDDEN,
    L_PRICE,
    L_QTY,
    M_ARRIVAL,
    M_NB,
    M_PH,
    O_CUM,
    O_FLAGS,
    O_HIDDEN,
    O_ID,
    O_LEVEL,
    O_NEXT,
    O_OWNER,
    O_PEAK,
    O_PRICE,
    O_QTY,
    O_SEQ,
    O_SIDE,
    O_TS,
    best_price,
    grow_rows,
    h_find,
    lvl_drop_if_empty,
    lvl_get_or_create,
    mid_price,
    order_alloc,
    order_append,
    order_detach,
    order_fill,
    order_free,
    order_remove,
    peg_append,
    side_index,
)
from execsim.core.jit import njit

# ---- order types / time in force / self-trade prevention
OT_LIMIT = 0
OT_MARKET = 1
OT_PEG = 2
TIF_GTC = 0
TIF_IOC = 1
TIF_FOK = 2
STP_NONE = 0
STP_CANCEL_NEWEST = 1
STP_CANCEL_OLDEST = 2
STP_CANCEL_BOTH = 3

# ---- statuses
ST_ACCEPTED = 1
ST_PARTIAL = 2
ST_FILLED = 3
ST_CANCELLED = 4
ST_REJECTED = 5

# ---- reasons
R_NONE = 0
R_UNKNOWN_ORDER = 1
R_DUPLICATE_ID = 2
R_POST_ONLY = 3
R_FOK = 4
R_NO_LIQUIDITY = 5
R_IOC_REMAINDER = 6
R_SELF_TRADE = 7
R_USER_CANCEL = 8
R_BAD_QTY = 9
R_PEG_PRICE = 10

# ---- fill columns
F_TAKER = 0
F_MAKER = 1  # 0: anonymous quantity (an order the book never saw)
F_PRICE = 2
F_QTY = 3
F_SIDE = 4  # aggressor (taker) side, 1 / -1
F_TAKER_OWNER = 5
F_MAKER_OWNER = 6
F_AHEAD_QTY = 7
F_AHEAD_N = 8
F_MAKER_FLAGS = 9
F_TS = 10
NFF = 12

# ---- update columns
U_ID = 0
U_STATUS = 1
U_REASON = 2
U_FILLED = 3  # filled by this update
U_CANCELLED = 4  # cancelled by this update
U_LEAVES = 5  # displayed + hidden quantity still resting after it
U_CUM = 6  # cumulative filled
U_TS = 7
NUF = 8

# stop reasons of the matching loop
STOP_NONE = 0
STOP_STP = 1


@njit(cache=True)
def _push_fill(F, nf, taker, maker, px, q, side, towner, mowner, aq, an, mflags, ts):
    F = grow_rows(F, nf)
    F[nf, F_TAKER] = taker
    F[nf, F_MAKER] = maker
    F[nf, F_PRICE] = px
    F[nf, F_QTY] = q
    F[nf, F_SIDE] = side
    F[nf, F_TAKER_OWNER] = towner
    F[nf, F_MAKER_OWNER] = mowner
    F[nf, F_AHEAD_QTY] = aq
    F[nf, F_AHEAD_N] = an
    F[nf, F_MAKER_FLAGS] = mflags
    F[nf, F_TS] = ts
    return F, nf + 1


@njit(cache=True)
def _push_update(U, nu, oid, status, reason, filled, cancelled, leaves, cum, ts):
    U = grow_rows(U, nu)
    U[nu, U_ID] = oid
    U[nu, U_STATUS] = status
    U[nu, U_REASON] = reason
    U[nu, U_FILLED] = filled
    U[nu, U_CANCELLED] = cancelled
    U[nu, U_LEAVES] = leaves
    U[nu, U_CUM] = cum
    U[nu, U_TS] = ts
    return U, nu + 1


@njit(cache=True)
def _rejected(F, U, oid, reason, ts):
    """The result of a refused request: one REJECTED update, nothing else changed."""
    U, nu = _push_update(U, 0, oid, ST_REJECTED, reason, 0, 0, 0, 0, ts)
    return ST_REJECTED, reason, 0, 0, 0, F, 0, U, nu


@njit(cache=True, inline="always")
def _within(side, px, limit, has_limit):
    # can a taker on ``side`` with this limit trade at ``px``?
    if not has_limit:
        return True
    if side > 0:
        return px <= limit
    return px >= limit


@njit(cache=True)
def _cancel_resting(OR, H, L, SK, SL, M, U, nu, o, ts):
    """Cancel a whole resting order because of self-trade prevention."""
    left = OR[o, O_QTY] + OR[o, O_HIDDEN]
    oid = OR[o, O_ID]
    cum = OR[o, O_CUM]
    order_remove(OR, H, L, SK, SL, M, o)
    return _push_update(U, nu, oid, ST_CANCELLED, R_SELF_TRADE, 0, left, 0, cum, ts)


@njit(cache=True)
def _fill_maker(OR, H, L, SK, SL, M, U, nu, o, q, ts):
    """Execute ``q`` lots of resting order ``o`` (peg or lit); refresh icebergs; report it."""
    oid = OR[o, O_ID]
    cum = OR[o, O_CUM] + q
    left = order_fill(OR, H, L, SK, SL, M, o, q)
    st = ST_PARTIAL if left > 0 else ST_FILLED
    return _push_update(U, nu, oid, st, R_NONE, q, 0, left, cum, ts)


@njit(cache=True)
def match(OR, H, L, SK, SL, M, F, nf, U, nu, taker, side, rem, limit, has_limit, peg_only, owner, stp, ts):
    """Match an incoming order of ``rem`` lots against the contra side.

    At each step the best contra liquidity is a contra midpoint peg at the mid (when the mid is
    on the grid, inside the taker's limit, and the taker's own side has a best price), which
    is always strictly better than the contra lit best; else the contra lit best level (not for
    ``peg_only`` takers), whose anonymous quantity comes first, then its orders in FIFO order.

    Return (rem, F, nf, U, nu, stop).
    """
    csi = 1 if side > 0 else 0
    cur = -2  # level (or -1: the peg queue) the queue-position counters refer to
    done_q = 0
    done_n = 0
    while rem > 0:
        lit_ok, pl = best_price(L, SL, M, csi)
        peg_ok = False
        m = 0
        if M[M_PH + csi] >= 0:
            ok, m = mid_price(L, SL, M)
            peg_ok = ok and _within(side, m, limit, has_limit)
        if peg_ok:
            at = -1
            px = m
            o = M[M_PH + csi]
        elif peg_only or not lit_ok or not _within(side, pl, limit, has_limit):
            break
        else:
            at = SL[csi, M[M_NB + csi] - 1]
            px = pl
            o = L[at, L_HEAD]
        if cur != at:
            cur = at
            done_q = 0
            done_n = 0
        if at >= 0 and L[at, L_ANON] > 0:
            q = min(rem, L[at, L_ANON])
            F, nf = _push_fill(F, nf, taker, 0, px, q, side, owner, 0, done_q, 0, 0, ts)
            done_q += q
            rem -= q
            L[at, L_ANON] -= q
            L[at, L_QTY] -= q
            lvl_drop_if_empty(L, SK, SL, M, at)
            continue
        if stp != STP_NONE and owner != 0 and OR[o, O_OWNER] == owner:
            if stp == STP_CANCEL_NEWEST:
                return rem, F, nf, U, nu, STOP_STP
            U, nu = _cancel_resting(OR, H, L, SK, SL, M, U, nu, o, ts)
            if stp == STP_CANCEL_BOTH:
                return rem, F, nf, U, nu, STOP_STP
            continue
        q = min(rem, OR[o, O_QTY])
        F, nf = _push_fill(
            F, nf, taker, OR[o, O_ID], px, q, side, owner, OR[o, O_OWNER], done_q, done_n,
            OR[o, O_FLAGS], ts,
        )  # fmt: skip
        done_q += q
        done_n += 1
        rem -= q
        U, nu = _fill_maker(OR, H, L, SK, SL, M, U, nu, o, q, ts)
    return rem, F, nf, U, nu, STOP_NONE


@njit(cache=True)
def marketable(L, SL, M, side, limit, has_limit, peg_only):
    """Would an order on ``side`` with this limit take liquidity right now?"""
    csi = 1 if side > 0 else 0
    if M[M_PH + csi] >= 0:
        ok, m = mid_price(L, SL, M)
        if ok and _within(side, m, limit, has_limit):
            return True
    if peg_only:
        return False
    ok, pl = best_price(L, SL, M, csi)
    return ok and _within(side, pl, limit, has_limit)


@njit(cache=True)
def fok_fillable(OR, L, SL, M, side, qty, limit, has_limit, peg_only, owner, stp):
    """Dry run of :func:`match`: would ``qty`` lots fill completely (nothing is changed)?

    Walks the contra liquidity in the order :func:`match` takes it. Under self-trade
    prevention, own resting orders are skipped (cancel oldest: they would be cancelled, not
    filled) or end the walk (cancel newest / both: the taker would be cancelled on reaching
    one).
    """
    csi = 1 if side > 0 else 0
    osi = 1 - csi
    own_ok, own_best = best_price(L, SL, M, osi)
    need = qty
    j = M[M_NB + csi] - 1
    p = M[M_PH + csi]
    stp_on = stp != STP_NONE and owner != 0
    while need > 0:
        if j < 0:
            return False
        lv = SL[csi, j]
        pl = L[lv, L_PRICE]
        # contra pegs at the mid this lit level makes (the own side does not change)
        if p >= 0 and own_ok:
            b = own_best if side > 0 else pl
            a = pl if side > 0 else own_best
            if b < a and (a - b) % 2 == 0 and _within(side, (a + b) // 2, limit, has_limit):
                while p >= 0 and need > 0:
                    if stp_on and OR[p, O_OWNER] == owner:
                        if stp != STP_CANCEL_OLDEST:
                            return False
                    else:
                        need -= OR[p, O_QTY]
                    p = OR[p, O_NEXT]
                if need <= 0:
                    return True
        if peg_only or not _within(side, pl, limit, has_limit):
            return False
        cum = L[lv, L_ANON]
        if cum >= need:
            return True
        hidden = 0
        o = L[lv, L_HEAD]
        while o >= 0:
            if stp_on and OR[o, O_OWNER] == owner:
                if stp != STP_CANCEL_OLDEST:
                    return False
            else:
                cum += OR[o, O_QTY]
                hidden += OR[o, O_HIDDEN]
                if cum >= need:
                    return True
            o = OR[o, O_NEXT]
        # icebergs refresh from their reserves after the first pass over the queue
        cum += hidden
        if cum >= need:
            return True
        need -= cum
        j -= 1
    return True


@njit(cache=True)
def cross_pegs(OR, H, L, SK, SL, M, F, nf, U, nu, stp, ts):
    """Cross resting midpoint pegs of both sides while the mid is on the grid.

    Pegs rest on both sides only while they could not trade (no mid on the grid, or one lit
    side empty); once the mid allows it, the later arrival is the taker.
    """
    while M[M_PH] >= 0 and M[M_PH + 1] >= 0:
        ok, m = mid_price(L, SL, M)
        if not ok:
            break
        b = M[M_PH]
        a = M[M_PH + 1]
        if OR[b, O_SEQ] > OR[a, O_SEQ]:
            t, mk = b, a
        else:
            t, mk = a, b
        towner = OR[t, O_OWNER]
        if stp != STP_NONE and towner != 0 and OR[mk, O_OWNER] == towner:
            if stp != STP_CANCEL_OLDEST:
                U, nu = _cancel_resting(OR, H, L, SK, SL, M, U, nu, t, ts)
            if stp != STP_CANCEL_NEWEST:
                U, nu = _cancel_resting(OR, H, L, SK, SL, M, U, nu, mk, ts)
            continue
        q = min(OR[t, O_QTY], OR[mk, O_QTY])
        F, nf = _push_fill(
            F, nf, OR[t, O_ID], OR[mk, O_ID], m, q, OR[t, O_SIDE], towner, OR[mk, O_OWNER],
            0, 0, OR[mk, O_FLAGS], ts,
        )  # fmt: skip
        U, nu = _fill_maker(OR, H, L, SK, SL, M, U, nu, mk, q, ts)
        U, nu = _fill_maker(OR, H, L, SK, SL, M, U, nu, t, q, ts)
    return F, nf, U, nu


@njit(cache=True)
def _rest(OR, H, L, SK, SL, M, oid, side, price, qty, peak, flags, owner, ts, cum):
    """Place an order's remainder in the book (level FIFO or peg FIFO); return its slot."""
    show = qty
    if peak > 0 and peak < qty:
        show = peak
    o = order_alloc(OR, H, M, oid, side, price, show)
    OR[o, O_HIDDEN] = qty - show
    OR[o, O_PEAK] = peak
    OR[o, O_FLAGS] = flags
    OR[o, O_OWNER] = owner
    OR[o, O_TS] = ts
    OR[o, O_SEQ] = M[M_ARRIVAL]
    OR[o, O_CUM] = cum
    M[M_ARRIVAL] += 1
    if flags & FL_PEG:
        OR[o, O_PRICE] = 0
        peg_append(OR, M, o, side_index(side))
    else:
        lv = lvl_get_or_create(L, SK, SL, M, side, price)
        order_append(OR, L, o, lv)
    return o


@njit(cache=True)
def _execute(
    OR, H, L, SK, SL, M, F, U, oid, side, qty, price, otype, tif, peak, flags, owner, ts, stp,
    cum0, cut0,
):  # fmt: skip
    """Match then rest / cancel an order that passed validation. Shared by submit and modify
    (``cum0``: lots it filled before; ``cut0``: lots a modify took off it, reported as cancelled).

    Return (status, reason, filled, cancelled, leaves, F, nf, U, nu).
    """
    nf = 0
    nu = 0
    has_limit = otype == OT_LIMIT
    peg_only = otype == OT_PEG
    rem, F, nf, U, nu, stop = match(
        OR, H, L, SK, SL, M, F, nf, U, nu, oid, side, qty, price, has_limit, peg_only, owner,
        stp, ts,
    )  # fmt: skip
    filled = qty - rem
    cancelled = cut0
    leaves = 0
    reason = R_NONE
    if rem == 0:
        status = ST_FILLED
    elif stop == STOP_STP:
        status = ST_CANCELLED
        reason = R_SELF_TRADE
        cancelled += rem
    elif otype == OT_MARKET or tif != TIF_GTC:
        status = ST_CANCELLED
        reason = R_NO_LIQUIDITY if otype == OT_MARKET else R_IOC_REMAINDER
        cancelled += rem
    else:
        _rest(OR, H, L, SK, SL, M, oid, side, price, rem, peak, flags, owner, ts, cum0 + filled)
        status = ST_PARTIAL if cum0 + filled > 0 else ST_ACCEPTED
        leaves = rem
    U, nu = _push_update(U, nu, oid, status, reason, filled, cancelled, leaves, cum0 + filled, ts)
    F, nf, U, nu = cross_pegs(OR, H, L, SK, SL, M, F, nf, U, nu, stp, ts)
    return status, reason, filled, cancelled, leaves, F, nf, U, nu


@njit(cache=True)
def submit(OR, H, L, SK, SL, M, F, U, oid, side, qty, price, otype, tif, post_only, peak, owner, ts, stp):
    """Submit a new order (parameters already validated in Python).

    Return (status, reason, filled, cancelled, leaves, F, nf, U, nu).
    """
    has_limit = otype == OT_LIMIT
    peg_only = otype == OT_PEG
    reason = R_NONE
    if h_find(H, M, oid) >= 0:
        reason = R_DUPLICATE_ID
    elif post_only and marketable(L, SL, M, side, price, has_limit, peg_only):
        reason = R_POST_ONLY
    elif tif == TIF_FOK and not fok_fillable(OR, L, SL, M, side, qty, price, has_limit, peg_only, owner, stp):
        reason = R_FOK
    if reason != R_NONE:
        return _rejected(F, U, oid, reason, ts)
    flags = 0
    if peg_only:
        flags |= FL_PEG
    if post_only:
        flags |= FL_POST_ONLY
    if 0 < peak < qty:
        flags |= FL_ICEBERG
    else:
        peak = 0
    return _execute(
        OR, H, L, SK, SL, M, F, U, oid, side, qty, price, otype, tif, peak, flags, owner, ts,
        stp, 0, 0,
    )  # fmt: skip


@njit(cache=True)
def _size_down(OR, L, o, cut):
    """Remove ``cut`` lots (less than the order holds) keeping priority: reserve first."""
    h = OR[o, O_HIDDEN]
    from_h = min(cut, h)
    OR[o, O_HIDDEN] = h - from_h
    rest = cut - from_h
    OR[o, O_QTY] -= rest
    if not (OR[o, O_FLAGS] & FL_PEG):
        lv = OR[o, O_LEVEL]
        L[lv, L_HIDDEN] -= from_h
        L[lv, L_QTY] -= rest


@njit(cache=True)
def _live_status(OR, o):
    return ST_PARTIAL if OR[o, O_CUM] > 0 else ST_ACCEPTED


@njit(cache=True)
def cancel(OR, H, L, SK, SL, M, F, U, oid, qty, has_qty, ts, stp):
    """Cancel an order, or size it down by ``qty`` lots (keeping its priority).

    Return (status, reason, filled, cancelled, leaves, F, nf, U, nu).
    """
    o = h_find(H, M, oid)
    if o < 0 or (has_qty and qty <= 0):
        reason = R_UNKNOWN_ORDER if o < 0 else R_BAD_QTY
        return _rejected(F, U, oid, reason, ts)
    total = OR[o, O_QTY] + OR[o, O_HIDDEN]
    cum = OR[o, O_CUM]
    if not has_qty or qty >= total:
        order_remove(OR, H, L, SK, SL, M, o)
        U, nu = _push_update(U, 0, oid, ST_CANCELLED, R_USER_CANCEL, 0, total, 0, cum, ts)
        F, nf, U, nu = cross_pegs(OR, H, L, SK, SL, M, F, 0, U, nu, stp, ts)
        return ST_CANCELLED, R_USER_CANCEL, 0, total, 0, F, nf, U, nu
    _size_down(OR, L, o, qty)
    st = _live_status(OR, o)
    U, nu = _push_update(U, 0, oid, st, R_USER_CANCEL, 0, qty, total - qty, cum, ts)
    return st, R_USER_CANCEL, 0, qty, total - qty, F, 0, U, nu


@njit(cache=True)
def modify(OR, H, L, SK, SL, M, F, U, oid, price, has_price, qty, has_qty, ts, stp):
    """Change an order's price and/or total remaining quantity.

    A size-down at the same price keeps the order's place; a size-up moves it to the back of
    its queue; a price change takes it out and re-enters it as a new limit order at the new
    price (it may trade). Return (status, reason, filled, cancelled, leaves, F, nf, U, nu).
    """
    o = h_find(H, M, oid)
    reason = R_NONE
    if o < 0:
        reason = R_UNKNOWN_ORDER
    elif has_qty and qty <= 0:
        reason = R_BAD_QTY
    elif has_price and (OR[o, O_FLAGS] & FL_PEG) and price != OR[o, O_PRICE]:
        reason = R_PEG_PRICE
    # a post-only order that would take at its new price is refused; it stays as it was
    if (
        reason == R_NONE
        and has_price
        and price != OR[o, O_PRICE]
        and (OR[o, O_FLAGS] & FL_POST_ONLY)
        and marketable(L, SL, M, OR[o, O_SIDE], price, True, False)
    ):
        reason = R_POST_ONLY
    if reason != R_NONE:
        return _rejected(F, U, oid, reason, ts)
    total = OR[o, O_QTY] + OR[o, O_HIDDEN]
    new_total = qty if has_qty else total
    cum = OR[o, O_CUM]
    cut = total - new_total if new_total < total else 0
    if not has_price or price == OR[o, O_PRICE]:
        if new_total < total:
            _size_down(OR, L, o, total - new_total)
        elif new_total > total:
            # size-up: loses time priority, to the back of its queue
            side = OR[o, O_SIDE]
            flags = OR[o, O_FLAGS]
            args = (OR[o, O_PRICE], OR[o, O_PEAK], OR[o, O_OWNER])
            order_detach(OR, L, SK, SL, M, o)
            order_free(OR, H, M, o)
            o = _rest(OR, H, L, SK, SL, M, oid, side, args[0], new_total, args[1], flags,
                      args[2], ts, cum)  # fmt: skip
        st = _live_status(OR, o)
        U, nu = _push_update(U, 0, oid, st, R_NONE, 0, cut, new_total, cum, ts)
        F, nf, U, nu = cross_pegs(OR, H, L, SK, SL, M, F, 0, U, nu, stp, ts)
        return st, R_NONE, 0, cut, new_total, F, nf, U, nu
    # price change: out of the book, then in again as a new limit order with the same id
    side = OR[o, O_SIDE]
    flags = OR[o, O_FLAGS]
    peak = OR[o, O_PEAK]
    owner = OR[o, O_OWNER]
    order_remove(OR, H, L, SK, SL, M, o)
    return _execute(
        OR, H, L, SK, SL, M, F, U, oid, side, new_total, price, OT_LIMIT, TIF_GTC, peak, flags,
        owner, ts, stp, cum, cut,
    )  # fmt: skip


@njit(cache=True)
def peg_orders(OR, M, si, out):
    """Write (order_id, qty) of side ``si``'s resting pegs in FIFO order; return the count."""
    n = 0
    o = M[M_PH + si]
    while o >= 0 and n < out.shape[0]:
        out[n, 0] = OR[o, O_ID]
        out[n, 1] = OR[o, O_QTY]
        n += 1
        o = OR[o, O_NEXT]
    return n
