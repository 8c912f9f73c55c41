# mypy: allow-untyped-defs
# (numba types the kernels from their arguments; annotations would only restate the layout)
"""Compiled agent loop of the agent-based market. Private: use :class:`execsim.agents.AgentMarketVenue`.

The book is the L3 book of :mod:`execsim.book._l3_kernels` and the matching is the matching
engine's (:mod:`execsim.book._matching_kernels`), both called from here without leaving compiled
code: agents and our orders share one book and one set of matching rules. Our orders go through
the engine's full ``submit`` / ``cancel`` / ``modify``; the agents' orders skip its validation
layer, which cannot fail for them (see ``_agent_limit``). This module adds the agents, the
clock, the event recording and the bookkeeping of fills.

State (``int64`` unless said; owned by :class:`execsim.agents.market._MarketState`)
-----------------------------------------------------------------------------------
Book ``OR, H, L, SK, SL, M`` and match buffers ``F, U``: as in the book kernels.
``S`` (NS,) scalars ``S_*``; ``X`` (NX,) float64 scalars ``X_*``; ``P`` (NP,) float64
parameters ``P_*``. ``LSZ/LCW``, ``MSZ/MCW``: limit / market order size tables (sizes,
cumulative weights). ``Z`` (max_orders, NZ) noise-order slots, columns ``Z_*``; ``ZL``
(N_CLASSES, max_orders) the dense list of the occupied slots of each class (fleeting, patient,
deep: ``S[S_ZN + c]`` of them), so that a cancellation picks a uniform resting order of its
class in O(1); ``ZF`` a stack of free slots (``S[S_ZFREE]`` of them). ``MM`` (n_mm, NMM)
market makers, columns ``MM_*``; ``MMH`` (n_mm,) float64 half spreads. ``R`` (N_STREAMS,
block) float64 pre-drawn uniforms of each random stream and ``RP`` (N_STREAMS,) the read
position in each row. ``E`` (cap, NE) recorded events, columns ``E_*``. ``OF`` (cap,
NOF_COLS) fills of *our* resting orders since the caller last read them.

Time and randomness
-------------------
Each population is a Poisson process (``PR_*``) whose rate is its base rate times the market's
activity (times the number of resting orders, for cancellations); it fires when the integral
of its rate reaches an Exp(1) draw, which stays exact when the rate changes in between. Every
random number is read from ``R``, which the Python side fills in blocks from numpy Generators
spawned from the market's SeedSequence, one per process plus one for the clock. Nothing here
calls numba's own RNG, whose state is global per thread: two markets in one process cannot
interfere, and no stream depends on how ``advance`` is chunked. Each event reads a *fixed*
count of numbers from its own stream whatever it decides (``K_EVENT``), so a run with our
orders and its counterfactual without them share the exogenous randomness (the fundamental,
the activity, the arrival draws and the agents' choices) and differ only through the book
and what depends on it.

Order ids
---------
Agent orders have ids ``ID_BASE + (serial << 16) + slot`` where ``slot`` says who owns the
order (``SLOT_MM + 2 m + (0 bid | 1 ask)`` for maker ``m``, the noise slot below ``SLOT_MM``,
``SLOT_TAKER`` for orders that never rest); ids below ``ID_BASE`` are ours.

Kernels never raise; when a pool or buffer is short they return a ``NEED_*`` code *before*
doing anything, the caller makes room and calls again.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from execsim.book import _l3_kernels as _k
from execsim.book import _matching_kernels as _mk
from execsim.core.jit import njit
from execsim.data.schema import (
    F_LAST,
    F_SNAPSHOT,
    F_SYNTHETIC,
    K_ADD,
    K_CANCEL,
    K_CLEAR,
    K_DELETE,
    K_EXECUTE,
    K_TRADE,
)

# numba's typing stubs know neither ``_nrt`` nor the kernels' signatures; the kernels are untyped
_jit: Any = njit


def _hot(inline: str = "never") -> Any:
    """``njit(cache=True)`` without reference counting, for the kernels that run per event.

    Numba's reference counting (NRT) increments and decrements, atomically, the count of every
    array a function receives, on entry and exit; with twenty state arrays per call that was
    more than half of the market's CPU time. These kernels never allocate an array and never
    keep one, so they borrow their arguments and compile with ``_nrt=False`` (an option of
    numba's CPU target). Numba passes that flag down to the functions they call unless those
    set it themselves, and the matching kernels may allocate (they grow their result buffers
    with ``np.zeros``), so every kernel here that calls them (:func:`submit`, :func:`cancel`,
    :func:`modify`, :func:`_market_order`) is compiled by :func:`_counted`, which turns
    reference counting back on for itself and everything below it; those also receive the
    arrays the matching kernels return, and release them.
    """
    return _jit(cache=True, inline=inline, _nrt=False)


def _counted() -> Any:
    """``njit(cache=True)`` with reference counting set explicitly (see :func:`_hot`)."""
    return _jit(cache=True, _nrt=True)


ID_BASE = 1 << 48
SLOT_BITS = 16
SLOT_MASK = (1 << SLOT_BITS) - 1
SLOT_MM = 32_768
SLOT_TAKER = SLOT_MASK
OUR_OWNER = 1
INF = np.iinfo(np.int64).max

# ---- return codes (NEED_ORDERS / NEED_LEVELS / NEED_HASH are the book's)
OK = _k.OK
NEED_ORDERS = _k.NEED_ORDERS
NEED_LEVELS = _k.NEED_LEVELS
NEED_HASH = _k.NEED_HASH
NEED_BUFFERS = 10
NEED_RANDOM = 11
C_REACHED = 20
C_FILLED = 21
C_TRADED = 22

# ---- processes (Poisson clocks) and random streams
PR_LIMIT = 0
PR_MARKET = 1
PR_CANCEL_FAST = 2  # cancellations of fleeting noise orders
PR_CANCEL_SLOW = 3  # cancellations of patient noise orders
PR_CANCEL_FAR = 4  # cancellations of deep noise orders
PR_MOMENTUM = 5
PR_VALUE = 6
N_PROC = 7
N_CLASSES = 3  # noise-order classes: fleeting, patient, deep (PR_CANCEL_FAST + class)
RS_CLOCK = N_PROC  # streams 0..N_PROC-1 are the processes'
N_STREAMS = N_PROC + 1
K_EVENT = 6  # numbers read per process event: 1 inter-arrival + 5 decision
K_CLOCK = 4

# ---- S: int64 scalars
S_NOW = 0
S_CLOCK_NEXT = 1
S_SERIAL = 8
S_NEV = 9
S_RECORD = 10
S_MSG_START = 11
S_LAST_BB = 12
S_LAST_BA = 13
S_NOF = 14
S_ZFREE = 15
S_CLOCK_NS = 16
S_ZN = 17  # +class: noise orders resting in each class (0 fleeting, 1 patient, 2 deep)
# statistics
S_OPS_SUBMIT = 20
S_OPS_CANCEL = 21
S_OPS_EXEC = 22
S_EXEC_QTY = 23
S_N_LIMIT = 24
S_N_MARKET = 25
S_N_CANCEL = 26
S_N_MM_QUOTES = 27
S_N_MOM = 28
S_N_VAL = 29
S_POOL_FULL = 30
S_OUR_FILLS = 31
S_STEPS = 32
S_MOM_POS = 33
S_VAL_POS = 34
S_NOISE_POS = 35
S_N_LATENT = 36
S_STATS_END = 40  # statistics are S[S_OPS_SUBMIT:S_STATS_END]
S_PROC_NEXT = 48  # +p: time of process p's next event (INF: none)
S_TLAST = 56  # +p: when process p's rate last changed
NS = 64

# ---- X: float64 scalars
X_ACT = 0  # log activity (OU)
X_A = 1  # activity multiplier
X_V = 2  # fundamental value (ticks)
X_EF = 3  # fast EMA of the mid
X_ES = 4  # slow EMA of the mid
X_MID = 5  # last mid seen (ticks)
X_V0 = 6
X_EM = 7  # the market makers' anchor: an EMA of the mid
X_RATE = 8  # +p: process p's current rate (per second)
X_WORK = 16  # +p: exponential work left before process p's next event
X_LAT_EMA = 24  # the latent book's slow average of the mid
X_LAT_SELL = 25  # latent sell liquidity shown since the mid last rose above the anchor (lots)
X_LAT_BUY = 26  # ... buy liquidity since it last fell below
X_MKT_SIDE = 27  # side of the last noise market order (0: none yet)
NX = 28

# ---- P: float64 parameters
P_LIMIT_RATE = 0
P_MARKET_RATE = 1
P_FAST_CANCEL = 2  # per fleeting order
P_MOM_RATE = 3  # whole population
P_VAL_RATE = 4
P_P_INSIDE = 5
P_P_AT = 6
P_INSIDE_FRAC = 7
P_BEHIND_MEAN = 8
P_BEHIND_MAX = 9
P_EMPTY_TICKS = 10
P_MM_SIZE = 11
P_MM_SKEW = 12
P_MM_MAXINV = 13
P_MM_REQUOTE = 14
P_MOM_FAST = 15
P_MOM_SLOW = 16
P_MOM_THR = 17
P_MOM_SIZE = 18
P_MOM_MAX = 19
P_VAL_NOISE = 20
P_VAL_THR = 21
P_VAL_PER_TICK = 22
P_VAL_MIN = 23
P_VAL_MAX = 24
P_FUND_VOL = 25
P_FUND_REV = 26
P_ACT_VOL = 27
P_ACT_TAU = 28
P_CLOCK_S = 29
P_SLOW_CANCEL = 30  # per patient order
P_FLEET_INSIDE = 31  # share of fleeting orders among those placed inside the spread
P_FLEET_OTHER = 32  # ... among the others
P_MM_FUND_W = 33  # weight of the fundamental value in the market makers' reference price
P_INSIDE_MEAN = 34  # mean improvement of an order placed inside the spread (ticks)
P_P_FAR = 35  # share of the orders placed behind the touch that go uniformly deep
P_FAR_MAX = 36  # depth of that uniform placement (ticks)
P_FAR_CANCEL = 37  # per deep order
P_MM_ACT_ELAST = 38  # the makers' half spreads scale with activity ** this
P_DEEP_MIN = 39  # smallest size of a deep order
P_MM_ANCHOR_W = 40  # weight of the anchor (a slow average of the mid) in the makers' reference
P_MM_ANCHOR_S = 41  # time constant of that average (s)
P_LAT_DENSITY = 42  # latent liquidity per tick of distance from its anchor, per tick (lots)
P_LAT_FUND_W = 43  # weight of the fundamental value in the latent book's anchor
P_LAT_TAU = 44  # time constant of the slow average of the mid in that anchor (s)
P_MKT_PERSIST = 45  # probability that a noise market order repeats the last one's side
NP = 48

# ---- market makers
MM_INV = 0
MM_BID = 1  # resting bid id, 0 if none
MM_ASK = 2
MM_NEXT = 3  # time of the pending requote, -1 if none
MM_LAT = 4
MM_BOUGHT = 5
MM_SOLD = 6
MM_BPX = 7  # price and lots left of the resting bid (valid while MM_BID != 0)
MM_BQ = 8
MM_APX = 9
MM_AQ = 10
NMM = 12

# ---- noise-order slots
Z_OID = 0  # resting order id, 0: free slot
Z_CLS = 1  # 0 fleeting, 1 patient
Z_POS = 2  # position in its class's dense list ZL
NZ = 3

# ---- recorded events
E_TS = 0
E_KIND = 1
E_SIDE = 2
E_PRICE = 3
E_QTY = 4
E_OID = 5
E_FLAGS = 6
NE = 7

# ---- fills of our resting orders
OF_TS = 0
OF_ID = 1
OF_PRICE = 2
OF_QTY = 3
OF_LEAVES = 4
OF_AHEAD = 5
NOF_COLS = 6


# =========================================================================== small helpers
@_hot(inline="always")
def _u(R, RP, s):
    x = R[s, RP[s]]
    RP[s] += 1
    return x


@_hot()
def _normal(u1, u2):
    # Box–Muller; 1 − u keeps the log finite for u = 0
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


@_hot()
def _pick(CW, VAL, u):
    """Draw from a discrete table: first index whose cumulative weight exceeds ``u``."""
    n = CW.shape[0]
    for i in range(n):
        if u < CW[i]:
            return VAL[i]
    return VAL[n - 1]


@_hot()
def _new_id(S, slot):
    S[S_SERIAL] += 1
    return ID_BASE + (S[S_SERIAL] << SLOT_BITS) + slot


@_hot()
def _ev(E, S, ts, kind, side, price, qty, oid, flags):
    if S[S_RECORD] == 0:
        return
    n = S[S_NEV]
    E[n, E_TS] = ts
    E[n, E_KIND] = kind
    E[n, E_SIDE] = side
    E[n, E_PRICE] = price
    E[n, E_QTY] = qty
    E[n, E_OID] = oid
    E[n, E_FLAGS] = flags | F_SYNTHETIC
    S[S_NEV] = n + 1


@_hot()
def _begin(S):
    S[S_MSG_START] = S[S_NEV]


@_hot()
def _end(E, S):
    # the records of one action form one venue message: the book is consistent after the last
    n = S[S_NEV]
    if n > S[S_MSG_START]:
        E[n - 1, E_FLAGS] |= F_LAST


@_hot()
def _mid(L, SL, M, X):
    """Mid of the book in ticks (float) and whether both sides are quoted; else the last mid."""
    okb, b = _k.best_price(L, SL, M, 0)
    oka, a = _k.best_price(L, SL, M, 1)
    if okb and oka:
        return 0.5 * (a + b), True
    return X[X_MID], False


@_hot()
def room(OR, H, L, M, F, U, E, OF, S, RP, block):
    """OK when the next action has room in every pool and buffer, else the NEED_* code."""
    need = M[_k.M_NORD] + 16
    if F.shape[0] < need or U.shape[0] < need or OF.shape[0] - S[S_NOF] < need:
        return NEED_BUFFERS
    if E.shape[0] - S[S_NEV] < need:
        return NEED_BUFFERS
    if M[_k.M_OFREE] < 0 and M[_k.M_OHWM] + 4 > OR.shape[0]:
        return NEED_ORDERS
    if (M[_k.M_HUSED] + 4) * 2 > H.shape[0]:
        return NEED_HASH
    if M[_k.M_LFREE] < 0 and M[_k.M_LHWM] + 4 > L.shape[0]:
        return NEED_LEVELS
    for s in range(RP.shape[0]):
        if RP[s] + 2 * K_EVENT > block:
            return NEED_RANDOM
    return OK


# =========================================================================== Poisson clocks
@_hot()
def _rate_of(S, X, P, p):
    """Process ``p``'s rate now: its base rate (times the resting count for cancellations) × activity."""
    if p == PR_LIMIT:
        r = P[P_LIMIT_RATE]
    elif p == PR_MARKET:
        r = P[P_MARKET_RATE]
    elif p == PR_CANCEL_FAST:
        r = P[P_FAST_CANCEL] * S[S_ZN]
    elif p == PR_CANCEL_SLOW:
        r = P[P_SLOW_CANCEL] * S[S_ZN + 1]
    elif p == PR_CANCEL_FAR:
        r = P[P_FAR_CANCEL] * S[S_ZN + 2]
    elif p == PR_MOMENTUM:
        r = P[P_MOM_RATE]
    else:
        r = P[P_VAL_RATE]
    return r * X[X_A]


@_hot()
def _schedule(S, X, p, t):
    rate = X[X_RATE + p]
    if rate <= 0.0:
        S[S_PROC_NEXT + p] = INF
        return
    dt = X[X_WORK + p] / rate * 1e9
    S[S_PROC_NEXT + p] = INF if dt > 1e18 else t + int(dt)


@_hot()
def _rerate(S, X, P, p, t):
    """Process ``p``'s rate may have changed at ``t``: use up the work done at the old rate, reschedule.

    Poisson clocks run on exponential *work*: an event fires when the integral of the rate
    since the last event reaches an Exp(1) draw; with a piecewise-constant rate this is exact.
    """
    old = X[X_RATE + p]
    if old > 0.0:
        w = X[X_WORK + p] - old * (t - S[S_TLAST + p]) * 1e-9
        X[X_WORK + p] = w if w > 0.0 else 0.0
    S[S_TLAST + p] = t
    X[X_RATE + p] = _rate_of(S, X, P, p)
    _schedule(S, X, p, t)


@_hot()
def _fire(S, X, P, R, RP, p, t):
    """Process ``p`` fired at ``t``: draw its next work (one number of its own stream)."""
    X[X_WORK + p] = -math.log(1.0 - _u(R, RP, p))
    S[S_TLAST + p] = t
    X[X_RATE + p] = _rate_of(S, X, P, p)
    _schedule(S, X, p, t)
    if S[S_PROC_NEXT + p] == t:
        S[S_PROC_NEXT + p] = t + 1  # time moves on between two events of one process


# =========================================================================== noise-order slots
@_hot()
def _zi_take(S, X, P, Z, ZL, ZF, cls, t):
    """Take a free slot for a new noise order of class ``cls``; -1 when the pool is full."""
    if S[S_ZFREE] == 0:
        return -1
    S[S_ZFREE] -= 1
    slot = ZF[S[S_ZFREE]]
    n = S[S_ZN + cls]
    ZL[cls, n] = slot
    Z[slot, Z_CLS] = cls
    Z[slot, Z_POS] = n
    S[S_ZN + cls] = n + 1
    _rerate(S, X, P, PR_CANCEL_FAST + cls, t)
    return slot


@_hot()
def _zi_free(S, X, P, Z, ZL, ZF, slot, t):
    """Give a noise slot back (its order left the book)."""
    cls = Z[slot, Z_CLS]
    k = Z[slot, Z_POS]
    n = S[S_ZN + cls] - 1
    last = ZL[cls, n]
    ZL[cls, k] = last
    Z[last, Z_POS] = k
    S[S_ZN + cls] = n
    Z[slot, Z_OID] = 0
    ZF[S[S_ZFREE]] = slot
    S[S_ZFREE] += 1
    _rerate(S, X, P, PR_CANCEL_FAST + cls, t)


# =========================================================================== order flow
@_hot()
def _fills(OR, H, M, F, nf, S, X, P, Z, ZL, ZF, MM, E, OF, t):
    """Record the fills of one matching call and update the owners of the resting orders."""
    for j in range(nf):
        maker = F[j, _mk.F_MAKER]
        px = F[j, _mk.F_PRICE]
        q = F[j, _mk.F_QTY]
        mside = -F[j, _mk.F_SIDE]
        _ev(E, S, t, K_EXECUTE, mside, px, q, maker, 0)
        S[S_OPS_EXEC] += 1
        S[S_EXEC_QTY] += q
        gone = _k.h_find(H, M, maker) < 0
        if maker >= ID_BASE:
            slot = (maker - ID_BASE) & SLOT_MASK
            if slot < SLOT_MM:
                S[S_NOISE_POS] += mside * q
                if gone and Z[slot, Z_OID] == maker:
                    _zi_free(S, X, P, Z, ZL, ZF, slot, t)
            elif slot != SLOT_TAKER:
                m = (slot - SLOT_MM) >> 1
                if mside > 0:
                    MM[m, MM_INV] += q
                    MM[m, MM_BOUGHT] += q
                    if MM[m, MM_BID] == maker:
                        MM[m, MM_BQ] -= q
                        if gone:
                            MM[m, MM_BID] = 0
                else:
                    MM[m, MM_INV] -= q
                    MM[m, MM_SOLD] += q
                    if MM[m, MM_ASK] == maker:
                        MM[m, MM_AQ] -= q
                        if gone:
                            MM[m, MM_ASK] = 0
                if MM[m, MM_NEXT] < 0:
                    MM[m, MM_NEXT] = t + MM[m, MM_LAT]
        elif maker > 0:
            n = S[S_NOF]
            OF[n, OF_TS] = t
            OF[n, OF_ID] = maker
            OF[n, OF_PRICE] = px
            OF[n, OF_QTY] = q
            o = _k.h_find(H, M, maker)
            OF[n, OF_LEAVES] = 0 if o < 0 else OR[o, _k.O_QTY] + OR[o, _k.O_HIDDEN]
            OF[n, OF_AHEAD] = F[j, _mk.F_AHEAD_QTY]
            S[S_NOF] = n + 1
            S[S_OUR_FILLS] += 1


@_counted()
def submit(
    OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, oid, side, qty, price, otype, tif,
    post_only, owner, t,
):  # fmt: skip
    """Submit one order through the matching engine; record its events and settle its fills.

    Return (status, reason, filled, cancelled, leaves, nf); the fills are in ``F[:nf]``.
    """
    st, rs, filled, canc, leaves, F2, nf, _U2, _nu = _mk.submit(
        OR, H, L, SK, SL, M, F, U, oid, side, qty, price, otype, tif, post_only, 0, owner, t,
        _mk.STP_NONE,
    )  # fmt: skip
    S[S_OPS_SUBMIT] += 1
    if st == _mk.ST_REJECTED:
        return st, rs, filled, canc, leaves, 0
    _fills(OR, H, M, F2, nf, S, X, P, Z, ZL, ZF, MM, E, OF, t)
    if leaves > 0:
        _ev(E, S, t, K_ADD, side, price, leaves, oid, 0)
    return st, rs, filled, canc, leaves, nf


@_counted()
def cancel(OR, H, L, SK, SL, M, F, U, S, E, oid, qty, has_qty, t):
    """Cancel (all, or ``qty`` lots of) a resting order; record DELETE / CANCEL.

    Return (status, reason, cancelled, leaves).
    """
    o = _k.h_find(H, M, oid)
    if o < 0:
        return _mk.ST_REJECTED, _mk.R_UNKNOWN_ORDER, 0, 0
    side = OR[o, _k.O_SIDE]
    px = OR[o, _k.O_PRICE]
    st, rs, _filled, canc, leaves, _F2, _nf, _U2, _nu = _mk.cancel(
        OR, H, L, SK, SL, M, F, U, oid, qty, has_qty, t, _mk.STP_NONE
    )
    if st == _mk.ST_REJECTED:
        return st, rs, 0, 0
    S[S_OPS_CANCEL] += 1
    if leaves > 0:
        _ev(E, S, t, K_CANCEL, side, px, canc, oid, 0)
    else:
        _ev(E, S, t, K_DELETE, side, px, canc, oid, 0)
    return st, rs, canc, leaves


@_counted()
def modify(
    OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, oid, price, has_price, qty, has_qty, t
):  # fmt: skip
    """Modify one of our resting orders; record CANCEL (size-down) or DELETE + fills + ADD.

    Return (status, reason, filled, cancelled, leaves, nf, new_price).
    """
    o = _k.h_find(H, M, oid)
    if o < 0:
        return _mk.ST_REJECTED, _mk.R_UNKNOWN_ORDER, 0, 0, 0, 0, 0
    side = OR[o, _k.O_SIDE]
    old_px = OR[o, _k.O_PRICE]
    old_total = OR[o, _k.O_QTY] + OR[o, _k.O_HIDDEN]
    st, rs, filled, canc, leaves, F2, nf, _U2, _nu = _mk.modify(
        OR, H, L, SK, SL, M, F, U, oid, price, has_price, qty, has_qty, t, _mk.STP_NONE
    )
    if st == _mk.ST_REJECTED:
        return st, rs, 0, 0, 0, 0, old_px
    new_px = price if has_price else old_px
    if new_px == old_px and leaves <= old_total:
        if leaves < old_total:
            S[S_OPS_CANCEL] += 1
            _ev(E, S, t, K_CANCEL, side, old_px, old_total - leaves, oid, 0)
        return st, rs, filled, canc, leaves, 0, new_px
    # re-entry (size-up or new price): out of the queue, maybe trades, rests at the back
    S[S_OPS_CANCEL] += 1
    S[S_OPS_SUBMIT] += 1
    _ev(E, S, t, K_DELETE, side, old_px, old_total, oid, 0)
    _fills(OR, H, M, F2, nf, S, X, P, Z, ZL, ZF, MM, E, OF, t)
    if leaves > 0:
        _ev(E, S, t, K_ADD, side, new_px, leaves, oid, 0)
    return st, rs, filled, canc, leaves, nf, new_px


# =========================================================================== agents' orders
# Agents do not need the matching engine's validation layer (their ids are fresh, their
# parameters valid, and there are no midpoint pegs in this book): a passive order goes straight
# into its queue (the engine's own ``_rest``), a market order straight into the engine's
# ``match`` loop, a cancellation straight to ``order_remove``. The rules are the engine's; only
# the checks that cannot fail are skipped, which halves the cost of an agent's order.
@_hot()
def _agent_limit(
    OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, oid, side, qty, price, post_only, t
):  # fmt: skip
    """Place an agent's limit order; return the lots left resting (0: it did not rest)."""
    ok, contra = _k.best_price(L, SL, M, 1 if side > 0 else 0)
    if ok and (price >= contra if side > 0 else price <= contra):
        if post_only:
            return 0
        _st, _rs, _filled, _canc, leaves, _nf = submit(
            OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, oid, side, qty, price,
            _mk.OT_LIMIT, _mk.TIF_GTC, False, 0, t,
        )  # fmt: skip
        return leaves
    _mk._rest(OR, H, L, SK, SL, M, oid, side, price, qty, 0, 0, 0, t, 0)
    S[S_OPS_SUBMIT] += 1
    _ev(E, S, t, K_ADD, side, price, qty, oid, 0)
    return qty


@_hot()
def _agent_cancel(OR, H, L, SK, SL, M, S, E, oid, t):
    """Cancel an agent's resting order entirely (DELETE); False if it is no longer resting."""
    o = _k.h_find(H, M, oid)
    if o < 0:
        return False
    _ev(E, S, t, K_DELETE, OR[o, _k.O_SIDE], OR[o, _k.O_PRICE], OR[o, _k.O_QTY], oid, 0)
    _k.order_remove(OR, H, L, SK, SL, M, o)
    S[S_OPS_CANCEL] += 1
    return True


@_counted()
def _market_order(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, side, qty, t):
    """An agent's market order: the engine's matching loop; the remainder is dropped. Return lots filled."""
    oid = _new_id(S, SLOT_TAKER)
    rem, F2, nf, _U2, _nu, _stop = _mk.match(
        OR, H, L, SK, SL, M, F, 0, U, 0, oid, side, qty, 0, False, False, 0, _mk.STP_NONE, t
    )
    S[S_OPS_SUBMIT] += 1
    _fills(OR, H, M, F2, nf, S, X, P, Z, ZL, ZF, MM, E, OF, t)
    return qty - rem


# =========================================================================== agents
@_hot()
def _noise_limit(OR, H, L, SK, SL, M, F, U, S, X, P, LSZ, LCW, Z, ZL, ZF, MM, E, OF, R, RP, t):
    s = PR_LIMIT
    u0 = _u(R, RP, s)
    u1 = _u(R, RP, s)
    u2 = _u(R, RP, s)
    u3 = _u(R, RP, s)
    u4 = _u(R, RP, s)
    side = 1 if u0 < 0.5 else -1
    qty = _pick(LCW, LSZ, u3)
    si = 0 if side > 0 else 1
    ok_s, best_s = _k.best_price(L, SL, M, si)
    ok_o, best_o = _k.best_price(L, SL, M, 1 - si)
    # geometric distance >= 1 with the configured mean (u2), or uniform deep in the book
    mean = P[P_BEHIND_MEAN]
    behind = 1 + int(math.log(1.0 - u2) / math.log(1.0 - 1.0 / mean)) if mean > 1.0 else 1
    p_in = P[P_P_INSIDE]
    p_at = P[P_P_AT]
    far = p_in + p_at < 1.0 and (u1 - p_in - p_at) / (1.0 - p_in - p_at) < P[P_P_FAR]
    if far:
        behind = 1 + int(u2 * P[P_FAR_MAX])
    if behind > P[P_BEHIND_MAX]:
        behind = int(P[P_BEHIND_MAX])
    inside = False
    if ok_s:
        spread = (best_o - best_s) * side if ok_o else 0
        if ok_o and u1 < p_in and spread > 1:
            kmax = int((spread - 1) * P[P_INSIDE_FRAC])
            if kmax < 1:
                kmax = 1
            im = P[P_INSIDE_MEAN]
            k = 1 + int(math.log(1.0 - u2) / math.log(1.0 - 1.0 / im)) if im > 1.0 else 1
            if k > kmax:
                k = kmax
            price = best_s + side * k
            inside = True
        elif u1 < p_in + p_at:
            price = best_s
            far = False
        else:
            price = best_s - side * behind
    elif ok_o:
        price = best_o - side * (1 + int(u2 * P[P_EMPTY_TICKS]))
    else:
        ref = round(X[X_MID])
        price = ref - side * (1 + int(u2 * P[P_EMPTY_TICKS]))
    if price <= 0:
        return
    # deep orders form their own class; the others are fleeting or patient
    fleeting = u4 < (P[P_FLEET_INSIDE] if inside else P[P_FLEET_OTHER])
    cls = 2 if far and not inside else (0 if fleeting else 1)
    if cls == 2 and qty < P[P_DEEP_MIN]:
        qty = int(P[P_DEEP_MIN])
    slot = _zi_take(S, X, P, Z, ZL, ZF, cls, t)
    if slot < 0:
        S[S_POOL_FULL] += 1
        return
    oid = _new_id(S, slot)
    Z[slot, Z_OID] = oid
    S[S_N_LIMIT] += 1
    leaves = _agent_limit(
        OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, oid, side, qty, price, False, t
    )
    S[S_NOISE_POS] += side * (qty - leaves)
    if leaves == 0:
        _zi_free(S, X, P, Z, ZL, ZF, slot, t)


@_hot()
def _noise_market(OR, H, L, SK, SL, M, F, U, S, X, P, MSZ, MCW, Z, ZL, ZF, MM, E, OF, R, RP, t):
    s = PR_MARKET
    u0 = _u(R, RP, s)
    u1 = _u(R, RP, s)
    u2 = _u(R, RP, s)
    for _ in range(2):
        _u(R, RP, s)
    # a split parent order: with probability P_MKT_PERSIST the side repeats, else a fair coin
    side = 1 if u0 < 0.5 else -1
    if X[X_MKT_SIDE] != 0.0 and u2 < P[P_MKT_PERSIST]:
        side = int(X[X_MKT_SIDE])
    X[X_MKT_SIDE] = side
    qty = _pick(MCW, MSZ, u1)
    S[S_N_MARKET] += 1
    filled = _market_order(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, side, qty, t)
    S[S_NOISE_POS] += side * filled


@_hot()
def _noise_cancel(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, E, R, RP, cls, t):
    s = PR_CANCEL_FAST + cls
    u0 = _u(R, RP, s)
    for _ in range(4):
        _u(R, RP, s)
    n = S[S_ZN + cls]
    if n == 0:
        return
    k = int(u0 * n)
    if k >= n:
        k = n - 1
    slot = ZL[cls, k]
    oid = Z[slot, Z_OID]
    if _agent_cancel(OR, H, L, SK, SL, M, S, E, oid, t):
        S[S_N_CANCEL] += 1
    _zi_free(S, X, P, Z, ZL, ZF, slot, t)


@_hot()
def _momentum(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, R, RP, t):
    s = PR_MOMENTUM
    u0 = _u(R, RP, s)
    for _ in range(4):
        _u(R, RP, s)
    sig = X[X_EF] - X[X_ES]
    thr = P[P_MOM_THR]
    if abs(sig) < thr:
        return
    # a little size jitter (u0) so that traders do not all send the same order
    qty = int(P[P_MOM_SIZE] * abs(sig) / thr * (0.5 + u0))
    if qty > P[P_MOM_MAX]:
        qty = int(P[P_MOM_MAX])
    if qty < 1:
        qty = 1
    side = 1 if sig > 0 else -1
    S[S_N_MOM] += 1
    filled = _market_order(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, side, qty, t)
    S[S_MOM_POS] += side * filled


@_hot()
def _value(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, R, RP, t):
    s = PR_VALUE
    u0 = _u(R, RP, s)
    u1 = _u(R, RP, s)
    for _ in range(3):
        _u(R, RP, s)
    view = X[X_V] + P[P_VAL_NOISE] * _normal(u0, u1)
    mid, _ok = _mid(L, SL, M, X)
    gap = view - mid
    thr = P[P_VAL_THR]
    if abs(gap) <= thr:
        return
    qty = int(P[P_VAL_PER_TICK] * (abs(gap) - thr))
    if qty < P[P_VAL_MIN]:
        qty = int(P[P_VAL_MIN])
    if qty > P[P_VAL_MAX]:
        qty = int(P[P_VAL_MAX])
    side = 1 if gap > 0 else -1
    S[S_N_VAL] += 1
    filled = _market_order(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, side, qty, t)
    S[S_VAL_POS] += side * filled


@_hot()
def _best_excluding(OR, H, L, SL, M, si, own):
    """Best price of side ``si`` ignoring order ``own`` (0: none); (False, 0) when nothing else."""
    n = M[_k.M_NB + si]
    own_qty = 0
    own_px = 0
    if own != 0:
        o = _k.h_find(H, M, own)
        if o >= 0:
            own_qty = OR[o, _k.O_QTY]
            own_px = OR[o, _k.O_PRICE]
    j = n - 1
    while j >= 0:
        lv = SL[si, j]
        px = L[lv, _k.L_PRICE]
        q = L[lv, _k.L_QTY]
        if px == own_px:
            q -= own_qty
        if q > 0:
            return True, px
        j -= 1
    return False, 0


@_hot()
def _best_ex_makers(L, SL, M, MM, si):
    """Best price of side ``si`` where someone other than the market makers rests; (False, 0) if none.

    The makers quote around this book, not around each other: with each maker's reference
    including the others' skewed quotes, two makers would chase each other's skew.
    """
    n = M[_k.M_NB + si]
    idc = MM_BID if si == 0 else MM_ASK
    pxc = MM_BPX if si == 0 else MM_APX
    qc = MM_BQ if si == 0 else MM_AQ
    for j in range(n - 1, -1, -1):
        lv = SL[si, j]
        px = L[lv, _k.L_PRICE]
        q = L[lv, _k.L_QTY]
        for m in range(MM.shape[0]):
            if MM[m, idc] != 0 and MM[m, pxc] == px:
                q -= MM[m, qc]
        if q > 0:
            return True, px
    return False, 0


@_hot()
def _mm_side(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, m, side, want, px, t):
    """Bring maker ``m``'s quote on ``side`` to ``px`` (or remove it when not ``want``)."""
    col = MM_BID if side > 0 else MM_ASK
    cur = MM[m, col]
    size = int(P[P_MM_SIZE])
    if cur != 0:
        o = _k.h_find(H, M, cur)
        if o < 0:
            MM[m, col] = 0
            cur = 0
        elif want:
            d = OR[o, _k.O_PRICE] - px
            if d < 0:
                d = -d
            if d < P[P_MM_REQUOTE] and OR[o, _k.O_QTY] >= size:
                return
    if cur != 0:
        _agent_cancel(OR, H, L, SK, SL, M, S, E, cur, t)
        MM[m, col] = 0
    if not want:
        return
    oid = _new_id(S, SLOT_MM + 2 * m + (0 if side > 0 else 1))
    leaves = _agent_limit(
        OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, oid, side, size, px, True, t
    )
    if leaves > 0:
        MM[m, col] = oid
        MM[m, col + (MM_BPX - MM_BID if side > 0 else MM_APX - MM_ASK)] = px
        MM[m, col + (MM_BQ - MM_BID if side > 0 else MM_AQ - MM_ASK)] = leaves
        S[S_N_MM_QUOTES] += 1


@_hot()
def _market_maker(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, MMH, E, OF, m, t):
    rb_ok, rb = _best_ex_makers(L, SL, M, MM, 0)
    ra_ok, ra = _best_ex_makers(L, SL, M, MM, 1)
    if rb_ok and ra_ok:
        book_ref = 0.5 * (rb + ra)
    elif rb_ok:
        book_ref = rb + P[P_EMPTY_TICKS]
    elif ra_ok:
        book_ref = ra - P[P_EMPTY_TICKS]
    else:
        book_ref = X[X_MID]
    okb, bb = _best_excluding(OR, H, L, SL, M, 0, MM[m, MM_BID])
    oka, ba = _best_excluding(OR, H, L, SL, M, 1, MM[m, MM_ASK])
    w = P[P_MM_FUND_W]
    wa = P[P_MM_ANCHOR_W]
    inv = MM[m, MM_INV]
    centre = (1.0 - w - wa) * book_ref + w * X[X_V] + wa * X[X_EM] - inv * P[P_MM_SKEW]
    half = MMH[m] * X[X_A] ** P[P_MM_ACT_ELAST]
    bid = math.floor(centre - half)
    ask = math.ceil(centre + half)
    # passive only: never at or through the others' best on the other side
    if oka and bid >= ba:
        bid = ba - 1
    if okb and ask <= bb:
        ask = bb + 1
    size = P[P_MM_SIZE]
    want_bid = inv + size <= P[P_MM_MAXINV] and bid > 0
    want_ask = inv - size >= -P[P_MM_MAXINV]
    # move the quote that is in the way first (post-only would refuse to cross our own quote)
    ask_first = False
    if MM[m, MM_ASK] != 0:
        o = _k.h_find(H, M, MM[m, MM_ASK])
        ask_first = o >= 0 and OR[o, _k.O_PRICE] <= bid
    if ask_first:
        _mm_side(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, m, -1, want_ask, ask, t)
        _mm_side(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, m, 1, want_bid, bid, t)
    else:
        _mm_side(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, m, 1, want_bid, bid, t)
        _mm_side(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, m, -1, want_ask, ask, t)


# =========================================================================== clock and loop
@_hot()
def _clock(L, SL, M, S, X, P, R, RP, t):
    s = RS_CLOCK
    n1 = _normal(_u(R, RP, s), _u(R, RP, s))
    n2 = _normal(_u(R, RP, s), _u(R, RP, s))
    dt = P[P_CLOCK_S]
    # activity: exact OU step, stationary std P_ACT_VOL, multiplier with mean 1
    vol = P[P_ACT_VOL]
    phi = math.exp(-dt / P[P_ACT_TAU])
    X[X_ACT] = X[X_ACT] * phi + vol * math.sqrt(1.0 - phi * phi) * n1
    X[X_A] = math.exp(X[X_ACT] - 0.5 * vol * vol)
    # fundamental value: random walk with activity-scaled variance (+ optional reversion)
    X[X_V] += P[P_FUND_VOL] * math.sqrt(X[X_A] * dt) * n2
    if P[P_FUND_REV] > 0.0:
        X[X_V] += (X[X_V0] - X[X_V]) * (1.0 - math.exp(-dt / P[P_FUND_REV]))
    # momentum averages of the mid
    mid, ok = _mid(L, SL, M, X)
    if ok:
        X[X_MID] = mid
    X[X_EF] += (1.0 - math.exp(-dt / P[P_MOM_FAST])) * (mid - X[X_EF])
    X[X_ES] += (1.0 - math.exp(-dt / P[P_MOM_SLOW])) * (mid - X[X_ES])
    X[X_EM] += (1.0 - math.exp(-dt / P[P_MM_ANCHOR_S])) * (mid - X[X_EM])
    # every rate scales with the activity
    for p in range(N_PROC):
        _rerate(S, X, P, p, t)
    S[S_CLOCK_NEXT] = t + S[S_CLOCK_NS]


@_hot()
def _latent(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, t):
    """Show the latent liquidity the mid has reached since the last clock step.

    The latent book is V-shaped around its anchor ``A``: ``density × u`` lots per tick at
    ``u`` ticks from it, sellers above and buyers below. With the mid ``D`` ticks above ``A``
    the sellers within ``D`` have been reached, ``density × D² / 2`` lots in all; what has not
    been shown yet joins the best ask as one patient order (buyers: mirrored). When ``D``
    shrinks, the account shrinks with it, so liquidity shown once is shown again only when
    the mid moves back out.
    """
    dens = P[P_LAT_DENSITY]
    if dens <= 0.0:
        return
    mid = X[X_MID]
    X[X_LAT_EMA] += (1.0 - math.exp(-P[P_CLOCK_S] / P[P_LAT_TAU])) * (mid - X[X_LAT_EMA])
    w = P[P_LAT_FUND_W]
    d = mid - (w * X[X_V] + (1.0 - w) * X[X_LAT_EMA])
    # only the side the mid has moved toward is reached; the other side's account is spent
    reached = 0.5 * dens * d * d
    sell = d > 0.0
    X[X_LAT_SELL] = min(X[X_LAT_SELL], reached if sell else 0.0)
    X[X_LAT_BUY] = min(X[X_LAT_BUY], 0.0 if sell else reached)
    acc = X_LAT_SELL if sell else X_LAT_BUY
    qty = int(reached - X[acc])
    if qty < 1:
        return
    side = -1 if sell else 1
    ok, price = _k.best_price(L, SL, M, 1 if sell else 0)
    if not ok:
        return
    slot = _zi_take(S, X, P, Z, ZL, ZF, 1, t)
    if slot < 0:
        S[S_POOL_FULL] += 1
        return
    X[acc] += qty
    oid = _new_id(S, slot)
    Z[slot, Z_OID] = oid
    S[S_N_LATENT] += 1
    _agent_limit(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, oid, side, qty, price, False, t)


@_hot()
def _touch(L, SL, M, S, X, MM, t):
    """After an action: when the touch moved, schedule every idle market maker's requote."""
    okb, bb = _k.best_price(L, SL, M, 0)
    oka, ba = _k.best_price(L, SL, M, 1)
    if not okb:
        bb = -1
    if not oka:
        ba = -1
    if okb and oka:
        X[X_MID] = 0.5 * (bb + ba)
    if bb != S[S_LAST_BB] or ba != S[S_LAST_BA]:
        S[S_LAST_BB] = bb
        S[S_LAST_BA] = ba
        for m in range(MM.shape[0]):
            if MM[m, MM_NEXT] < 0:
                MM[m, MM_NEXT] = t + MM[m, MM_LAT]


@_hot()
def run(
    OR, H, L, SK, SL, M, F, U, S, X, P, LSZ, LCW, MSZ, MCW, Z, ZL, ZF, MM, MMH, R, RP, E, OF,
    until, stop_on_fill, stop_on_trade,
):  # fmt: skip
    """Run the market until ``until`` (inclusive) or, with ``stop_on_fill``, the first action
    that filled one of our resting orders, or, with ``stop_on_trade``, the first action that
    printed a trade. Return C_REACHED, C_FILLED, C_TRADED or a NEED_* code.

    Events due at the same nanosecond run in a fixed order: the clock, then the processes
    (``PR_*`` order), then the market makers (by index).
    """
    block = R.shape[1]
    while True:
        code = room(OR, H, L, M, F, U, E, OF, S, RP, block)
        if code != OK:
            return code
        t = S[S_CLOCK_NEXT]
        which = -1
        for p in range(N_PROC):
            if S[S_PROC_NEXT + p] < t:
                t = S[S_PROC_NEXT + p]
                which = p
        for m in range(MM.shape[0]):
            nx = MM[m, MM_NEXT]
            if nx >= 0 and nx < t:
                t = nx
                which = N_PROC + m
        if t > until:
            if until > S[S_NOW]:
                S[S_NOW] = until
            return C_REACHED
        S[S_NOW] = t
        S[S_STEPS] += 1
        _begin(S)
        if which < 0:
            _clock(L, SL, M, S, X, P, R, RP, t)
            _latent(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, t)
        elif which < N_PROC:
            if which == PR_LIMIT:
                _noise_limit(OR, H, L, SK, SL, M, F, U, S, X, P, LSZ, LCW, Z, ZL, ZF, MM, E, OF, R, RP, t)
            elif which == PR_MARKET:
                _noise_market(OR, H, L, SK, SL, M, F, U, S, X, P, MSZ, MCW, Z, ZL, ZF, MM, E, OF, R, RP, t)
            elif PR_CANCEL_FAST <= which <= PR_CANCEL_FAR:
                _noise_cancel(
                    OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, E, R, RP, which - PR_CANCEL_FAST, t
                )
            elif which == PR_MOMENTUM:
                _momentum(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, R, RP, t)
            else:
                _value(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, R, RP, t)
            _fire(S, X, P, R, RP, which, t)
        else:
            m = which - N_PROC
            MM[m, MM_NEXT] = -1
            _market_maker(OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, MMH, E, OF, m, t)
        _end(E, S)
        _touch(L, SL, M, S, X, MM, t)
        if stop_on_fill and S[S_NOF] > 0:
            return C_FILLED
        if stop_on_trade:
            for i in range(S[S_MSG_START], S[S_NEV]):
                if E[i, E_KIND] == K_EXECUTE or E[i, E_KIND] == K_TRADE:
                    return C_TRADED


@_hot()
def start(S, X, P, R, RP, t):
    """Start every process's clock and the market clock at time ``t``."""
    for p in range(N_PROC):
        _fire(S, X, P, R, RP, p, t)
    S[S_CLOCK_NEXT] = t + S[S_CLOCK_NS]


@_hot()
def seed_book(OR, H, L, SK, SL, M, F, U, S, X, P, LSZ, LCW, Z, ZL, ZF, MM, E, OF, UI, n_per_side, t):
    """Place ``n_per_side`` patient noise orders on each side around the start price (``UI``: uniforms)."""
    mid = X[X_MID]
    half = P[P_EMPTY_TICKS]
    k = 0
    for _i in range(n_per_side):
        for side in (1, -1):
            u_d = UI[k]
            u_q = UI[k + 1]
            k += 2
            d = 1 + int(u_d * 4.0 * half)
            price = round(mid - side * half) - side * d
            if price <= 0:
                continue
            slot = _zi_take(S, X, P, Z, ZL, ZF, 1, t)
            if slot < 0:
                continue
            oid = _new_id(S, slot)
            Z[slot, Z_OID] = oid
            _agent_limit(
                OR, H, L, SK, SL, M, F, U, S, X, P, Z, ZL, ZF, MM, E, OF, oid, side, _pick(LCW, LSZ, u_q),
                price, False, t,
            )  # fmt: skip


@_hot()
def snapshot(OR, L, SL, M, E, S, t):
    """Record the whole book as CLEAR + one ADD per order (F_SNAPSHOT), queues in FIFO order."""
    _begin(S)
    _ev(E, S, t, K_CLEAR, 0, 0, 0, 0, F_SNAPSHOT)
    for si in range(2):
        side = 1 if si == 0 else -1
        n = M[_k.M_NB + si]
        for j in range(n - 1, -1, -1):
            lv = SL[si, j]
            o = L[lv, _k.L_HEAD]
            while o >= 0:
                _ev(E, S, t, K_ADD, side, L[lv, _k.L_PRICE], OR[o, _k.O_QTY], OR[o, _k.O_ID], F_SNAPSHOT)
                o = OR[o, _k.O_NEXT]
    _end(E, S)


@_hot()
def after_external(L, SL, M, S, X, MM, E, t):
    """Close the message of one of our commands and let the market makers see its effect."""
    _end(E, S)
    _touch(L, SL, M, S, X, MM, t)
