"""The agent-based market as a venue: background traders and our orders in one L3 book.

:class:`AgentMarketVenue` runs populations of background traders (noise / zero-intelligence
traders, market makers, momentum traders, value traders; see :mod:`execsim.agents.config`) in
compiled code (:mod:`execsim.agents._abm_kernels`) over the L3 book and matching kernels of
:mod:`execsim.book`. Our orders rest in the same queues as the agents', so our trading moves the
market: it consumes the noise traders' liquidity, the market makers who trade with us skew
their quotes away from their new inventory, the momentum traders chase the move our orders
made, and only the value traders lean against it.

Time
----
``advance(until)`` runs every market event with a time ``<= until`` and stops early after the
first one that filled one of our resting orders (it returns that time and the fills).
``handle(cmd)`` first runs the market up to ``cmd.ts_ns`` (events at exactly that time come
first, their fills are returned ahead of the command's own reports), then applies the command.
How a run is cut into ``advance`` calls never changes what happens: the market is a pure
function of its config, its seed and our commands.

Event stream
------------
The venue records the market's canonical events (:mod:`execsim.data.schema`): ``ADD`` for each
order that rests, ``EXECUTE`` for each execution of a resting order (its ``side`` is the
passive side, as in LOBSTER), ``CANCEL`` (partial) / ``DELETE`` (full) cancellations. The
records of one action (a market order and the executions it caused, a market maker's cancel
and replace) form one message: only its last record carries ``F_LAST``; every record carries
``F_SYNTHETIC``. The stream starts with a snapshot at ``config.start_ns``: a ``CLEAR`` and one
``ADD`` per resting order, queues in FIFO order, flagged ``F_SNAPSHOT``. Our own orders appear
in it like anyone's, under our order ids; agents' ids are ``>= 2**48`` (:data:`AGENT_ID_BASE`),
so ours must be below. :meth:`AgentMarketVenue.drain_events` hands out what was recorded since
its last call; :func:`run_market` runs a market without us and returns its whole stream.

What the venue supports
-----------------------
Limit and market orders; GTC / DAY (as GTC) / IOC / FOK; post-only; cancel (all or part) and
modify, all with the matching engine's rules (``docs/matching.md``). Midpoint pegs, icebergs
(``display_qty``) and ``min_qty`` are rejected with a reason. Every order of ours is a maker or
taker against agents (or against another of ours: there is no self-trade prevention).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

import numpy as np

from execsim.agents import _abm_kernels as _k
from execsim.agents.config import AgentMarketConfig
from execsim.book import _matching_kernels as _mk
from execsim.book.l3 import L3Book
from execsim.core.errors import ConfigError
from execsim.data.schema import EVENT_DTYPE, empty_events
from execsim.model.enums import LiquiditySide, OrderType, TimeInForce
from execsim.model.instrument import Instrument
from execsim.venues.base import (
    CancelOrder,
    ExecutionReport,
    ModifyOrder,
    Quote,
    ReportKind,
    SubmitOrder,
    VenueCommand,
    lit_order_problem,
)

__all__ = ["AGENT_ID_BASE", "AgentMarketVenue", "run_market"]

AGENT_ID_BASE: Final = _k.ID_BASE
"""Order ids of agents are at least this; ours must be below it."""

_BLOCK: Final = 4096  # pre-drawn uniforms per random stream and refill
_INIT_STREAM: Final = _k.N_STREAMS  # the stream that places the initial book

_REASON: Final[dict[int, str]] = {
    _mk.R_UNKNOWN_ORDER: "unknown order id",
    _mk.R_DUPLICATE_ID: "duplicate order id",
    _mk.R_POST_ONLY: "post-only order would take liquidity",
    _mk.R_FOK: "fill-or-kill order cannot be filled completely",
    _mk.R_NO_LIQUIDITY: "market order remainder cancelled: no contra liquidity",
    _mk.R_IOC_REMAINDER: "immediate-or-cancel remainder cancelled",
    _mk.R_USER_CANCEL: "cancelled by request",
    _mk.R_BAD_QTY: "quantity must be > 0",
}
_OT: Final = {OrderType.LIMIT: _mk.OT_LIMIT, OrderType.MARKET: _mk.OT_MARKET}
_TIF: Final = {
    TimeInForce.GTC: _mk.TIF_GTC,
    TimeInForce.DAY: _mk.TIF_GTC,
    TimeInForce.IOC: _mk.TIF_IOC,
    TimeInForce.FOK: _mk.TIF_FOK,
}


def _child(seed: np.random.SeedSequence, i: int) -> np.random.SeedSequence:
    # like seed.spawn(), but without mutating the caller's SeedSequence: the market is a pure
    # function of (entropy, spawn_key), however often the same object is passed in
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, i))


def _spread(lo: float, hi: float, n: int) -> np.ndarray:
    return np.array([lo]) if n == 1 else np.linspace(lo, hi, n)


class _MarketState:
    """Every array of one market, and the Python side of the kernels' NEED_* protocol."""

    def __init__(self, config: AgentMarketConfig, seed: np.random.SeedSequence) -> None:
        c = config
        self.book = L3Book(capacity=1 << 12)
        self.gens = [np.random.Generator(np.random.PCG64(_child(seed, i))) for i in range(_k.N_STREAMS + 1)]
        self.R = np.empty((_k.N_STREAMS, _BLOCK), np.float64)
        for s in range(_k.N_STREAMS):
            self.R[s] = self.gens[s].random(_BLOCK)
        self.RP = np.zeros(_k.N_STREAMS, np.int64)
        self.S = np.zeros(_k.NS, np.int64)
        self.X = np.zeros(_k.NX, np.float64)
        self.P = np.zeros(_k.NP, np.float64)
        nz, mm, mo, va = c.noise, c.market_makers, c.momentum, c.value
        P = self.P
        P[_k.P_LIMIT_RATE] = nz.limit_rate
        P[_k.P_MARKET_RATE] = nz.market_rate
        P[_k.P_MKT_PERSIST] = nz.market_persistence
        P[_k.P_FAST_CANCEL] = nz.fleeting_cancel_rate
        P[_k.P_SLOW_CANCEL] = nz.patient_cancel_rate
        P[_k.P_FLEET_INSIDE] = nz.fleeting_share_inside
        P[_k.P_FLEET_OTHER] = nz.fleeting_share
        P[_k.P_MM_FUND_W] = mm.fundamental_weight
        P[_k.P_INSIDE_MEAN] = nz.inside_mean_ticks
        P[_k.P_P_FAR] = nz.p_far
        P[_k.P_FAR_MAX] = nz.far_max_ticks
        P[_k.P_FAR_CANCEL] = nz.deep_cancel_rate
        P[_k.P_DEEP_MIN] = nz.deep_min_size
        P[_k.P_MM_ACT_ELAST] = mm.activity_elasticity
        P[_k.P_MM_ANCHOR_W] = mm.anchor_weight
        P[_k.P_MM_ANCHOR_S] = mm.anchor_s
        P[_k.P_MOM_RATE] = mo.wake_rate * mo.count
        P[_k.P_VAL_RATE] = va.wake_rate * va.count
        P[_k.P_P_INSIDE] = nz.p_inside
        P[_k.P_P_AT] = nz.p_at_best
        P[_k.P_INSIDE_FRAC] = nz.inside_max_frac
        P[_k.P_BEHIND_MEAN] = nz.behind_mean_ticks
        P[_k.P_BEHIND_MAX] = nz.behind_max_ticks
        P[_k.P_EMPTY_TICKS] = nz.empty_side_ticks
        P[_k.P_MM_SIZE] = mm.quote_size
        P[_k.P_MM_SKEW] = mm.skew_ticks_per_lot
        P[_k.P_MM_MAXINV] = mm.max_inventory
        P[_k.P_MM_REQUOTE] = mm.requote_ticks
        P[_k.P_MOM_FAST] = mo.fast_s
        P[_k.P_MOM_SLOW] = mo.slow_s
        P[_k.P_MOM_THR] = mo.threshold_ticks
        P[_k.P_MOM_SIZE] = mo.order_size
        P[_k.P_MOM_MAX] = mo.max_size
        P[_k.P_VAL_NOISE] = va.noise_ticks
        P[_k.P_VAL_THR] = va.threshold_ticks
        P[_k.P_VAL_PER_TICK] = va.size_per_tick
        P[_k.P_VAL_MIN] = va.min_size
        P[_k.P_VAL_MAX] = va.max_size
        P[_k.P_FUND_VOL] = c.fundamental.volatility_ticks
        P[_k.P_FUND_REV] = c.fundamental.mean_reversion_s
        P[_k.P_ACT_VOL] = c.activity.vol
        P[_k.P_ACT_TAU] = c.activity.timescale_s
        P[_k.P_CLOCK_S] = c.clock_ms / 1000.0
        P[_k.P_LAT_DENSITY] = c.latent.density
        P[_k.P_LAT_FUND_W] = c.latent.fundamental_weight
        P[_k.P_LAT_TAU] = c.latent.anchor_s

        def table(sizes: tuple[int, ...], weights: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
            w = np.cumsum(np.asarray(weights, np.float64))
            return np.asarray(sizes, np.int64), w / w[-1]

        self.LSZ, self.LCW = table(nz.limit_sizes, nz.limit_size_weights)
        self.MSZ, self.MCW = table(nz.market_sizes, nz.market_size_weights)
        self.Z = np.zeros((nz.max_orders, _k.NZ), np.int64)
        self.ZL = np.zeros((_k.N_CLASSES, nz.max_orders), np.int64)
        # free-slot stack, popped from the end: slot 0 is used first
        self.ZF = np.arange(nz.max_orders - 1, -1, -1, dtype=np.int64)
        self.S[_k.S_ZFREE] = nz.max_orders
        self.MM = np.zeros((mm.count, _k.NMM), np.int64)
        self.MM[:, _k.MM_NEXT] = -1
        self.MM[:, _k.MM_LAT] = (
            np.round(_spread(mm.latency_min_us, mm.latency_max_us, mm.count) * 1000).astype(np.int64)
            if mm.count
            else np.zeros(0, np.int64)
        )
        self.MMH = _spread(mm.half_spread_min, mm.half_spread_max, mm.count) if mm.count else np.zeros(0)
        self.F = np.zeros((256, _mk.NFF), np.int64)
        self.U = np.zeros((256, _mk.NUF), np.int64)
        self.E = np.zeros((1 << 14, _k.NE), np.int64)
        self.OF = np.zeros((256, _k.NOF_COLS), np.int64)
        self.S[_k.S_CLOCK_NS] = c.clock_ms * 1_000_000
        self.S[_k.S_LAST_BB] = -2
        self.S[_k.S_LAST_BA] = -2
        p0 = float(c.start_ticks)
        for i in (_k.X_V, _k.X_EF, _k.X_ES, _k.X_MID, _k.X_V0, _k.X_EM, _k.X_LAT_EMA):
            self.X[i] = p0
        self.X[_k.X_A] = 1.0
        self.pending: list[np.ndarray] = []
        self.seq = 0

    # -- kernel arguments ---------------------------------------------------------------------
    def book_arrays(self) -> tuple[np.ndarray, ...]:
        b = self.book
        return (b._O, b._H, b._L, b._SK, b._SL, b._M)

    def order_arrays(self) -> tuple[np.ndarray, ...]:
        """The arguments ``OR .. OF`` of the kernels that submit or modify an order."""
        return (
            *self.book_arrays(), self.F, self.U, self.S, self.X, self.P, self.Z, self.ZL, self.ZF,
            self.MM, self.E, self.OF,
        )  # fmt: skip

    def run(self, until: int, stop_on_fill: bool, stop_on_trade: bool = False) -> int:
        """Run the market to ``until``; return C_REACHED, C_FILLED or C_TRADED."""
        while True:
            code = int(
                _k.run(
                    *self.book_arrays(),
                    self.F,
                    self.U,
                    self.S,
                    self.X,
                    self.P,
                    self.LSZ,
                    self.LCW,
                    self.MSZ,
                    self.MCW,
                    self.Z,
                    self.ZL,
                    self.ZF,
                    self.MM,
                    self.MMH,
                    self.R,
                    self.RP,
                    self.E,
                    self.OF,
                    until,
                    stop_on_fill,
                    stop_on_trade,
                )
            )
            if code in (_k.C_REACHED, _k.C_FILLED, _k.C_TRADED):
                return code
            self.make_room(code)

    def ensure_room(self) -> None:
        """Make room for one more action (before a command of ours)."""
        while (
            code := int(
                _k.room(
                    self.book._O,
                    self.book._H,
                    self.book._L,
                    self.book._M,
                    self.F,
                    self.U,
                    self.E,
                    self.OF,
                    self.S,
                    self.RP,
                    _BLOCK,
                )
            )
        ) != _k.OK:
            self.make_room(code)

    def make_room(self, code: int) -> None:
        if code in (_k.NEED_ORDERS, _k.NEED_LEVELS, _k.NEED_HASH):
            self.book._grow(code)
        elif code == _k.NEED_BUFFERS:
            need = int(self.book._M[0]) + 16  # resting orders bound the records of one action
            if self.F.shape[0] < need:
                self.F = np.zeros((2 * need, _mk.NFF), np.int64)
            if self.U.shape[0] < need:
                self.U = np.zeros((2 * need, _mk.NUF), np.int64)
            nof = int(self.S[_k.S_NOF])
            if self.OF.shape[0] - nof < need:
                grown = np.zeros((nof + 2 * need, _k.NOF_COLS), np.int64)
                grown[:nof] = self.OF[:nof]
                self.OF = grown
            if self.E.shape[0] - int(self.S[_k.S_NEV]) < need:
                self.flush()
                if self.E.shape[0] < need:
                    self.E = np.zeros((2 * need, _k.NE), np.int64)
        elif code == _k.NEED_RANDOM:
            for s in range(_k.N_STREAMS):
                p = int(self.RP[s])
                if p + 2 * _k.K_EVENT > _BLOCK:
                    left = _BLOCK - p
                    self.R[s, :left] = self.R[s, p:]
                    self.R[s, left:] = self.gens[s].random(_BLOCK - left)
                    self.RP[s] = 0
        else:  # pragma: no cover - the kernels return only the codes above
            raise RuntimeError(f"agent market kernel returned an unknown code {code}")

    # -- events ----------------------------------------------------------------------------------
    def flush(self) -> None:
        """Move the recorded events into ``pending`` as canonical records."""
        n = int(self.S[_k.S_NEV])
        if n == 0:
            return
        E = self.E[:n]
        out = empty_events(n)
        out["ts_event"] = E[:, _k.E_TS]
        out["ts_recv"] = E[:, _k.E_TS]
        out["seq"] = np.arange(self.seq, self.seq + n, dtype=np.int64)
        out["kind"] = E[:, _k.E_KIND]
        out["side"] = E[:, _k.E_SIDE]
        out["price"] = E[:, _k.E_PRICE]
        out["qty"] = E[:, _k.E_QTY]
        out["order_id"] = E[:, _k.E_OID]
        out["flags"] = E[:, _k.E_FLAGS]
        self.seq += n
        self.pending.append(out)
        self.S[_k.S_NEV] = 0
        self.S[_k.S_MSG_START] = 0

    def drain(self) -> np.ndarray:
        self.flush()
        out = np.concatenate(self.pending) if self.pending else np.zeros(0, EVENT_DTYPE)
        self.pending = []
        return out


class AgentMarketVenue:
    """A lit venue whose market is made by compiled background agents (the embedded default market).

    Parameters
    ----------
    name
        The venue's name in reports.
    instrument
        The instrument traded; its tick and lot sizes must equal the config's
        (:meth:`AgentMarketConfig.instrument` builds a matching one).
    config
        The market (:class:`~execsim.agents.config.AgentMarketConfig`; the defaults resemble
        the LOBSTER GOOG day).
    seed
        The market's seed. Every random stream is a child of it (derived without mutating it),
        so the same seed gives the same market, bit for bit.

    Examples
    --------
    >>> import numpy as np
    >>> from execsim.agents import AgentMarketConfig, AgentMarketVenue
    >>> cfg = AgentMarketConfig(warmup_s=60)
    >>> v = AgentMarketVenue(name="ABM", instrument=cfg.instrument(), config=cfg,
    ...                      seed=np.random.SeedSequence(7))
    >>> q = v.quote()
    >>> 0 < q.bid_px < q.ask_px
    True
    """

    def __init__(
        self,
        *,
        name: str,
        instrument: Instrument,
        config: AgentMarketConfig,
        seed: np.random.SeedSequence,
    ) -> None:
        if not isinstance(config, AgentMarketConfig):
            raise ConfigError(f"config must be an AgentMarketConfig, got {type(config).__name__}")
        if not isinstance(instrument, Instrument):
            raise ConfigError(f"instrument must be an Instrument, got {type(instrument).__name__}")
        if not isinstance(seed, np.random.SeedSequence):
            raise ConfigError(f"seed must be a numpy SeedSequence, got {type(seed).__name__}")
        if instrument.tick_size != Decimal(config.tick_size) or instrument.lot_size != Decimal(
            config.lot_size
        ):
            raise ConfigError(
                f"instrument {instrument.symbol} has tick {instrument.tick_size} / lot {instrument.lot_size} "
                f"but the agent market config has tick {config.tick_size} / lot {config.lot_size}"
            )
        self.name: str = name
        self.instrument: Instrument = instrument
        self.config: AgentMarketConfig = config
        st = self._st = _MarketState(config, seed)
        self._open: set[int] = set()
        self._seen: set[int] = set()
        # warm-up: place the initial book, let the agents trade it into shape, unrecorded
        t0 = config.start_ns - round(config.warmup_s * 1e9)
        st.ensure_room()
        ui = st.gens[_INIT_STREAM].random(4 * config.initial_orders)
        _k.start(st.S, st.X, st.P, st.R, st.RP, t0)
        self._seed_book(ui, config.initial_orders, t0)
        st.run(config.start_ns, False)
        # from here on every event is recorded, starting with a snapshot of the book
        st.S[_k.S_OPS_SUBMIT : _k.S_STATS_END] = 0
        st.S[_k.S_RECORD] = 1
        need = len(st.book) + 16
        if st.E.shape[0] - int(st.S[_k.S_NEV]) < need:
            st.E = np.zeros((2 * need, _k.NE), np.int64)
        _k.snapshot(st.book._O, st.book._L, st.book._SL, st.book._M, st.E, st.S, config.start_ns)
        self._now = config.start_ns

    def _seed_book(self, ui: np.ndarray, n: int, t: int) -> None:
        st = self._st
        b = st.book
        while b.capacity < 2 * n + 64:
            b._grow(_k.NEED_ORDERS)
        while b._L.shape[0] < 2 * n + 64:
            b._grow(_k.NEED_LEVELS)
        _k.seed_book(
            *st.book_arrays(), st.F, st.U, st.S, st.X, st.P, st.LSZ, st.LCW, st.Z, st.ZL, st.ZF, st.MM, st.E,
            st.OF, ui, n, t,
        )  # fmt: skip
        _k.after_external(b._L, b._SL, b._M, st.S, st.X, st.MM, st.E, t)

    # -- the Venue protocol ------------------------------------------------------------------
    @property
    def now(self) -> int:
        """Market time (ns): the last time the market was run to."""
        return self._now

    def quote(self) -> Quote:
        """Best bid and offer of the book now (agents' and our orders)."""
        b = self._st.book
        bid = b.best_bid()
        ask = b.best_ask()
        return Quote(
            bid_px=bid[0] if bid else 0,
            bid_qty=bid[1] if bid else 0,
            ask_px=ask[0] if ask else 0,
            ask_qty=ask[1] if ask else 0,
        )

    def advance(self, until_ns: int, *, stop_on_trade: bool = False) -> tuple[int, list[ExecutionReport]]:
        """Run the market to ``until_ns`` (inclusive); stop after the first action that filled us
        (or, with ``stop_on_trade``, that printed any trade).

        Returns ``(time reached, fill reports)``; without a stop the time reached is ``until_ns``
        (``now`` when ``until_ns`` lies in the past: events due at ``now`` still run).
        """
        until = max(int(until_ns), self._now)
        st = self._st
        code = st.run(until, bool(self._open), stop_on_trade)
        if code == _k.C_FILLED:
            self._now = int(st.S[_k.S_NOW])
            return self._now, self._our_fills()
        if code == _k.C_TRADED:
            self._now = int(st.S[_k.S_NOW])
            return self._now, []
        self._now = until
        return until, []

    def handle(self, command: VenueCommand) -> list[ExecutionReport]:
        """Run the market up to ``command.ts_ns``, then apply the command; return every report."""
        t = max(int(command.ts_ns), self._now)
        out: list[ExecutionReport] = []
        while True:
            _, reps = self.advance(t)
            out += reps
            if not reps:
                break
        if isinstance(command, SubmitOrder):
            out += self._submit(command, t)
        elif isinstance(command, CancelOrder):
            out += self._cancel(command, t)
        elif isinstance(command, ModifyOrder):
            out += self._modify(command, t)
        else:
            raise TypeError(f"not a venue command: {command!r}")
        return out

    # -- extras ------------------------------------------------------------------------------
    def drain_events(self) -> np.ndarray:
        """The market's canonical events (``EVENT_DTYPE``) recorded since the last call.

        The first call starts with the snapshot of the book at ``config.start_ns``.
        """
        return self._st.drain()

    @property
    def book(self) -> L3Book:
        """The venue's book (agents' and our orders). Read it; do not change it."""
        return self._st.book

    @property
    def fundamental(self) -> float:
        """The fundamental value now, in ticks."""
        return float(self._st.X[_k.X_V])

    @property
    def activity(self) -> float:
        """The activity multiplier now (mean 1)."""
        return float(self._st.X[_k.X_A])

    @property
    def market_maker_inventory(self) -> np.ndarray:
        """Each market maker's inventory now (lots, long positive)."""
        return self._st.MM[:, _k.MM_INV].copy()

    def market_maker_quotes(self) -> list[tuple[int | None, int | None]]:
        """Each market maker's resting (bid, ask) prices in ticks, ``None`` where it has none."""
        out: list[tuple[int | None, int | None]] = []
        b = self._st.book
        for m in range(self._st.MM.shape[0]):
            pair = []
            for col in (_k.MM_BID, _k.MM_ASK):
                oid = int(self._st.MM[m, col])
                view = b.order(oid) if oid else None
                pair.append(view.price if view is not None else None)
            out.append((pair[0], pair[1]))
        return out

    @property
    def stats(self) -> dict[str, int]:
        """Counters since ``start_ns``.

        ``book_ops`` = ``submits + cancels + executions`` processed by the book; per population:
        ``noise_limit_orders``, ``noise_market_orders``, ``noise_cancels``, ``mm_quotes``,
        ``momentum_orders``, ``value_orders``, ``latent_orders``; ``noise_pool_full`` (limit
        orders not placed for want of a slot), ``executed_qty``, ``our_passive_fills``; net positions
        ``noise_position``, ``momentum_position``, ``value_position``; ``steps`` (events run,
        clock steps and empty cancellation draws included).
        """
        S = self._st.S
        names = {
            "submits": _k.S_OPS_SUBMIT,
            "cancels": _k.S_OPS_CANCEL,
            "executions": _k.S_OPS_EXEC,
            "executed_qty": _k.S_EXEC_QTY,
            "noise_limit_orders": _k.S_N_LIMIT,
            "noise_market_orders": _k.S_N_MARKET,
            "noise_cancels": _k.S_N_CANCEL,
            "mm_quotes": _k.S_N_MM_QUOTES,
            "momentum_orders": _k.S_N_MOM,
            "value_orders": _k.S_N_VAL,
            "latent_orders": _k.S_N_LATENT,
            "noise_pool_full": _k.S_POOL_FULL,
            "our_passive_fills": _k.S_OUR_FILLS,
            "steps": _k.S_STEPS,
            "noise_position": _k.S_NOISE_POS,
            "momentum_position": _k.S_MOM_POS,
            "value_position": _k.S_VAL_POS,
        }
        out = {k: int(S[i]) for k, i in names.items()}
        out["book_ops"] = out["submits"] + out["cancels"] + out["executions"]
        return out

    def __repr__(self) -> str:
        return f"AgentMarketVenue(name={self.name!r}, now={self._now}, quote={self.quote()})"

    # -- our orders ----------------------------------------------------------------------------
    def _rep(self, t: int, order_id: int, kind: ReportKind, **kw: object) -> ExecutionReport:
        return ExecutionReport(ts_ns=t, venue=self.name, order_id=order_id, kind=kind, **kw)  # type: ignore[arg-type]

    def _our_fills(self) -> list[ExecutionReport]:
        st = self._st
        n = int(st.S[_k.S_NOF])
        out = []
        for r in st.OF[:n].tolist():
            out.append(
                ExecutionReport(
                    ts_ns=r[_k.OF_TS],
                    venue=self.name,
                    order_id=r[_k.OF_ID],
                    kind=ReportKind.FILL,
                    price=r[_k.OF_PRICE],
                    qty=r[_k.OF_QTY],
                    leaves_qty=r[_k.OF_LEAVES],
                    liquidity=LiquiditySide.MAKER,
                    queue_ahead=r[_k.OF_AHEAD],
                )
            )
            if r[_k.OF_LEAVES] == 0:
                self._open.discard(r[_k.OF_ID])
        st.S[_k.S_NOF] = 0
        return out

    def _taker_fills(self, t: int, oid: int, nf: int, qty: int) -> list[ExecutionReport]:
        out = []
        leaves = qty
        for r in self._st.F[:nf].tolist():
            if r[_mk.F_TAKER] != oid:
                continue
            leaves -= r[_mk.F_QTY]
            out.append(
                self._rep(
                    t,
                    oid,
                    ReportKind.FILL,
                    price=r[_mk.F_PRICE],
                    qty=r[_mk.F_QTY],
                    leaves_qty=leaves,
                    liquidity=LiquiditySide.TAKER,
                )
            )
        return out

    def _begin(self) -> None:
        st = self._st
        st.ensure_room()
        st.S[_k.S_MSG_START] = st.S[_k.S_NEV]

    def _end(self, t: int) -> None:
        st = self._st
        _k.after_external(st.book._L, st.book._SL, st.book._M, st.S, st.X, st.MM, st.E, t)
        st.S[_k.S_NOW] = t
        self._now = t

    def _submit(self, o: SubmitOrder, t: int) -> list[ExecutionReport]:
        oid = o.order_id

        def reject(why: str) -> list[ExecutionReport]:
            return [self._rep(t, oid, ReportKind.REJECTED, reason=why)]

        if not 0 < oid < AGENT_ID_BASE:
            return reject(f"order id must be in 1..{AGENT_ID_BASE - 1} on the agent market, got {oid}")
        why = lit_order_problem(
            o,
            self._seen,
            venue="the agent market venue",
            type_reason=f"{o.order_type} orders are not supported by the agent market venue",
        )
        if why is not None:
            return reject(why)
        self._begin()
        st = self._st
        price = 0 if o.price is None else o.price
        status, reason, _filled, cancelled, leaves, nf = _k.submit(
            *st.order_arrays(), oid, o.side.code, o.qty, price, _OT[o.order_type], _TIF[o.tif],
            bool(o.post_only), _k.OUR_OWNER, t,
        )  # fmt: skip
        self._end(t)
        if status == _mk.ST_REJECTED:
            return reject(_REASON.get(int(reason), f"rejected (code {int(reason)})"))
        self._seen.add(oid)
        out = [self._rep(t, oid, ReportKind.ACCEPTED, leaves_qty=o.qty)]
        out += self._taker_fills(t, oid, int(nf), o.qty)
        if cancelled:
            out.append(
                self._rep(
                    t,
                    oid,
                    ReportKind.CANCELLED,
                    qty=int(cancelled),
                    leaves_qty=0,
                    reason=_REASON.get(int(reason), "cancelled"),
                )
            )
        if leaves:
            self._open.add(oid)
        return out + self._our_fills()

    def _cancel(self, c: CancelOrder, t: int) -> list[ExecutionReport]:
        oid = c.order_id
        if oid not in self._open:
            return [self._rep(t, oid, ReportKind.REJECTED, reason="unknown order id")]
        if c.qty is not None and c.qty <= 0:
            return [
                self._rep(t, oid, ReportKind.REJECTED, reason=f"cancel quantity must be > 0, got {c.qty}")
            ]
        self._begin()
        st = self._st
        status, reason, cancelled, leaves = _k.cancel(
            *st.book_arrays(), st.F, st.U, st.S, st.E, oid, 0 if c.qty is None else int(c.qty),
            c.qty is not None, t,
        )  # fmt: skip
        self._end(t)
        if status == _mk.ST_REJECTED:  # pragma: no cover - _open mirrors the book
            return [self._rep(t, oid, ReportKind.REJECTED, reason=_REASON.get(int(reason), "rejected"))]
        if leaves == 0:
            self._open.discard(oid)
        return [
            self._rep(
                t,
                oid,
                ReportKind.CANCELLED,
                qty=int(cancelled),
                leaves_qty=int(leaves),
                reason="cancelled by request",
            )
        ]

    def _modify(self, m: ModifyOrder, t: int) -> list[ExecutionReport]:
        oid = m.order_id
        if oid not in self._open:
            return [self._rep(t, oid, ReportKind.REJECTED, reason="unknown order id")]
        if m.qty is not None and m.qty <= 0:
            return [self._rep(t, oid, ReportKind.REJECTED, reason=f"quantity must be > 0, got {m.qty}")]
        self._begin()
        st = self._st
        price = 0 if m.price is None else int(m.price)
        qty = 0 if m.qty is None else int(m.qty)
        status, reason, filled, _cut, leaves, nf, new_px = _k.modify(
            *st.order_arrays(), oid, price, m.price is not None, qty, m.qty is not None, t
        )
        self._end(t)
        if status == _mk.ST_REJECTED:
            return [self._rep(t, oid, ReportKind.REJECTED, reason=_REASON.get(int(reason), "rejected"))]
        total = int(filled) + int(leaves)
        out = [self._rep(t, oid, ReportKind.MODIFIED, price=int(new_px), leaves_qty=total)]
        out += self._taker_fills(t, oid, int(nf), total)
        if leaves == 0:
            self._open.discard(oid)
        return out + self._our_fills()


def run_market(config: AgentMarketConfig, seed: np.random.SeedSequence, duration_ns: int) -> np.ndarray:
    """Run the market without us for ``duration_ns`` after ``config.start_ns``; return its events.

    The stream starts with the snapshot at ``start_ns`` and holds every event with a time up to
    ``start_ns + duration_ns`` (see :class:`AgentMarketVenue` for the records).
    """
    if duration_ns < 0:
        raise ConfigError(f"duration_ns must be >= 0, got {duration_ns}")
    v = AgentMarketVenue(name="ABM", instrument=config.instrument(), config=config, seed=seed)
    v.advance(config.start_ns + int(duration_ns))
    return v.drain_events()
