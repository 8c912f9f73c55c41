# mypy: allow-untyped-defs
# (numba types the kernels from their arguments; annotations would only restate the layout below)
"""Compiled kernels of the L2 (price-level) book. Private: use :class:`execsim.book.L2Book`.

State layout: a tuple of seven ``int64`` 1-D arrays, ``(M, BW, AW, BOP, BOQ, AOP, AOQ)``.

``BW``, ``AW`` (W,)
    The dense *window*: aggregate bid / ask quantity (lots) at price ``M[M_BASE] + i`` (ticks)
    for ``0 <= i < W``; 0 means no level. Both sides share one window, centred on the touch.
``BOP``/``BOQ``, ``AOP``/``AOQ`` (cap,)
    The *overflow*: bid / ask levels whose price lies outside the window, as (price, qty)
    pairs sorted by ascending price; only the first ``M[M_N_OB]`` / ``M[M_N_OA]`` entries are
    live. Far levels (stub quotes, a REST snapshot's 1000th level) live here, so a window of a
    few thousand ticks never loses a level whatever the price range.
``M`` (META_SIZE,)
    Scalars: window base, best bid / ask prices (``NO_BID`` / ``NO_ASK`` when a side is empty),
    overflow counts, level counts, trading status and statistics counters (``M_*`` below).

Invariants after every event: each non-empty level is in exactly one place (window when its
price is inside ``[base, base + W)``, overflow otherwise); ``M_BEST_BID`` is the highest bid
price and ``M_BEST_ASK`` the lowest ask price over window and overflow.

Cost model: a SET_LEVEL inside the window is O(1), except when it empties the best level,
which scans the window towards the far side until the next non-empty slot. A level outside the
window is a binary search plus a shift in the (small) overflow arrays. When the touch leaves the
window the book *re-centres* it on the mid (O(W + overflow)), doubling the width first while
the spread is wider than half the window (up to ``MAX_WINDOW`` ticks); a spread that does not fit
even then is served from the overflow arrays, correctly but more slowly.

Kernels never raise: an invalid event (a SET_LEVEL with ``side`` 0 or ``qty < 0``, a price outside
``±2**62``, a CLEAR with a side other than -1/0/1) is skipped and counted in ``M_REJECTED``; the
first ``REJ_CAP`` are listed in the ``rej`` array with their seq and reason code. Arrays that
must grow are re-allocated inside the kernel, which returns the new state tuple: callers (also
other numba code) must keep the returned tuple and drop the old one.
"""

from __future__ import annotations

import numpy as np

from execsim.core.jit import njit
from execsim.data.schema import F_LAST, K_CLEAR, K_HALT, K_SET_LEVEL, K_TRADE

# ---- meta slots
M_BASE = 0  # price (ticks) of window slot 0
M_BEST_BID = 1  # NO_BID when the bid side is empty
M_BEST_ASK = 2  # NO_ASK when the ask side is empty
M_N_OB = 3  # live overflow bid entries
M_N_OA = 4  # live overflow ask entries
M_LV_BID = 5  # non-empty bid levels (window + overflow)
M_LV_ASK = 6
M_STATUS = 7  # last HALT qty (TradingStatus code), -1 when none seen
M_APPLIED = 8  # events applied (SET_LEVEL, CLEAR, TRADE, HALT)
M_SET_LEVEL = 9
M_CLEAR = 10
M_TRADE = 11
M_HALT = 12
M_IGNORED = 13  # kinds an L2 book does not use (ADD, CANCEL, DELETE, EXECUTE, unknown)
M_REJECTED = 14  # invalid events, skipped
M_RECENTRES = 15  # window re-centred (or grown) around the touch
M_GROWS = 16  # window width doubled
M_OVERFLOW_OPS = 17  # SET_LEVEL events served by the overflow arrays
M_ABSENT_DELETES = 18  # qty 0 for a level that was not in the book (harmless)
M_CROSSED = 19  # F_LAST boundaries where best bid >= best ask
M_SCAN_STEPS = 20  # window slots scanned to find a new best level
META_SIZE = 24

NO_BID = -(1 << 62)
NO_ASK = 1 << 62
MAX_WINDOW = 1 << 22  # 4M ticks: 32 MiB per side; beyond that far levels stay in overflow
MIN_OVERFLOW = 64

# ---- rejection reasons (codes in rej[:, 1])
REJ_SIDE = 1
REJ_NEG_QTY = 2
REJ_PRICE = 3
REJ_CAP = 64

# ---- BBO output columns (replay_bbo)
B_SEQ = 0
B_BID_PX = 1
B_BID_QTY = 2
B_ASK_PX = 3
B_ASK_QTY = 4
NB = 5


@njit(cache=True)
def new_l2_state(window):
    """Return an empty state tuple with a window of ``window`` ticks (not yet positioned)."""
    M = np.zeros(META_SIZE, np.int64)
    M[M_BEST_BID] = NO_BID
    M[M_BEST_ASK] = NO_ASK
    M[M_STATUS] = -1
    BW = np.zeros(window, np.int64)
    AW = np.zeros(window, np.int64)
    BOP = np.zeros(MIN_OVERFLOW, np.int64)
    BOQ = np.zeros(MIN_OVERFLOW, np.int64)
    AOP = np.zeros(MIN_OVERFLOW, np.int64)
    AOQ = np.zeros(MIN_OVERFLOW, np.int64)
    return (M, BW, AW, BOP, BOQ, AOP, AOQ)


@njit(cache=True)
def _search(P, n, price):
    """First index in the sorted ``P[:n]`` whose value is >= ``price``."""
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if P[mid] < price:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _grow_pair(P, Q, n):
    cap = max(MIN_OVERFLOW, 2 * P.shape[0])
    P2 = np.zeros(cap, np.int64)
    Q2 = np.zeros(cap, np.int64)
    P2[:n] = P[:n]
    Q2[:n] = Q[:n]
    return P2, Q2


@njit(cache=True)
def _overflow_put(P, Q, n, k, price, qty):
    """Set ``price`` (whose search index is ``k``) to ``qty`` in place; return (n, old_qty).

    The caller guarantees room for an insertion (``n < len(P)``).
    """
    found = k < n and P[k] == price
    if qty > 0:
        if found:
            old = Q[k]
            Q[k] = qty
            return n, old
        for j in range(n, k, -1):
            P[j] = P[j - 1]
            Q[j] = Q[j - 1]
        P[k] = price
        Q[k] = qty
        return n + 1, 0
    if not found:
        return n, 0
    old = Q[k]
    for j in range(k, n - 1):
        P[j] = P[j + 1]
        Q[j] = Q[j + 1]
    return n - 1, old


@njit(cache=True)
def _overflow_qty(P, Q, n, price):
    k = _search(P, n, price)
    if k < n and P[k] == price:
        return Q[k]
    return 0


@njit(cache=True)
def _max_bid_below(limit, base, BW, BOP, n_ob):
    """Highest bid price strictly below ``limit`` (NO_BID when none); counts scanned slots."""
    W = BW.shape[0]
    top = base + W
    k = _search(BOP, n_ob, limit) - 1  # highest overflow bid < limit
    if k >= 0 and BOP[k] >= top:
        return BOP[k], 0
    hi = min(limit - base - 1, W - 1)
    steps = 0
    j = hi
    while j >= 0:
        steps += 1
        if BW[j] > 0:
            return base + j, steps
        j -= 1
    k = _search(BOP, n_ob, min(limit, base)) - 1
    if k >= 0:
        return BOP[k], steps
    return NO_BID, steps


@njit(cache=True)
def _min_ask_above(limit, base, AW, AOP, n_oa):
    """Lowest ask price strictly above ``limit`` (NO_ASK when none); counts scanned slots."""
    W = AW.shape[0]
    k = _search(AOP, n_oa, limit + 1)  # lowest overflow ask > limit
    if k < n_oa and AOP[k] < base:
        return AOP[k], 0
    lo = max(limit - base + 1, 0)
    steps = 0
    j = lo
    while j < W:
        steps += 1
        if AW[j] > 0:
            return base + j, steps
        j += 1
    k = _search(AOP, n_oa, max(limit + 1, base + W))
    if k < n_oa:
        return AOP[k], steps
    return NO_ASK, steps


@njit(cache=True)
def _rebuild_side(Win, P, Q, n, base, new_base, new_w):
    """Redistribute one side's levels between a new window and new overflow arrays."""
    W = Win.shape[0]
    cap = max(P.shape[0], MIN_OVERFLOW)
    total = n
    for j in range(W):
        if Win[j] > 0:
            total += 1
    while cap < total:
        cap *= 2
    NW = np.zeros(new_w, np.int64)
    NP = np.zeros(cap, np.int64)
    NQ = np.zeros(cap, np.int64)
    m = 0
    k = 0
    # ascending price: overflow below the old window, the old window, overflow above it
    while k < n and P[k] < base:
        i = P[k] - new_base
        if 0 <= i < new_w:
            NW[i] = Q[k]
        else:
            NP[m] = P[k]
            NQ[m] = Q[k]
            m += 1
        k += 1
    for j in range(W):
        q = Win[j]
        if q > 0:
            p = base + j
            i = p - new_base
            if 0 <= i < new_w:
                NW[i] = q
            else:
                NP[m] = p
                NQ[m] = q
                m += 1
    while k < n:
        i = P[k] - new_base
        if 0 <= i < new_w:
            NW[i] = Q[k]
        else:
            NP[m] = P[k]
            NQ[m] = Q[k]
            m += 1
        k += 1
    return NW, NP, NQ, m


@njit(cache=True)
def _recentre(state):
    """Move (and if needed widen) the window so that it holds the touch; return the new state.

    Does nothing when the touch is already inside, or when the spread is too wide to fit even
    in ``MAX_WINDOW`` ticks (the overflow arrays serve the touch then, so this never thrashes).
    """
    M, BW, AW, BOP, BOQ, AOP, AOQ = state
    W = BW.shape[0]
    base = M[M_BASE]
    bb = M[M_BEST_BID]
    ba = M[M_BEST_ASK]
    has_b = bb != NO_BID
    has_a = ba != NO_ASK
    out_b = has_b and not (base <= bb < base + W)
    out_a = has_a and not (base <= ba < base + W)
    if not (out_b or out_a):
        return state
    new_w = W
    if has_b and has_a:
        spread = abs(ba - bb)
        while spread > new_w // 2 and new_w < MAX_WINDOW:
            new_w *= 2
        if spread >= new_w:
            return state
        centre = bb + (ba - bb) // 2
    elif has_b:
        centre = bb
    else:
        centre = ba
    new_base = centre - new_w // 2
    NBW, NBOP, NBOQ, nb = _rebuild_side(BW, BOP, BOQ, M[M_N_OB], base, new_base, new_w)
    NAW, NAOP, NAOQ, na = _rebuild_side(AW, AOP, AOQ, M[M_N_OA], base, new_base, new_w)
    M[M_BASE] = new_base
    M[M_N_OB] = nb
    M[M_N_OA] = na
    M[M_RECENTRES] += 1
    if new_w != W:
        M[M_GROWS] += 1
    return (M, NBW, NAW, NBOP, NBOQ, NAOP, NAOQ)


@njit(cache=True)
def _qty_at_price(state, side, price):
    M, BW, AW, BOP, BOQ, AOP, AOQ = state
    i = price - M[M_BASE]
    W = BW.shape[0]
    if side > 0:
        if 0 <= i < W:
            return BW[i]
        return _overflow_qty(BOP, BOQ, M[M_N_OB], price)
    if 0 <= i < W:
        return AW[i]
    return _overflow_qty(AOP, AOQ, M[M_N_OA], price)


@njit(cache=True)
def l2_qty_at(state, side, price):
    """Aggregate quantity at (``side`` 1 bid / -1 ask, ``price``); 0 when no level."""
    return _qty_at_price(state, side, price)


@njit(cache=True)
def _reject(M, rej, seq, reason):
    r = M[M_REJECTED]
    if r < rej.shape[0]:
        rej[r, 0] = seq
        rej[r, 1] = reason
    M[M_REJECTED] = r + 1


# ---- return codes of the inner loop
DONE = 0
NEED_GROW_BID = 1  # the bid overflow is full: grow it, then retry the same event
NEED_GROW_ASK = 2
NEED_RECENTRE = 3  # the event moved the touch out of the window: re-centre, go on after it


@njit(cache=True)
def _run(M, BW, AW, BOP, BOQ, AOP, AOQ, events, start, out, n_out, record, rej):
    """The hot loop: apply events from ``start`` until done or a structural change is needed.

    Never re-binds an array (that would cost reference counting on every event); it returns a
    ``NEED_*`` code instead and the driver :func:`l2_apply` grows or moves the arrays.
    Returns ``(next_index, code, n_out, applied, set_levels)``.
    """
    W = BW.shape[0]
    base = M[M_BASE]
    bb = M[M_BEST_BID]
    ba = M[M_BEST_ASK]
    n_ob = M[M_N_OB]
    n_oa = M[M_N_OA]
    lv_b = M[M_LV_BID]
    lv_a = M[M_LV_ASK]
    applied = 0
    n_set = 0
    scan = 0
    code = DONE
    i = start
    n = events.shape[0]
    while i < n:
        ev = events[i]
        kind = ev.kind
        if kind == K_SET_LEVEL:
            side = ev.side
            p = ev.price
            q = ev.qty
            if side != 1 and side != -1:
                _reject(M, rej, ev.seq, REJ_SIDE)
                i += 1
                continue
            if q < 0:
                _reject(M, rej, ev.seq, REJ_NEG_QTY)
                i += 1
                continue
            if p <= NO_BID or p >= NO_ASK:
                _reject(M, rej, ev.seq, REJ_PRICE)
                i += 1
                continue
            idx = p - base
            if side == 1:
                if 0 <= idx < W:
                    old = BW[idx]
                    BW[idx] = q
                    if q > 0:
                        if old == 0:
                            lv_b += 1
                            if p > bb:
                                bb = p
                    elif old > 0:
                        lv_b -= 1
                        if p == bb:
                            bb, st = _max_bid_below(p, base, BW, BOP, n_ob)
                            scan += st
                            if bb != NO_BID and not (base <= bb < base + W):
                                code = NEED_RECENTRE
                    else:
                        M[M_ABSENT_DELETES] += 1
                else:
                    k = _search(BOP, n_ob, p)
                    if q > 0 and n_ob == BOP.shape[0] and not (k < n_ob and BOP[k] == p):
                        code = NEED_GROW_BID
                        break
                    M[M_OVERFLOW_OPS] += 1
                    n_ob, old = _overflow_put(BOP, BOQ, n_ob, k, p, q)
                    if q > 0:
                        if old == 0:
                            lv_b += 1
                        if p > bb:
                            bb = p
                            code = NEED_RECENTRE
                    elif old > 0:
                        lv_b -= 1
                        if p == bb:
                            bb, st = _max_bid_below(p, base, BW, BOP, n_ob)
                            scan += st
                            if bb != NO_BID and not (base <= bb < base + W):
                                code = NEED_RECENTRE
                    else:
                        M[M_ABSENT_DELETES] += 1
            else:
                if 0 <= idx < W:
                    old = AW[idx]
                    AW[idx] = q
                    if q > 0:
                        if old == 0:
                            lv_a += 1
                            if p < ba:
                                ba = p
                    elif old > 0:
                        lv_a -= 1
                        if p == ba:
                            ba, st = _min_ask_above(p, base, AW, AOP, n_oa)
                            scan += st
                            if ba != NO_ASK and not (base <= ba < base + W):
                                code = NEED_RECENTRE
                    else:
                        M[M_ABSENT_DELETES] += 1
                else:
                    k = _search(AOP, n_oa, p)
                    if q > 0 and n_oa == AOP.shape[0] and not (k < n_oa and AOP[k] == p):
                        code = NEED_GROW_ASK
                        break
                    M[M_OVERFLOW_OPS] += 1
                    n_oa, old = _overflow_put(AOP, AOQ, n_oa, k, p, q)
                    if q > 0:
                        if old == 0:
                            lv_a += 1
                        if p < ba:
                            ba = p
                            code = NEED_RECENTRE
                    elif old > 0:
                        lv_a -= 1
                        if p == ba:
                            ba, st = _min_ask_above(p, base, AW, AOP, n_oa)
                            scan += st
                            if ba != NO_ASK and not (base <= ba < base + W):
                                code = NEED_RECENTRE
                    else:
                        M[M_ABSENT_DELETES] += 1
            applied += 1
            n_set += 1
        elif kind == K_CLEAR:
            side = ev.side
            if side != 0 and side != 1 and side != -1:
                _reject(M, rej, ev.seq, REJ_SIDE)
                i += 1
                continue
            applied += 1
            M[M_CLEAR] += 1
            if side >= 0:
                BW[:] = 0
                n_ob = 0
                lv_b = 0
                bb = NO_BID
            if side <= 0:
                AW[:] = 0
                n_oa = 0
                lv_a = 0
                ba = NO_ASK
        elif kind == K_TRADE:
            applied += 1
            M[M_TRADE] += 1
        elif kind == K_HALT:
            applied += 1
            M[M_HALT] += 1
            M[M_STATUS] = ev.qty
        else:
            M[M_IGNORED] += 1
            i += 1
            continue
        if ev.flags & F_LAST:
            if bb != NO_BID and ba != NO_ASK and bb >= ba:
                M[M_CROSSED] += 1
            if record:
                out[n_out, B_SEQ] = ev.seq
                if bb != NO_BID:
                    out[n_out, B_BID_PX] = bb
                    j = bb - base
                    out[n_out, B_BID_QTY] = BW[j] if 0 <= j < W else _overflow_qty(BOP, BOQ, n_ob, bb)
                else:
                    out[n_out, B_BID_PX] = 0
                    out[n_out, B_BID_QTY] = 0
                if ba != NO_ASK:
                    out[n_out, B_ASK_PX] = ba
                    j = ba - base
                    out[n_out, B_ASK_QTY] = AW[j] if 0 <= j < W else _overflow_qty(AOP, AOQ, n_oa, ba)
                else:
                    out[n_out, B_ASK_PX] = 0
                    out[n_out, B_ASK_QTY] = 0
                n_out += 1
        i += 1
        if code != DONE:
            break
    M[M_BEST_BID] = bb
    M[M_BEST_ASK] = ba
    M[M_N_OB] = n_ob
    M[M_N_OA] = n_oa
    M[M_LV_BID] = lv_b
    M[M_LV_ASK] = lv_a
    M[M_APPLIED] += applied
    M[M_SET_LEVEL] += n_set
    M[M_SCAN_STEPS] += scan
    return i, code, n_out, applied


@njit(cache=True)
def l2_apply(state, events, out, record, rej):
    """Apply canonical events to an L2 state; return ``(state, n_applied, n_out)``.

    Parameters
    ----------
    state
        The state tuple (see the module docstring); it is updated in place, and replaced by a
        new tuple when arrays grow or the window moves: always keep the returned one.
    events
        Canonical events (``EVENT_DTYPE``).
    out
        ``int64`` array (n, 5) receiving ``(seq, bid_px, bid_qty, ask_px, ask_qty)`` after each
        event carrying ``F_LAST`` when ``record`` is true (an empty side reads price 0, qty 0);
        it must have a row for every such event.
    record
        Whether to write ``out``.
    rej
        ``int64`` array (REJ_CAP, 2) receiving the first rejected events (seq, reason).
    """
    M, BW, AW, BOP, BOQ, AOP, AOQ = state
    i = 0
    n_out = 0
    applied = 0
    while True:
        i, code, n_out, a = _run(M, BW, AW, BOP, BOQ, AOP, AOQ, events, i, out, n_out, record, rej)
        applied += a
        if code == DONE:
            break
        if code == NEED_GROW_BID:
            BOP, BOQ = _grow_pair(BOP, BOQ, M[M_N_OB])
        elif code == NEED_GROW_ASK:
            AOP, AOQ = _grow_pair(AOP, AOQ, M[M_N_OA])
        else:
            M, BW, AW, BOP, BOQ, AOP, AOQ = _recentre((M, BW, AW, BOP, BOQ, AOP, AOQ))
    return (M, BW, AW, BOP, BOQ, AOP, AOQ), applied, n_out


@njit(cache=True)
def l2_top(state, n_levels):
    """Return the best ``n_levels`` of each side as (bid_px, bid_qty, ask_px, ask_qty).

    Best first; missing levels are padded with price 0 and quantity 0.
    """
    M, BW, AW, BOP, BOQ, AOP, AOQ = state
    W = BW.shape[0]
    base = M[M_BASE]
    bpx = np.zeros(n_levels, np.int64)
    bq = np.zeros(n_levels, np.int64)
    apx = np.zeros(n_levels, np.int64)
    aq = np.zeros(n_levels, np.int64)
    n_ob = M[M_N_OB]
    n_oa = M[M_N_OA]
    # bids: descending price = overflow above window, window top-down, overflow below window
    c = 0
    k = n_ob - 1
    while c < n_levels and k >= 0 and BOP[k] >= base + W:
        bpx[c] = BOP[k]
        bq[c] = BOQ[k]
        c += 1
        k -= 1
    j = W - 1
    while c < n_levels and j >= 0:
        if BW[j] > 0:
            bpx[c] = base + j
            bq[c] = BW[j]
            c += 1
        j -= 1
    while c < n_levels and k >= 0:
        if BOP[k] < base:
            bpx[c] = BOP[k]
            bq[c] = BOQ[k]
            c += 1
        k -= 1
    # asks: ascending price = overflow below window, window bottom-up, overflow above window
    c = 0
    k = 0
    while c < n_levels and k < n_oa and AOP[k] < base:
        apx[c] = AOP[k]
        aq[c] = AOQ[k]
        c += 1
        k += 1
    j = 0
    while c < n_levels and j < W:
        if AW[j] > 0:
            apx[c] = base + j
            aq[c] = AW[j]
            c += 1
        j += 1
    while c < n_levels and k < n_oa:
        if AOP[k] >= base + W:
            apx[c] = AOP[k]
            aq[c] = AOQ[k]
            c += 1
        k += 1
    return bpx, bq, apx, aq
