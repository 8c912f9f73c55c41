"""Compiled kernels of the LOBSTER feed handler: a strict CSV number parser and the event builder.

Both run in numba with no Python call per row; :mod:`execsim.data.feeds.lobster` wraps them,
owns the arrays, grows them when a kernel asks for room and turns error codes into messages.

State carried between chunks by :func:`build_events`
---------------------------------------------------
Sides are indexed ``0`` = bid (side ``1``) and ``1`` = ask (side ``-1``). A price is handled as a
*key* that grows away from the touch on both sides (``-price`` for bids, ``price`` for asks),
so "deeper" is always "larger key".

``prev_key[si, :prev_n[si]]``
    Keys of the previous orderbook row (the levels inside the recorded window), best first.
    It has room for ``L + 1`` keys: the pre-state built for message 1 may hold one level more.
``ghost_key[si, :ghost_n[si]]``
    *Ghosts*: prices that the replayed book may hold outside the recorded window (a level
    pushed out of the top L, an order added outside it). Their true size is unknown until the
    window reaches them again; then the orderbook row says either the size (a reveal) or that
    the level is gone (a reveal with size 0).
"""

from __future__ import annotations

import numpy as np

from execsim.core.jit import njit
from execsim.data.schema import (
    F_CROSS,
    F_HIDDEN,
    F_LAST,
    F_REVEAL,
    K_ADD,
    K_CANCEL,
    K_DELETE,
    K_EXECUTE,
    K_HALT,
    K_SET_LEVEL,
    K_TRADE,
)

# -- parser status codes ------------------------------------------------------------------
P_OK = 0
P_BAD_NUMBER = 1  # empty field, a character that is not a digit, a sign without digits
P_TOO_MANY_COLS = 2
P_TOO_FEW_COLS = 3
P_PRECISION = 4  # a time with non-zero digits below the nanosecond
P_OVERFLOW = 5  # more digits than an int64 holds safely
P_TOO_MANY_ROWS = 6  # the output array is full (the caller sized it from the line count)

# -- builder status codes -----------------------------------------------------------------
B_OK = 0
B_NEED_OUT = 1
B_NEED_GHOST = 2

# -- builder counters (indices into the ``counters`` array) --------------------------------
C_REVEALS = 0  # SET_LEVEL with a positive size: a level entered the window from outside
C_REVEAL_CLEARS = 1  # SET_LEVEL with size 0: a level known outside the window is gone
C_GHOST_PEAK = 2  # the most ghost levels held at once (both sides)
C_REVEAL_RESETS = 3  # SET_LEVEL of size 0 just before a reveal of a level the book held
N_COUNTERS = 4

_MAX_DIGITS = 18  # 10**18 < 2**63: any 18-digit integer fits an int64

_MAX_KEY = np.iinfo(np.int64).max


@njit(cache=True)
def parse_rows(buf, ncols, first_is_time, out):  # type: ignore[no-untyped-def]
    """Parse comma-separated integer rows (``\\n`` or ``\\r\\n`` ended) from ``buf``.

    Parameters
    ----------
    buf : uint8[:]
        The bytes of whole lines.
    ncols : int
        Required number of fields per row.
    first_is_time : bool
        Field 0 is a decimal number of seconds (``34200.015105074``), stored as integer
        nanoseconds; digits below the nanosecond must be zeros.
    out : int64[:, ncols]
        Receives the values, one row per line.

    Returns
    -------
    (rows, status, err_row, err_col)
        ``rows`` parsed; on error ``status`` is a ``P_*`` code and ``err_row`` / ``err_col``
        (0-based, within ``buf``) locate it.
    """
    n = buf.shape[0]
    maxrows = out.shape[0]
    i = 0
    row = 0
    while i < n:
        if row >= maxrows:
            return row, P_TOO_MANY_ROWS, row, 0
        col = 0
        while True:
            if col >= ncols:
                return row, P_TOO_MANY_COLS, row, col
            if col == 0 and first_is_time:
                ip = 0
                nd = 0
                while i < n and 48 <= buf[i] <= 57:
                    if nd >= 9:  # more than 999,999,999 seconds: not a time of day
                        return row, P_OVERFLOW, row, col
                    ip = ip * 10 + (buf[i] - 48)
                    nd += 1
                    i += 1
                if nd == 0:
                    return row, P_BAD_NUMBER, row, col
                frac = 0
                if i < n and buf[i] == 46:  # '.'
                    i += 1
                    nf = 0
                    while i < n and 48 <= buf[i] <= 57:
                        if nf < 9:
                            frac = frac * 10 + (buf[i] - 48)
                        elif buf[i] != 48:
                            return row, P_PRECISION, row, col
                        nf += 1
                        i += 1
                    if nf == 0:
                        return row, P_BAD_NUMBER, row, col
                    for _ in range(nf, 9):
                        frac *= 10
                out[row, col] = ip * 1_000_000_000 + frac
            else:
                neg = False
                if i < n and (buf[i] == 45 or buf[i] == 43):  # '-' or '+'
                    neg = buf[i] == 45
                    i += 1
                v = 0
                nd = 0
                while i < n and 48 <= buf[i] <= 57:
                    if nd >= _MAX_DIGITS:
                        return row, P_OVERFLOW, row, col
                    v = v * 10 + (buf[i] - 48)
                    nd += 1
                    i += 1
                if nd == 0:
                    return row, P_BAD_NUMBER, row, col
                out[row, col] = -v if neg else v
            # after a field: ',' goes on, a line end closes the row, anything else is garbage
            if i < n and buf[i] == 44:
                i += 1
                col += 1
                continue
            if i < n and buf[i] == 13:
                i += 1
                if i < n and buf[i] != 10:
                    return row, P_BAD_NUMBER, row, col
            if i >= n or buf[i] == 10:
                if col != ncols - 1:
                    return row, P_TOO_FEW_COLS, row, col
                i += 1
                row += 1
                break
            return row, P_BAD_NUMBER, row, col
    return row, P_OK, -1, -1


@njit(cache=True)
def _key_of(px, si):  # type: ignore[no-untyped-def]
    return -px if si == 0 else px


@njit(cache=True)
def _ghost_index(ghost_key, ghost_n, si, k):  # type: ignore[no-untyped-def]
    for g in range(ghost_n[si]):
        if ghost_key[si, g] == k:
            return g
    return -1


@njit(cache=True)
def _ghost_add(ghost_key, ghost_n, si, k):  # type: ignore[no-untyped-def]
    if _ghost_index(ghost_key, ghost_n, si, k) < 0:
        ghost_key[si, ghost_n[si]] = k
        ghost_n[si] += 1


@njit(cache=True)
def _ghost_remove_at(ghost_key, ghost_n, si, g):  # type: ignore[no-untyped-def]
    ghost_n[si] -= 1
    ghost_key[si, g] = ghost_key[si, ghost_n[si]]


@njit(cache=True)
def build_events(  # type: ignore[no-untyped-def]
    m_ts,
    m_type,
    m_oid,
    m_size,
    m_price,
    m_dir,
    m_halt,
    bpx,
    bqty,
    apx,
    aqty,
    prev_key,
    prev_n,
    ghost_key,
    ghost_n,
    row_start,
    o_ts,
    o_kind,
    o_side,
    o_px,
    o_qty,
    o_oid,
    o_flags,
    o_start,
    counters,
):
    """Turn LOBSTER message rows and the orderbook rows after them into canonical events.

    Each message gives one event; after it come the reveal events its orderbook row implies
    (see the module docstring and ``docs/data-lobster.md``); the last event of the row's group
    carries ``F_LAST``. Prices are ticks (0 = empty level), sizes lots, times UTC ns.

    Returns
    -------
    (row, n_out, status)
        The next row to process, the number of events written, and ``B_OK`` when every row is
        done, else ``B_NEED_OUT`` / ``B_NEED_GHOST``: grow that array and call again from
        ``row`` and ``n_out``.
    """
    n = m_ts.shape[0]
    L = bpx.shape[1]
    cap = o_ts.shape[0]
    gcap = ghost_key.shape[1]
    ck = np.empty(L, dtype=np.int64)
    left = np.empty(L + 1, dtype=np.int64)
    j = o_start
    for r in range(row_start, n):
        if j + 1 + 4 * L + ghost_n[0] + ghost_n[1] > cap:
            return r, j, B_NEED_OUT
        if ghost_n[0] + L + 2 > gcap or ghost_n[1] + L + 2 > gcap:
            return r, j, B_NEED_GHOST
        t = m_type[r]
        s = m_dir[r]
        ts = m_ts[r]
        # -- the message's own event
        o_ts[j] = ts
        o_px[j] = m_price[r]
        o_qty[j] = m_size[r]
        o_oid[j] = m_oid[r]
        o_side[j] = s
        o_flags[j] = 0
        if t == 1:
            o_kind[j] = K_ADD
        elif t == 2:
            o_kind[j] = K_CANCEL
        elif t == 3:
            o_kind[j] = K_DELETE
        elif t == 4:
            o_kind[j] = K_EXECUTE
        elif t == 5:
            # s is the resting (passive) side; a TRADE carries the aggressor
            o_kind[j] = K_TRADE
            o_side[j] = -s
            o_flags[j] = F_HIDDEN
        elif t == 6:
            # an auction cross has no aggressor
            o_kind[j] = K_TRADE
            o_side[j] = 0
            o_flags[j] = F_CROSS
        else:
            o_kind[j] = K_HALT
            o_side[j] = 0
            o_px[j] = 0
            o_qty[j] = m_halt[r]
            o_oid[j] = 0
        j += 1
        # visible-book messages (types 1-4) touch one (side, price)
        msg_si = 0 if s == 1 else 1
        touches = t <= 4
        mk = _key_of(m_price[r], msg_si)
        for si in range(2):
            side = 1 if si == 0 else -1
            cpx = bpx[r] if si == 0 else apx[r]
            cq = bqty[r] if si == 0 else aqty[r]
            nc = 0
            while nc < L and cpx[nc] != 0:
                ck[nc] = _key_of(cpx[nc], si)
                nc += 1
            npv = prev_n[si]
            on_msg_side = touches and si == msg_si
            # 1. merge the two sorted key lists: levels that entered / left the window
            a = 0
            b = 0
            nleft = 0
            while a < nc or b < npv:
                if b >= npv or (a < nc and ck[a] < prev_key[si, b]):
                    g = _ghost_index(ghost_key, ghost_n, si, ck[a])
                    if g >= 0:
                        _ghost_remove_at(ghost_key, ghost_n, si, g)
                    # an ADD creates its own level; anything else entering is revealed
                    if not (on_msg_side and t == 1 and ck[a] == mk and g < 0):
                        if g >= 0:
                            # The book still holds what it knew when the level left the
                            # window, but orders may have come and gone out there unseen (the
                            # same total can hide other orders): forget them, so the size
                            # below is all anonymous and later reductions of unseen orders
                            # find it.
                            o_ts[j] = ts
                            o_kind[j] = K_SET_LEVEL
                            o_side[j] = side
                            o_px[j] = cpx[a]
                            o_qty[j] = 0
                            o_oid[j] = 0
                            o_flags[j] = F_REVEAL
                            j += 1
                            counters[C_REVEAL_RESETS] += 1
                        o_ts[j] = ts
                        o_kind[j] = K_SET_LEVEL
                        o_side[j] = side
                        o_px[j] = cpx[a]
                        o_qty[j] = cq[a]
                        o_oid[j] = 0
                        o_flags[j] = F_REVEAL
                        j += 1
                        counters[C_REVEALS] += 1
                    a += 1
                elif a >= nc or prev_key[si, b] < ck[a]:
                    left[nleft] = prev_key[si, b]
                    nleft += 1
                    b += 1
                else:
                    a += 1
                    b += 1
            # 2. the window reaches deeper than before: ghosts it now covers are known again
            if ghost_n[si] > 0:
                full_cur = nc >= L
                if (not full_cur) or (npv >= L and ck[nc - 1] > prev_key[si, npv - 1]):
                    limit = ck[nc - 1] if full_cur else _MAX_KEY
                    g = 0
                    while g < ghost_n[si]:
                        gk = ghost_key[si, g]
                        if gk <= limit:
                            present = False
                            for c in range(nc):
                                if ck[c] == gk:
                                    present = True
                                    break
                            if not present:
                                o_ts[j] = ts
                                o_kind[j] = K_SET_LEVEL
                                o_side[j] = side
                                o_px[j] = gk if si == 1 else -gk
                                o_qty[j] = 0
                                o_oid[j] = 0
                                o_flags[j] = F_REVEAL
                                j += 1
                                counters[C_REVEAL_CLEARS] += 1
                            _ghost_remove_at(ghost_key, ghost_n, si, g)
                        else:
                            g += 1
            # 3. levels that left the window without a message emptying them are ghosts now
            for q in range(nleft):
                if on_msg_side and t >= 2 and left[q] == mk:
                    continue
                _ghost_add(ghost_key, ghost_n, si, left[q])
            # 4. a message outside the window leaves a level the book holds but cannot see
            if on_msg_side:
                in_cur = False
                for c in range(nc):
                    if ck[c] == mk:
                        in_cur = True
                        break
                if not in_cur:
                    in_prev = False
                    for c in range(npv):
                        if prev_key[si, c] == mk:
                            in_prev = True
                            break
                    if t == 1 or not in_prev:
                        _ghost_add(ghost_key, ghost_n, si, mk)
            for c in range(nc):
                prev_key[si, c] = ck[c]
            prev_n[si] = nc
        o_flags[j - 1] |= F_LAST
        held = ghost_n[0] + ghost_n[1]
        if held > counters[C_GHOST_PEAK]:
            counters[C_GHOST_PEAK] = held
    return n, j, B_OK
