"""A cost-aware execution policy fitted on simulated data (scikit-learn style).

The policy keeps to a TWAP schedule on average but leans on it: it learns, from simulated
executions, how much crossing the spread costs as a function of what it observes (spread,
imbalance, volatility, trade flow, …), and trades more of its schedule when crossing is
predicted cheap and less when it is predicted dear, never falling behind the schedule by more
than ``max_behind`` of the parent. The cost model is ridge regression on standardised
features; simple, transparent, and a baseline for richer models.

Training data come from :func:`training_examples`: run :class:`~execsim.execution.algos.PolicyAlgo`
with an exploring policy (:class:`ExplorePolicy`) on training seeds, then pair each decision's
observation with the realised cost of the children it sent.
"""

from __future__ import annotations

import numpy as np

from execsim.backtest.results import RunResult
from execsim.core.errors import ConfigError
from execsim.execution.algos.policy import (
    OBSERVATION_FIELDS,
    Action,
    ActionOrderType,
    Observation,
    PolicyAlgo,
)

__all__ = ["CostAwarePolicy", "ExplorePolicy", "training_examples"]


def _twap_fraction(o: Observation, n_steps: int) -> float:
    """Fraction of the remaining quantity a TWAP of ``n_steps`` has due by the end of this step."""
    if o.qty_left <= 0:
        return 0.0
    k = min(n_steps - 1, max(0, round((1.0 - o.time_left) * n_steps)))
    due = (k + 1) / n_steps
    return min(1.0, max(0.0, (due - (1.0 - o.qty_left)) / o.qty_left))


class ExplorePolicy:
    """TWAP scaled by a pseudo-random factor in ``[low, high]`` that is a pure function of the
    observation (so :func:`~execsim.execution.algos.check_policy` holds): it explores how much to
    trade in each market state. Children cross the spread by ``cross_ticks`` (IOC)."""

    def __init__(
        self, n_steps: int = 10, *, low: float = 0.3, high: float = 1.8, cross_ticks: int = 2, seed: int = 0
    ):
        self.n_steps, self.low, self.high, self.cross_ticks, self.seed = n_steps, low, high, cross_ticks, seed

    def act(self, observation: Observation) -> Action:
        o = observation
        base = _twap_fraction(o, self.n_steps)
        key = (self.seed, round(o.time_left * 1e6), round(o.qty_left * 1e6))
        u = np.random.default_rng(abs(hash(key)) % (2**32)).random()
        frac = (
            1.0
            if o.time_left * self.n_steps <= 1.0
            else min(1.0, base * (self.low + u * (self.high - self.low)))
        )
        return Action(
            trade_fraction=frac,
            limit_offset_ticks=-round(o.spread_ticks) - self.cross_ticks,
            order_type=ActionOrderType.IOC,
        )


class CostAwarePolicy:
    """TWAP that trades more when crossing is predicted cheap (a ridge cost model).

    Parameters
    ----------
    n_steps
        Decisions over the horizon (use the same ``n_decisions`` in :class:`PolicyAlgo`).
    tilt
        How strongly a predicted cost (in standard deviations) scales the step: the step is the
        TWAP step × ``clip(1 − tilt · z, 0, 2)``.
    max_behind
        Never fall further behind the TWAP schedule than this fraction of the parent.
    cross_ticks
        Children are IOC orders this many ticks through the far touch.
    ridge
        L2 penalty of the cost regression (on standardised features).

    Attributes
    ----------
    coef_, intercept_
        The fitted cost model (ticks per standardised feature; ticks).
    feature_mean_, feature_std_, cost_mean_, cost_std_
        Standardisation of features and costs learnt in :meth:`fit`.
    """

    def __init__(
        self,
        n_steps: int = 10,
        *,
        tilt: float = 0.6,
        max_behind: float = 0.1,
        cross_ticks: int = 2,
        ridge: float = 1.0,
    ) -> None:
        self.n_steps = n_steps
        self.tilt = tilt
        self.max_behind = max_behind
        self.cross_ticks = cross_ticks
        self.ridge = ridge

    def get_params(self) -> dict[str, float]:
        """The constructor parameters."""
        return {k: getattr(self, k) for k in ("n_steps", "tilt", "max_behind", "cross_ticks", "ridge")}

    def fit(self, X: np.ndarray, y: np.ndarray) -> CostAwarePolicy:
        """Fit the cost model: ``X`` observation vectors, ``y`` realised cost (ticks, + = worse)."""
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(OBSERVATION_FIELDS):
            raise ConfigError(f"X must have shape (n, {len(OBSERVATION_FIELDS)}), got {X.shape}")
        if len(y) != len(X) or len(y) < 3:
            raise ConfigError(f"need at least 3 examples with one cost each, got X {len(X)} and y {len(y)}")
        if not (np.isfinite(X).all() and np.isfinite(y).all()):
            raise ConfigError("training data contain NaN or infinite values")
        self.feature_mean_ = X.mean(axis=0)
        self.feature_std_ = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
        Z = (X - self.feature_mean_) / self.feature_std_
        self.cost_mean_ = float(y.mean())
        self.cost_std_ = float(y.std()) or 1.0
        A = Z.T @ Z + self.ridge * np.eye(Z.shape[1])
        self.coef_ = np.linalg.solve(A, Z.T @ (y - self.cost_mean_))
        self.intercept_ = self.cost_mean_
        resid = y - self.predict_cost(X)
        self.r2_ = float(1 - resid.var() / y.var()) if y.var() > 0 else 0.0
        return self

    def predict_cost(self, X: np.ndarray) -> np.ndarray:
        """Predicted cost (ticks) of crossing now, one per observation vector."""
        if not hasattr(self, "coef_"):
            raise ConfigError("CostAwarePolicy is not fitted: call fit(X, y) first")
        Z = (np.atleast_2d(np.asarray(X, dtype=np.float64)) - self.feature_mean_) / self.feature_std_
        return Z @ self.coef_ + self.intercept_

    def act(self, observation: Observation) -> Action:
        o = observation
        base = _twap_fraction(o, self.n_steps)
        frac = base
        if hasattr(self, "coef_") and o.time_left * self.n_steps > 1.0:
            z = (float(self.predict_cost(o.to_vector())[0]) - self.cost_mean_) / self.cost_std_
            frac = base * float(np.clip(1.0 - self.tilt * z, 0.0, 2.0))
            if -o.schedule_gap > self.max_behind:  # too far behind TWAP: at least the TWAP step
                frac = max(frac, base)
        elif o.time_left * self.n_steps <= 1.0:
            frac = 1.0  # the last step finishes the parent
        return Action(
            trade_fraction=min(1.0, max(0.0, frac)),
            limit_offset_ticks=-round(o.spread_ticks) - self.cross_ticks,
            order_type=ActionOrderType.IOC,
        )


def training_examples(algo: PolicyAlgo, result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Pair each decision of ``algo`` (after its run) with the cost of the children it sent.

    The cost of a decision is the quantity-weighted fill price of the children submitted at that
    decision's time, against the mid of the venue quote at their arrival, in ticks, signed so
    that positive is worse for the parent. Decisions that filled nothing are skipped.
    """
    orders = result.orders.to_pylist()
    fills = result.fills.to_pylist()
    by_order: dict[int, list[tuple[int, int]]] = {}
    for f in fills:
        by_order.setdefault(f["order_id"], []).append((f["price"], f["qty"]))
    X, y = [], []
    for t, obs, _ in algo.history:
        kids = [o for o in orders if o["ts_submit"] == t and o["arrival_bid_px"] and o["arrival_ask_px"]]
        qty = cost = 0.0
        for o in kids:
            mid = (o["arrival_bid_px"] + o["arrival_ask_px"]) / 2
            sign = 1.0 if o["side"] == "buy" else -1.0
            for price, q in by_order.get(o["order_id"], []):
                cost += sign * (price - mid) * q
                qty += q
        if qty > 0:
            X.append(obs.to_vector())
            y.append(cost / qty)
    return np.array(X, dtype=np.float64).reshape(-1, len(OBSERVATION_FIELDS)), np.array(y, dtype=np.float64)
