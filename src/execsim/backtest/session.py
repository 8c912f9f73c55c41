"""One deterministic backtest session: data, venues, latency and a strategy on one timeline.

How time moves
--------------
The :class:`~execsim.kernel.Kernel` holds everything that happens at a known time: order
arrivals at venues (send time + order-entry latency), report deliveries to the strategy
(venue time + response latency), timers, book samples. Market data needs no kernel events: the
venues replay the tape in compiled code up to the next kernel time, and the strategy's
:class:`~execsim.backtest.market_view.MarketView` applies it at receive time. Python runs only
at decision points: kernel events, trade prints the strategy subscribed to, and fills of our
resting orders (a venue's ``advance`` stops at the first one).

Venues are advanced lazily: a venue with none of our orders resting cannot produce reports,
so it is brought up to date only when a command reaches it or it is sampled. Venues with
resting orders are advanced before every decision point; when several are, they move in
steps no longer than the shortest possible reaction (minimum response + order-entry latency),
so a reaction to a fill at one venue can never reach another venue in that venue's past.

At equal times: market trade prints (to a subscribed strategy) come first, then order arrivals
at venues, report deliveries, timers and book samples, in that order.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from execsim.backtest.config import RunConfig, VenueConfig
from execsim.backtest.market_view import MarketView
from execsim.backtest.results import RunResult, build_manifest
from execsim.backtest.sources import OpenedSource
from execsim.book.l2 import L2Book
from execsim.book.l3 import L3Book
from execsim.core.config import canonical_json
from execsim.core.errors import ConfigError, ExecsimError
from execsim.data.schema import K_ADD, K_DELETE, K_EXECUTE
from execsim.execution.events import (
    CancelRequest,
    KillScope,
    ModifyRequest,
    OrderDenied,
    OrderRequest,
)
from execsim.execution.oms import OrderManager
from execsim.execution.strategy import BookView, OrderInfo, ParentInfo, Strategy
from execsim.impact.base import ImpactState
from execsim.kernel import Kernel
from execsim.model.enums import OrderType, Side, TimeInForce
from execsim.model.instrument import Instrument
from execsim.venues.base import (
    ExecutionReport,
    MockVenue,
    Quote,
    ReportKind,
    SubmitOrder,
    Venue,
    VenueCommand,
)
from execsim.venues.fees import FeeModel, NoFees
from execsim.venues.l2_replay import L2ReplayVenue
from execsim.venues.l3_replay import L3ReplayVenue
from execsim.venues.latency import (
    ConstantLatency,
    EmpiricalLatency,
    LatencyModel,
    StateDependentLatency,
    latency_from_config,
)

__all__ = ["SEED_STREAMS", "Session", "load_strategy", "run_session"]

# Priorities of kernel events due at the same nanosecond (lower first).
P_ARRIVAL, P_REPORT, P_TIMER, P_SAMPLE, P_STOP = 0, 1, 2, 3, 4

SEED_STREAMS = ("data", "latency", "strategy", "venues", "impact", "agents")
"""Named random streams of a run, each spawned from the run seed as ``SeedSequence(seed, spawn_key=(i,))``."""


def _seed(seed: int, stream: str) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed, spawn_key=(SEED_STREAMS.index(stream),))


def load_strategy(class_path: str, params: dict[str, Any]) -> Strategy:
    """Import ``package.module:Class`` (or ``package.module.Class``) and build it with ``params``."""
    mod_name, sep, attr = class_path.partition(":")
    if not sep:
        mod_name, _, attr = class_path.rpartition(".")
    if not mod_name or not attr:
        raise ConfigError(f"strategy class must look like 'package.module:Class', got {class_path!r}")
    try:
        cls = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"cannot load strategy {class_path!r}: {err}") from None
    cfg_cls = getattr(cls, "Config", None)
    if cfg_cls is not None:
        return cls(cfg_cls.from_dict(params, source=f"strategy {class_path}"))
    try:
        return cls(**params)
    except TypeError as err:
        raise ConfigError(f"strategy {class_path}: bad parameters {sorted(params)}: {err}") from None


def _min_delay(model: LatencyModel) -> int:
    """The smallest delay a model can produce (0 when unknown)."""
    if isinstance(model, ConstantLatency):
        return model.latency_ns
    if isinstance(model, StateDependentLatency):
        return model.base_ns
    if isinstance(model, EmpiricalLatency):
        return int(model.samples_ns[0])
    return 0


def _is_l3(events: np.ndarray) -> bool:
    kinds = events["kind"]
    return bool(np.isin(kinds, (K_ADD, K_DELETE, K_EXECUTE)).any())


class ShiftedBook:
    """A book view with every price moved by the impact shift in force (see docs/impact.md)."""

    def __init__(self, book: BookView, shift: int) -> None:
        self._book, self.shift = book, shift

    def best_bid(self) -> tuple[int, int] | None:
        b = self._book.best_bid()
        return None if b is None else (b[0] + self.shift, b[1])

    def best_ask(self) -> tuple[int, int] | None:
        a = self._book.best_ask()
        return None if a is None else (a[0] + self.shift, a[1])

    def top(self, n_levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        bp, bq, ap, aq = self._book.top(n_levels)
        return np.where(bq > 0, bp + self.shift, 0), bq, np.where(aq > 0, ap + self.shift, 0), aq


class QuoteBook:
    """A one-level book view of a venue's quote (for venues without a market-data feed)."""

    def __init__(self, quote: Quote) -> None:
        self.quote = quote

    def best_bid(self) -> tuple[int, int] | None:
        q = self.quote
        return (q.bid_px, q.bid_qty) if q.bid_qty > 0 else None

    def best_ask(self) -> tuple[int, int] | None:
        q = self.quote
        return (q.ask_px, q.ask_qty) if q.ask_qty > 0 else None

    def top(self, n_levels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        out = [np.zeros(n_levels, np.int64) for _ in range(4)]
        if n_levels > 0:
            q = self.quote
            if q.bid_qty > 0:
                out[0][0], out[1][0] = q.bid_px, q.bid_qty
            if q.ask_qty > 0:
                out[2][0], out[3][0] = q.ask_px, q.ask_qty
        return out[0], out[1], out[2], out[3]


class _Context:
    """What the strategy sees (the StrategyContext protocol), forwarding to the session."""

    def __init__(self, session: Session) -> None:
        self._s = session

    @property
    def now(self) -> int:
        return self._s.kernel.now

    @property
    def instrument(self) -> Instrument:
        return self._s.instrument

    @property
    def venues(self) -> tuple[str, ...]:
        return tuple(self._s.venues)

    @property
    def rng(self) -> np.random.Generator:
        return self._s.strategy_rng

    def book(self, venue: str | None = None) -> BookView:
        s = self._s
        name = s._venue_name(venue)
        if name not in s.data_venues:
            # a venue with no feed of its own (mock, dark): seen through its current quote
            v = s.venues[name]
            s._catch_up(v, s.kernel.now)
            return QuoteBook(v.quote())
        if s._price_shift is None:
            return s.view.book
        return ShiftedBook(s.view.book, s.shift_at(s.kernel.now))

    def submit(
        self,
        side: Side,
        qty: int,
        price: int | None = None,
        *,
        order_type: OrderType = OrderType.LIMIT,
        tif: TimeInForce = TimeInForce.GTC,
        venue: str | None = None,
        post_only: bool = False,
        display_qty: int | None = None,
        min_qty: int = 0,
        tag: str = "",
        parent_id: int = 0,
    ) -> int:
        return self._s.submit(
            Side(side),
            int(qty),
            None if price is None else int(price),
            order_type=OrderType(order_type),
            tif=TimeInForce(tif),
            venue=venue,
            post_only=post_only,
            display_qty=display_qty,
            min_qty=min_qty,
            tag=tag,
            parent_id=parent_id,
        )

    def new_parent(
        self, side: Side, qty: int, *, limit_price: int | None = None, algo: str = "", venue: str = ""
    ) -> ParentInfo:
        return self._s.new_parent(Side(side), int(qty), limit_price=limit_price, algo=algo, venue=venue)

    def cancel(self, order_id: int, qty: int | None = None) -> None:
        self._s.send_cancel(order_id, qty)

    def modify(self, order_id: int, *, price: int | None = None, qty: int | None = None) -> None:
        self._s.send_modify(order_id, price, qty)

    def order(self, order_id: int) -> OrderInfo:
        return self._s.oms.order(order_id)

    def open_orders(self) -> list[OrderInfo]:
        return self._s.oms.open_orders()

    @property
    def position(self) -> int:
        return self._s.oms.position

    def set_timer(self, at_ns: int, payload: Any = None) -> None:
        self._s.kernel.schedule(at_ns, self._s.fire_timer, payload, priority=P_TIMER)

    def subscribe_trades(self) -> None:
        self._s.trades_subscribed = True

    def traded_volume(self) -> int:
        return self._s.view.traded_volume

    def subscribe_book(self, interval_ns: int) -> None:
        if interval_ns <= 0:
            raise ConfigError(f"book interval must be positive, got {interval_ns} ns")
        self._s.kernel.schedule_after(interval_ns, self._s.fire_book, int(interval_ns), priority=P_TIMER)

    def log(self, message: str) -> None:
        self._s.strategy_log.append((self._s.kernel.now, str(message)))


class Session:
    """A backtest session built from a :class:`RunConfig`.

    Parameters
    ----------
    config
        The run config.
    base_dir
        Directory that relative data paths in the config are resolved against.
    strategy
        A strategy object to use instead of the one the config names (the config still
        identifies the run).
    venues
        Venue objects to use instead of building them from the config (tests, custom venues).
    progress
        Called with the market time reached (ns) now and then.
    """

    def __init__(
        self,
        config: RunConfig,
        *,
        base_dir: Path | None = None,
        strategy: Strategy | None = None,
        venues: list[Venue] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.config = config
        self.source: OpenedSource = config.data.opened(seed=_seed(config.seed, "data"), base=base_dir)
        self.instrument = self.source.instrument
        self.live_venue: Any = None
        self.end_ns_default: int | None = None
        if self.source.live:
            # the reactive agent market: the venue makes the events (our orders change them)
            if config.impact.model != "none":
                raise ConfigError(
                    "impact models shift replayed data; on the agent market impact is endogenous "
                    "(the agents react to our orders): set impact.model to 'none'"
                )
            self.live_venue = self._build_live_venue(config)
            first = self.live_venue.drain_events()
            self.l3 = True
            self.end_ns_default = int(self.live_venue.now + config.data.minutes * 60e9)  # type: ignore[union-attr]
        else:
            first = next(iter(self.source.open()), None)
            self.l3 = _is_l3(first) if config.book == "auto" and first is not None else config.book == "l3"
        if first is None or len(first) == 0:
            raise ExecsimError(f"the data source has no events: {self.source.description}")
        self.start_ns = int(config.start_ns if config.start_ns is not None else first["ts_event"][0])
        self.kernel = Kernel(start_ns=self.start_ns)
        lat_rng = np.random.default_rng(_seed(config.seed, "latency"))
        lc = config.latency
        self.md_latency = latency_from_config(lc.market_data, rng=lat_rng, events=first)
        self.entry_latency = latency_from_config(lc.order_entry, rng=lat_rng, events=first)
        self.response_latency = latency_from_config(lc.response, rng=lat_rng, events=first)
        self.lookahead = _min_delay(self.entry_latency) + _min_delay(self.response_latency)
        self.strategy_rng = np.random.default_rng(_seed(config.seed, "strategy"))
        self.strategy = strategy or load_strategy(config.strategy.class_path, config.strategy.params)
        self.impact: ImpactState = config.impact.build().start(
            tick_size_price=float(self.instrument.tick_size),
            rng=np.random.default_rng(_seed(config.seed, "impact")),
        )
        self._shift_t = self.start_ns
        self._price_shift = None if config.impact.model == "none" else self.shift_at
        self.fees: dict[str, FeeModel] = {vc.name: vc.fees.build() for vc in config.venues}
        vlist = list(venues) if venues is not None else [self._build_venue(vc) for vc in config.venues]
        # venues that replay (or make) the session's data are seen through the strategy's view
        self.data_venues = {
            v.name for v in vlist if v is self.live_venue or isinstance(v, L2ReplayVenue | L3ReplayVenue)
        }
        if self.live_venue is not None and self.live_venue not in vlist:
            raise ConfigError("the agent market needs a venue of kind 'replay' (it becomes the agent market)")
        self.venues: dict[str, Venue] = {v.name: v for v in vlist}
        if len(self.venues) != len(vlist):
            raise ConfigError(f"venue names must be unique, got {[v.name for v in vlist]}")
        for name in self.venues:
            self.fees.setdefault(name, NoFees())
        if self.live_venue is not None:
            self.view = MarketView(None, L3Book(), self.md_latency)
            self.view.push(first)
        else:
            self.view = MarketView(self.source.open(), L3Book() if self.l3 else L2Book(), self.md_latency)
        self.oms = OrderManager(self.instrument, config.risk)
        self.ctx = _Context(self)
        self.trades_subscribed = False
        self.strategy_log: list[tuple[int, str]] = []
        self.samples: list[tuple[int, str, int, int, int, int]] = []
        self._venue_open: dict[str, set[int]] = {n: set() for n in self.venues}
        self._order_venue: dict[int, str] = {}
        self.arrival_quotes: dict[int, Quote] = {}
        self._progress = progress
        self._done = False
        self.end_ns: int | None = config.end_ns if config.end_ns is not None else self.end_ns_default

    # -- impact -------------------------------------------------------------------------------
    def shift_at(self, t: int) -> int:
        """The impact price shift (ticks) at time t, on a clock that never goes backwards.

        Venues, the strategy's view and fills query one shared impact state. A query (or a fill)
        earlier than the latest query is evaluated at the latest query's time: in a single-venue
        session that only happens to a lazily advanced venue catching up with no order of ours
        resting; with several venues the difference is bounded by the session's lookahead.
        """
        self._shift_t = max(self._shift_t, int(t))
        return self.impact.shift_ticks(self._shift_t)

    # -- construction -----------------------------------------------------------------------
    def _build_live_venue(self, config: RunConfig) -> Any:
        from execsim.agents.market import AgentMarketVenue

        replay = [vc for vc in config.venues if vc.kind == "replay"]
        if len(replay) != 1:
            raise ConfigError("the agent market runs as exactly one venue of kind 'replay'")
        mcfg = config.data.market_config()  # type: ignore[union-attr]
        return AgentMarketVenue(
            name=replay[0].name,
            instrument=self.instrument,
            config=mcfg,
            seed=_seed(config.seed, "agents"),
        )

    def _pump(self) -> None:
        """Move the live market's new events into the strategy's view."""
        if self.live_venue is not None:
            self.view.push(self.live_venue.drain_events())

    def _build_venue(self, vc: VenueConfig) -> Venue:
        if self.live_venue is not None and vc.kind == "replay":
            return self.live_venue
        if vc.kind == "mock":
            return MockVenue(name=vc.name, instrument=self.instrument)
        if self.l3:
            return L3ReplayVenue(
                name=vc.name,
                instrument=self.instrument,
                batches=self.source.open(),
                price_shift=self._price_shift,
            )
        return L2ReplayVenue(
            self.source.open(),
            self.instrument,
            name=vc.name,
            queue_model=vc.queue_model,
            depletion=vc.depletion,
            price_shift=self._price_shift,
        )

    # -- strategy actions ---------------------------------------------------------------------
    def _venue_name(self, venue: str | None) -> str:
        if venue is None:
            return next(iter(self.venues))
        if venue not in self.venues:
            raise ExecsimError(f"unknown venue {venue!r}; this session has {list(self.venues)}")
        return venue

    def submit(
        self,
        side: Side,
        qty: int,
        price: int | None,
        *,
        order_type: OrderType,
        tif: TimeInForce,
        venue: str | None,
        post_only: bool,
        display_qty: int | None,
        min_qty: int,
        tag: str,
        parent_id: int = 0,
    ) -> int:
        name = self._venue_name(venue)
        now = self.kernel.now
        req = OrderRequest(
            venue=name, side=side, qty=qty, price=price, order_type=order_type, tif=tif, post_only=post_only,
            display_qty=display_qty, min_qty=min_qty, tag=tag, parent_id=parent_id,
        )  # fmt: skip
        ev = self.oms.request_new(
            req, now=now, reference_price=self._reference_price(), recent_volume=self._recent_volume()
        )
        self._order_venue[ev.order_id] = name
        if isinstance(ev, OrderDenied):
            # a pre-trade control refused it: the strategy learns at once, like a report
            self.kernel.schedule(
                now, self._call, self.strategy.on_order_update, ev.order, ev, priority=P_REPORT
            )
            return ev.order_id
        arrival = now + self.entry_latency.delay(now)
        self.kernel.schedule(
            arrival, self._arrive, name, ev.to_command(arrival), "submit", priority=P_ARRIVAL
        )
        return ev.order_id

    def _reference_price(self) -> float | None:
        """The mid the strategy sees now (price collars are set against it)."""
        book = self.ctx.book()
        bid, ask = book.best_bid(), book.best_ask()
        return (bid[0] + ask[0]) / 2 if bid and ask else None

    def _recent_volume(self) -> int | None:
        """Market volume the strategy saw in the participation window (only when a control needs it)."""
        if self.config.risk.max_participation is None:
            return None
        trades = self.view.trades()
        since = self.kernel.now - self.config.participation_window_ns
        return int(trades["qty"][trades["ts_local"] > since].sum())

    def new_parent(
        self, side: Side, qty: int, *, limit_price: int | None, algo: str, venue: str
    ) -> ParentInfo:
        if qty <= 0:
            raise ExecsimError(f"a parent order needs a positive quantity, got {qty}")
        self.view.advance_to(self.kernel.now)
        book = self.ctx.book()  # as the strategy sees it, impact shift included
        bid, ask = book.best_bid(), book.best_ask()
        return self.oms.new_parent(
            side,
            qty,
            now=self.kernel.now,
            arrival_bid=bid[0] if bid else 0,
            arrival_ask=ask[0] if ask else 0,
            limit_price=limit_price,
            algo=algo,
            venue=venue,
        ).info

    def _known(self, order_id: int) -> str:
        if order_id not in self._order_venue:
            raise ExecsimError(f"unknown order id {order_id}")
        return self._order_venue[order_id]

    def send_cancel(self, order_id: int, qty: int | None) -> None:
        self._known(order_id)
        req = self.oms.request_cancel(order_id, qty, now=self.kernel.now)
        if isinstance(req, CancelRequest):
            self._send(req, "cancel")

    def send_modify(self, order_id: int, price: int | None, qty: int | None) -> None:
        self._known(order_id)
        req = self.oms.request_modify(
            order_id,
            price=price,
            qty=qty,
            now=self.kernel.now,
            reference_price=self._reference_price(),
            recent_volume=self._recent_volume(),
        )
        if isinstance(req, ModifyRequest):
            self._send(req, "modify")

    def _send(self, req: CancelRequest | ModifyRequest, command: str) -> None:
        now = self.kernel.now
        arrival = now + self.entry_latency.delay(now)
        self.kernel.schedule(
            arrival, self._arrive, req.venue, req.to_command(arrival), command, priority=P_ARRIVAL
        )

    def kill(self, scope: KillScope | None = None, *, reason: str, by: str = "") -> int:
        """Kill switch: cancel every open order in ``scope`` (default: everything) and deny new
        ones there until reset; logged in the OMS event log. Returns the number of cancels sent."""
        reqs = self.oms.kill(scope or KillScope(), now=self.kernel.now, reason=reason, by=by)
        for req in reqs:
            self._send(req, "cancel")
        return len(reqs)

    # -- kernel callbacks -----------------------------------------------------------------------
    def _catch_up(self, venue: Venue, t: int) -> None:
        """Bring a venue to time t, handling any reports on the way."""
        while venue.now < t:
            reached, reps = venue.advance(t)
            if reps:
                self._on_reports(venue, reps, "market")
            if reached >= t or not reps:
                break

    def _arrive(self, name: str, cmd: VenueCommand, command: str) -> None:
        venue = self.venues[name]
        self._catch_up(venue, cmd.ts_ns)
        if isinstance(cmd, SubmitOrder):
            self.arrival_quotes[cmd.order_id] = venue.quote()
        self._on_reports(venue, venue.handle(cmd), command)
        self._pump()

    def _on_reports(self, venue: Venue, reps: list[ExecutionReport], command: str) -> None:
        open_ = self._venue_open[venue.name]
        fee_model = self.fees[venue.name]
        for r in reps:
            if r.kind is ReportKind.ACCEPTED and r.leaves_qty > 0:
                open_.add(r.order_id)
            elif r.kind is not ReportKind.REJECTED and r.leaves_qty == 0:
                open_.discard(r.order_id)
            fee = 0.0
            if r.kind is ReportKind.FILL:
                side = self.oms.order(r.order_id).side
                self._shift_t = max(self._shift_t, r.ts_ns)
                self.impact.on_fill(self._shift_t, side.code, r.qty, r.price)
                fee = float(
                    fee_model.fee(
                        self.instrument,
                        np.array([r.price]),
                        np.array([r.qty]),
                        np.array([r.liquidity == "maker"]),
                    )[0]
                )
            t = r.ts_ns + self.response_latency.delay(r.ts_ns)
            self.kernel.schedule(max(t, self.kernel.now), self._deliver, r, command, fee, priority=P_REPORT)

    def _deliver(self, r: ExecutionReport, command: str, fee: float) -> None:
        now = self.kernel.now
        ev = self.oms.on_report(r, command=command, now=now, fee=fee)
        self._call(self.strategy.on_order_update, ev.order, r)
        if ev.fill is not None:
            self._call(self.strategy.on_fill, ev.fill)

    def fire_timer(self, payload: Any) -> None:
        self._call(self.strategy.on_timer, payload)

    def fire_book(self, interval_ns: int) -> None:
        self._call(self.strategy.on_book)
        self.kernel.schedule_after(interval_ns, self.fire_book, interval_ns, priority=P_TIMER)

    def _sample(self) -> None:
        t = self.kernel.now
        for name, v in self.venues.items():
            self._catch_up(v, t)
            q = v.quote()
            self.samples.append((t, name, q.bid_px, q.bid_qty, q.ask_px, q.ask_qty))
        if self._progress is not None:
            self._progress(t)
        self.kernel.schedule_after(self.config.sample_interval_ns, self._sample, priority=P_SAMPLE)

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        self.view.advance_to(self.kernel.now)
        fn(self.ctx, *args)

    # -- the loop ---------------------------------------------------------------------------------
    def _advance_active(self, t: int) -> int | None:
        """Advance venues holding our resting orders to t; return the time of the first report, if any."""
        active = [
            self.venues[n] for n, ids in self._venue_open.items() if ids or self.venues[n] is self.live_venue
        ]
        if not active:
            return None
        while True:
            lo = min(v.now for v in active)
            if lo >= t:
                self._pump()
                return None
            target = t if len(active) == 1 or self.lookahead <= 0 else min(t, lo + self.lookahead)
            stop: int | None = None
            for v in active:
                if v.now >= target:
                    continue
                reached, reps = v.advance(target)
                if reps:
                    self._on_reports(v, reps, "market")
                    stop = reached if stop is None else min(stop, reached)
            self._pump()
            if stop is not None:
                return stop

    def _step_live(self, t_k: int | None, end: int | None) -> bool:
        """With trade callbacks on the live market: run it toward the next kernel time, stopping
        at each trade print, so no print is delivered late. Return True to re-evaluate.

        A print's receive time is never earlier than the market time it happened at, and receive
        times never decrease, so once the market has run to a print, no later event can be due
        before it: the print can be delivered, and a reaction to it reaches the market after it.
        """
        lv = self.live_venue
        target = min(x for x in (t_k, end) if x is not None) if (t_k, end) != (None, None) else None
        if target is None or lv.now >= target:
            return False
        pending = self.view.next_trade_time()
        if pending is not None and pending <= target:
            return False  # a print already due before the target: deliver it first
        _, reps = lv.advance(target, stop_on_trade=True)
        if reps:
            self._on_reports(lv, reps, "market")
        self._pump()
        return True

    def run(self) -> RunResult:
        """Run the session to the end of the data (or ``end_ns``) and return its result."""
        if self._done:
            raise ExecsimError("a session runs once; build a new one to run again")
        self._done = True
        k = self.kernel
        k.schedule(self.start_ns, self._call, self.strategy.on_start, priority=P_TIMER)
        k.schedule(self.start_ns, self._sample, priority=P_SAMPLE)
        end = self.end_ns
        forever = np.iinfo(np.int64).max
        lv = self.live_venue
        while True:
            t_k = k.peek()
            if lv is not None and self.trades_subscribed and self._step_live(t_k, end):
                continue
            t_tr = self.view.next_trade_time() if self.trades_subscribed else None
            cands = [x for x in (t_k, t_tr) if x is not None]
            t_next = min(cands) if cands else None
            if t_next is None:
                if end is None:  # nothing scheduled: play the rest of the data through
                    self.view.advance_to(forever)
                    continue
                break
            if end is not None and t_next > end:
                break
            is_trade = t_tr is not None and (t_k is None or t_tr <= t_k)
            # a trade print due now is applied by pop_trade itself, so stop just before it
            self.view.advance_to(t_next - 1 if is_trade else t_next)
            if end is None and self.view.exhausted:
                # every market event has reached the strategy: the session ends at the last one
                last = self.view.last_local_ts
                end = max(k.now, last if last is not None else k.now)
                if t_next > end:
                    break
            if self._advance_active(t_next) is not None:
                continue  # reports were scheduled, possibly before t_next
            if is_trade and t_tr is not None:
                k.skip_to(t_tr)  # kernel events due at the same time run after the print
                trade = self.view.pop_trade()
                self.strategy.on_trade(self.ctx, trade)
            else:
                k.step()
        final = max(end if end is not None else k.now, k.now)
        # bring every venue with our resting orders to the end, delivering fills on the way
        while self._advance_active(final) is not None:
            k.run(until_ns=final)
        k.run(until_ns=final)
        self.view.advance_to(final)
        self._call(self.strategy.on_stop)
        self.oms.expire_open(k.now, "session end")
        return self._result(final)

    def _result(self, end: int) -> RunResult:
        manifest = build_manifest(self.config, self.source.hashes, self.start_ns, end)
        manifest["session"] = {
            "book": "l3" if self.l3 else "l2",
            "venues": {n: type(v).__name__ for n, v in self.venues.items()},
            "latency": {
                "market_data": repr(self.md_latency),
                "order_entry": repr(self.entry_latency),
                "response": repr(self.response_latency),
            },
            "fees": {n: repr(f) for n, f in self.fees.items()},
            "impact": self.config.impact.model,
            "queue_models": {
                vc.name: vc.queue_model.model for vc in self.config.venues if vc.kind == "replay"
            },
            "events_replayed": self.view.events_applied,
        }
        return RunResult.from_session(
            config=self.config,
            manifest=manifest,
            instrument=self.instrument,
            oms=self.oms,
            samples=self.samples,
            arrival_quotes=self.arrival_quotes,
            trades=self.view.trades(),
            strategy_log=self.strategy_log,
        )


def counterfactual_key(config: RunConfig, base_dir: Path | None = None) -> str:
    """What a config's counterfactual twin depends on: the config less its name and strategy.

    The twin runs a strategy that never trades, so two configs that differ only in ``name``,
    ``strategy`` or ``counterfactual`` have the same twin; :func:`run_session` uses this key to
    share twins between runs (``twins=``).
    """
    payload = config.model_dump(mode="json", exclude={"name", "strategy", "counterfactual"})
    payload["base_dir"] = None if base_dir is None else str(Path(base_dir).resolve())
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def run_session(
    config: RunConfig,
    *,
    base_dir: Path | None = None,
    strategy: Strategy | None = None,
    venues: list[Venue] | None = None,
    progress: Callable[[int], None] | None = None,
    twins: dict[str, pa.Table] | None = None,
) -> RunResult:
    """Build a :class:`Session` and run it.

    With ``config.counterfactual`` the same session is run a second time with a strategy that
    never trades (same data, seed and venues), and its sampled market path is stored in the
    result's ``counterfactual_market`` table: the difference between the two market paths is the
    market's reaction to our orders, which TCA separates from the drift both runs share.
    ``venues`` objects cannot be reused across runs, so a counterfactual needs config-built venues.

    ``twins`` is an optional cache of twins' market paths, keyed by :func:`counterfactual_key`:
    a study that runs several strategies on the same market (same config apart from the name
    and the strategy) passes one dict to every call and each distinct twin runs once.
    """
    result = Session(config, base_dir=base_dir, strategy=strategy, venues=venues, progress=progress).run()
    if not config.counterfactual:
        return result
    if venues is not None:
        raise ConfigError("a counterfactual run builds its venues from the config; do not pass venue objects")
    cache = {} if twins is None else twins
    key = counterfactual_key(config, base_dir)
    if key not in cache:
        cache[key] = Session(config, base_dir=base_dir, strategy=Strategy()).run().tables["market"]
    return result.with_table("counterfactual_market", cache[key])
