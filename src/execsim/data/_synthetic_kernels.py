"""Compiled kernel of the synthetic L2 stream (see :mod:`execsim.data.synthetic`).

The kernel is a small state machine over an explicit price-level book: it never emits a record
that would cross the book, and every trade is printed at the touch and followed by the depth
update that reduces or removes the touch level. It draws no random numbers itself: each
*action* (one venue event that becomes one or more records) consumes exactly one row of
pre-drawn uniforms, so the stream depends only on the seed and the totals, never on how the
caller slices the output into buffers.
"""

from __future__ import annotations

import math

import numpy as np

from execsim.core.jit import njit
from execsim.data.schema import F_LAST, F_SYNTHETIC, K_SET_LEVEL, K_TRADE

# layout of the int64 state vector
S_BEST_BID = 0
S_BEST_ASK = 1
S_COUNT_BID = 2
S_COUNT_ASK = 3
S_TIME = 4
S_LAST_RECV = 5
S_TRADE_ID = 6
S_PRODUCED = 7
S_END = 8  # no record is stamped at or after this time (ns)
S_LATENCY = 9  # base receive latency (ns); the actual one is uniform in [base, 2 base)
S_MIN_BID = 10  # the bid touch is never moved below this price (keeps prices positive)
S_ACTIONS = 11  # actions so far
N_STATE = 12

# layout of the float64 parameter vector
P_TRADE = 0  # probability that an action is a trade
P_SWEEP = 1  # probability that a trade sweeps more than one level
P_DEPLETE = 2  # probability that a trade takes the whole touch level
P_REMOVE = 3  # probability that a depth update removes a level behind the touch
P_REMOVE_TOUCH = 4  # same, for the touch level (moves the touch away)
P_IMPROVE = 5  # per-tick-of-spread probability of a quote inside the spread
MEAN_OFFSET = 6  # mean distance from the touch (ticks) of a depth update
MEAN_SIZE = 7  # mean size (lots) of a fresh level
N_PARAMS = 8

N_UNIFORMS = 8
"""Uniforms drawn per action."""
MAX_SWEEP = 3
"""Most levels a sweeping trade takes entirely (a partial fill of the next one follows)."""
MAX_IMPROVE = 4
"""Most ticks a quote may improve the touch by in one action."""
MAX_RECORDS = 2 * (MAX_SWEEP + 1) + MAX_IMPROVE + 1
"""Upper bound on the records one action emits."""

_FLAGS = F_LAST | F_SYNTHETIC


@njit(cache=True, inline="always")
def _emit(
    out: np.ndarray,
    pos: int,
    st: np.ndarray,
    ts: int,
    recv: int,
    kind: int,
    side: int,
    price: int,
    qty: int,
    oid: int,
) -> int:
    out[pos]["ts_event"] = ts
    out[pos]["ts_recv"] = recv
    out[pos]["seq"] = st[S_PRODUCED]
    out[pos]["kind"] = kind
    out[pos]["side"] = side
    out[pos]["price"] = price
    out[pos]["qty"] = qty
    out[pos]["order_id"] = oid
    out[pos]["flags"] = _FLAGS
    st[S_PRODUCED] += 1
    return pos + 1


@njit(cache=True, inline="always")
def _price(st: np.ndarray, s: int, k: int) -> int:
    # side index 0 = bids (prices below the best bid), 1 = asks (above the best ask)
    if s == 0:
        return st[S_BEST_BID] - k
    return st[S_BEST_ASK] + k


@njit(cache=True, inline="always")
def _exp_draw(u: float, mean: float) -> float:
    # 1 - u lies in (0, 1], so the logarithm is finite
    return -math.log(1.0 - u) * mean


@njit(cache=True)
def _drop_touch(lv: np.ndarray, st: np.ndarray, s: int) -> None:
    """Shift side ``s`` after its touch level went to zero; the caller guarantees count >= 1."""
    n = lv.shape[1]
    d = 1
    while lv[s, d] == 0:
        d += 1
    for k in range(n - d):
        lv[s, k] = lv[s, k + d]
    for k in range(n - d, n):
        lv[s, k] = 0
    if s == 0:
        st[S_BEST_BID] -= d
    else:
        st[S_BEST_ASK] += d


@njit(cache=True)
def _can_drop_touch(lv: np.ndarray, st: np.ndarray, s: int) -> bool:
    if st[S_COUNT_BID + s] < 2:
        return False
    if s == 0:
        # the next bid level is at most n ticks deeper; keep every bid price positive
        return st[S_BEST_BID] - lv.shape[1] >= st[S_MIN_BID]
    return True


@njit(cache=True)
def fill(
    out: np.ndarray,
    pos: int,
    U: np.ndarray,
    row: int,
    lv: np.ndarray,
    st: np.ndarray,
    total: int,
    P: np.ndarray,
) -> tuple[int, int]:
    """Write actions into ``out[pos:]`` until ``U`` is used up, ``out`` is full or ``total`` is reached.

    Parameters
    ----------
    out
        EVENT_DTYPE output buffer.
    pos
        First free slot of ``out``.
    U
        ``(m, N_UNIFORMS)`` uniforms in [0, 1); one row per action.
    row
        First unused row of ``U``.
    lv
        ``(2, n_levels)`` int64 level quantities by side (0 bids, 1 asks) and distance from the
        touch; ``lv[s, 0] > 0`` always.
    st
        int64 state vector (``S_*``), updated in place.
    total
        Records the whole stream holds.
    P
        float64 parameter vector (``P_*``, ``MEAN_*``).

    Returns
    -------
    (pos, row)
        The next free slot and the next unused row.
    """
    n = lv.shape[1]
    m = U.shape[0]
    cap = out.shape[0]
    while row < m:
        remaining = total - st[S_PRODUCED]
        if remaining <= 0:
            break
        # near the end only single-record actions, so the stream ends exactly at ``total``
        tail = remaining < MAX_RECORDS
        need = 1 if tail else MAX_RECORDS
        if cap - pos < need:
            break
        u0 = U[row, 0]
        u1 = U[row, 1]
        u2 = U[row, 2]
        u3 = U[row, 3]
        u4 = U[row, 4]
        u5 = U[row, 5]
        u6 = U[row, 6]
        u7 = U[row, 7]
        row += 1

        spread = st[S_BEST_ASK] - st[S_BEST_BID]
        p_imp = 0.0
        if spread > 1 and not tail:
            p_imp = min(0.5, P[P_IMPROVE] * (spread - 1))
        s = 0 if u1 < 0.5 else 1

        action = 0  # 0 depth update, 1 trade, 2 improvement
        if u0 < p_imp:
            action = 2
        elif u0 < p_imp + P[P_TRADE] and not tail:
            action = 1
        # a trade hits the touch of the passive side: a buy (s == 0) lifts the ask
        ps = 1 - s
        if action == 1 and lv[ps, 0] == 1 and not _can_drop_touch(lv, st, ps):
            action = 0  # the only unit on that side: a trade would empty it

        # one exponential gap per action; its mean spreads the time left evenly over the records
        # left, at the records-per-action seen so far, so the stream fills [start, S_END) evenly
        end_ns = st[S_END]
        per_action = (st[S_PRODUCED] + 1.0) / (st[S_ACTIONS] + 1.0)
        st[S_ACTIONS] += 1
        mean_gap = (end_ns - st[S_TIME]) * per_action / remaining
        t = st[S_TIME] + int(_exp_draw(u5, mean_gap))
        if t >= end_ns:
            t = end_ns - 1
        st[S_TIME] = t
        lat = st[S_LATENCY]
        recv = t + lat + int(u6 * lat)
        if recv < st[S_LAST_RECV]:
            recv = st[S_LAST_RECV]
        st[S_LAST_RECV] = recv

        if action == 2:
            # a quote inside the spread moves the touch j ticks towards the other side; first the
            # levels it pushes more than n - 1 ticks behind the touch leave the window (never the
            # touch itself: j < n), so the book respects the window after every message
            j = 1 + int(u2 * min(spread - 1, MAX_IMPROVE, n - 1))
            q = 1 + int(_exp_draw(u3, P[MEAN_SIZE]))
            for k in range(n - j, n):
                if lv[s, k] > 0:
                    st[S_COUNT_BID + s] -= 1
                    pos = _emit(out, pos, st, t, recv, K_SET_LEVEL, 1 - 2 * s, _price(st, s, k), 0, 0)
            if s == 0:
                st[S_BEST_BID] += j
            else:
                st[S_BEST_ASK] -= j
            pos = _emit(out, pos, st, t, recv, K_SET_LEVEL, 1 - 2 * s, _price(st, s, 0), q, 0)
            for k in range(n - 1, j - 1, -1):
                lv[s, k] = lv[s, k - j]
            for k in range(1, j):
                lv[s, k] = 0
            lv[s, 0] = q
            st[S_COUNT_BID + s] += 1
        elif action == 1:
            aggr = 1 - 2 * s  # +1 buyer-initiated, -1 seller-initiated
            pside = 1 - 2 * ps
            if u4 < P[P_SWEEP]:
                full = 1 + int(u7 * MAX_SWEEP)
                partial = True
            elif u4 < P[P_SWEEP] + P[P_DEPLETE]:
                full = 1
                partial = False
            else:
                full = 0
                partial = True
            start = pos
            # whole levels first, then (for sweeps and plain trades) a partial fill
            for _ in range(full):
                if not _can_drop_touch(lv, st, ps):
                    break
                q = lv[ps, 0]
                px = _price(st, ps, 0)
                st[S_TRADE_ID] += 1
                pos = _emit(out, pos, st, t, recv, K_TRADE, aggr, px, q, st[S_TRADE_ID])
                pos = _emit(out, pos, st, t, recv, K_SET_LEVEL, pside, px, 0, 0)
                lv[ps, 0] = 0
                st[S_COUNT_BID + ps] -= 1
                _drop_touch(lv, st, ps)
            if partial or pos == start:
                q = lv[ps, 0]
                if q >= 2:
                    tq = 1 + int(u3 * (q - 1))  # in [1, q - 1]
                    px = _price(st, ps, 0)
                    st[S_TRADE_ID] += 1
                    pos = _emit(out, pos, st, t, recv, K_TRADE, aggr, px, tq, st[S_TRADE_ID])
                    pos = _emit(out, pos, st, t, recv, K_SET_LEVEL, pside, px, q - tq, 0)
                    lv[ps, 0] = q - tq
                elif _can_drop_touch(lv, st, ps):
                    px = _price(st, ps, 0)
                    st[S_TRADE_ID] += 1
                    pos = _emit(out, pos, st, t, recv, K_TRADE, aggr, px, 1, st[S_TRADE_ID])
                    pos = _emit(out, pos, st, t, recv, K_SET_LEVEL, pside, px, 0, 0)
                    lv[ps, 0] = 0
                    st[S_COUNT_BID + ps] -= 1
                    _drop_touch(lv, st, ps)
        else:
            # a depth update near the touch: distance roughly exponential, wrapped into the window
            k = int(_exp_draw(u2, P[MEAN_OFFSET])) % n
            q_old = lv[s, k]
            px = _price(st, s, k)
            if q_old == 0:
                q_new = 1 + int(_exp_draw(u3, P[MEAN_SIZE]))
                st[S_COUNT_BID + s] += 1
            else:
                p_rm = P[P_REMOVE_TOUCH] if k == 0 else P[P_REMOVE]
                can_rm = st[S_COUNT_BID + s] >= 2 if k > 0 else _can_drop_touch(lv, st, s)
                if u4 < p_rm and can_rm:
                    q_new = 0
                else:
                    # add or take a little; a level never goes below one lot this way
                    dq = 1 + int(_exp_draw(u3, 0.25 * P[MEAN_SIZE]))
                    q_new = q_old + dq if u7 < 0.5 or q_old - dq < 1 else q_old - dq
            pos = _emit(out, pos, st, t, recv, K_SET_LEVEL, 1 - 2 * s, px, q_new, 0)
            lv[s, k] = q_new
            if q_new == 0:
                st[S_COUNT_BID + s] -= 1
                if k == 0:
                    _drop_touch(lv, st, s)
    return pos, row
