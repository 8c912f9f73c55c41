# mypy: allow-untyped-defs
# (numba types the kernels from their arguments; annotations would only restate the layout below)
"""Compiled kernels of the L3 (order-by-order) book. Private: use :class:`execsim.book.L3Book`.

State layout (all ``int64`` numpy arrays, owned by the Python wrapper, passed to every kernel):

``OR`` (order_cap, NOF)
    Order slots, one row per order, columns ``O_*``. A free slot has ``O_SIDE == 0`` and its
    ``O_NEXT`` links the free list. Orders of one level form a doubly linked FIFO list
    (``O_PREV`` / ``O_NEXT``), head = oldest.
``H`` (hash_cap, 2)
    Open-addressing (linear probing) hash table order_id → slot: ``H[i, 0]`` key,
    ``H[i, 1]`` slot, ``H_EMPTY`` or ``H_TOMB`` (a deleted entry keeps probe chains intact).
``L`` (level_cap, NLF)
    Price-level slots, columns ``L_*``. ``L_QTY`` is the level's total visible quantity,
    ``L_ANON`` the part of it held by orders the book does not know (they rested before the
    data window); anonymous quantity is at the head of the queue, ahead of every known order.
``SK``, ``SL`` (2, level_cap)
    Per side (row 0 bids, row 1 asks) the live levels sorted by *key*, ascending, where key is
    ``price`` for bids and ``-price`` for asks, so the best level is always the last one: the
    busy end of the book moves the fewest entries on insert/remove, and any sparse or wide
    price range costs nothing (no dense tick window to re-centre). ``SL`` holds level slots.
``M`` (META_SIZE,)
    Counters: allocation cursors, level counts, hash fill, trading status and statistics.
``REJ`` (REJ_CAP, 2)
    The first ``REJ_CAP`` rejected events as (seq, reason code).

Kernels never raise on bad input: they count it in ``M`` and go on. When a pool is full they
stop *before* the event that needs room and return a ``NEED_*`` code with its index; the
wrapper grows the arrays and calls again from that index, so nothing is ever dropped.
"""

from __future__ import annotations

import numpy as np

from execsim.core.jit import njit
from execsim.data.schema import (
    K_ADD,
    K_CANCEL,
    K_CLEAR,
    K_DELETE,
    K_EXECUTE,
    K_HALT,
    K_SET_LEVEL,
    K_TRADE,
)

# ---- order columns
O_ID = 0
O_SIDE = 1  # 1 bid, -1 ask, 0 free slot
O_PRICE = 2
O_QTY = 3  # displayed (visible) remaining quantity
O_PREV = 4
O_NEXT = 5
O_LEVEL = 6  # level slot, -1 when not in a price level (e.g. a midpoint peg)
O_HIDDEN = 7  # iceberg reserve, not visible
O_PEAK = 8  # iceberg display size (0: not an iceberg)
O_OWNER = 9
O_TS = 10
O_FLAGS = 11  # FL_* bits
O_SEQ = 12  # arrival sequence (matching engine; time priority among pegs)
O_CUM = 13  # cumulative filled quantity (matching engine)
NOF = 16

# ---- order flags
FL_PEG = 1  # midpoint peg: not in a price level, kept in its side's peg FIFO
FL_POST_ONLY = 2
FL_ICEBERG = 4

# ---- level columns
L_PRICE = 0
L_SIDE = 1  # 0 when the slot is free
L_QTY = 2
L_ANON = 3
L_HEAD = 4  # also the free-list link of a free slot
L_TAIL = 5
L_NORD = 6
L_HIDDEN = 7  # iceberg reserves of the level's orders (not visible)
NLF = 8

# ---- hash
H_EMPTY = -1
H_TOMB = -2

# ---- meta indices
M_NORD = 0  # resting (known) orders
M_OFREE = 1  # head of the free order-slot list, -1 if none
M_OHWM = 2  # order slots [OHWM, cap) were never used
M_LFREE = 3
M_LHWM = 4
M_NB = 5  # live bid levels; M_NB + 1 = live ask levels
M_HBITS = 7  # log2 of the hash size
M_HUSED = 8  # hash entries that are live or tombstones
M_HLIVE = 9
M_STATUS = 10  # trading status code of the last HALT, -1 when none seen
# statistics
S_EVENTS = 16
S_ADD = 17
S_CANCEL = 18
S_DELETE = 19
S_EXECUTE = 20
S_TRADE = 21
S_SET_LEVEL = 22
S_CLEAR = 23
S_HALT = 24
S_UNKNOWN = 25
S_INCONSISTENT = 26
S_TRIMS = 27
S_REJECTED = 28
S_EXEC_QTY = 29
S_TRADE_QTY = 30
# midpoint-peg FIFOs (matching engine): head / tail slot per side index, and count
M_PH = 32  # +si
M_PT = 34  # +si
M_NPEG = 36  # +si
M_ARRIVAL = 38  # next arrival sequence number
META_SIZE = 64

STAT_NAMES = {
    "events_applied": S_EVENTS,
    "adds": S_ADD,
    "cancels": S_CANCEL,
    "deletes": S_DELETE,
    "executes": S_EXECUTE,
    "trades": S_TRADE,
    "set_levels": S_SET_LEVEL,
    "clears": S_CLEAR,
    "halts": S_HALT,
    "unknown_order_events": S_UNKNOWN,
    "inconsistent_reductions": S_INCONSISTENT,
    "reveal_trims": S_TRIMS,
    "rejected_events": S_REJECTED,
    "executed_qty": S_EXEC_QTY,
    "traded_qty": S_TRADE_QTY,
}

# ---- rejection reasons
REJ_CAP = 64
R_DUPLICATE_ID = 1
R_BAD_QTY = 2
R_BAD_SIDE = 3
R_BAD_KIND = 4
REJECT_REASONS = {
    R_DUPLICATE_ID: "duplicate order id",
    R_BAD_QTY: "quantity <= 0",
    R_BAD_SIDE: "side must be 1 or -1",
    R_BAD_KIND: "unknown event kind",
}

# ---- kernel return codes
OK = 0
NEED_ORDERS = 1
NEED_LEVELS = 2
NEED_HASH = 3

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


# --------------------------------------------------------------------------- result buffers
@njit(cache=True)
def grow_rows(B, n):
    """Return ``B``, or when its ``n`` rows are all used a copy with twice as many rows.

    For the growable ``int64`` result buffers of the kernels: call before writing row ``n``.
    """
    if n < B.shape[0]:
        return B
    G = np.zeros((2 * B.shape[0], B.shape[1]), dtype=np.int64)
    # an element loop, not ``G[:n] = B[:n]``: the slice assignment brings numba's shape-mismatch
    # error formatting (its unicode kernels) into every kernel that grows a buffer, about 2 s of
    # compilation on a first run for a copy that is rare and cheap
    for i in range(n):
        for j in range(B.shape[1]):
            G[i, j] = B[i, j]
    return G


# --------------------------------------------------------------------------- hash table
@njit(cache=True, inline="always")
def h_slot(key, bits):
    """Return the home slot of ``key`` in a table of 2**bits rows (shared with the venue's)."""
    # Fibonacci hashing: the top bits of key × 2^64/φ spread sequential ids evenly
    x = np.uint64(key) * _GOLDEN
    return np.int64(x >> np.uint64(64 - bits))


@njit(cache=True, inline="always")
def _h_row(H, M, key):
    # the table row holding live ``key``, or -1
    mask = H.shape[0] - 1
    i = h_slot(key, M[M_HBITS])
    while True:
        v = H[i, 1]
        if v == H_EMPTY:
            return -1
        if v >= 0 and H[i, 0] == key:
            return i
        i = (i + 1) & mask


@njit(cache=True)
def h_find(H, M, key):
    """Return the order slot of ``key``, or -1."""
    i = _h_row(H, M, key)
    return H[i, 1] if i >= 0 else -1


@njit(cache=True)
def h_insert(H, M, key, slot):
    """Insert ``key → slot``; the caller knows ``key`` is absent and the table has room."""
    mask = H.shape[0] - 1
    i = h_slot(key, M[M_HBITS])
    while H[i, 1] >= 0:
        i = (i + 1) & mask
    if H[i, 1] == H_EMPTY:
        M[M_HUSED] += 1
    H[i, 0] = key
    H[i, 1] = slot
    M[M_HLIVE] += 1


@njit(cache=True)
def h_delete(H, M, key):
    """Remove ``key`` (leaves a tombstone)."""
    i = _h_row(H, M, key)
    if i >= 0:
        H[i, 1] = H_TOMB
        M[M_HLIVE] -= 1


@njit(cache=True)
def h_rebuild(OR, H, M, bits):
    """Refill ``H`` (already sized 2**bits) from the live order slots."""
    H[:, 0] = 0
    H[:, 1] = H_EMPTY
    M[M_HBITS] = bits
    M[M_HUSED] = 0
    M[M_HLIVE] = 0
    for o in range(M[M_OHWM]):
        if OR[o, O_SIDE] != 0:
            h_insert(H, M, OR[o, O_ID], o)


# --------------------------------------------------------------------------- levels
@njit(cache=True, inline="always")
def side_index(side):
    return 0 if side > 0 else 1


@njit(cache=True)
def lvl_lower_bound(SK, n, si, key):
    """First position in side ``si`` whose key is >= ``key``."""
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) >> 1
        if SK[si, mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def lvl_find(SK, SL, M, side, price):
    """Return the level slot at (side, price), or -1."""
    si = side_index(side)
    key = price if side > 0 else -price
    n = M[M_NB + si]
    pos = lvl_lower_bound(SK, n, si, key)
    if pos < n and SK[si, pos] == key:
        return SL[si, pos]
    return -1


@njit(cache=True)
def lvl_get_or_create(L, SK, SL, M, side, price):
    """Return the level slot at (side, price), creating an empty level if needed."""
    si = side_index(side)
    key = price if side > 0 else -price
    n = M[M_NB + si]
    pos = lvl_lower_bound(SK, n, si, key)
    if pos < n and SK[si, pos] == key:
        return SL[si, pos]
    lv = M[M_LFREE]
    if lv >= 0:
        M[M_LFREE] = L[lv, L_HEAD]
    else:
        lv = M[M_LHWM]
        M[M_LHWM] = lv + 1
    L[lv, L_PRICE] = price
    L[lv, L_SIDE] = side
    L[lv, L_QTY] = 0
    L[lv, L_ANON] = 0
    L[lv, L_HEAD] = -1
    L[lv, L_TAIL] = -1
    L[lv, L_NORD] = 0
    L[lv, L_HIDDEN] = 0
    for j in range(n, pos, -1):
        SK[si, j] = SK[si, j - 1]
        SL[si, j] = SL[si, j - 1]
    SK[si, pos] = key
    SL[si, pos] = lv
    M[M_NB + si] = n + 1
    return lv


@njit(cache=True)
def lvl_remove(L, SK, SL, M, lv):
    """Remove level ``lv`` from its side and free the slot (its orders must be gone)."""
    side = L[lv, L_SIDE]
    si = side_index(side)
    price = L[lv, L_PRICE]
    key = price if side > 0 else -price
    n = M[M_NB + si]
    pos = lvl_lower_bound(SK, n, si, key)
    for j in range(pos, n - 1):
        SK[si, j] = SK[si, j + 1]
        SL[si, j] = SL[si, j + 1]
    M[M_NB + si] = n - 1
    L[lv, L_SIDE] = 0
    L[lv, L_HEAD] = M[M_LFREE]
    M[M_LFREE] = lv


@njit(cache=True)
def lvl_drop_if_empty(L, SK, SL, M, lv):
    if L[lv, L_QTY] <= 0 and L[lv, L_NORD] == 0:
        lvl_remove(L, SK, SL, M, lv)


# --------------------------------------------------------------------------- orders
@njit(cache=True)
def order_alloc(OR, H, M, oid, side, price, qty):
    """Take a free slot for a new order and register its id; return the slot."""
    o = M[M_OFREE]
    if o >= 0:
        M[M_OFREE] = OR[o, O_NEXT]
    else:
        o = M[M_OHWM]
        M[M_OHWM] = o + 1
    OR[o, O_ID] = oid
    OR[o, O_SIDE] = side
    OR[o, O_PRICE] = price
    OR[o, O_QTY] = qty
    OR[o, O_PREV] = -1
    OR[o, O_NEXT] = -1
    OR[o, O_LEVEL] = -1
    OR[o, O_HIDDEN] = 0
    OR[o, O_PEAK] = 0
    OR[o, O_OWNER] = 0
    OR[o, O_TS] = 0
    OR[o, O_FLAGS] = 0
    OR[o, O_SEQ] = 0
    OR[o, O_CUM] = 0
    h_insert(H, M, oid, o)
    M[M_NORD] += 1
    return o


@njit(cache=True)
def order_free(OR, H, M, o):
    """Forget order slot ``o`` (already unlinked from any queue)."""
    h_delete(H, M, OR[o, O_ID])
    OR[o, O_SIDE] = 0
    OR[o, O_NEXT] = M[M_OFREE]
    M[M_OFREE] = o
    M[M_NORD] -= 1


@njit(cache=True)
def order_append(OR, L, o, lv):
    """Link order ``o`` at the back of level ``lv``'s queue and add its visible quantity."""
    t = L[lv, L_TAIL]
    OR[o, O_PREV] = t
    OR[o, O_NEXT] = -1
    OR[o, O_LEVEL] = lv
    if t >= 0:
        OR[t, O_NEXT] = o
    else:
        L[lv, L_HEAD] = o
    L[lv, L_TAIL] = o
    L[lv, L_NORD] += 1
    L[lv, L_QTY] += OR[o, O_QTY]
    L[lv, L_HIDDEN] += OR[o, O_HIDDEN]


@njit(cache=True)
def order_unlink(OR, L, o):
    """Take order ``o`` out of its level's queue and subtract its visible quantity."""
    lv = OR[o, O_LEVEL]
    p = OR[o, O_PREV]
    nx = OR[o, O_NEXT]
    if p >= 0:
        OR[p, O_NEXT] = nx
    else:
        L[lv, L_HEAD] = nx
    if nx >= 0:
        OR[nx, O_PREV] = p
    else:
        L[lv, L_TAIL] = p
    L[lv, L_NORD] -= 1
    L[lv, L_QTY] -= OR[o, O_QTY]
    L[lv, L_HIDDEN] -= OR[o, O_HIDDEN]
    OR[o, O_PREV] = -1
    OR[o, O_NEXT] = -1
    OR[o, O_LEVEL] = -1
    return lv


@njit(cache=True)
def peg_append(OR, M, o, si):
    """Link midpoint-peg order ``o`` at the back of side ``si``'s peg FIFO."""
    t = M[M_PT + si]
    OR[o, O_PREV] = t
    OR[o, O_NEXT] = -1
    OR[o, O_LEVEL] = -1
    if t >= 0:
        OR[t, O_NEXT] = o
    else:
        M[M_PH + si] = o
    M[M_PT + si] = o
    M[M_NPEG + si] += 1


@njit(cache=True)
def peg_unlink(OR, M, o):
    """Take midpoint-peg order ``o`` out of its side's peg FIFO."""
    si = side_index(OR[o, O_SIDE])
    p = OR[o, O_PREV]
    nx = OR[o, O_NEXT]
    if p >= 0:
        OR[p, O_NEXT] = nx
    else:
        M[M_PH + si] = nx
    if nx >= 0:
        OR[nx, O_PREV] = p
    else:
        M[M_PT + si] = p
    M[M_NPEG + si] -= 1
    OR[o, O_PREV] = -1
    OR[o, O_NEXT] = -1


@njit(cache=True)
def order_detach(OR, L, SK, SL, M, o):
    """Take a resting order out of its queue (level or peg FIFO); drop an emptied level."""
    if OR[o, O_FLAGS] & FL_PEG:
        peg_unlink(OR, M, o)
    else:
        lv = order_unlink(OR, L, o)
        lvl_drop_if_empty(L, SK, SL, M, lv)


@njit(cache=True)
def order_remove(OR, H, L, SK, SL, M, o):
    """Remove a resting order from its queue (dropping an emptied level) and free it."""
    order_detach(OR, L, SK, SL, M, o)
    order_free(OR, H, M, o)


@njit(cache=True)
def iceberg_refresh(OR, L, o):
    """Refill an iceberg whose displayed part is used up; it goes to the back of its queue."""
    lv = order_unlink(OR, L, o)
    show = OR[o, O_PEAK]
    if show > OR[o, O_HIDDEN]:
        show = OR[o, O_HIDDEN]
    OR[o, O_QTY] = show
    OR[o, O_HIDDEN] -= show
    order_append(OR, L, o, lv)


@njit(cache=True)
def order_fill(OR, H, L, SK, SL, M, o, q):
    """Execute ``q`` lots (at most its displayed quantity) of resting order ``o``: an iceberg
    used up is refreshed (losing priority), any other used-up order removed.

    Return the lots it still holds (displayed + hidden), 0 when it is gone.
    """
    OR[o, O_QTY] -= q
    OR[o, O_CUM] += q
    peg = OR[o, O_FLAGS] & FL_PEG
    if not peg:
        L[OR[o, O_LEVEL], L_QTY] -= q
    if OR[o, O_QTY] == 0:
        if OR[o, O_HIDDEN] > 0 and not peg:
            iceberg_refresh(OR, L, o)
        else:
            order_remove(OR, H, L, SK, SL, M, o)
            return 0
    return OR[o, O_QTY] + OR[o, O_HIDDEN]


@njit(cache=True)
def order_reduce(OR, H, L, SK, SL, M, o, q):
    """Reduce a resting order's displayed quantity by ``q``; at 0 an iceberg is refreshed
    (losing priority) and any other order is removed.

    Return the quantity actually removed (less than ``q`` when the order showed less).
    """
    have = OR[o, O_QTY]
    if q >= have:
        if OR[o, O_HIDDEN] > 0 and not (OR[o, O_FLAGS] & FL_PEG):
            OR[o, O_QTY] = 0
            L[OR[o, O_LEVEL], L_QTY] -= have
            iceberg_refresh(OR, L, o)
        else:
            order_remove(OR, H, L, SK, SL, M, o)
        return have
    OR[o, O_QTY] = have - q
    if not (OR[o, O_FLAGS] & FL_PEG):
        L[OR[o, O_LEVEL], L_QTY] -= q
    return q


@njit(cache=True)
def queue_position(OR, L, o):
    """Return (lots ahead, known orders ahead) of resting order ``o`` in its level's queue."""
    lv = OR[o, O_LEVEL]
    if lv < 0:
        # a midpoint peg: its place in the side's peg FIFO
        qty = 0
        n = 0
        x = OR[o, O_PREV]
        while x >= 0:
            qty += OR[x, O_QTY]
            n += 1
            x = OR[x, O_PREV]
        return qty, n
    qty = L[lv, L_ANON]
    n = 0
    x = L[lv, L_HEAD]
    while x != o and x >= 0:
        qty += OR[x, O_QTY]
        n += 1
        x = OR[x, O_NEXT]
    return qty, n


# --------------------------------------------------------------------------- events
@njit(cache=True)
def reject(M, REJ, seq, reason):
    n = M[S_REJECTED]
    if n < REJ.shape[0]:
        REJ[n, 0] = seq
        REJ[n, 1] = reason
    M[S_REJECTED] = n + 1


@njit(cache=True)
def clear_side(OR, H, L, SK, SL, M, si):
    """Remove every level and order of one side (0 bids, 1 asks)."""
    n = M[M_NB + si]
    for j in range(n):
        lv = SL[si, j]
        o = L[lv, L_HEAD]
        while o >= 0:
            nx = OR[o, O_NEXT]
            order_free(OR, H, M, o)
            o = nx
        L[lv, L_SIDE] = 0
        L[lv, L_HEAD] = M[M_LFREE]
        M[M_LFREE] = lv
    M[M_NB + si] = 0


@njit(cache=True)
def reduce_anonymous(L, SK, SL, M, side, price, q):
    """An event for an order the book never saw: take ``q`` from the anonymous quantity."""
    M[S_UNKNOWN] += 1
    if side != 1 and side != -1:
        M[S_INCONSISTENT] += 1
        return 0
    lv = lvl_find(SK, SL, M, side, price)
    if lv < 0:
        if q > 0:
            M[S_INCONSISTENT] += 1
        return 0
    anon = L[lv, L_ANON]
    take = q
    if take > anon:
        take = anon
        M[S_INCONSISTENT] += 1
    L[lv, L_ANON] = anon - take
    L[lv, L_QTY] -= take
    lvl_drop_if_empty(L, SK, SL, M, lv)
    return take


@njit(cache=True)
def trim_order(OR, H, L, M, lv, o, excess):
    """Take up to ``excess`` lots off known order ``o`` of level ``lv`` (a depth source says the
    level holds less), freeing it when that is all it shows; return the excess left."""
    have = OR[o, O_QTY]
    M[S_TRIMS] += 1
    if have <= excess:
        order_unlink(OR, L, o)
        order_free(OR, H, M, o)
        return excess - have
    OR[o, O_QTY] = have - excess
    L[lv, L_QTY] -= excess
    return 0


@njit(cache=True)
def set_level(OR, H, L, SK, SL, M, side, price, q):
    """Set the total visible quantity at (side, price) to ``q`` (anonymous = q − known)."""
    lv = lvl_find(SK, SL, M, side, price)
    if lv < 0:
        if q <= 0:
            return
        lv = lvl_get_or_create(L, SK, SL, M, side, price)
    known = L[lv, L_QTY] - L[lv, L_ANON]
    if known > q:
        # the depth source says there is less than the orders we know: trim the newest
        excess = known - q
        o = L[lv, L_TAIL]
        while excess > 0 and o >= 0:
            prev = OR[o, O_PREV]
            excess = trim_order(OR, H, L, M, lv, o, excess)
            o = prev
        known = L[lv, L_QTY] - L[lv, L_ANON]
    if q < 0:
        q = 0
    L[lv, L_ANON] = q - known
    L[lv, L_QTY] = q
    lvl_drop_if_empty(L, SK, SL, M, lv)


@njit(cache=True)
def apply_one(OR, H, L, SK, SL, M, REJ, k, s, px, q, oid, sq):
    """Apply one canonical event (capacity already checked by the caller)."""
    M[S_EVENTS] += 1
    if k == K_ADD:
        M[S_ADD] += 1
        if s != 1 and s != -1:
            reject(M, REJ, sq, R_BAD_SIDE)
        elif q <= 0:
            reject(M, REJ, sq, R_BAD_QTY)
        elif h_find(H, M, oid) >= 0:
            reject(M, REJ, sq, R_DUPLICATE_ID)
        else:
            lv = lvl_get_or_create(L, SK, SL, M, s, px)
            o = order_alloc(OR, H, M, oid, s, px, q)
            order_append(OR, L, o, lv)
    elif k == K_DELETE:
        M[S_DELETE] += 1
        o = h_find(H, M, oid)
        if o >= 0:
            order_remove(OR, H, L, SK, SL, M, o)
        else:
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
        if o >= 0:
            done = order_reduce(OR, H, L, SK, SL, M, o, q)
            if done < q:
                M[S_INCONSISTENT] += 1
        else:
            done = reduce_anonymous(L, SK, SL, M, s, px, q)
        if k == K_EXECUTE:
            M[S_EXEC_QTY] += done
    elif k == K_TRADE:
        M[S_TRADE] += 1
        M[S_TRADE_QTY] += q
    elif k == K_SET_LEVEL:
        M[S_SET_LEVEL] += 1
        if s != 1 and s != -1:
            reject(M, REJ, sq, R_BAD_SIDE)
        else:
            set_level(OR, H, L, SK, SL, M, s, px, q)
    elif k == K_CLEAR:
        M[S_CLEAR] += 1
        if s == 0:
            clear_side(OR, H, L, SK, SL, M, 0)
            clear_side(OR, H, L, SK, SL, M, 1)
        elif s == 1 or s == -1:
            clear_side(OR, H, L, SK, SL, M, side_index(s))
        else:
            reject(M, REJ, sq, R_BAD_SIDE)
    elif k == K_HALT:
        M[S_HALT] += 1
        M[M_STATUS] = q
    else:
        reject(M, REJ, sq, R_BAD_KIND)


@njit(cache=True)
def room_for(OR, H, L, M, k):
    """Return OK if the pools can take event kind ``k``, else the NEED_* code."""
    if k == K_ADD:
        if M[M_OFREE] < 0 and M[M_OHWM] >= OR.shape[0]:
            return NEED_ORDERS
        if (M[M_HUSED] + 1) * 2 > H.shape[0]:
            return NEED_HASH
    if k in (K_ADD, K_SET_LEVEL) and M[M_LFREE] < 0 and M[M_LHWM] >= L.shape[0]:
        return NEED_LEVELS
    return OK


@njit(cache=True)
def apply_events(OR, H, L, SK, SL, M, REJ, kind, side, price, qty, oid, seq, start):
    """Apply events ``start..`` in order; return (next index, OK or NEED_* code)."""
    n = kind.shape[0]
    for i in range(start, n):
        k = np.int64(kind[i])
        c = room_for(OR, H, L, M, k)
        if c != OK:
            return i, c
        apply_one(OR, H, L, SK, SL, M, REJ, k, np.int64(side[i]), price[i], qty[i], oid[i], seq[i])
    return n, OK


@njit(cache=True)
def write_top(L, SL, M, n_levels, row, BP, BQ, AP, AQ):
    """Write the best ``n_levels`` bid and ask levels into row ``row`` (zeros where empty)."""
    for si in range(2):
        n = M[M_NB + si]
        PX = BP if si == 0 else AP
        QT = BQ if si == 0 else AQ
        for j in range(n_levels):
            if j < n:
                lv = SL[si, n - 1 - j]
                PX[row, j] = L[lv, L_PRICE]
                QT[row, j] = L[lv, L_QTY]
            else:
                PX[row, j] = 0
                QT[row, j] = 0


@njit(cache=True)
def replay_top_events(
    OR, H, L, SK, SL, M, REJ, kind, side, price, qty, oid, seq, start, n_levels, BP, BQ, AP, AQ
):
    """Like :func:`apply_events`, writing the top ``n_levels`` after each event into row i."""
    n = kind.shape[0]
    for i in range(start, n):
        k = np.int64(kind[i])
        c = room_for(OR, H, L, M, k)
        if c != OK:
            return i, c
        apply_one(OR, H, L, SK, SL, M, REJ, k, np.int64(side[i]), price[i], qty[i], oid[i], seq[i])
        write_top(L, SL, M, n_levels, i, BP, BQ, AP, AQ)
    return n, OK


@njit(cache=True)
def best_price(L, SL, M, si):
    """Return (True, price) of side ``si``'s best level, or (False, 0) when it is empty."""
    n = M[M_NB + si]
    if n == 0:
        return False, 0
    return True, L[SL[si, n - 1], L_PRICE]


@njit(cache=True)
def mid_price(L, SL, M):
    """Return (True, mid) when both sides are present, uncrossed and the mid is on the tick grid."""
    okb, b = best_price(L, SL, M, 0)
    oka, a = best_price(L, SL, M, 1)
    if not (okb and oka) or b >= a or (a - b) % 2 != 0:
        return False, 0
    return True, (a + b) // 2


@njit(cache=True)
def level_orders(OR, L, lv, out):
    """Write the (order_id, qty) of level ``lv``'s known orders, in queue order; return count."""
    n = 0
    o = L[lv, L_HEAD]
    while o >= 0 and n < out.shape[0]:
        out[n, 0] = OR[o, O_ID]
        out[n, 1] = OR[o, O_QTY]
        n += 1
        o = OR[o, O_NEXT]
    return n
