"""The policy contract: observations, actions, wrappers, the two simple policies, check_policy."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from execsim.core.errors import ConfigError
from execsim.execution.algos import (
    ACTION_ORDER_TYPE_CODES,
    OBSERVATION_FIELDS,
    Action,
    ActionOrderType,
    CallablePolicy,
    EstimatorPolicy,
    LinearPolicy,
    Observation,
    Policy,
    PolicyConformanceError,
    PolicyError,
    TwapPolicy,
    as_policy,
    check_policy,
    to_action,
)


def obs(**kw: Any) -> Observation:
    base: dict[str, Any] = {
        "time_left": 0.5, "qty_left": 0.5, "spread_ticks": 2.0, "imbalance_l1": 0.1, "imbalance_top5": -0.2,
        "volatility_ticks": 0.7, "trade_flow": 0.3, "schedule_gap": 0.0, "side": 1,
    }  # fmt: skip
    base.update(kw)
    return Observation(**base)


# -- observation and action -------------------------------------------------------------------------
def test_observation_vector_has_the_documented_order_and_round_trips() -> None:
    o = obs(time_left=0.25, side=-1)
    v = o.to_vector()
    assert v.dtype == np.float64
    assert len(v) == len(OBSERVATION_FIELDS) == 9
    assert dict(zip(OBSERVATION_FIELDS, v.tolist(), strict=True)) == {
        "time_left": 0.25, "qty_left": 0.5, "spread_ticks": 2.0, "imbalance_l1": 0.1, "imbalance_top5": -0.2,
        "volatility_ticks": 0.7, "trade_flow": 0.3, "schedule_gap": 0.0, "side": -1.0,
    }  # fmt: skip
    assert Observation.from_vector(v) == o
    with pytest.raises(PolicyError, match="9 entries"):
        Observation.from_vector([1.0, 2.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.time_left = 0.0  # type: ignore[misc]


def test_action_validates_its_fields_and_converts_from_vectors() -> None:
    a = Action(trade_fraction=0.5, limit_offset_ticks=-2, order_type=ActionOrderType.IOC)
    assert a.to_vector().tolist() == [0.5, -2.0, 1.0]
    assert Action.from_vector([0.5, -2.2, 1]) == a
    assert Action.from_vector([0.3]) == Action(trade_fraction=0.3)
    assert ACTION_ORDER_TYPE_CODES == {
        ActionOrderType.LIMIT: 0,
        ActionOrderType.IOC: 1,
        ActionOrderType.MARKET: 2,
    }
    for bad in ({"trade_fraction": 1.5}, {"trade_fraction": float("nan")}, {"trade_fraction": -0.1}):
        with pytest.raises(PolicyError, match="trade_fraction"):
            Action(**bad)
    with pytest.raises(PolicyError, match="limit_offset_ticks"):
        Action(trade_fraction=0.1, limit_offset_ticks=1.5)  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="order_type"):
        Action(trade_fraction=0.1, order_type="stop")  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="type code"):
        Action.from_vector([0.1, 0, 7])
    with pytest.raises(PolicyError, match="1 to 3"):
        Action.from_vector([0.1, 0, 0, 0])


def test_to_action_accepts_actions_numbers_vectors_and_mappings() -> None:
    a = Action(trade_fraction=0.2, limit_offset_ticks=1)
    assert to_action(a) is a
    assert to_action(0.2) == Action(trade_fraction=0.2)
    assert to_action(np.float32(0.5)) == Action(trade_fraction=0.5)
    assert to_action((0.2, 1)) == a
    assert to_action(np.array([0.2, 1.0, 0.0])) == a
    assert to_action({"trade_fraction": 0.2, "limit_offset_ticks": 1}) == a
    with pytest.raises(PolicyError, match="got str"):
        to_action("buy")
    with pytest.raises(PolicyError, match="bad action mapping"):
        to_action({"fraction": 0.2})


# -- wrappers -----------------------------------------------------------------------------------------
class PredictOnly:
    """A scikit-learn-like regressor: only ``predict`` (2-D in, 1-D or 2-D out)."""

    def __init__(self, out: list[float]) -> None:
        self.out = out
        self.seen: list[np.ndarray] = []

    def predict(self, X: np.ndarray) -> np.ndarray:
        self.seen.append(X)
        return np.array([self.out]) if len(self.out) > 1 else np.array(self.out)


def test_estimator_policy_predicts_on_the_observation_row_and_clips_the_fraction() -> None:
    est = PredictOnly([1.7])
    pol = as_policy(est)
    assert isinstance(pol, EstimatorPolicy)
    o = obs()
    assert pol.act(o) == Action(trade_fraction=1.0)
    assert est.seen[0].shape == (1, 9)
    assert est.seen[0][0].tolist() == o.to_vector().tolist()
    assert EstimatorPolicy(PredictOnly([-0.3])).act(o).trade_fraction == 0.0
    multi = EstimatorPolicy(PredictOnly([0.4, -3.0, 2.0]))
    assert multi.act(o) == Action(
        trade_fraction=0.4, limit_offset_ticks=-3, order_type=ActionOrderType.MARKET
    )
    fixed = EstimatorPolicy(PredictOnly([0.4]), limit_offset_ticks=2, order_type="ioc")
    assert fixed.act(o) == Action(trade_fraction=0.4, limit_offset_ticks=2, order_type=ActionOrderType.IOC)
    with pytest.raises(ConfigError, match="no predict"):
        EstimatorPolicy(object())


def test_as_policy_prefers_act_then_predict_then_a_plain_callable() -> None:
    lin = LinearPolicy(intercept=0.3)
    assert as_policy(lin) is lin  # it has both act and predict
    cp = as_policy(lambda o: 0.25)
    assert isinstance(cp, CallablePolicy)
    assert cp.act(obs()) == Action(trade_fraction=0.25)
    assert isinstance(lin, Policy)
    with pytest.raises(ConfigError, match="not a policy"):
        as_policy(42)


# -- the two simple policies ----------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 3, 7])
def test_twap_policy_asks_for_the_slice_due_by_the_end_of_each_step(n: int) -> None:
    pol = TwapPolicy(n)
    total = 1000
    filled = 0
    for k in range(n):
        o = obs(time_left=1 - k / n, qty_left=(total - filled) / total, spread_ticks=3.0)
        a = pol.act(o)
        assert a.order_type is ActionOrderType.IOC
        assert a.limit_offset_ticks == -3
        qty = int(np.floor(a.trade_fraction * (total - filled) + 0.5 + 1e-9))
        filled += qty
        assert filled == (2 * total * (k + 1) + n) // (2 * n)  # the TWAP cumulative, half-up
    assert filled == total
    # ahead of schedule: trade nothing; nothing left: trade nothing
    if n > 1:
        assert pol.act(obs(time_left=1.0, qty_left=1 - 1 / n - 0.05)).trade_fraction == 0.0
    assert pol.act(obs(qty_left=0.0)).trade_fraction == 0.0


def test_linear_policy_fits_by_least_squares_like_an_estimator() -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 9))
    true = np.zeros(9)
    true[0], true[7] = -0.4, 0.25
    y = 0.5 + X @ true
    pol = LinearPolicy(limit_offset_ticks=1, order_type="limit")
    assert pol.fit(X, y) is pol
    assert pol.coef_ == pytest.approx(true, abs=1e-12)
    assert pol.intercept_ == pytest.approx(0.5)
    o = obs(time_left=0.5, schedule_gap=-0.2)
    expected = 0.5 - 0.4 * 0.5 + 0.25 * -0.2
    a = pol.act(o)
    assert a.trade_fraction == pytest.approx(expected)
    assert (a.limit_offset_ticks, a.order_type) == (1, ActionOrderType.LIMIT)
    # unfitted: its parameters; clipped to [0, 1]
    assert LinearPolicy(intercept=3.0).act(o).trade_fraction == 1.0
    with pytest.raises(ConfigError, match="9 entries"):
        LinearPolicy(coef=[1.0]).act(o)
    with pytest.raises(ConfigError, match="shape"):
        LinearPolicy().fit(X[:, :3], y)


# -- conformance --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "policy",
    [TwapPolicy(5), LinearPolicy(intercept=0.2), PredictOnly([0.3, 1.0]), lambda o: o.qty_left * 0.5],
    ids=["twap", "linear", "estimator", "callable"],
)
def test_check_policy_passes_the_shipped_and_wrapped_policies(policy: Any) -> None:
    actions = check_policy(policy, n_observations=32)
    assert len(actions) == 32
    assert all(isinstance(a, Action) for a in actions)


def test_check_policy_names_out_of_range_actions() -> None:
    with pytest.raises(PolicyConformanceError, match="invalid action for probe 0"):
        check_policy(lambda o: 1.0 + o.time_left)


def test_check_policy_catches_non_determinism() -> None:
    rng = np.random.default_rng(1)
    with pytest.raises(PolicyConformanceError, match="not deterministic"):
        check_policy(lambda o: float(rng.uniform()))


def test_check_policy_reports_a_policy_that_raises_or_is_not_a_policy() -> None:
    def broken(o: Observation) -> float:
        return 1.0 / o.spread_ticks  # the second probe has an empty book side: spread 0

    with pytest.raises(PolicyConformanceError, match="ZeroDivisionError"):
        check_policy(broken)
    with pytest.raises(PolicyConformanceError, match="not a policy"):
        check_policy(object())


def test_check_policy_catches_a_policy_that_depends_on_call_history() -> None:
    class Counting:
        def __init__(self) -> None:
            self.calls = 0

        def act(self, observation: Observation) -> Action:
            self.calls += 1
            return Action(trade_fraction=0.1 if self.calls < 5 else 0.2)

    with pytest.raises(PolicyConformanceError, match="not deterministic"):
        check_policy(Counting())
