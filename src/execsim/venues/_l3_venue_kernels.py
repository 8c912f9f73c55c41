# mypy: allow-untyped-defs
# (numba types the kernels from their arguments; annotations would only restate the layout)
"""Compiled tape replay of the L3 replay venue. Private: use :class:`execsim.venues.L3ReplayVenue`.

The kernels work on the state arrays of :mod:`execsim.book._l3_kernels` (``OR H L SK SL M REJ``),
shared with the matching engine, plus three arrays of the venue:

``SH`` (cap, 4)
    The *shadow table*: open addressing (linear probing) map ``tape order id → d``, where
    ``d = T − B`` is the tape's quantity of the order minus the book's. ``d > 0``: our orders
    consumed ``d`` lots the tape does not know about; ``d < 0``: our resting orders absorbed
    ``−d`` lots of executions the tape gave to this order, so it holds more than the tape says.
    Columns ``SH_KEY``, ``SH_VAL``, ``SH_SIDE``, ``SH_STATE`` (``SE_EMPTY`` / ``SE_LIVE`` /
    ``SE_TOMB``); the size is a power of two.
``VM`` (VM_SIZE,)
    Our resting orders per side (set by the Python wrapper before each call), the shadow
    table's fill, and the venue's statistics (``V_*``).
``FB`` (n, NFB)
    Our fills caused by the tape, columns ``FB_*``; grown here (the caller keeps the returned
    array).

Our orders are told apart from tape orders by their id: ours are negative, tape ids must be
``>= 0`` (a tape event with a negative id is counted in ``V_BAD_IDS`` and skipped).
"""

from __future__ import annotations

import numpy as np

from execsim.book._l3_kernels import (
    L_ANON,
    L_HEAD,
    L_PRICE,
    L_QTY,
    L_TAIL,
    M_NB,
    M_NPEG,
    M_PH,
    M_STATUS,
    NEED_HASH,
    NEED_LEVELS,
    NEED_ORDERS,
    O_ID,
    O_LEVEL,
    O_NEXT,
    O_PREV,
    O_PRICE,
    O_QTY,
    O_SIDE,
    OK,
    R_BAD_KIND,
    R_BAD_QTY,
    R_BAD_SIDE,
    R_DUPLICATE_ID,
    S_ADD,
    S_CANCEL,
    S_CLEAR,
    S_DELETE,
    S_EVENTS,
    S_EXEC_QTY,
    S_EXECUTE,
    S_HALT,
    S_INCONSISTENT,
    S_SET_LEVEL,
    S_TRADE,
    S_TRADE_QTY,
    S_UNKNOWN,
    grow_rows,
    h_find,
    h_slot,
    lvl_drop_if_empty,
    lvl_find,
    lvl_get_or_create,
    lvl_remove,
    mid_price,
    order_alloc,
    order_append,
    order_fill,
    order_free,
    order_remove,
    order_unlink,
    queue_position,
    reduce_anonymous,
    reject,
    room_for,
    side_index,
    trim_order,
)
from execsim.core.jit import njit
from execsim.data.schema import (
    F_CROSS,
    F_HIDDEN,
    K_ADD,
    K_CANCEL,
    K_CLEAR,
    K_DELETE,
    K_EXECUTE,
    K_HALT,
    K_SET_LEVEL,
    K_TRADE,
)

# ---- return codes (OK and NEED_ORDERS / NEED_LEVELS / NEED_HASH come from the book kernels)
NEED_SHADOW = 4
RC_REACHED = 5  # the next event is later than until_ns
RC_FILLED = 6  # stopped right after an event that filled one of our orders
RC_END = 7  # the batch is used up
NEED_CODES = (NEED_ORDERS, NEED_LEVELS, NEED_HASH)

# ---- shadow table
SH_KEY = 0
SH_VAL = 1
SH_SIDE = 2
SH_STATE = 3
NSH = 4
SE_EMPTY = 0
SE_LIVE = 1
SE_TOMB = 2

# ---- fill buffer columns
FB_OID = 0
FB_PRICE = 1
FB_QTY = 2
FB_LEAVES = 3
FB_AHEAD = 4
FB_TS = 5
FB_HOW = 6  # HOW_* below
NFB = 8
HOW_AHEAD = 1  # ahead of the executed order at its price
HOW_THROUGH = 2  # the tape executed at a worse price than ours (trade-through)
HOW_CROSS = 3  # a tape order was added at a price crossing ours
HOW_PEG = 4  # a midpoint peg of ours, ahead of every lit order of its side
HOW_HIDDEN = 5  # at the front of its queue when the tape printed a hidden execution at its price

# ---- VM indices
V_OURS = 0  # +si: our resting orders on bids (0) / asks (1), lit and pegs; set by the wrapper
V_SH_BITS = 2
V_SH_USED = 3  # live + tombstones
V_SH_LIVE = 4
V_EVENTS = 8
V_FILLS = 9
V_FILL_QTY = 10
V_FILLS_AHEAD = 11
V_FILLS_THROUGH = 12
V_FILLS_CROSS = 13
V_FILLS_PEG = 14
V_ABSORBED = 15
V_CROSSING_ADDS = 16
V_SHADOW_EVENTS = 17
V_SHADOW_CLAMPS = 18
V_SHADOW_CLAMPED_QTY = 19
V_SURPLUS_DROPPED = 20
V_HIDDEN_TRADES = 21
V_HALTED_EXECS = 22
V_BAD_IDS = 23
V_CONSUMED_TAPE = 24
V_CONSUMED_ANON = 25
V_TRIMS_SKIPPED_OURS = 26
V_FILLS_HIDDEN = 27
VM_SIZE = 32

STAT_NAMES = {
    "events_applied": V_EVENTS,
    "our_fills_from_tape": V_FILLS,
    "our_filled_qty_from_tape": V_FILL_QTY,
    "fills_ahead_of_executed_order": V_FILLS_AHEAD,
    "fills_trade_through": V_FILLS_THROUGH,
    "fills_crossing_add": V_FILLS_CROSS,
    "fills_midpoint_peg": V_FILLS_PEG,
    "fills_ahead_of_hidden_execution": V_FILLS_HIDDEN,
    "tape_qty_absorbed_by_us": V_ABSORBED,
    "crossing_adds": V_CROSSING_ADDS,
    "shadow_events": V_SHADOW_EVENTS,
    "shadow_clamps": V_SHADOW_CLAMPS,
    "shadow_clamped_qty": V_SHADOW_CLAMPED_QTY,
    "surplus_dropped_qty": V_SURPLUS_DROPPED,
    "hidden_trades": V_HIDDEN_TRADES,
    "executions_while_halted": V_HALTED_EXECS,
    "bad_order_ids": V_BAD_IDS,
    "tape_qty_consumed_by_us": V_CONSUMED_TAPE,
    "anonymous_qty_consumed_by_us": V_CONSUMED_ANON,
}

_ST_TRADING = 2


# --------------------------------------------------------------------------- shadow table
@njit(cache=True, inline="always")
def sh_find(SH, VM, key):
    """Return the shadow-table row of ``key``, or -1."""
    if VM[V_SH_LIVE] == 0:
        return -1
    mask = SH.shape[0] - 1
    i = h_slot(key, VM[V_SH_BITS])
    while True:
        st = SH[i, SH_STATE]
        if st == SE_EMPTY:
            return -1
        if st == SE_LIVE and SH[i, SH_KEY] == key:
            return i
        i = (i + 1) & mask


@njit(cache=True)
def sh_put(SH, VM, key, val, side):
    """Set ``key → val`` (insert if absent; the caller made room)."""
    e = sh_find(SH, VM, key)
    if e >= 0:
        SH[e, SH_VAL] = val
        return
    mask = SH.shape[0] - 1
    i = h_slot(key, VM[V_SH_BITS])
    while SH[i, SH_STATE] == SE_LIVE:
        i = (i + 1) & mask
    if SH[i, SH_STATE] == SE_EMPTY:
        VM[V_SH_USED] += 1
    SH[i, SH_KEY] = key
    SH[i, SH_VAL] = val
    SH[i, SH_SIDE] = side
    SH[i, SH_STATE] = SE_LIVE
    VM[V_SH_LIVE] += 1


@njit(cache=True)
def sh_delete_row(SH, VM, e):
    SH[e, SH_STATE] = SE_TOMB
    VM[V_SH_LIVE] -= 1


@njit(cache=True)
def sh_rebuild(OLD, SH, VM, bits):
    """Refill the empty table ``SH`` (size 2**bits) from the live rows of ``OLD``."""
    VM[V_SH_BITS] = bits
    VM[V_SH_USED] = 0
    VM[V_SH_LIVE] = 0
    for i in range(OLD.shape[0]):
        if OLD[i, SH_STATE] == SE_LIVE:
            sh_put(SH, VM, OLD[i, SH_KEY], OLD[i, SH_VAL], OLD[i, SH_SIDE])


@njit(cache=True)
def sh_clear_side(SH, VM, side):
    """Forget the entries of one side (0: both), after a CLEAR."""
    for i in range(SH.shape[0]):
        if SH[i, SH_STATE] == SE_LIVE and (side == 0 or SH[i, SH_SIDE] == side):
            sh_delete_row(SH, VM, i)


@njit(cache=True)
def record_consumed(SH, VM, ids, qtys, sides):
    """Our aggressive order took ``qtys[j]`` lots of tape order ``ids[j]`` (0: anonymous)."""
    for j in range(ids.shape[0]):
        k = ids[j]
        if k > 0:
            e = sh_find(SH, VM, k)
            d = qtys[j] + (SH[e, SH_VAL] if e >= 0 else 0)
            if d == 0:
                if e >= 0:
                    sh_delete_row(SH, VM, e)
            else:
                sh_put(SH, VM, k, d, sides[j])
            VM[V_CONSUMED_TAPE] += qtys[j]
        elif k == 0:
            VM[V_CONSUMED_ANON] += qtys[j]


# --------------------------------------------------------------------------- our fills
@njit(cache=True)
def _push(FB, nfb, oid, px, q, leaves, ahead, ts, how):
    FB = grow_rows(FB, nfb)
    FB[nfb, FB_OID] = oid
    FB[nfb, FB_PRICE] = px
    FB[nfb, FB_QTY] = q
    FB[nfb, FB_LEAVES] = leaves
    FB[nfb, FB_AHEAD] = ahead
    FB[nfb, FB_TS] = ts
    FB[nfb, FB_HOW] = how
    return FB, nfb + 1


@njit(cache=True)
def _fill_ours(OR, H, L, SK, SL, M, VM, FB, nfb, o, q, px, ts, how):
    """Execute ``q`` lots (<= displayed) of our resting order ``o`` at ``px`` as a maker."""
    ahead, _n = queue_position(OR, L, o)
    oid = OR[o, O_ID]
    leaves = order_fill(OR, H, L, SK, SL, M, o, q)
    VM[V_FILLS] += 1
    VM[V_FILL_QTY] += q
    if how == HOW_AHEAD:
        VM[V_FILLS_AHEAD] += 1
    elif how == HOW_THROUGH:
        VM[V_FILLS_THROUGH] += 1
    elif how == HOW_CROSS:
        VM[V_FILLS_CROSS] += 1
    elif how == HOW_HIDDEN:
        VM[V_FILLS_HIDDEN] += 1
    else:
        VM[V_FILLS_PEG] += 1
    return _push(FB, nfb, oid, px, q, leaves, ahead, ts, how)


@njit(cache=True)
def _fill_level(OR, H, L, SK, SL, M, VM, FB, nfb, lv, stop_o, rem, ts, how):
    """Fill our orders of level ``lv`` in queue order, before ``stop_o`` (-1: the whole
    level), with up to ``rem`` lots; tape orders in between are passed over."""
    px = L[lv, L_PRICE]
    o = L[lv, L_HEAD]
    while o >= 0 and rem > 0 and o != stop_o:
        nx = OR[o, O_NEXT]
        if OR[o, O_ID] < 0:
            q = min(rem, OR[o, O_QTY])
            last = nx < 0
            FB, nfb = _fill_ours(OR, H, L, SK, SL, M, VM, FB, nfb, o, q, px, ts, how)
            rem -= q
            # an iceberg refilled at the back of a queue it was already last in comes round again
            if last and OR[o, O_SIDE] != 0 and OR[o, O_QTY] > 0 and stop_o < 0:
                nx = o
        o = nx
    return rem, FB, nfb


@njit(cache=True)
def _fill_front(OR, H, L, SK, SL, M, VM, FB, nfb, lv, rem, ts):
    """Fill our orders at the head of level ``lv`` with up to ``rem`` lots, stopping at the first
    visible quantity of the tape (anonymous lots or a tape order): displayed orders with nothing
    displayed ahead of them have priority over the hidden order the tape executed."""
    if L[lv, L_ANON] > 0:
        return rem, FB, nfb
    px = L[lv, L_PRICE]
    o = L[lv, L_HEAD]
    while o >= 0 and rem > 0 and OR[o, O_ID] < 0:
        nx = OR[o, O_NEXT]
        q = min(rem, OR[o, O_QTY])
        last = nx < 0
        FB, nfb = _fill_ours(OR, H, L, SK, SL, M, VM, FB, nfb, o, q, px, ts, HOW_HIDDEN)
        rem -= q
        # an iceberg of ours refilled alone in its queue is displayed again, still ahead
        if last and OR[o, O_SIDE] != 0 and OR[o, O_QTY] > 0:
            nx = o
        o = nx
    return rem, FB, nfb


@njit(cache=True)
def _fill_pegs(OR, H, L, SK, SL, M, VM, FB, nfb, si, mid, rem, ts):
    while rem > 0 and M[M_PH + si] >= 0:
        o = M[M_PH + si]
        q = min(rem, OR[o, O_QTY])
        FB, nfb = _fill_ours(OR, H, L, SK, SL, M, VM, FB, nfb, o, q, mid, ts, HOW_PEG)
        rem -= q
    return rem, FB, nfb


@njit(cache=True, inline="always")
def _better(side, a, b):
    # is price a strictly better than b for a resting order on ``side``?
    return a > b if side > 0 else a < b


@njit(cache=True)
def _trading(M):
    st = M[M_STATUS]
    return st < 0 or st == _ST_TRADING


@njit(cache=True)
def _absorb_execution(OR, H, L, SK, SL, M, VM, FB, nfb, s, px, q, o, ts, ok_mid, mid):
    """A tape execution of ``q`` lots against resting order ``o`` (-1: not in the book) at
    ``px`` on side ``s``: our orders with priority over it take the volume first.

    Priority: our midpoint pegs of side ``s`` (the mid is inside the spread), our orders at
    prices better than ``px`` (best first, queue order), then our orders ahead of ``o`` in its
    queue. Return (lots taken by us, FB, nfb).
    """
    si = side_index(s)
    rem = q
    if ok_mid and M[M_NPEG + si] > 0:
        rem, FB, nfb = _fill_pegs(OR, H, L, SK, SL, M, VM, FB, nfb, si, mid, rem, ts)
    pos = M[M_NB + si] - 1
    while rem > 0 and pos >= 0:
        lv = SL[si, pos]
        lp = L[lv, L_PRICE]
        if not _better(s, lp, px):
            break
        rem, FB, nfb = _fill_level(OR, H, L, SK, SL, M, VM, FB, nfb, lv, -1, rem, ts, HOW_THROUGH)
        pos -= 1
    if rem > 0 and o >= 0:
        lv = OR[o, O_LEVEL]
        if lv >= 0:
            rem, FB, nfb = _fill_level(OR, H, L, SK, SL, M, VM, FB, nfb, lv, o, rem, ts, HOW_AHEAD)
    return q - rem, FB, nfb


@njit(cache=True)
def _absorb_add(OR, H, L, SK, SL, M, VM, FB, nfb, s, px, q, ts, ok_mid, mid):
    """A tape order of ``q`` lots added on side ``s`` at ``px`` that crosses our resting
    orders on the other side trades with them first (pegs, then best price, queue order)."""
    cs = -s
    csi = side_index(cs)
    rem = q
    # a contra peg rests at the mid: the new order reaches it if its limit crosses the mid
    if ok_mid and M[M_NPEG + csi] > 0 and (mid >= px if s < 0 else mid <= px):
        rem, FB, nfb = _fill_pegs(OR, H, L, SK, SL, M, VM, FB, nfb, csi, mid, rem, ts)
    pos = M[M_NB + csi] - 1
    while rem > 0 and pos >= 0:
        lv = SL[csi, pos]
        lp = L[lv, L_PRICE]
        if (lp < px) if cs > 0 else (lp > px):
            break
        rem, FB, nfb = _fill_level(OR, H, L, SK, SL, M, VM, FB, nfb, lv, -1, rem, ts, HOW_CROSS)
        pos -= 1
    return q - rem, FB, nfb


@njit(cache=True)
def absorb_hidden(OR, H, L, SK, SL, M, VM, FB, nfb, s, px, q, ts):
    """A hidden execution (TRADE with ``F_HIDDEN``) of ``q`` lots at ``px`` by an aggressor on
    side ``s``: our resting orders on the passive side that the aggressor met first take it.

    Order: our midpoint pegs when the mid is strictly better than ``px`` for the aggressor, our
    orders at prices strictly better than ``px`` (a trade-through: best first, queue order), then
    our orders at ``px`` with no visible quantity ahead of them (displayed orders have priority
    over non-displayed ones at one price). The print never changes the visible book. Called only
    when we have orders on the passive side. Return (lots taken, FB, nfb).
    """
    if q <= 0 or (s != 1 and s != -1):
        return 0, FB, nfb
    if not _trading(M):
        VM[V_HALTED_EXECS] += 1
        return 0, FB, nfb
    ps = -s
    psi = side_index(ps)
    rem = q
    ok_mid, mid = mid_price(L, SL, M)
    if ok_mid and M[M_NPEG + psi] > 0 and _better(ps, mid, px):
        rem, FB, nfb = _fill_pegs(OR, H, L, SK, SL, M, VM, FB, nfb, psi, mid, rem, ts)
    pos = M[M_NB + psi] - 1
    while rem > 0 and pos >= 0:
        lv = SL[psi, pos]
        lp = L[lv, L_PRICE]
        if _better(ps, lp, px):
            rem, FB, nfb = _fill_level(OR, H, L, SK, SL, M, VM, FB, nfb, lv, -1, rem, ts, HOW_THROUGH)
        elif lp == px:
            rem, FB, nfb = _fill_front(OR, H, L, SK, SL, M, VM, FB, nfb, lv, rem, ts)
            break
        else:
            break
        pos -= 1
    VM[V_ABSORBED] += q - rem
    return q - rem, FB, nfb


# --------------------------------------------------------------------------- tape orders
@njit(cache=True)
def _tape_reduce(OR, H, L, SK, SL, M, SH, VM, oid, o, e, s, q_tape, q_book):
    """The tape takes ``q_tape`` lots off tape order ``oid`` (slot ``o``, shadow row ``e``);
    ``q_book`` of them come off the book's order (the rest went to our orders).

    The order leaves the book when the tape's quantity reaches zero, whatever it still holds
    here; reductions beyond what it holds here are clamped and counted.
    """
    B = OR[o, O_QTY] if o >= 0 else 0
    d = SH[e, SH_VAL] if e >= 0 else 0
    if d > 0:
        VM[V_SHADOW_EVENTS] += 1
    T = B + d
    tn = T - q_tape
    take = min(q_book, B)
    clamp = q_book - take
    if clamp > 0:
        if d > 0:
            VM[V_SHADOW_CLAMPS] += 1
            VM[V_SHADOW_CLAMPED_QTY] += clamp
        else:
            M[S_INCONSISTENT] += 1
    if tn <= 0:
        if o >= 0:
            if B - take > 0:
                VM[V_SURPLUS_DROPPED] += B - take
            order_remove(OR, H, L, SK, SL, M, o)
        if e >= 0:
            sh_delete_row(SH, VM, e)
        if tn < 0 and clamp == 0:
            M[S_INCONSISTENT] += 1
        return take
    bn = B - take
    if o >= 0:
        if bn == 0:
            order_remove(OR, H, L, SK, SL, M, o)
        else:
            OR[o, O_QTY] = bn
            L[OR[o, O_LEVEL], L_QTY] -= take
    dn = tn - bn
    if dn == 0:
        if e >= 0:
            sh_delete_row(SH, VM, e)
    elif e >= 0:
        SH[e, SH_VAL] = dn
    else:
        sh_put(SH, VM, oid, dn, s)
    return take


@njit(cache=True)
def _set_level(OR, H, L, SK, SL, M, VM, side, price, q):
    """SET_LEVEL that leaves our orders alone: the tape's total ``q`` counts tape quantity
    only, so anonymous = q − (known tape orders), trimming the newest tape orders if needed."""
    lv = lvl_find(SK, SL, M, side, price)
    if lv < 0:
        if q <= 0:
            return
        lv = lvl_get_or_create(L, SK, SL, M, side, price)
    ours = 0
    if VM[V_OURS + side_index(side)] > 0:
        o = L[lv, L_HEAD]
        while o >= 0:
            if OR[o, O_ID] < 0:
                ours += OR[o, O_QTY]
            o = OR[o, O_NEXT]
    if q < 0:
        q = 0
    known = L[lv, L_QTY] - L[lv, L_ANON] - ours
    if known > q:
        excess = known - q
        o = L[lv, L_TAIL]
        while excess > 0 and o >= 0:
            prev = OR[o, O_PREV]
            if OR[o, O_ID] >= 0:
                excess = trim_order(OR, H, L, M, lv, o, excess)
            o = prev
        known = L[lv, L_QTY] - L[lv, L_ANON] - ours
    L[lv, L_ANON] = q - known
    L[lv, L_QTY] = q + ours
    lvl_drop_if_empty(L, SK, SL, M, lv)


@njit(cache=True)
def _clear_side(OR, H, L, SK, SL, M, si):
    """Remove the tape's orders and anonymous quantity of one side; ours stay where they are."""
    n = M[M_NB + si]
    for pos in range(n - 1, -1, -1):
        lv = SL[si, pos]
        o = L[lv, L_HEAD]
        while o >= 0:
            nx = OR[o, O_NEXT]
            if OR[o, O_ID] >= 0:
                order_unlink(OR, L, o)
                order_free(OR, H, M, o)
            o = nx
        L[lv, L_QTY] -= L[lv, L_ANON]
        L[lv, L_ANON] = 0
        if L[lv, L_HEAD] < 0:
            lvl_remove(L, SK, SL, M, lv)


@njit(cache=True)
def absorb(OR, H, L, SK, SL, M, VM, FB, nfb, k, s, px, q, oid, ts):
    """Let our resting orders take the volume of a tape EXECUTE or a crossing ADD first.

    Called only when we have orders on the side concerned. Return (lots taken, FB, nfb);
    :func:`apply_tape_event` then applies the event's remainder.
    """
    if oid < 0 or q <= 0 or (s != 1 and s != -1):
        return 0, FB, nfb
    if not _trading(M):
        if k == K_EXECUTE:
            VM[V_HALTED_EXECS] += 1
        return 0, FB, nfb
    ok_mid, mid = mid_price(L, SL, M)
    took = 0
    if k == K_ADD:
        if h_find(H, M, oid) >= 0:
            return 0, FB, nfb  # a duplicate id: apply_tape_event rejects it
        took, FB, nfb = _absorb_add(OR, H, L, SK, SL, M, VM, FB, nfb, s, px, q, ts, ok_mid, mid)
        if took > 0:
            VM[V_CROSSING_ADDS] += 1
    else:
        o = h_find(H, M, oid)
        lpx = OR[o, O_PRICE] if o >= 0 else px
        took, FB, nfb = _absorb_execution(OR, H, L, SK, SL, M, VM, FB, nfb, s, lpx, q, o, ts, ok_mid, mid)
    VM[V_ABSORBED] += took
    return took, FB, nfb


@njit(cache=True)
def apply_tape_event(OR, H, L, SK, SL, M, REJ, SH, VM, k, s, px, q, oid, sq, fl, took):
    """Apply one tape event with our orders in the book, ``took`` lots of which (an EXECUTE
    or ADD) already went to our orders (:func:`absorb`)."""
    M[S_EVENTS] += 1
    VM[V_EVENTS] += 1
    if oid < 0 and k in (K_ADD, K_CANCEL, K_DELETE, K_EXECUTE):
        VM[V_BAD_IDS] += 1
        return
    if k == K_ADD:
        M[S_ADD] += 1
        if s != 1 and s != -1:
            reject(M, REJ, sq, R_BAD_SIDE)
        elif q <= 0:
            reject(M, REJ, sq, R_BAD_QTY)
        elif h_find(H, M, oid) >= 0:
            reject(M, REJ, sq, R_DUPLICATE_ID)
        else:
            if took > 0:
                sh_put(SH, VM, oid, took, s)
            if q - took > 0:
                lv = lvl_get_or_create(L, SK, SL, M, s, px)
                o = order_alloc(OR, H, M, oid, s, px, q - took)
                order_append(OR, L, o, lv)
    elif k == K_DELETE:
        M[S_DELETE] += 1
        o = h_find(H, M, oid)
        e = sh_find(SH, VM, oid)
        if e >= 0:
            d = SH[e, SH_VAL]
            if d > 0:
                VM[V_SHADOW_EVENTS] += 1
            elif o >= 0:
                VM[V_SURPLUS_DROPPED] += -d
            sh_delete_row(SH, VM, e)
        if o >= 0:
            order_remove(OR, H, L, SK, SL, M, o)
        elif e < 0:
            reduce_anonymous(L, SK, SL, M, s, px, q)
    elif k in (K_CANCEL, K_EXECUTE):
        if k == K_CANCEL:
            M[S_CANCEL] += 1
        else:
            M[S_EXECUTE] += 1
        if q <= 0:
            reject(M, REJ, sq, R_BAD_QTY)
            return
        o = h_find(H, M, oid)
        e = sh_find(SH, VM, oid)
        if o >= 0 or e >= 0:
            done = _tape_reduce(OR, H, L, SK, SL, M, SH, VM, oid, o, e, s, q, q - took)
        elif q - took > 0:
            done = reduce_anonymous(L, SK, SL, M, s, px, q - took)
        else:
            M[S_UNKNOWN] += 1  # an unknown order's execution that went to us entirely
            done = 0
        if k == K_EXECUTE:
            M[S_EXEC_QTY] += done
    elif k == K_TRADE:
        M[S_TRADE] += 1
        M[S_TRADE_QTY] += q
        if fl & F_HIDDEN:
            VM[V_HIDDEN_TRADES] += 1
    elif k == K_SET_LEVEL:
        M[S_SET_LEVEL] += 1
        if s != 1 and s != -1:
            reject(M, REJ, sq, R_BAD_SIDE)
        else:
            _set_level(OR, H, L, SK, SL, M, VM, s, px, q)
    elif k == K_CLEAR:
        M[S_CLEAR] += 1
        if s == 0:
            _clear_side(OR, H, L, SK, SL, M, 0)
            _clear_side(OR, H, L, SK, SL, M, 1)
            sh_clear_side(SH, VM, 0)
        elif s == 1 or s == -1:
            _clear_side(OR, H, L, SK, SL, M, side_index(s))
            sh_clear_side(SH, VM, s)
        else:
            reject(M, REJ, sq, R_BAD_SIDE)
    elif k == K_HALT:
        M[S_HALT] += 1
        M[M_STATUS] = q
    else:
        reject(M, REJ, sq, R_BAD_KIND)


@njit(cache=True)
def replay(
    OR, H, L, SK, SL, M, REJ, SH, VM, FB, ts, kind, side, price, qty, oid, seq, flags, start, until_ns
):  # fmt: skip
    """Apply tape events ``start..`` while ``ts <= until_ns``.

    Return (next index, code, FB, nfb): ``RC_FILLED`` right after the first event that filled
    one of our orders (its fills in ``FB[:nfb]``), ``RC_REACHED`` when the next event is later
    than ``until_ns``, ``RC_END`` at the end of the arrays, or a ``NEED_*`` code (nothing of
    that event applied) when a pool must grow first.
    """
    n = ts.shape[0]
    nfb = 0
    for i in range(start, n):
        t = ts[i]
        if t > until_ns:
            return i, RC_REACHED, FB, nfb
        k = np.int64(kind[i])
        c = room_for(OR, H, L, M, k)
        if c != OK:
            return i, c, FB, nfb
        if (VM[V_SH_USED] + 2) * 2 > SH.shape[0]:
            return i, NEED_SHADOW, FB, nfb
        s = np.int64(side[i])
        took = 0
        # the fill buffer only travels on the rare path where our orders may take volume
        if s == 1 or s == -1:
            # an execution reaches our orders on its side; an add, or a hidden execution (whose
            # side is the aggressor's), our orders on the other side
            ours = VM[V_OURS + side_index(s)] if k == K_EXECUTE else VM[V_OURS + side_index(-s)]
            if ours > 0:
                if k in (K_EXECUTE, K_ADD):
                    took, FB, nfb = absorb(
                        OR, H, L, SK, SL, M, VM, FB, nfb, k, s, price[i], qty[i], oid[i], t
                    )
                elif k == K_TRADE and (flags[i] & F_HIDDEN) and not (flags[i] & F_CROSS):
                    _, FB, nfb = absorb_hidden(OR, H, L, SK, SL, M, VM, FB, nfb, s, price[i], qty[i], t)
        apply_tape_event(
            OR, H, L, SK, SL, M, REJ, SH, VM, k, s, price[i], qty[i], oid[i], seq[i], np.int64(flags[i]), took
        )  # fmt: skip
        if nfb > 0:
            return i + 1, RC_FILLED, FB, nfb
    return n, RC_END, FB, nfb
