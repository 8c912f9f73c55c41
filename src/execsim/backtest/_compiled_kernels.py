# mypy: allow-untyped-defs
# (numba types the kernels from their arguments; annotations would only restate the layout below)
"""Compiled loop of the quoting engine. Private: use :func:`execsim.backtest.compiled.run_compiled_quoter`.

One call of :func:`quoter_run` plays a strategy's quotes against a replayed L2 tape with no
Python call per event *and* none per decision: the strategy's ``decide`` is a first-class
compiled function called from inside the loop.

Two books, like hftbacktest
---------------------------
* the **exchange** side: the L2 replay venue's own compiled state (book tuple ``SX``, our
  resting orders ``OI``/``QA``, venue scalars ``VS``, queue-model parameters ``QP``, fills
  ``F``/``FQ``), advanced by :func:`execsim.venues._l2_venue_kernels.venue_advance`, the very
  kernel :class:`~execsim.venues.l2_replay.L2ReplayVenue` runs, so queues and fills follow the
  same rules. What the venue's Python methods do around the kernel (accept a post-only order,
  rest it at the back of its level, cancel it, collect fills and drop filled rows) is
  re-stated here in compiled code, step for step (the names of the venue's methods are given
  in the comments), so that rows end up in the same order as in the Python venue.
* the **local** view: a second L2 book (``SL``) applying each event at its receive time
  ``local_ts`` (the market-data latency is folded into that array by the caller).

Time
----
Decisions happen at ``start, start + interval, ...``. Before the decision at ``t``: commands
that arrive at the exchange by ``t`` are applied in order, each after the tape up to its
arrival time (tape events at exactly that time first); the exchange replays the tape up to
``t``; the local book applies every event with ``local_ts <= t``; the strategy's known position
counts the fills whose report has reached it (``ts + response <= t``). The decision's cancels
(of the previous quotes, unless the strategy already knows them done) and new post-only quotes
arrive at ``t + entry``, cancels first.

The loop is resumable: every piece of state lives in the arrays it is given, so the caller can
feed the tape in batches (``horizon``: the loop never looks at a time beyond it) and call again.

Why the books' arrays travel one by one
---------------------------------------
A book's state is a tuple of seven arrays that is replaced when the book grows or moves its
window. Reading arrays out of a tuple, or passing arrays to a compiled function that is not
inlined, costs numba a reference-count update per array (an atomic instruction), about 60 ns
per call with seven arrays: more than the work of a decision. So :func:`quoter_run` only
holds the tuples and fixes them; the loop itself (:func:`_inner`) takes every array as its own
argument, its helpers are inlined into it, and it returns ``Q_FIX_*`` when a book must be
rebuilt. Every step of a decision is resumable, so it is simply started again after the fix.

Arrays
------
``SC`` int64 scalars (``S_*``). ``CMD`` int64 (cap, 3): commands in flight, a FIFO
(arrival time, kind, order id). ``ORD`` int64 (cap, N_D): one row per order (id - 1),
columns ``D_*``. ``FILLS`` int64 (cap, N_FL) and ``FQA`` float64 (cap,): our fills in the order
they happened, with the queue-ahead estimate before each.
"""

from __future__ import annotations

import numpy as np

from execsim.book._l2_kernels import (
    DONE,
    M_BASE,
    M_BEST_ASK,
    M_BEST_BID,
    M_N_OA,
    M_N_OB,
    M_STATUS,
    NO_ASK,
    NO_BID,
    _overflow_qty,
    _run,
)
from execsim.core.jit import njit
from execsim.venues._l2_venue_kernels import (
    C_STRUCT,
    F_ID,
    F_LEAVES,
    F_PRICE,
    F_QTY,
    F_TS,
    F_WHY,
    O_CLEARED,
    O_ID,
    O_LEAVES,
    O_LIVE,
    O_LVL,
    O_PEND,
    O_POST,
    O_PRICE,
    O_PRIO,
    O_SIDE,
    V_NEED,
    V_NFILL,
    V_NROWS,
    fix_state,
    venue_advance,
)

# ---- scalars SC
S_EX_I = 0  # next tape event for the exchange
S_LOC_I = 1  # next tape event for the local view
S_T = 2  # next decision time
S_N_ORD = 3  # orders created (ids 1..n)
S_N_FILL = 4  # fills recorded
S_KNOWN = 5  # fills whose report has reached the strategy (cursor into FILLS)
S_POS_KNOWN = 6  # position the strategy knows of
S_POS = 7  # position at the exchange
S_CASH = 8  # -sum(side * price * qty), ticks x lots
S_CMD_HEAD = 9
S_CMD_TAIL = 10
S_PRIO = 11  # the venue's time-priority counter
S_NROWS = 12  # rows of OI in use
S_CUR_BID = 13  # order id of the last decision's bid (0: none)
S_CUR_ASK = 14
S_INTERVAL = 15
S_ENTRY = 16
S_RESP = 17
S_DECISIONS = 18
S_SUBMITS = 19
S_CANCELS = 20  # cancel requests sent
S_CANCEL_REJ = 21  # cancels that found no open order (it had filled, or been rejected)
S_REJ_POST = 22  # post-only quotes rejected because they would have taken liquidity
S_REJ_HALT = 23  # quotes rejected because trading was halted
S_VOLUME = 24  # lots filled
S_CANCELLED = 25  # orders cancelled at the exchange
S_LOC_EVENTS = 26  # events applied to the local book
S_NEED = 27  # rows a Q_GROW_* code asks for
S_LOC_NEED = 28  # the local book's NEED_* code while it waits for its fix
N_SC = 32

# ---- command kinds
CMD_SUBMIT = 1
CMD_CANCEL = 2

# ---- order columns (row = id - 1)
D_SIDE = 0
D_PRICE = 1
D_QTY = 2
D_TS_SUBMIT = 3
D_TS_ARRIVE = 4  # -1 until the command reached the exchange
D_STATUS = 5
D_TS_DONE = 6  # exchange time it filled / was cancelled / rejected (-1 while open)
D_FILLED = 7
D_REASON = 8
D_ARR_BID_PX = 9  # the exchange's best bid and offer when the order arrived (0, 0 if empty)
D_ARR_BID_QTY = 10
D_ARR_ASK_PX = 11
D_ARR_ASK_QTY = 12
D_NOTIONAL = 13  # sum of price x qty of its fills
N_D = 14

# ordered: codes from ST_FILLED on are final
ST_SENT = 0  # on its way to the exchange
ST_RESTING = 1
ST_FILLED = 2
ST_CANCELLED = 3
ST_REJECTED = 4

R_NONE = 0
R_POST_ONLY = 1
R_HALTED = 2
R_USER = 3
R_NO_ROOM = 4  # never expected: more resting orders than OI has rows

# ---- fill columns
FL_TS = 0
FL_RECV = 1
FL_ID = 2
FL_SIDE = 3
FL_PRICE = 4
FL_QTY = 5
FL_LEAVES = 6
FL_WHY = 7
N_FL = 8

# ---- return codes of quoter_run
Q_DONE = 0  # the end was reached
Q_NEED_DATA = 1  # the next decision lies beyond the horizon: feed more tape and call again
Q_GROW_FILLS = 2  # FILLS (and FQA) need at least SC[S_NEED] rows
Q_GROW_ORDERS = 3  # ORD needs at least SC[S_NEED] rows
Q_GROW_COMMANDS = 4  # CMD needs at least SC[S_NEED] rows
Q_FIX_EXCHANGE = 5  # (inner loop only) the exchange book must grow or move: VS[V_NEED]
Q_FIX_LOCAL = 6  # (inner loop only) the local book must grow or move: SC[S_LOC_NEED]


@njit(cache=True, inline="always")
def _remove(OI, QA, SC, oid):
    """Drop our order from the rows (L2ReplayVenue._remove: the last row fills the hole)."""
    n = SC[S_NROWS]
    row = -1
    for k in range(n):
        if OI[k, O_ID] == oid:
            row = k
            break
    if row < 0:
        return False
    last = n - 1
    if row != last:
        for c in range(OI.shape[1]):
            OI[row, c] = OI[last, c]
        QA[row] = QA[last]
    SC[S_NROWS] = last
    return True


@njit(cache=True, inline="always")
def _collect(OI, QA, VS, F, FQ, SC, ORD, FILLS, FQA):
    """Record the fills the venue kernel wrote (L2ReplayVenue._collect_fills)."""
    n = VS[V_NFILL]
    VS[V_NFILL] = 0
    k = SC[S_N_FILL]  # room for n more: _room checked before the step
    resp = SC[S_RESP]
    for r in range(n):
        oid = F[r, F_ID]
        o = oid - 1
        side = ORD[o, D_SIDE]
        px = F[r, F_PRICE]
        q = F[r, F_QTY]
        leaves = F[r, F_LEAVES]
        ts = F[r, F_TS]
        FILLS[k, FL_TS] = ts
        FILLS[k, FL_RECV] = ts + resp
        FILLS[k, FL_ID] = oid
        FILLS[k, FL_SIDE] = side
        FILLS[k, FL_PRICE] = px
        FILLS[k, FL_QTY] = q
        FILLS[k, FL_LEAVES] = leaves
        FILLS[k, FL_WHY] = F[r, F_WHY]
        FQA[k] = FQ[r]
        k += 1
        ORD[o, D_FILLED] += q
        ORD[o, D_NOTIONAL] += px * q
        SC[S_POS] += side * q
        SC[S_CASH] -= side * px * q
        SC[S_VOLUME] += q
        if leaves <= 0:
            ORD[o, D_STATUS] = ST_FILLED
            ORD[o, D_TS_DONE] = ts
            _remove(OI, QA, SC, oid)
    SC[S_N_FILL] = k


@njit(cache=True, inline="always")
def _advance_to(
    M, BW, AW, BOP, BOQ, AOP, AOQ, events, until,
    OI, QA, VS, QP, OV, F, FQ, rej, out, SC, ORD, FILLS, FQA,
):  # fmt: skip
    """Replay the exchange's tape up to ``until`` (inclusive), recording every fill on the way.

    The loop of ``L2ReplayVenue.advance`` (call the kernel until it stops at a fill, at ``until``
    or at the end of the tape; collect the fills of a finished message), repeated until a call
    brings no fill, as ``Session._catch_up`` and ``L2ReplayVenue.handle`` do. Returns True when
    the book must grow or move first (``VS[V_NEED]``): call again after the fix, it goes on.
    """
    i = SC[S_EX_I]
    if VS[V_NFILL] == 0 and (i >= events.shape[0] or events[i].ts_event > until):
        return False  # nothing due: the kernel would return at once, changing nothing
    while True:
        VS[V_NROWS] = SC[S_NROWS]
        i, code = venue_advance(
            M, BW, AW, BOP, BOQ, AOP, AOQ, events, SC[S_EX_I], until,
            OI, QA, VS, QP, OV, F, FQ, rej, out,
        )  # fmt: skip
        SC[S_EX_I] = i
        got = code != C_STRUCT and VS[V_NFILL] > 0
        if got:  # a finished message (or the end) with fills: what advance() returns
            _collect(OI, QA, VS, F, FQ, SC, ORD, FILLS, FQA)
        if VS[V_NEED] != 0:
            return True
        if not got and code != C_STRUCT:
            return False


@njit(cache=True, inline="always")
def _qty(M, BW, AW, BOP, BOQ, AOP, AOQ, side, price):
    """Quantity at (side, price) of a book; 0 when no level (the book's ``l2_qty_at``)."""
    i = price - M[M_BASE]
    if side == 1:
        if 0 <= i < BW.shape[0]:
            return BW[i]
        return _overflow_qty(BOP, BOQ, M[M_N_OB], price)
    if 0 <= i < AW.shape[0]:
        return AW[i]
    return _overflow_qty(AOP, AOQ, M[M_N_OA], price)


@njit(cache=True, inline="always")
def _best(M, BW, AW, BOP, BOQ, AOP, AOQ, side):
    """(price, qty) of one side's best level of a book; (0, 0) when the side is empty."""
    if side == 1:
        p = M[M_BEST_BID]
        if p == NO_BID:
            return 0, 0
    else:
        p = M[M_BEST_ASK]
        if p == NO_ASK:
            return 0, 0
    return p, _qty(M, BW, AW, BOP, BOQ, AOP, AOQ, side, p)


@njit(cache=True, inline="always")
def _on_submit(M, BW, AW, BOP, BOQ, AOP, AOQ, OI, QA, SC, ORD, oid, t):
    """A post-only limit order reaches the exchange (L2ReplayVenue._submit, then _rest)."""
    o = oid - 1
    bp, bq = _best(M, BW, AW, BOP, BOQ, AOP, AOQ, 1)
    ap, aq = _best(M, BW, AW, BOP, BOQ, AOP, AOQ, -1)
    ORD[o, D_TS_ARRIVE] = t
    ORD[o, D_ARR_BID_PX] = bp
    ORD[o, D_ARR_BID_QTY] = bq
    ORD[o, D_ARR_ASK_PX] = ap
    ORD[o, D_ARR_ASK_QTY] = aq
    st = M[M_STATUS]
    side = ORD[o, D_SIDE]
    px = ORD[o, D_PRICE]
    # our quotes never take (the venue's depletion overlay therefore stays empty): an order
    # reaching the recorded contra best would take liquidity, which post-only forbids
    if side == 1:
        crosses = M[M_BEST_ASK] != NO_ASK and M[M_BEST_ASK] <= px
    else:
        crosses = M[M_BEST_BID] != NO_BID and M[M_BEST_BID] >= px
    n = SC[S_NROWS]
    reason = R_NONE
    if st == 0 or st == 1:  # halted, or quoting only
        reason = R_HALTED
        SC[S_REJ_HALT] += 1
    elif crosses:
        reason = R_POST_ONLY
        SC[S_REJ_POST] += 1
    elif n >= OI.shape[0]:
        reason = R_NO_ROOM
    if reason != R_NONE:
        ORD[o, D_STATUS] = ST_REJECTED
        ORD[o, D_TS_DONE] = t
        ORD[o, D_REASON] = reason
        return
    SC[S_PRIO] += 1
    lvl = _qty(M, BW, AW, BOP, BOQ, AOP, AOQ, side, px)
    OI[n, O_ID] = oid
    OI[n, O_SIDE] = side
    OI[n, O_PRICE] = px
    OI[n, O_LEAVES] = ORD[o, D_QTY]
    OI[n, O_LVL] = lvl
    OI[n, O_PEND] = 0
    OI[n, O_PRIO] = SC[S_PRIO]
    OI[n, O_LIVE] = 1
    OI[n, O_CLEARED] = 0
    OI[n, O_POST] = 1
    QA[n] = float(lvl)  # the back of the queue: everything resting there now is ahead of us
    SC[S_NROWS] = n + 1
    ORD[o, D_STATUS] = ST_RESTING


@njit(cache=True, inline="always")
def _on_cancel(OI, QA, SC, ORD, oid, t):
    """A cancel reaches the exchange (L2ReplayVenue._cancel, whole order)."""
    if _remove(OI, QA, SC, oid):
        o = oid - 1
        ORD[o, D_STATUS] = ST_CANCELLED
        ORD[o, D_TS_DONE] = t
        ORD[o, D_REASON] = R_USER
        SC[S_CANCELLED] += 1
    else:
        SC[S_CANCEL_REJ] += 1


@njit(cache=True, inline="always")
def _arrivals(
    M, BW, AW, BOP, BOQ, AOP, AOQ, events, upto,
    OI, QA, VS, QP, OV, F, FQ, rej, out, SC, ORD, FILLS, FQA, CMD,
):  # fmt: skip
    """Apply the commands arriving by ``upto``, each after the tape up to its arrival time.

    Returns True when the book must be fixed first (the command waits at the head of the queue).
    """
    while SC[S_CMD_HEAD] < SC[S_CMD_TAIL] and CMD[SC[S_CMD_HEAD], 0] <= upto:
        head = SC[S_CMD_HEAD]
        t = CMD[head, 0]
        if _advance_to(
            M, BW, AW, BOP, BOQ, AOP, AOQ, events, t, OI, QA, VS, QP, OV, F, FQ, rej, out, SC, ORD, FILLS, FQA
        ):
            return True
        kind = CMD[head, 1]
        oid = CMD[head, 2]
        SC[S_CMD_HEAD] = head + 1
        if kind == CMD_SUBMIT:
            _on_submit(M, BW, AW, BOP, BOQ, AOP, AOQ, OI, QA, SC, ORD, oid, t)
        else:
            _on_cancel(OI, QA, SC, ORD, oid, t)
    return False


@njit(cache=True, inline="always")
def _local_to(M, BW, AW, BOP, BOQ, AOP, AOQ, events, local_ts, t, rej, out, SC):
    """Apply to the local book every event with ``local_ts <= t``.

    Returns True when the book must grow or move first (``SC[S_LOC_NEED]``); call again after.
    """
    i = SC[S_LOC_I]
    if i >= local_ts.shape[0] or local_ts[i] > t:
        return False
    stop = i + np.searchsorted(local_ts[i:], t, side="right")
    ev = events[:stop]
    while i < stop:
        i2, code, _, _ = _run(M, BW, AW, BOP, BOQ, AOP, AOQ, ev, i, out, 0, False, rej)
        SC[S_LOC_EVENTS] += i2 - i
        SC[S_LOC_I] = i2
        i = i2
        if code != DONE:
            SC[S_LOC_NEED] = code
            return True
    return False


@njit(cache=True)
def local_times(events, mode, offset, carry, out):
    """Receive times of the strategy's feed into ``out``; return the new carry.

    ``mode`` 0: the data's own latency, ``max(ts_recv - ts_event + offset, 0)``; 1: the constant
    ``offset``. As the session's MarketView: ``ts_event + delay``, never decreasing (``carry`` is
    the last receive time of the previous batch). One pass, no temporaries.
    """
    for k in range(events.shape[0]):
        ev = events[k]
        te = ev.ts_event
        if mode == 0:
            d = ev.ts_recv - te + offset
            if d < 0:
                d = 0
        else:
            d = offset
        x = te + d
        if x > carry:
            carry = x
        out[k] = carry
    return carry


@njit(cache=True, inline="always")
def _push(CMD, SC, t, kind, oid):
    tail = SC[S_CMD_TAIL]  # room checked by _room
    CMD[tail, 0] = t
    CMD[tail, 1] = kind
    CMD[tail, 2] = oid
    SC[S_CMD_TAIL] = tail + 1


@njit(cache=True, inline="always")
def _room(OI, SC, CMD, ORD, FILLS):
    """0 when the tables have room for one more decision step, else the ``Q_GROW_*`` code.

    A step can fill only orders resting now or in flight (each at most its open quantity) and
    sends at most four commands and two orders.
    """
    head = SC[S_CMD_HEAD]
    tail = SC[S_CMD_TAIL]
    need = 0
    for k in range(SC[S_NROWS]):
        need += OI[k, O_LEAVES]
    for j in range(head, tail):
        if CMD[j, 1] == CMD_SUBMIT:
            need += ORD[CMD[j, 2] - 1, D_QTY]
    if SC[S_N_FILL] + need > FILLS.shape[0]:
        SC[S_NEED] = SC[S_N_FILL] + need
        return Q_GROW_FILLS
    if SC[S_N_ORD] + 2 > ORD.shape[0]:
        SC[S_NEED] = SC[S_N_ORD] + 2
        return Q_GROW_ORDERS
    if tail + 4 > CMD.shape[0]:
        # move what is in flight to the front
        n = tail - head
        for k in range(n):
            CMD[k, 0] = CMD[head + k, 0]
            CMD[k, 1] = CMD[head + k, 1]
            CMD[k, 2] = CMD[head + k, 2]
        SC[S_CMD_HEAD] = 0
        SC[S_CMD_TAIL] = n
        if n + 4 > CMD.shape[0]:
            SC[S_NEED] = n + 4
            return Q_GROW_COMMANDS
    return 0


@njit(cache=True, inline="always")
def _known_done(ORD, oid, t, resp):
    """Whether the strategy knows at ``t`` that the order is filled, cancelled or rejected."""
    o = oid - 1
    return ORD[o, D_STATUS] >= ST_FILLED and ORD[o, D_TS_DONE] + resp <= t


@njit(cache=True, inline="always")
def _new_order(ORD, SC, side, price, qty, t):
    n = SC[S_N_ORD]  # room checked by _room
    ORD[n, D_SIDE] = side
    ORD[n, D_PRICE] = price
    ORD[n, D_QTY] = qty
    ORD[n, D_TS_SUBMIT] = t
    ORD[n, D_TS_ARRIVE] = -1
    ORD[n, D_STATUS] = ST_SENT
    ORD[n, D_TS_DONE] = -1
    SC[S_N_ORD] = n + 1
    SC[S_SUBMITS] += 1
    return n + 1


@njit(cache=True)
def _inner(
    M, BW, AW, BOP, BOQ, AOP, AOQ,
    LM, LBW, LAW, LBOP, LBOQ, LAOP, LAOQ,
    events, local_ts, horizon, final,
    OI, QA, VS, QP, OV, F, FQ, rej_x, rej_l, out,
    SC, CMD, ORD, FILLS, FQA, decide, params, qout,
):  # fmt: skip
    """The decision loop of :func:`quoter_run`, the books' arrays one by one (module docstring)."""
    while True:
        code = _room(OI, SC, CMD, ORD, FILLS)
        if code != 0:
            return code
        t = SC[S_T]
        last = t > horizon
        upto = horizon if last else t
        # the exchange up to t: commands arriving by then, the tape, our fills
        if _arrivals(
            M, BW, AW, BOP, BOQ, AOP, AOQ, events, upto,
            OI, QA, VS, QP, OV, F, FQ, rej_x, out, SC, ORD, FILLS, FQA, CMD,
        ):  # fmt: skip
            return Q_FIX_EXCHANGE
        if _advance_to(
            M, BW, AW, BOP, BOQ, AOP, AOQ, events, upto,
            OI, QA, VS, QP, OV, F, FQ, rej_x, out, SC, ORD, FILLS, FQA,
        ):  # fmt: skip
            return Q_FIX_EXCHANGE
        if last and final:
            return Q_DONE
        # what the strategy knows at t: the book at its receive time, the fills reported to it
        if _local_to(LM, LBW, LAW, LBOP, LBOQ, LAOP, LAOQ, events, local_ts, upto, rej_l, out, SC):
            return Q_FIX_LOCAL
        if last:
            return Q_NEED_DATA
        k = SC[S_KNOWN]
        nf = SC[S_N_FILL]
        while k < nf and FILLS[k, FL_RECV] <= t:
            SC[S_POS_KNOWN] += FILLS[k, FL_SIDE] * FILLS[k, FL_QTY]
            k += 1
        SC[S_KNOWN] = k
        bp, bq = _best(LM, LBW, LAW, LBOP, LBOQ, LAOP, LAOQ, 1)
        ap, aq = _best(LM, LBW, LAW, LBOP, LBOQ, LAOP, LAOQ, -1)
        for j in range(4):
            qout[j] = 0
        decide(t, bp, bq, ap, aq, SC[S_POS_KNOWN], params, qout)
        # cancel the previous quotes (those not known to be done), then send the new ones
        arrive = t + SC[S_ENTRY]
        resp = SC[S_RESP]
        for j in range(2):
            cur = SC[S_CUR_BID + j]
            if cur > 0 and not _known_done(ORD, cur, t, resp):
                _push(CMD, SC, arrive, CMD_CANCEL, cur)
                SC[S_CANCELS] += 1
            SC[S_CUR_BID + j] = 0
        if qout[1] > 0:
            oid = _new_order(ORD, SC, 1, qout[0], qout[1], t)
            _push(CMD, SC, arrive, CMD_SUBMIT, oid)
            SC[S_CUR_BID] = oid
        if qout[3] > 0:
            oid = _new_order(ORD, SC, -1, qout[2], qout[3], t)
            _push(CMD, SC, arrive, CMD_SUBMIT, oid)
            SC[S_CUR_ASK] = oid
        SC[S_DECISIONS] += 1
        SC[S_T] = t + SC[S_INTERVAL]


@njit(cache=True)
def quoter_run(
    SX, SL, events, local_ts, horizon, final,
    OI, QA, VS, QP, OV, F, FQ, rej_x, rej_l, out,
    SC, CMD, ORD, FILLS, FQA, decide, params, qout,
):  # fmt: skip
    """Run decisions (and everything due before them) up to ``horizon``; see the module docstring.

    ``final``: no tape beyond ``horizon`` will come, which is then the end of the run: once the
    next decision lies beyond it, the commands arriving by then are applied, the exchange
    replays the tape up to it, and the loop returns ``Q_DONE``. Otherwise the loop brings both
    books and the exchange's commands up to ``horizon`` and returns ``Q_NEED_DATA``. A
    ``Q_GROW_*`` code asks for a larger table (at least ``SC[S_NEED]`` rows) before going on.

    Returns ``(SX, SL, code)``: the book states are replaced when they grow or move.
    """
    while True:
        code = _inner(
            SX[0], SX[1], SX[2], SX[3], SX[4], SX[5], SX[6],
            SL[0], SL[1], SL[2], SL[3], SL[4], SL[5], SL[6],
            events, local_ts, horizon, final,
            OI, QA, VS, QP, OV, F, FQ, rej_x, rej_l, out,
            SC, CMD, ORD, FILLS, FQA, decide, params, qout,
        )  # fmt: skip
        if code == Q_FIX_EXCHANGE:
            SX = fix_state(SX, VS[V_NEED])
            VS[V_NEED] = 0
        elif code == Q_FIX_LOCAL:
            SL = fix_state(SL, SC[S_LOC_NEED])
            SC[S_LOC_NEED] = 0
        else:
            return SX, SL, code
