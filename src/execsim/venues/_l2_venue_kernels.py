# mypy: allow-untyped-defs
# (numba types the kernels from their arguments; annotations would only restate the layout below)
"""Compiled kernels of the L2 replay venue and its queue models.

Private: use :class:`execsim.venues.l2_replay.L2ReplayVenue` and the classes of
:mod:`execsim.venues.queue_models`. ``docs/queue-models.md`` states the rules in words.

Our resting orders (rows of two arrays, few of them)
----------------------------------------------------
``OI`` int64 (cap, NO): ``O_ID`` order id, ``O_SIDE`` 1 bid / -1 ask, ``O_PRICE`` price in the
replayed book's ticks, ``O_LEAVES`` open lots, ``O_LVL`` the replayed level quantity at
(side, price) as last seen, ``O_PEND`` lots traded at our price since that level was last
updated (so the update that follows a trade is not counted twice), ``O_PRIO`` our own time
priority (a counter: lower is older), ``O_LIVE`` 1 while the row holds an open order,
``O_CLEARED`` 1 when a CLEAR emptied our side and no SET_LEVEL has re-set our level yet,
``O_POST`` post-only flag (kept for the Python side).
``QA`` float64 (cap,): the queue model's estimate of the lots ahead of each order.

Venue scalars ``VS`` int64: row count, overlay count, pending checks, fills written, counters.

Depletion overlay ``OV`` int64 (cap, 3): (side, price, lots we took) — liquidity we took from a
replayed level stays taken until the tape next sets that level (or clears its side).

Queue-model parameters ``QP`` float64: ``QP_MODEL`` (risk-averse / probabilistic), ``QP_FUNC``
(power / log), ``QP_N`` (the power), ``QP_FORM`` (how f turns into a probability).

Fills ``F`` int64 (cap, NF) and ``FQ`` float64 (cap,) (queue-ahead before the fill).
"""

from __future__ import annotations

import math

# The book's own hot loop and structural helpers: ``_run`` applies events without ever re-binding
# an array (it reports NEED_* instead), which is what lets this kernel avoid returning arrays.
from execsim.book._l2_kernels import (
    DONE,
    M_BEST_ASK,
    M_BEST_BID,
    M_N_OA,
    M_N_OB,
    M_STATUS,
    NEED_GROW_ASK,
    NEED_GROW_BID,
    NO_ASK,
    NO_BID,
    _grow_pair,
    _recentre,
    _run,
)
from execsim.core.jit import njit
from execsim.data.schema import F_LAST, K_CLEAR, K_HALT, K_SET_LEVEL, K_TRADE

# ---- queue-model parameters
QP_MODEL = 0
QP_FUNC = 1
QP_N = 2
QP_FORM = 3
N_QP = 4

QM_RISK_AVERSE = 0
QM_PROB = 1
QF_POWER = 0
QF_LOG = 1
FORM_RATIO = 0  # p_behind = f(back) / (f(front) + f(back))
FORM_RATIO_TOTAL = 1  # p_behind = f(back) / f(front + back)
FORM_SHARE = 2  # p_behind = 1 - f(front / (front + back))

# ---- order columns
O_ID = 0
O_SIDE = 1
O_PRICE = 2
O_LEAVES = 3
O_LVL = 4
O_PEND = 5
O_PRIO = 6
O_LIVE = 7
O_CLEARED = 8
O_POST = 9
NO = 10

# ---- venue scalars
V_NROWS = 0  # rows in use (live or not: the Python side compacts)
V_NOV = 1  # overlay entries
V_CROSS = 2  # an opposite level crossed one of our prices: check at the next F_LAST
V_CLEARED = 3  # a CLEAR hit our side: settle our levels at the next F_LAST
V_NFILL = 4  # fills written to F
V_TS = 5  # ts_event of the last event consumed
V_EVENTS = 6  # events consumed (all kinds)
V_RELEVANT = 7  # events that touched our orders or the overlay
V_NEED = 8  # the book's NEED_* code when its arrays must grow or move (0: none)
N_VS = 9

# ---- fill columns
F_ROW = 0
F_ID = 1
F_PRICE = 2
F_QTY = 3
F_LEAVES = 4
F_TS = 5
F_WHY = 6
NF = 7
WHY_QUEUE = 0  # trade volume at our price reached us
WHY_THROUGH = 1  # a trade printed through our price
WHY_CROSS = 2  # the opposite best reached our price

# ---- return codes of venue_advance
C_END = 0  # the batch is exhausted
C_REACHED = 1  # the next event is later than until_ns
C_FILLED = 2  # a message that filled our orders is complete: stop so the session can react
C_STRUCT = 3  # the book must grow or move its window (VS[V_NEED]) before going on


# ------------------------------------------------------------------------------ queue models
@njit(cache=True)
def _f(x, func, n):
    if func == QF_LOG:
        return math.log1p(x)
    return x**n


@njit(cache=True)
def prob_behind(front, back, QP):
    """Probability that an unexplained level decrease happened behind our order (0..1)."""
    func = int(QP[QP_FUNC])
    n = QP[QP_N]
    form = int(QP[QP_FORM])
    front = max(front, 0.0)
    back = max(back, 0.0)
    if form == FORM_RATIO:
        den = _f(front, func, n) + _f(back, func, n)
        p = _f(back, func, n) / den if den > 0.0 else 1.0
    elif form == FORM_RATIO_TOTAL:
        den = _f(front + back, func, n)
        p = _f(back, func, n) / den if den > 0.0 else 1.0
    else:
        tot = front + back
        p = 1.0 - _f(front / tot, func, n) if tot > 0.0 else 1.0
    if not (p >= 0.0):  # NaN
        return 1.0
    return min(p, 1.0)


@njit(cache=True)
def level_change(qa, old_qty, new_qty, traded, QP):
    """Queue-ahead after our level went from ``old_qty`` to ``new_qty`` lots.

    ``traded`` is the volume printed at our price since the level was last updated: that part
    of a decrease is explained by trades (already taken off ``qa`` when they printed). The rest
    of a decrease is a cancellation: the risk-averse model puts it behind us, the probabilistic
    models split it with :func:`prob_behind`. Either way ``qa`` never exceeds the new level.
    """
    d = float(old_qty - new_qty) - float(traded)
    if d > 0.0 and int(QP[QP_MODEL]) == QM_PROB:
        front = qa
        back = max(float(old_qty) - float(traded) - qa, 0.0)
        p = prob_behind(front, back, QP)
        ahead = (1.0 - p) * d
        behind = p * d
        if behind > back:  # more was cancelled behind us than there was: the rest was ahead
            ahead += behind - back
        qa = max(qa - ahead, 0.0)
    return min(qa, float(max(new_qty, 0)))


# ------------------------------------------------------------------------------ venue loop
@njit(cache=True)
def _record_fill(OI, QA, F, FQ, VS, k, qty, price, ts, why):
    r = VS[V_NFILL]
    left = OI[k, O_LEAVES] - qty
    F[r, F_ROW] = k
    F[r, F_ID] = OI[k, O_ID]
    F[r, F_PRICE] = price
    F[r, F_QTY] = qty
    F[r, F_LEAVES] = left
    F[r, F_TS] = ts
    F[r, F_WHY] = why
    FQ[r] = QA[k]
    OI[k, O_LEAVES] = left
    if left <= 0:
        OI[k, O_LIVE] = 0
    VS[V_NFILL] = r + 1


@njit(cache=True)
def _bounds(OI, nrows):
    """(lowest bid, highest bid, lowest ask, highest ask) of our live orders (sentinels if none)."""
    bid_lo = NO_ASK
    bid_hi = NO_BID
    ask_lo = NO_ASK
    ask_hi = NO_BID
    for k in range(nrows):
        if OI[k, O_LIVE] == 0:
            continue
        p = OI[k, O_PRICE]
        if OI[k, O_SIDE] == 1:
            bid_lo = min(bid_lo, p)
            bid_hi = max(bid_hi, p)
        else:
            ask_lo = min(ask_lo, p)
            ask_hi = max(ask_hi, p)
    return bid_lo, bid_hi, ask_lo, ask_hi


@njit(cache=True)
def _in_overlay(OV, nov, side, price):
    j = 0
    while j < nov and not (OV[j, 0] == side and OV[j, 1] == price):
        j += 1
    return j < nov


@njit(cache=True)
def _on_set_level(es, ep, eq, OI, QA, nrows, OV, VS, QP):
    for k in range(nrows):
        if OI[k, O_LIVE] == 0:
            continue
        s = OI[k, O_SIDE]
        p = OI[k, O_PRICE]
        if s == es and p == ep:
            QA[k] = level_change(QA[k], OI[k, O_LVL], eq, OI[k, O_PEND], QP)
            OI[k, O_LVL] = eq
            OI[k, O_PEND] = 0
            OI[k, O_CLEARED] = 0
        elif s == -es and eq > 0 and ((s == 1 and ep <= p) or (s == -1 and ep >= p)):
            VS[V_CROSS] = 1
    # the tape re-set this level: our depletion of it ends
    nov = VS[V_NOV]
    j = 0
    while j < nov:
        if OV[j, 0] == es and OV[j, 1] == ep:
            nov -= 1
            OV[j, 0] = OV[nov, 0]
            OV[j, 1] = OV[nov, 1]
            OV[j, 2] = OV[nov, 2]
        else:
            j += 1
    VS[V_NOV] = nov


@njit(cache=True)
def _on_trade_side(s, ep, eq, ts, OI, QA, nrows, F, FQ, VS):
    """A trade at ``ep`` of ``eq`` lots against side ``s`` (the aggressor was on the other side)."""
    # through our price: the whole order would have traded first
    for k in range(nrows):
        if OI[k, O_LIVE] == 0 or OI[k, O_SIDE] != s:
            continue
        p = OI[k, O_PRICE]
        if ((s == 1 and ep < p) or (s == -1 and ep > p)) and VS[V_NFILL] < F.shape[0]:
            _record_fill(OI, QA, F, FQ, VS, k, OI[k, O_LEAVES], p, ts, WHY_THROUGH)
    # at our price: the volume takes the queue ahead, then our orders in our own priority
    own_ahead = 0
    last = -1
    while True:
        best = -1
        for k in range(nrows):
            if OI[k, O_LIVE] == 0 or OI[k, O_SIDE] != s or OI[k, O_PRICE] != ep:
                continue
            pr = OI[k, O_PRIO]
            if pr > last and (best < 0 or pr < OI[best, O_PRIO]):
                best = k
        if best < 0:
            break
        k = best
        last = OI[k, O_PRIO]
        qa = QA[k]
        leaves = OI[k, O_LEAVES]
        excess = float(eq) - qa - float(own_ahead)
        own_ahead += leaves
        if excess >= 1.0 and VS[V_NFILL] < F.shape[0]:
            q = min(math.floor(excess), leaves)
            _record_fill(OI, QA, F, FQ, VS, k, q, ep, ts, WHY_QUEUE)
        QA[k] = max(qa - float(eq), 0.0)
        OI[k, O_PEND] += eq


@njit(cache=True)
def _on_clear(es, OI, nrows, OV, VS):
    for k in range(nrows):
        if OI[k, O_LIVE] != 0 and (es == 0 or OI[k, O_SIDE] == es):
            OI[k, O_CLEARED] = 1
            VS[V_CLEARED] = 1
    nov = VS[V_NOV]
    j = 0
    while j < nov:
        if es == 0 or OV[j, 0] == es:
            nov -= 1
            OV[j, 0] = OV[nov, 0]
            OV[j, 1] = OV[nov, 1]
            OV[j, 2] = OV[nov, 2]
        else:
            j += 1
    VS[V_NOV] = nov


@njit(cache=True)
def _on_last(M, OI, QA, nrows, F, FQ, VS, QP, ts, halted):
    """Checks that need a consistent book: after the last record of a venue message."""
    if VS[V_CLEARED] != 0:
        VS[V_CLEARED] = 0
        for k in range(nrows):
            if OI[k, O_LIVE] != 0 and OI[k, O_CLEARED] != 0:
                # cleared and not re-set by the snapshot that followed: the level is gone
                QA[k] = level_change(QA[k], OI[k, O_LVL], 0, OI[k, O_PEND], QP)
                OI[k, O_LVL] = 0
                OI[k, O_PEND] = 0
                OI[k, O_CLEARED] = 0
    if VS[V_CROSS] != 0 and not halted:  # while halted the check waits for trading to resume
        VS[V_CROSS] = 0
        bb = M[M_BEST_BID]
        ba = M[M_BEST_ASK]
        for k in range(nrows):
            if OI[k, O_LIVE] == 0 or VS[V_NFILL] >= F.shape[0]:
                continue
            s = OI[k, O_SIDE]
            p = OI[k, O_PRICE]
            if (s == 1 and ba != NO_ASK and ba <= p) or (s == -1 and bb != NO_BID and bb >= p):
                _record_fill(OI, QA, F, FQ, VS, k, OI[k, O_LEAVES], p, ts, WHY_CROSS)


@njit(cache=True)
def venue_advance(
    M, BW, AW, BOP, BOQ, AOP, AOQ, events, start, until_ns, OI, QA, VS, QP, OV, F, FQ, rej, out
):
    """Replay ``events[start:]`` up to ``until_ns`` into the book, moving our orders' queues.

    The first seven arguments are the L2 book's state arrays (``execsim.book._l2_kernels``).
    Runs of events that cannot affect our orders are applied by the book's own loop in one go;
    an event that can (our level, a trade at or through our price, an opposite level crossing
    our price, CLEAR, HALT, the end of a message with a pending check) is applied, then acted
    on. The scan uses the price range of our bids and asks, so with several orders per side a
    few events are looked at needlessly (harmless: acting on them changes nothing). Stops after
    the last record of the first message that filled one of our orders.

    The book's arrays are never re-bound here (returning arrays from a kernel is costly): when
    the book needs to grow or move its window, ``VS[V_NEED]`` gets the book's ``NEED_*`` code,
    the kernel returns, and the caller fixes the state (:func:`fix_state`) and calls again.

    Returns ``(next_index, code)`` with ``code`` one of ``C_END``, ``C_REACHED``, ``C_FILLED``,
    ``C_STRUCT`` (only the structural fix is due).
    """
    n = events.shape[0]
    nrows = VS[V_NROWS]
    bid_lo, bid_hi, ask_lo, ask_hi = _bounds(OI, nrows)
    i = start
    code = C_END
    while i < n:
        nov = VS[V_NOV]
        pending = VS[V_CROSS] != 0 or VS[V_CLEARED] != 0 or VS[V_NFILL] != 0
        j = i
        rel = False
        while j < n:
            ev = events[j]
            if ev.ts_event > until_ns:
                break
            kind = ev.kind
            if kind == K_SET_LEVEL:
                es = ev.side
                ep = ev.price
                # our level on that side, or a new opposite level at or through our price
                if es == 1:
                    rel = (bid_lo <= ep and ep <= bid_hi) or (ep >= ask_lo and ev.qty > 0)
                elif es == -1:
                    rel = (ask_lo <= ep and ep <= ask_hi) or (ep <= bid_hi and ev.qty > 0)
                if nov > 0 and not rel and _in_overlay(OV, nov, es, ep):
                    rel = True
            elif kind == K_TRADE:
                es = ev.side
                ep = ev.price
                if (es != 1 and ep <= bid_hi) or (es != -1 and ep >= ask_lo):
                    rel = True
            elif kind == K_CLEAR or kind == K_HALT:  # noqa: SIM109 (explicit compares compile best)
                rel = True
            if rel or (pending and (ev.flags & F_LAST) != 0):
                rel = True
                break
            j += 1
        end = j + 1 if rel else j
        if end > i:
            i2, need, _, _ = _run(M, BW, AW, BOP, BOQ, AOP, AOQ, events[:end], i, out, 0, False, rej)
            VS[V_EVENTS] += i2 - i
            if i2 > i:
                VS[V_TS] = events[i2 - 1].ts_event
            if need != DONE:
                VS[V_NEED] = need
                if i2 < end or not rel:
                    return i2, C_STRUCT  # resume at i2 once the book is fixed
                # the relevant event itself moved the window: act on it first, then return
        if not rel:
            if j < n:
                code = C_REACHED
            i = j
            break
        VS[V_RELEVANT] += 1
        ev = events[j]
        ts = ev.ts_event
        kind = ev.kind
        es = ev.side
        st = M[M_STATUS]
        halted = st == 0 or st == 1  # halted or quoting only; -1 (never told) and 2 trade
        if kind == K_SET_LEVEL:
            if (es == 1 or es == -1) and ev.qty >= 0:
                _on_set_level(es, ev.price, ev.qty, OI, QA, nrows, OV, VS, QP)
        elif kind == K_TRADE:
            if not halted:  # a print during a halt (an auction's, a correction) is not for us
                if es != 1:
                    _on_trade_side(1, ev.price, ev.qty, ts, OI, QA, nrows, F, FQ, VS)
                if es != -1:
                    _on_trade_side(-1, ev.price, ev.qty, ts, OI, QA, nrows, F, FQ, VS)
        elif kind == K_CLEAR:
            _on_clear(es, OI, nrows, OV, VS)
        last = (ev.flags & F_LAST) != 0
        if last:
            _on_last(M, OI, QA, nrows, F, FQ, VS, QP, ts, halted)
        i = j + 1
        if VS[V_NFILL] > 0 and (last or VS[V_NFILL] >= F.shape[0] - nrows):
            return i, C_FILLED
        if VS[V_NEED] != 0:
            return i, C_STRUCT
    return i, code


@njit(cache=True)
def fix_state(state, need):
    """Grow the book's overflow arrays or move its window as ``need`` (a ``NEED_*`` code) asks."""
    M, BW, AW, BOP, BOQ, AOP, AOQ = state
    if need == NEED_GROW_BID:
        BOP, BOQ = _grow_pair(BOP, BOQ, M[M_N_OB])
        return (M, BW, AW, BOP, BOQ, AOP, AOQ)
    if need == NEED_GROW_ASK:
        AOP, AOQ = _grow_pair(AOP, AOQ, M[M_N_OA])
        return (M, BW, AW, BOP, BOQ, AOP, AOQ)
    return _recentre(state)
