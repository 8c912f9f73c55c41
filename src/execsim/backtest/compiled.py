"""A compiled fast path for high-frequency quoting strategies: the decision runs inside the loop.

The general :class:`~execsim.backtest.session.Session` hands control to Python at every
decision point; for a strategy that re-quotes every 100 ms that is tens of microseconds of
Python per decision (kernel events, report objects, callbacks), which dominates the run. Here the
strategy is a small compiled function, ``decide``, called from inside the compiled loop, and
nothing returns to Python until the end of the data, like a numba strategy in hftbacktest.

What it simulates
-----------------
Exactly the session with :class:`~execsim.backtest.strategies.TouchQuoter`-like strategies and
an :class:`~execsim.venues.l2_replay.L2ReplayVenue` (``docs/compiled-strategies.md``):

* Every ``interval_ns`` of market time from ``start_ns``, ``decide`` sees the strategy's book
  (each event applied at its receive time: ``ts_event`` + market-data latency, kept
  non-decreasing) and the position it knows of (fills whose report has reached it), and writes
  the quotes it wants. Each decision **cancels the previous quotes** (unless the strategy already
  knows them filled or rejected) **and sends the new ones**: post-only limit orders, bid first;
  a quantity of 0 sends none on that side.
* Cancels and new quotes reach the exchange ``entry_latency_ns`` later, cancels first; tape
  events at exactly that time come before them. Fills and other reports reach the strategy
  ``response_latency_ns`` after they happen at the exchange.
* The exchange is the L2 replay venue's own compiled loop: the same book, the same queue-model
  kernels and parameters (:mod:`execsim.venues.queue_models`), the same fill rules (queue, trade
  through, opposite best reaching our price), the same post-only rejection and halt handling.
  Our quotes never take liquidity, so the venue's depletion setting has no effect on them.

What it does not do: taking orders, modifies, several quotes per side, impact (price shift),
random or state-dependent order latencies. Use the session for those.

Results: :class:`CompiledRunResult`, with the fills and orders as numpy record arrays and as
Arrow tables in the layout of :class:`~execsim.backtest.results.RunResult`'s ``fills`` and
``orders`` tables.
"""

from __future__ import annotations

import contextlib
import math
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import pyarrow as pa
from numba import cfunc, types
from numba.core.ccallback import CFunc
from numba.core.dispatcher import Dispatcher

from execsim.backtest import _compiled_kernels as _q
from execsim.book import _l2_kernels as _bk
from execsim.core.errors import ConfigError, ExecsimError
from execsim.core.jit import njit
from execsim.data.schema import EVENT_DTYPE
from execsim.model.instrument import Instrument
from execsim.venues import _l2_venue_kernels as _vk
from execsim.venues.fees import FeeModel
from execsim.venues.latency import ConstantLatency, DataLatency, LatencyModel
from execsim.venues.queue_models import QueueModel, QueueModelConfig, queue_model_from_config

__all__ = [
    "DECIDE_SIGNATURE",
    "FILL_DTYPE",
    "ORDER_DTYPE",
    "ORDER_REASONS",
    "CompiledRunResult",
    "compile_decide",
    "run_compiled_quoter",
    "touch_quoter_decide",
    "touch_quoter_params",
]

DECIDE_SIGNATURE: Final = types.void(
    types.int64,  # t_ns: the decision time
    types.int64,  # bid_px: the strategy's best bid (ticks; 0 when the bid side is empty)
    types.int64,  # bid_qty (lots; 0 when empty)
    types.int64,  # ask_px
    types.int64,  # ask_qty
    types.int64,  # position the strategy knows of (lots, + long)
    types.float64[::1],  # params: the strategy's own parameters (writable: may hold state)
    types.int64[::1],  # out: bid price, bid qty, ask price, ask qty to quote (qty 0: none)
)
"""The numba signature ``decide`` is compiled for."""

FILL_DTYPE: Final = np.dtype(
    [
        ("ts_venue", np.int64),
        ("ts_recv", np.int64),
        ("order_id", np.int64),
        ("side", np.int8),
        ("price", np.int64),
        ("qty", np.int64),
        ("leaves_qty", np.int64),
        ("queue_ahead", np.float64),
        ("maker", np.bool_),
        ("why", "U7"),
        ("fee", np.float64),
    ]
)
"""One fill: exchange time, time the strategy learns it, order, side (1 buy / -1 sell), price
(ticks), qty and lots left (lots), the queue-ahead estimate before it, maker (always, quotes are
post-only), why (``queue``: trades at our price reached us, ``through``: a trade printed through
our price, ``cross``: the opposite best reached our price) and the fee."""

ORDER_DTYPE: Final = np.dtype(
    [
        ("order_id", np.int64),
        ("side", np.int8),
        ("price", np.int64),
        ("qty", np.int64),
        ("filled_qty", np.int64),
        ("avg_price", np.float64),
        ("status", "U9"),
        ("ts_submit", np.int64),
        ("ts_arrive", np.int64),
        ("ts_done", np.int64),
        ("reason", np.int8),
        ("arrival_bid_px", np.int64),
        ("arrival_bid_qty", np.int64),
        ("arrival_ask_px", np.int64),
        ("arrival_ask_qty", np.int64),
    ]
)
"""One order, as the exchange knows it at the end: ``status`` is ``filled``, ``cancelled``,
``rejected`` or ``expired`` (still resting at the end, or not yet arrived: ``ts_arrive`` -1);
``reason`` indexes :data:`ORDER_REASONS` (the tables carry the words)."""

_WHY: Final = np.array(["queue", "through", "cross"])
_STATUS: Final = {
    _q.ST_SENT: "expired",
    _q.ST_RESTING: "expired",
    _q.ST_FILLED: "filled",
    _q.ST_CANCELLED: "cancelled",
    _q.ST_REJECTED: "rejected",
}
_REASON_TEXT: Final = {
    _q.R_NONE: "",
    _q.R_POST_ONLY: "post-only order would take liquidity",
    _q.R_HALTED: "halted",
    _q.R_USER: "cancelled by request",
    _q.R_NO_ROOM: "too many resting orders",
}
_R_END: Final = len(_REASON_TEXT)
ORDER_REASONS: Final = (*(_REASON_TEXT[k] for k in range(_R_END)), "session end")
"""Why an order ended as it did, by :data:`ORDER_DTYPE`'s ``reason`` code (the L2 replay venue's
wording, so tables from both paths read alike)."""
_OI_ROWS: Final = 8  # decisions leave at most 2 quotes resting (a decision's cancels arrive with its quotes)

MdLatency = Literal["data"] | int | LatencyModel


# ------------------------------------------------------------------------------ decide functions
@njit(cache=True)
def touch_quoter_decide(t_ns, bid_px, bid_qty, ask_px, ask_qty, position, params, out):  # type: ignore[no-untyped-def]
    """Quote ``params[0]`` lots at the best bid and the best ask (TouchQuoter's rule).

    Nothing is quoted unless both sides of the book are there; the bid is left out once the
    position reaches ``params[1]`` lots, the ask once it reaches ``-params[1]``.
    """
    qty = int(params[0])
    max_pos = int(params[1])
    out[0] = 0
    out[1] = 0
    out[2] = 0
    out[3] = 0
    if bid_qty > 0 and ask_qty > 0:
        out[0] = bid_px
        out[2] = ask_px
        if position < max_pos:
            out[1] = qty
        if position > -max_pos:
            out[3] = qty


def touch_quoter_params(qty: int = 1, max_position: int = 10**9) -> np.ndarray:
    """The ``params`` of :func:`touch_quoter_decide` (TouchQuoter's ``qty`` and ``max_position``)."""
    if qty <= 0 or max_position <= 0:
        raise ConfigError(f"qty and max_position must be > 0, got {qty} and {max_position}")
    if max_position > 2**53:
        raise ConfigError(f"max_position must be at most 2**53 (a float64 parameter), got {max_position}")
    return np.array([qty, max_position], np.float64)


_COMPILED: weakref.WeakKeyDictionary[Any, CFunc] = weakref.WeakKeyDictionary()


def compile_decide(decide: Callable[..., None] | Dispatcher | CFunc) -> CFunc:
    """Compile ``decide`` for :data:`DECIDE_SIGNATURE` as a first-class function (a numba ``cfunc``).

    Accepts a plain Python function, a numba ``@njit`` function (its Python source is compiled
    again) or a ``cfunc`` already compiled for the signature. Passing the compiled function
    (instead of a dispatcher) lets the engine's own loop stay in numba's on-disk cache, whatever
    the strategy; compiling ``decide`` itself takes a fraction of a second, once per process.
    """
    if isinstance(decide, CFunc):
        sig = getattr(decide, "_sig", None)
        if sig != DECIDE_SIGNATURE:
            raise ConfigError(f"decide cfunc has signature {sig}, expected {DECIDE_SIGNATURE}")
        return decide
    try:
        hit = _COMPILED.get(decide)
    except TypeError:  # not weak-referenceable
        hit = None
    if hit is not None:
        return hit
    py = decide.py_func if isinstance(decide, Dispatcher) else decide
    if not callable(py):
        raise ConfigError(f"decide must be a function, got {type(decide).__name__}")
    try:
        compiled = cfunc(DECIDE_SIGNATURE)(py)
    except Exception as err:  # numba's typing errors come in many classes
        name = getattr(py, "__qualname__", repr(py))
        raise ConfigError(
            f"decide {name} does not compile for (t_ns, bid_px, bid_qty, ask_px, ask_qty, position, "
            f"params: float64[:], out: int64[:]) -> None: {err}"
        ) from None
    with contextlib.suppress(TypeError):  # not weak-referenceable: compiled again next time
        _COMPILED[decide] = compiled
    return compiled


# ------------------------------------------------------------------------------ result
@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledRunResult:
    """What a compiled quoting run did, as the exchange saw it at the end.

    ``position`` and ``cash`` (``-Σ side × price × qty``, ticks × lots; fees apart) count every
    fill at the exchange up to ``end_ns``, including any whose report reaches the strategy after
    the end (a session's ledger leaves those out: see ``docs/compiled-strategies.md``).
    """

    instrument: Instrument
    venue: str
    start_ns: int
    end_ns: int
    fills: np.ndarray = field(repr=False)
    orders: np.ndarray = field(repr=False)
    position: int
    cash: int
    fees: float
    counters: dict[str, int]

    @property
    def n_fills(self) -> int:
        """Number of fills."""
        return int(self.fills.shape[0])

    def fills_table(self) -> pa.Table:
        """The fills in the layout of :attr:`RunResult.fills <execsim.backtest.results.RunResult>`."""
        f = self.fills
        n = f.shape[0]
        return pa.table(
            {
                "ts_venue": pa.array(f["ts_venue"]),
                "ts_recv": pa.array(f["ts_recv"]),
                "order_id": pa.array(f["order_id"]),
                "parent_id": pa.array(np.zeros(n, np.int64)),
                "venue": pa.array([self.venue] * n, pa.string()),
                "side": pa.array(np.where(f["side"] > 0, "buy", "sell").tolist(), pa.string()),
                "price": pa.array(f["price"]),
                "qty": pa.array(f["qty"]),
                "liquidity": pa.array(["maker"] * n, pa.string()),
                # the session's reports carry the estimate rounded to the nearest lot
                "queue_ahead": pa.array(np.round(f["queue_ahead"]).astype(np.int64)),
                "fee": pa.array(f["fee"]),
            }
        )

    def orders_table(self) -> pa.Table:
        """The orders in the layout of :attr:`RunResult.orders <execsim.backtest.results.RunResult>`.

        Columns the compiled path has no use for are constant: ``order_type`` limit, ``tif``
        gtc, ``tag`` empty, ``parent_id`` 0; the arrival quote is null for orders that never
        reached the exchange.
        """
        o = self.orders
        n = o.shape[0]
        arrived = o["ts_arrive"] >= 0
        filled = o["filled_qty"] > 0

        def opt(col: str) -> pa.Array:
            return pa.array(o[col], pa.int64(), mask=~arrived)

        return pa.table(
            {
                "order_id": pa.array(o["order_id"]),
                "venue": pa.array([self.venue] * n, pa.string()),
                "side": pa.array(np.where(o["side"] > 0, "buy", "sell").tolist(), pa.string()),
                "order_type": pa.array(["limit"] * n, pa.string()),
                "tif": pa.array(["gtc"] * n, pa.string()),
                "price": pa.array(o["price"], pa.int64()),
                "qty": pa.array(o["qty"], pa.int64()),
                "filled_qty": pa.array(o["filled_qty"], pa.int64()),
                "avg_price": pa.array(o["avg_price"], pa.float64(), mask=~filled),
                "status": pa.array(o["status"].tolist(), pa.string()),
                "ts_submit": pa.array(o["ts_submit"], pa.int64()),
                "ts_done": pa.array(o["ts_done"], pa.int64()),
                "reason": pa.array(
                    np.array(ORDER_REASONS, object)[o["reason"]], pa.string(), mask=o["reason"] == 0
                ),
                "tag": pa.array([""] * n, pa.string()),
                "parent_id": pa.array(np.zeros(n, np.int64)),
                "arrival_bid_px": opt("arrival_bid_px"),
                "arrival_bid_qty": opt("arrival_bid_qty"),
                "arrival_ask_px": opt("arrival_ask_px"),
                "arrival_ask_qty": opt("arrival_ask_qty"),
            }
        )


# ------------------------------------------------------------------------------ the run
def _md_model(md_latency: MdLatency) -> LatencyModel:
    if isinstance(md_latency, LatencyModel):
        return md_latency
    if md_latency == "data":
        return DataLatency()
    if isinstance(md_latency, int | np.integer) and not isinstance(md_latency, bool) and md_latency >= 0:
        return ConstantLatency(int(md_latency))
    raise ConfigError(f"md_latency must be 'data', an int >= 0 (ns) or a LatencyModel, got {md_latency!r}")


def _queue_model(qm: QueueModel | QueueModelConfig) -> QueueModel:
    if isinstance(qm, QueueModel):
        return qm
    if isinstance(qm, QueueModelConfig):
        return queue_model_from_config(qm)
    raise ConfigError(f"queue_model must be a QueueModel or QueueModelConfig, got {type(qm).__name__}")


def _batches(events: np.ndarray | Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    src: Iterable[np.ndarray] = [events] if isinstance(events, np.ndarray) else events
    for k, ev in enumerate(src):
        if not isinstance(ev, np.ndarray) or ev.dtype != EVENT_DTYPE or ev.ndim != 1:
            got = getattr(ev, "dtype", type(ev).__name__)
            raise TypeError(f"event batch {k + 1}: expected a 1-D EVENT_DTYPE array, got {got}")
        if ev.shape[0]:
            yield np.ascontiguousarray(ev)


class _LocalClock:
    """Receive times of the strategy's feed, as the session's MarketView computes them."""

    def __init__(self, model: LatencyModel) -> None:
        self._model = model
        self._carry = np.iinfo(np.int64).min

    def __call__(self, ev: np.ndarray) -> np.ndarray:
        m = self._model
        if type(m) is DataLatency or type(m) is ConstantLatency:
            # the same integer arithmetic in one compiled pass (numpy needs ~20 ns an event)
            data = type(m) is DataLatency
            out = np.empty(ev.shape[0], np.int64)
            off = m.offset_ns if isinstance(m, DataLatency) else m.latency_ns
            self._carry = int(_q.local_times(ev, 0 if data else 1, off, self._carry, out))
            return out
        delays = m.delays(ev["ts_event"], ts_recv_ns=ev["ts_recv"])
        local = np.maximum.accumulate(np.maximum(ev["ts_event"] + delays, self._carry))
        self._carry = int(local[-1])
        return np.ascontiguousarray(local, dtype=np.int64)


def _grown(a: np.ndarray, need: int) -> np.ndarray:
    """A copy of ``a`` with at least twice its rows and at least ``need``."""
    b = np.zeros((max(need, 2 * a.shape[0]), *a.shape[1:]), a.dtype)
    b[: a.shape[0]] = a
    return b


def _check_ns(name: str, value: int, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(f"{name} must be an integer number of ns, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{name} must be {'> 0' if positive else '>= 0'} ns, got {value}")
    return int(value)


def run_compiled_quoter(
    events: np.ndarray | Iterable[np.ndarray],
    instrument: Instrument,
    *,
    decide: Callable[..., None] | Dispatcher | CFunc,
    params: np.ndarray,
    interval_ns: int,
    entry_latency_ns: int,
    response_latency_ns: int,
    queue_model: QueueModel | QueueModelConfig,
    md_latency: MdLatency = "data",
    start_ns: int | None = None,
    end_ns: int | None = None,
    fees: FeeModel | None = None,
    venue: str | None = None,
    window: int = 1 << 12,
) -> CompiledRunResult:
    """Run a quoting strategy whose decision is compiled against a replayed L2 tape.

    Parameters
    ----------
    events
        The tape: one ``EVENT_DTYPE`` array, or batches of them in stream order (consumed
        once; only a short tail of the previous batch is kept, so memory stays bounded).
    instrument
        The instrument the tape is in.
    decide
        ``decide(t_ns, bid_px, bid_qty, ask_px, ask_qty, position, params, out)``, compiled
        by numba in nopython mode (see :func:`compile_decide`); it writes the quotes it wants
        into ``out`` (bid price, bid qty, ask price, ask qty; ``out`` is zeroed before each
        call, a qty of 0 quotes nothing on that side). :func:`touch_quoter_decide` quotes at
        the touch.
    params
        A 1-D float64 array handed to every call (the strategy may also keep state in it).
    interval_ns
        Market time between decisions; the first is at ``start_ns``.
    entry_latency_ns, response_latency_ns
        Constant order-entry and response latencies.
    queue_model
        The queue-position model of the exchange (:mod:`execsim.venues.queue_models`).
    md_latency
        Market-data latency: ``"data"`` (the tape's own ``ts_recv``, the session's default), a
        constant in ns, or any :class:`~execsim.venues.latency.LatencyModel`.
    start_ns
        Time of the first decision (default: the first event's ``ts_event``, as the session).
    end_ns
        End of the run (default: the last event's receive time, as the session): no decision
        and no command arrival after it, and the exchange replays the tape up to it.
    fees
        Fee model for the ``fee`` column (default: none).
    venue
        Venue name in the tables (default: the instrument's venue).
    window
        Initial dense window of both books, in ticks: a performance setting only (the books
        grow and move it as needed; results do not depend on it).

    Returns
    -------
    CompiledRunResult
    """
    if not isinstance(instrument, Instrument):
        raise ConfigError(f"instrument must be an Instrument, got {type(instrument).__name__}")
    interval = _check_ns("interval_ns", interval_ns, positive=True)
    entry = _check_ns("entry_latency_ns", entry_latency_ns)
    resp = _check_ns("response_latency_ns", response_latency_ns)
    qm = _queue_model(queue_model)
    clock = _LocalClock(_md_model(md_latency))
    fn = compile_decide(decide)
    par = np.ascontiguousarray(params, dtype=np.float64)
    if par.ndim != 1:
        raise ConfigError(f"params must be a 1-D array, got shape {par.shape}")
    if fees is not None and not isinstance(fees, FeeModel):
        raise ConfigError(f"fees must be a FeeModel, got {type(fees).__name__}")

    it = _batches(events)
    ev = next(it, None)
    if ev is None:
        raise ExecsimError("run_compiled_quoter: the tape has no events")
    start = int(ev["ts_event"][0]) if start_ns is None else int(start_ns)
    loc = clock(ev)
    nxt = next(it, None)

    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= _bk.MAX_WINDOW:
        raise ConfigError(f"window must be an int between 1 and {_bk.MAX_WINDOW} ticks, got {window!r}")
    SX = _bk.new_l2_state(window)
    SL = _bk.new_l2_state(window)
    OI = np.zeros((_OI_ROWS, _vk.NO), np.int64)
    QA = np.zeros(_OI_ROWS, np.float64)
    VS = np.zeros(_vk.N_VS, np.int64)
    QP = qm.params()
    OV = np.zeros((16, 3), np.int64)
    n_f = 2 * _OI_ROWS + 256  # what L2ReplayVenue.advance keeps free, at the most rows we use
    F = np.zeros((n_f, _vk.NF), np.int64)
    FQ = np.zeros(n_f, np.float64)
    rej_x = np.zeros((_bk.REJ_CAP, 2), np.int64)
    rej_l = np.zeros((_bk.REJ_CAP, 2), np.int64)
    out = np.zeros((0, _bk.NB), np.int64)
    SC = np.zeros(_q.N_SC, np.int64)
    SC[_q.S_T] = start
    SC[_q.S_INTERVAL] = interval
    SC[_q.S_ENTRY] = entry
    SC[_q.S_RESP] = resp
    CMD = np.zeros((64, 3), np.int64)
    if nxt is None:  # the whole tape at hand: size the order table once
        last = int(loc[-1]) if end_ns is None else int(end_ns)
        n_dec = max((last - start) // interval + 1, 1)
        ORD = np.zeros((2 * n_dec + 2, _q.N_D), np.int64)
    else:
        ORD = np.zeros((4096, _q.N_D), np.int64)
    FILLS = np.zeros((1024, _q.N_FL), np.int64)
    FQA = np.zeros(1024, np.float64)
    qout = np.zeros(4, np.int64)

    while True:
        if nxt is None:
            end = int(loc[-1]) if end_ns is None else int(end_ns)
            horizon, final = end, True
        else:
            # every event still to come has ts_event (and receive time) >= the last one here
            horizon, final = int(ev["ts_event"][-1]) - 1, False
            if end_ns is not None and end_ns <= horizon:
                end = int(end_ns)
                horizon, final = end, True
        SX, SL, code = _q.quoter_run(
            SX, SL, ev, loc, horizon, final, OI, QA, VS, QP, OV, F, FQ, rej_x, rej_l, out,
            SC, CMD, ORD, FILLS, FQA, fn, par, qout,
        )  # fmt: skip
        if code == _q.Q_DONE:
            break
        need = int(SC[_q.S_NEED])
        if code == _q.Q_GROW_FILLS:
            FILLS, FQA = _grown(FILLS, need), _grown(FQA, need)
            continue
        if code == _q.Q_GROW_ORDERS:
            ORD = _grown(ORD, need)
            continue
        if code == _q.Q_GROW_COMMANDS:
            CMD = _grown(CMD, need)
            continue
        if code != _q.Q_NEED_DATA or nxt is None:  # pragma: no cover - a kernel bug
            raise ExecsimError(f"run_compiled_quoter: unexpected kernel code {code}")
        keep = int(min(SC[_q.S_EX_I], SC[_q.S_LOC_I]))
        ev = np.concatenate((ev[keep:], nxt))
        loc = np.concatenate((loc[keep:], clock(nxt)))
        SC[_q.S_EX_I] -= keep
        SC[_q.S_LOC_I] -= keep
        nxt = next(it, None)

    return _result(
        instrument=instrument,
        venue=venue if venue is not None else instrument.venue,
        start=start,
        end=end,
        SC=SC,
        VS=VS,
        ORD=ORD,
        FILLS=FILLS,
        FQA=FQA,
        fees=fees,
        rejected_events=int(SX[0][_bk.M_REJECTED]),
    )


def _result(
    *,
    instrument: Instrument,
    venue: str,
    start: int,
    end: int,
    SC: np.ndarray,
    VS: np.ndarray,
    ORD: np.ndarray,
    FILLS: np.ndarray,
    FQA: np.ndarray,
    fees: FeeModel | None,
    rejected_events: int,
) -> CompiledRunResult:
    nf = int(SC[_q.S_N_FILL])
    F = FILLS[:nf]
    fills = np.zeros(nf, FILL_DTYPE)
    fills["ts_venue"] = F[:, _q.FL_TS]
    fills["ts_recv"] = F[:, _q.FL_RECV]
    fills["order_id"] = F[:, _q.FL_ID]
    fills["side"] = F[:, _q.FL_SIDE]
    fills["price"] = F[:, _q.FL_PRICE]
    fills["qty"] = F[:, _q.FL_QTY]
    fills["leaves_qty"] = F[:, _q.FL_LEAVES]
    fills["queue_ahead"] = FQA[:nf]
    fills["maker"] = True
    fills["why"] = _WHY[F[:, _q.FL_WHY]]
    if fees is not None and nf:
        fills["fee"] = fees.fee(instrument, fills["price"], fills["qty"], np.ones(nf, np.bool_))

    no = int(SC[_q.S_N_ORD])
    od = ORD[:no]
    orders = np.zeros(no, ORDER_DTYPE)
    orders["order_id"] = np.arange(1, no + 1)
    orders["side"] = od[:, _q.D_SIDE]
    orders["price"] = od[:, _q.D_PRICE]
    orders["qty"] = od[:, _q.D_QTY]
    orders["filled_qty"] = od[:, _q.D_FILLED]
    with np.errstate(invalid="ignore", divide="ignore"):
        orders["avg_price"] = np.where(
            od[:, _q.D_FILLED] > 0, od[:, _q.D_NOTIONAL] / np.maximum(od[:, _q.D_FILLED], 1), math.nan
        )
    st = od[:, _q.D_STATUS]
    orders["status"] = np.array([_STATUS[int(s)] for s in range(5)])[st] if no else []
    open_ = (st == _q.ST_SENT) | (st == _q.ST_RESTING)
    orders["ts_submit"] = od[:, _q.D_TS_SUBMIT]
    orders["ts_arrive"] = od[:, _q.D_TS_ARRIVE]
    orders["ts_done"] = np.where(open_, end, od[:, _q.D_TS_DONE])
    orders["reason"] = np.where(open_, _R_END, od[:, _q.D_REASON])
    orders["arrival_bid_px"] = od[:, _q.D_ARR_BID_PX]
    orders["arrival_bid_qty"] = od[:, _q.D_ARR_BID_QTY]
    orders["arrival_ask_px"] = od[:, _q.D_ARR_ASK_PX]
    orders["arrival_ask_qty"] = od[:, _q.D_ARR_ASK_QTY]

    counters = {
        "events": int(VS[_vk.V_EVENTS]),
        "events_local": int(SC[_q.S_LOC_EVENTS]),
        "relevant_events": int(VS[_vk.V_RELEVANT]),
        "rejected_events": rejected_events,
        "decisions": int(SC[_q.S_DECISIONS]),
        "orders": no,
        "cancels_sent": int(SC[_q.S_CANCELS]),
        "cancelled": int(SC[_q.S_CANCELLED]),
        "cancel_rejects": int(SC[_q.S_CANCEL_REJ]),
        "post_only_rejects": int(SC[_q.S_REJ_POST]),
        "halted_rejects": int(SC[_q.S_REJ_HALT]),
        "fills": nf,
        "volume": int(SC[_q.S_VOLUME]),
        "open_at_end": int(open_.sum()),
    }
    return CompiledRunResult(
        instrument=instrument,
        venue=venue,
        start_ns=start,
        end_ns=end,
        fills=fills,
        orders=orders,
        position=int(SC[_q.S_POS]),
        cash=int(SC[_q.S_CASH]),
        fees=float(fills["fee"].sum()),
        counters=counters,
    )
