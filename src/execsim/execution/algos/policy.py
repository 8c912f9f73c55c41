"""The ML-policy adapter: any ``act(observation) -> action`` object drives child orders.

A policy sees an :class:`Observation` at each decision time and answers with an
:class:`Action`; :class:`PolicyAlgo` turns actions into child orders with the machinery every
execution algorithm shares (parent bookkeeping, the no-over-submission invariant, re-pegging,
end-of-horizon cleanup). ``docs/algorithms.md`` ("Policy adapter") documents the contract.

Anything with ``act`` is a policy; a scikit-learn-style estimator (``predict`` on a 2-D array
of observation vectors) is wrapped by :class:`EstimatorPolicy`, a plain callable by
:class:`CallablePolicy` (:func:`as_policy` picks). :func:`check_policy` is the conformance check.

Observation vector (``OBSERVATION_FIELDS``, float64, in this order)
-----------------------------------------------------------------
0. ``time_left`` — fraction of the horizon still to run, in [0, 1].
1. ``qty_left`` — fraction of the parent not yet filled, in [0, 1].
2. ``spread_ticks`` — best ask − best bid in ticks (0 if a side is empty).
3. ``imbalance_l1`` — (bid qty − ask qty) / (bid qty + ask qty) at the touch, in [−1, 1]
   (positive: more bids; 0 if the touch is empty).
4. ``imbalance_top5`` — the same over the top five levels of each side.
5. ``volatility_ticks`` — standard deviation of the changes of the mid price (ticks) between
   the algorithm's last ``vol_window`` looks at the book (one per decision and per re-quote).
6. ``trade_flow`` — (buyer- − seller-initiated volume) / total volume of the market trade
   prints of the last ``flow_window_s`` seconds, in [−1, 1] (0 with no prints).
7. ``schedule_gap`` — (filled − linear TWAP quantity due now) / parent quantity: positive is
   ahead of TWAP, negative behind, in [−1, 1].
8. ``side`` — +1 for a buy parent, −1 for a sell.

Action
------
``trade_fraction`` in [0, 1]: the fraction of the *remaining* quantity (parent − filled) to
have working now; ``limit_offset_ticks`` (int): the child's price relative to the near touch,
away from the spread (0 joins the best bid for a buy, +k is k ticks more passive, −k is k ticks
more aggressive, ≤ −spread crosses); ``order_type``: ``limit`` (rests; post-only unless its
price crosses), ``ioc`` (immediate-or-cancel at that price) or ``market``. As a vector:
``[trade_fraction, limit_offset_ticks, order_type code]`` with codes limit 0, ioc 1, market 2.
"""

from __future__ import annotations

import importlib
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
from pydantic import Field

from execsim.core.errors import ConfigError, ExecsimError
from execsim.core.timeutil import NS_PER_S
from execsim.execution.algos.base import AlgoConfig, AlgoState, ChildRole, ExecutionAlgo
from execsim.execution.strategy import OrderInfo, StrategyContext, TradeInfo
from execsim.model.enums import OrderStatus, OrderType, Side, TimeInForce

__all__ = [
    "ACTION_ORDER_TYPE_CODES",
    "OBSERVATION_FIELDS",
    "Action",
    "ActionOrderType",
    "CallablePolicy",
    "EstimatorPolicy",
    "LinearPolicy",
    "Observation",
    "Policy",
    "PolicyAlgo",
    "PolicyConformanceError",
    "PolicyError",
    "TwapPolicy",
    "as_policy",
    "check_policy",
    "to_action",
]


class PolicyError(ExecsimError, ValueError):
    """A policy returned something that is not a valid action."""


class PolicyConformanceError(ExecsimError, AssertionError):
    """A policy breaks the policy contract (see :func:`check_policy`)."""


OBSERVATION_FIELDS = (
    "time_left",
    "qty_left",
    "spread_ticks",
    "imbalance_l1",
    "imbalance_top5",
    "volatility_ticks",
    "trade_flow",
    "schedule_gap",
    "side",
)
"""Names of the observation vector's entries, in order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """What a policy sees at a decision (see the module docstring for each field)."""

    time_left: float
    qty_left: float
    spread_ticks: float
    imbalance_l1: float
    imbalance_top5: float
    volatility_ticks: float
    trade_flow: float
    schedule_gap: float
    side: int

    def to_vector(self) -> np.ndarray:
        """The fixed-order float64 vector (``OBSERVATION_FIELDS``)."""
        return np.array([float(getattr(self, f)) for f in OBSERVATION_FIELDS], dtype=np.float64)

    @classmethod
    def from_vector(cls, v: Sequence[float] | np.ndarray) -> Observation:
        """Rebuild an observation from its vector."""
        a = np.asarray(v, dtype=np.float64)
        if a.shape != (len(OBSERVATION_FIELDS),):
            raise PolicyError(
                f"an observation vector has {len(OBSERVATION_FIELDS)} entries, got shape {a.shape}"
            )
        kw: dict[str, Any] = {f: float(x) for f, x in zip(OBSERVATION_FIELDS, a, strict=True)}
        kw["side"] = int(kw["side"])
        return cls(**kw)


class ActionOrderType(StrEnum):
    """Order type of an action's child: rest, immediate-or-cancel, or market."""

    LIMIT = "limit"
    IOC = "ioc"
    MARKET = "market"


ACTION_ORDER_TYPE_CODES: dict[ActionOrderType, int] = {
    ActionOrderType.LIMIT: 0,
    ActionOrderType.IOC: 1,
    ActionOrderType.MARKET: 2,
}
"""Codes of the order types in action vectors."""
_CODE_TYPE = {v: k for k, v in ACTION_ORDER_TYPE_CODES.items()}
MAX_OFFSET_TICKS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """What a policy decides (see the module docstring); invalid values raise :class:`PolicyError`."""

    trade_fraction: float
    limit_offset_ticks: int = 0
    order_type: ActionOrderType = ActionOrderType.LIMIT

    def __post_init__(self) -> None:
        f = self.trade_fraction
        if (
            not isinstance(f, int | float | np.floating | np.integer)
            or not math.isfinite(f)
            or not 0 <= f <= 1
        ):
            raise PolicyError(f"trade_fraction must be a number in [0, 1], got {f!r}")
        o = self.limit_offset_ticks
        if isinstance(o, bool) or not isinstance(o, int | np.integer) or abs(int(o)) > MAX_OFFSET_TICKS:
            raise PolicyError(f"limit_offset_ticks must be an integer within ±{MAX_OFFSET_TICKS}, got {o!r}")
        try:
            t = ActionOrderType(self.order_type)
        except ValueError:
            raise PolicyError(
                f"order_type must be one of {[x.value for x in ActionOrderType]}, got {self.order_type!r}"
            ) from None
        object.__setattr__(self, "trade_fraction", float(f))
        object.__setattr__(self, "limit_offset_ticks", int(o))
        object.__setattr__(self, "order_type", t)

    def to_vector(self) -> np.ndarray:
        """``[trade_fraction, limit_offset_ticks, order type code]``."""
        return np.array(
            [self.trade_fraction, self.limit_offset_ticks, ACTION_ORDER_TYPE_CODES[self.order_type]],
            np.float64,
        )

    @classmethod
    def from_vector(
        cls,
        v: Sequence[float] | np.ndarray,
        *,
        limit_offset_ticks: int = 0,
        order_type: ActionOrderType = ActionOrderType.LIMIT,
    ) -> Action:
        """An action from 1 to 3 numbers; missing entries take the given defaults.

        The offset is rounded to the nearest tick and the type code must be 0, 1 or 2.
        """
        a = np.asarray(v, dtype=np.float64).ravel()
        if not 1 <= len(a) <= 3 or not np.isfinite(a).all():
            raise PolicyError(f"an action vector has 1 to 3 finite entries, got {a.tolist()}")
        off = int(np.rint(a[1])) if len(a) > 1 else limit_offset_ticks
        typ = order_type
        if len(a) > 2:
            code = int(np.rint(a[2]))
            if code not in _CODE_TYPE or abs(a[2] - code) > 1e-9:
                raise PolicyError(f"order type code must be 0, 1 or 2, got {a[2]!r}")
            typ = _CODE_TYPE[code]
        return cls(trade_fraction=float(a[0]), limit_offset_ticks=off, order_type=typ)


def to_action(out: Any) -> Action:
    """Interpret a policy's output: an :class:`Action`, a number (the fraction), a 1–3 vector or a mapping."""
    if isinstance(out, Action):
        return out
    if isinstance(out, dict):
        try:
            return Action(**out)
        except TypeError as err:
            raise PolicyError(f"bad action mapping {out!r}: {err}") from None
    if isinstance(out, int | float | np.number) and not isinstance(out, bool):
        return Action(trade_fraction=float(out))
    if isinstance(out, list | tuple | np.ndarray):
        return Action.from_vector(out)
    raise PolicyError(
        f"a policy must return an Action, a number, a vector or a mapping, got {type(out).__name__}"
    )


@runtime_checkable
class Policy(Protocol):
    """Anything with ``act(observation) -> action``."""

    def act(self, observation: Observation) -> Any:
        """Decide what to do now."""
        ...


class EstimatorPolicy:
    """Wrap a scikit-learn-style estimator: ``predict(X)`` on the observation vector as a row.

    One output per row is the trade fraction (clipped to [0, 1], since regressors overshoot);
    two or three are ``[fraction, offset, type code]`` (see :meth:`Action.from_vector`).
    """

    def __init__(
        self,
        estimator: Any,
        *,
        limit_offset_ticks: int = 0,
        order_type: ActionOrderType | str = ActionOrderType.LIMIT,
    ) -> None:
        if not callable(getattr(estimator, "predict", None)):
            raise ConfigError(f"{type(estimator).__name__} has no predict method")
        self.estimator = estimator
        self.limit_offset_ticks = int(limit_offset_ticks)
        self.order_type = ActionOrderType(order_type)

    def act(self, observation: Observation) -> Action:
        """Predict on one row and interpret the output."""
        y = np.asarray(self.estimator.predict(observation.to_vector()[None, :]), dtype=np.float64)
        row = y.reshape(-1) if y.ndim <= 1 else y[0]
        if row.size == 0 or not np.isfinite(row).all():
            raise PolicyError(f"{type(self.estimator).__name__}.predict returned {y!r}")
        row = row.copy()
        row[0] = min(1.0, max(0.0, row[0]))
        return Action.from_vector(row, limit_offset_ticks=self.limit_offset_ticks, order_type=self.order_type)


class CallablePolicy:
    """Wrap ``fn(observation) -> Action | number | vector | mapping``."""

    def __init__(self, fn: Callable[[Observation], Any]) -> None:
        if not callable(fn):
            raise ConfigError(f"expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def act(self, observation: Observation) -> Action:
        """Call the function and interpret its output."""
        return to_action(self.fn(observation))


def as_policy(obj: Any) -> Policy:
    """``obj`` itself if it has ``act``; an :class:`EstimatorPolicy` if it has ``predict``; a
    :class:`CallablePolicy` if it is callable."""
    if callable(getattr(obj, "act", None)):
        return obj
    if callable(getattr(obj, "predict", None)):
        return EstimatorPolicy(obj)
    if callable(obj):
        return CallablePolicy(obj)
    raise ConfigError(f"{type(obj).__name__} is not a policy: it has no act or predict and is not callable")


# -- two simple policies ------------------------------------------------------------------------------
class TwapPolicy:
    """Trade like TWAP through the adapter: at decision ``k`` of ``n_steps`` bring the filled
    quantity to ``(k+1)/n_steps`` of the parent, crossing the spread with an IOC.

    With :class:`PolicyAlgo` ``n_decisions = n_steps`` and integer rounding half-up, the
    children are the slices of :func:`~execsim.execution.schedules.twap_schedule`.
    """

    def __init__(self, n_steps: int = 10, *, cross_ticks: int = 0, order_type: str = "ioc") -> None:
        if n_steps < 1:
            raise ConfigError(f"n_steps must be at least 1, got {n_steps}")
        self.n_steps = int(n_steps)
        self.cross_ticks = int(cross_ticks)
        self.order_type = ActionOrderType(order_type)

    def act(self, observation: Observation) -> Action:
        """The fraction of the remaining quantity that is due by the end of this step."""
        o = observation
        if o.qty_left <= 0:
            return Action(trade_fraction=0.0)
        k = min(self.n_steps - 1, max(0, round((1.0 - o.time_left) * self.n_steps)))
        due = (k + 1) / self.n_steps
        frac = (due - (1.0 - o.qty_left)) / o.qty_left
        offset = -round(o.spread_ticks) - self.cross_ticks  # at (or through) the far touch
        return Action(
            trade_fraction=min(1.0, max(0.0, frac)), limit_offset_ticks=offset, order_type=self.order_type
        )


class LinearPolicy:
    """A linear policy, scikit-learn style: ``fraction = clip(intercept + coef · x, 0, 1)``.

    ``x`` is the observation vector. :meth:`fit` learns ``coef_`` and ``intercept_`` by least
    squares from observation vectors and target fractions (e.g. from simulated runs); until
    then the ``coef``/``intercept`` parameters are used (zeros by default). ``predict`` gives
    the unclipped fraction, so the object also works through :class:`EstimatorPolicy`.
    """

    def __init__(
        self,
        coef: Sequence[float] | None = None,
        intercept: float = 0.0,
        *,
        limit_offset_ticks: int = 0,
        order_type: str = "limit",
    ) -> None:
        self.coef = coef
        self.intercept = intercept
        self.limit_offset_ticks = limit_offset_ticks
        self.order_type = order_type

    def fit(self, X: np.ndarray, y: np.ndarray) -> Self:
        """Least-squares fit of fractions ``y`` on observation vectors ``X``; returns self."""
        Xa = np.asarray(X, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64).ravel()
        if Xa.ndim != 2 or Xa.shape[1] != len(OBSERVATION_FIELDS) or len(Xa) != len(ya) or len(ya) == 0:
            raise ConfigError(
                f"fit needs X of shape (n, {len(OBSERVATION_FIELDS)}) and n targets, "
                f"got {Xa.shape} and {ya.shape}"
            )
        A = np.hstack([np.ones((len(Xa), 1)), Xa])
        sol, *_ = np.linalg.lstsq(A, ya, rcond=None)
        self.intercept_ = float(sol[0])
        self.coef_ = sol[1:]
        return self

    def _params(self) -> tuple[np.ndarray, float]:
        if hasattr(self, "coef_"):
            return self.coef_, self.intercept_
        coef = np.zeros(len(OBSERVATION_FIELDS)) if self.coef is None else np.asarray(self.coef, np.float64)
        if coef.shape != (len(OBSERVATION_FIELDS),):
            raise ConfigError(f"coef needs {len(OBSERVATION_FIELDS)} entries, got {coef.shape}")
        return coef, float(self.intercept)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Unclipped fractions for rows of observation vectors."""
        coef, b = self._params()
        return np.asarray(X, dtype=np.float64) @ coef + b

    def act(self, observation: Observation) -> Action:
        """The clipped prediction, with the fixed offset and order type."""
        y = float(self.predict(observation.to_vector()[None, :])[0])
        return Action(
            trade_fraction=min(1.0, max(0.0, y)),
            limit_offset_ticks=self.limit_offset_ticks,
            order_type=ActionOrderType(self.order_type),
        )


# -- conformance ----------------------------------------------------------------------------------------
def _probe_observations(n: int, seed: int) -> list[Observation]:
    rng = np.random.default_rng(seed)
    out = [
        Observation(
            time_left=1.0, qty_left=1.0, spread_ticks=1.0, imbalance_l1=0.0, imbalance_top5=0.0,
            volatility_ticks=0.0, trade_flow=0.0, schedule_gap=0.0, side=1,
        ),
        Observation(
            time_left=0.0, qty_left=0.01, spread_ticks=0.0, imbalance_l1=-1.0, imbalance_top5=-1.0,
            volatility_ticks=0.0, trade_flow=-1.0, schedule_gap=-0.99, side=-1,
        ),
        Observation(
            time_left=0.5, qty_left=0.0, spread_ticks=50.0, imbalance_l1=1.0, imbalance_top5=1.0,
            volatility_ticks=20.0, trade_flow=1.0, schedule_gap=0.5, side=1,
        ),
    ]  # fmt: skip
    for _ in range(max(0, n - len(out))):
        t, q = rng.uniform(0, 1, 2)
        out.append(
            Observation(
                time_left=float(t),
                qty_left=float(q),
                spread_ticks=float(rng.integers(0, 20)),
                imbalance_l1=float(rng.uniform(-1, 1)),
                imbalance_top5=float(rng.uniform(-1, 1)),
                volatility_ticks=float(rng.exponential(2.0)),
                trade_flow=float(rng.uniform(-1, 1)),
                schedule_gap=float(np.clip((1 - q) - (1 - t), -1, 1)),
                side=int(rng.choice([-1, 1])),
            )
        )
    return out


def check_policy(policy: Any, *, n_observations: int = 64, seed: int = 0) -> list[Action]:
    """Check that ``policy`` honours the policy contract; return its actions on the probes.

    ``policy`` may be anything :func:`as_policy` accepts. On ``n_observations`` probe
    observations (edge cases first — start, nearly done, empty book side, extreme imbalance and
    flow — then random ones within the documented ranges, drawn from ``seed``) it checks that
    ``act`` accepts the observation, returns a valid action (trade fraction in [0, 1], integer
    offset, a known order type), gives the same action when asked twice and when given the
    observation rebuilt from its vector, and leaves the observation unchanged.

    Raises
    ------
    PolicyConformanceError
        Naming the first observation and what went wrong.
    """
    try:
        pol = as_policy(policy)
    except ConfigError as err:
        raise PolicyConformanceError(str(err)) from None
    name = type(policy).__name__
    actions = []
    for i, obs in enumerate(_probe_observations(n_observations, seed)):
        vec = obs.to_vector()
        try:
            a1 = to_action(pol.act(obs))
            a2 = to_action(pol.act(obs))
            a3 = to_action(pol.act(Observation.from_vector(vec)))
        except PolicyError as err:
            raise PolicyConformanceError(f"{name}: invalid action for probe {i} {obs}: {err}") from None
        except Exception as err:
            raise PolicyConformanceError(
                f"{name}.act failed on probe {i} {obs}: {type(err).__name__}: {err}"
            ) from err
        if not (a1 == a2 == a3):
            raise PolicyConformanceError(
                f"{name} is not deterministic on probe {i} {obs}: "
                f"{a1}, then {a2}, then {a3} (from the vector)"
            )
        if not np.array_equal(obs.to_vector(), vec):
            raise PolicyConformanceError(f"{name}.act changed the observation of probe {i}")
        actions.append(a1)
    return actions


# -- the algorithm ------------------------------------------------------------------------------------------
def _load_policy(path: str, params: dict[str, Any]) -> Policy:
    mod, sep, attr = path.partition(":")
    if not sep:
        mod, _, attr = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError, ValueError) as err:
        raise ConfigError(f"cannot load policy {path!r}: {err}") from None
    try:
        return as_policy(cls(**params))
    except TypeError as err:
        raise ConfigError(f"policy {path}: bad parameters {sorted(params)}: {err}") from None


@dataclass(slots=True)
class _Intent:
    """What the current decision still has to send, and the children it sent."""

    qty: int
    action: Action
    ids: set[int] = field(default_factory=set)


class PolicyAlgo(ExecutionAlgo):
    """Drive child orders with a policy (see the module docstring and docs/algorithms.md).

    At ``n_decisions`` equally spaced times over the horizon (the first at the start) the
    algorithm builds an :class:`Observation`, asks the policy for an :class:`Action` and makes
    the working quantity ``round(trade_fraction × remaining)`` lots (half-up):

    * open children that already match the action (a resting ``limit`` child at the action's
      price) are kept (sized down if there is too much); every other open child is cancelled;
    * the rest is sent as new children at the action's price — ``near touch − side ×
      offset`` — capped at ``limit_price`` (``limit``: GTC, post-only unless the price
      crosses; ``ioc``: immediate-or-cancel; ``market``: a market order, or an IOC at the
      limit price when there is one), cut into children of at most ``max_child_qty``;
    * quantity freed by a confirmed cancel or by a rejected post-only child is sent later in the
      same decision interval (after ``repost_delay_ms`` for a rejection), at the then price.

    Resting children are re-pegged to the action's offset every ``requote_ms``. The policy is
    given as an object (``PolicyAlgo(config, policy=...)``) or by import path in the config
    (``policy: "package.module:Class"``, ``policy_params``). Every observation and action is
    kept in :attr:`history` (and the strategy log) for audit and training.
    """

    algo_name = "policy"

    class Config(AlgoConfig):
        """Parameters of :class:`PolicyAlgo` (and those of :class:`AlgoConfig`)."""

        n_decisions: int = Field(default=10, gt=0, description="decisions over the horizon")
        policy: str | None = Field(default=None, description="import path of the policy class")
        policy_params: dict[str, Any] = Field(default_factory=dict)
        vol_window: int = Field(default=20, ge=2, description="book looks in the volatility estimate")
        flow_window_s: float = Field(default=30.0, gt=0, description="trade-flow window")
        log_decisions: bool = True

    config: Config

    def __init__(self, config: PolicyAlgo.Config | None = None, *, policy: Any = None) -> None:
        super().__init__(config if config is not None else PolicyAlgo.Config())
        cfg = self.config
        if policy is not None:
            self.policy: Policy = as_policy(policy)
        elif cfg.policy is not None:
            self.policy = _load_policy(cfg.policy, cfg.policy_params)
        else:
            raise ConfigError("PolicyAlgo needs a policy: pass policy=... or set config.policy")
        self.algo_name = f"policy:{type(self.policy).__name__}"
        self.history: list[tuple[int, Observation, Action]] = []
        self._mids: deque[float] = deque(maxlen=cfg.vol_window)
        self._trades: deque[tuple[int, int, int]] = deque()
        self._intent: _Intent | None = None

    # -- features -----------------------------------------------------------------------------
    def prepare(self, ctx: StrategyContext) -> None:
        ctx.subscribe_trades()

    def decision_times(self) -> Sequence[int]:
        n, span = self.config.n_decisions, self.end_ns - self.start_ns
        return [self.start_ns + span * k // n for k in range(1, n)]

    def on_trade(self, ctx: StrategyContext, trade: TradeInfo) -> None:
        # an unknown aggressor counts in the volume, not in the signed flow
        sign = 1 if trade.side is Side.BUY else -1 if trade.side is Side.SELL else 0
        self._trades.append((ctx.now, sign * trade.qty, trade.qty))

    def _look(self, ctx: StrategyContext) -> None:
        book = ctx.book(self.venue)
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None:
            self._mids.append((bid[0] + ask[0]) / 2.0)

    def observe(self, ctx: StrategyContext) -> Observation:
        """The observation now (also records the mid for the volatility estimate)."""
        self._look(ctx)
        book = ctx.book(self.venue)
        bid, ask = book.best_bid(), book.best_ask()
        spread = float(ask[0] - bid[0]) if bid is not None and ask is not None else 0.0
        bq = bid[1] if bid is not None else 0
        aq = ask[1] if ask is not None else 0
        imb1 = (bq - aq) / (bq + aq) if bq + aq > 0 else 0.0
        _, bqs, _, aqs = book.top(5)
        sb, sa = float(np.sum(bqs)), float(np.sum(aqs))
        imb5 = (sb - sa) / (sb + sa) if sb + sa > 0 else 0.0
        mids = np.fromiter(self._mids, np.float64)
        vol = float(np.std(np.diff(mids))) if len(mids) >= 3 else 0.0
        horizon = round(self.config.flow_window_s * NS_PER_S)
        while self._trades and self._trades[0][0] < ctx.now - horizon:
            self._trades.popleft()
        signed = sum(q for _, q, _ in self._trades)
        total = sum(q for _, _, q in self._trades)
        flow = signed / total if total > 0 else 0.0
        span = max(1, self.end_ns - self.start_ns)
        time_left = min(1.0, max(0.0, (self.end_ns - ctx.now) / span))
        twap_due = self.qty * (1.0 - time_left)
        return Observation(
            time_left=time_left,
            qty_left=self.remaining / self.qty,
            spread_ticks=spread,
            imbalance_l1=float(imb1),
            imbalance_top5=float(imb5),
            volatility_ticks=vol,
            trade_flow=float(flow),
            schedule_gap=float(np.clip((self.filled - twap_due) / self.qty, -1.0, 1.0)),
            side=self.sign,
        )

    # -- actions -> children ------------------------------------------------------------------------
    def action_price(self, ctx: StrategyContext, action: Action) -> int | None:
        """The child price of an action now (None: no near touch, or a market order)."""
        if action.order_type is ActionOrderType.MARKET:
            return None
        near = self.near_touch(ctx)
        if near is None:
            return None
        p = self.cap(near[0] - self.sign * action.limit_offset_ticks)
        return p if p > 0 else None

    def decide(self, ctx: StrategyContext) -> None:
        if self.state is not AlgoState.WORKING:
            return
        obs = self.observe(ctx)
        action = to_action(self.policy.act(obs))
        self.history.append((ctx.now, obs, action))
        if self.config.log_decisions:
            ctx.log(
                f"{self.algo_name}: obs {np.round(obs.to_vector(), 4).tolist()} -> "
                f"action {action.trade_fraction:.4f} {action.limit_offset_ticks:+d} {action.order_type.value}"
            )
        target = min(self.remaining, math.floor(action.trade_fraction * self.remaining + 0.5 + 1e-9))
        price = self.action_price(ctx, action)
        keep = 0
        for o in self.open_children(ctx):
            if o.order_id in self._releasing or o.status is OrderStatus.PENDING_CANCEL:
                continue
            matches = (
                action.order_type is ActionOrderType.LIMIT
                and self.children[o.order_id] is ChildRole.PASSIVE
                and o.price == price
            )
            if matches and keep < target:
                if keep + o.leaves_qty > target and o.status is not OrderStatus.SUBMITTED:
                    cut = keep + o.leaves_qty - target
                    ctx.cancel(o.order_id, cut)
                    self._releasing[o.order_id] = cut
                    keep = target
                    continue
                if keep + o.leaves_qty <= target:
                    keep += o.leaves_qty
                    continue
            ctx.cancel(o.order_id)
            self._releasing[o.order_id] = o.leaves_qty
        self._intent = _Intent(qty=max(0, target - keep), action=action)
        self._top_up(ctx)

    def _top_up(self, ctx: StrategyContext) -> None:
        it = self._intent
        if it is None or it.qty <= 0 or self.state is not AlgoState.WORKING or ctx.now < self._cooldown_until:
            return
        a = it.action
        near, far = self.near_touch(ctx), self.far_touch(ctx)
        while it.qty > 0:
            q = self.child_size(min(it.qty, self.available(ctx)))
            if q <= 0:
                return
            if a.order_type is ActionOrderType.MARKET:
                if self.config.limit_price is not None:
                    oid = self.submit_child(
                        ctx, ChildRole.AGGRESSIVE, q, self.config.limit_price, tif=TimeInForce.IOC
                    )
                else:
                    oid = self.submit_child(
                        ctx, ChildRole.AGGRESSIVE, q, None, order_type=OrderType.MARKET, tif=TimeInForce.IOC
                    )
            else:
                p = self.action_price(ctx, a)
                if p is None or near is None:
                    return
                if a.order_type is ActionOrderType.IOC:
                    oid = self.submit_child(ctx, ChildRole.AGGRESSIVE, q, p, tif=TimeInForce.IOC)
                else:
                    crosses = far is not None and (p >= far[0] if self.sign > 0 else p <= far[0])
                    oid = self.submit_child(ctx, ChildRole.PASSIVE, q, p, post_only=not crosses)
            if oid is None:
                return
            it.ids.add(oid)
            it.qty -= ctx.order(oid).qty

    def requote(self, ctx: StrategyContext) -> None:
        it = self._intent
        if it is None or it.action.order_type is not ActionOrderType.LIMIT:
            return
        p = self.action_price(ctx, it.action)
        if p is None:
            return
        for o in self.open_children(ctx, ChildRole.PASSIVE):
            if o.status not in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
                continue
            if o.order_id in self._modifying or o.order_id in self._releasing or o.price == p:
                continue
            ctx.modify(o.order_id, price=p)
            self._modifying.add(o.order_id)

    def on_requote(self, ctx: StrategyContext) -> None:
        self._look(ctx)
        self.requote(ctx)
        self._top_up(ctx)

    def on_retry(self, ctx: StrategyContext) -> None:
        self._top_up(ctx)

    def on_released(self, ctx: StrategyContext) -> None:
        self._top_up(ctx)

    def on_child_rejected(self, ctx: StrategyContext, order: OrderInfo, role: ChildRole) -> None:
        super().on_child_rejected(ctx, order, role)
        it = self._intent
        if it is not None and order.order_id in it.ids and role is ChildRole.PASSIVE:
            it.qty += order.qty - order.filled_qty
