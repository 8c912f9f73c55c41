from __future__ import annotations

import numpy as np
import pytest

from execsim.core.errors import ConfigError
from execsim.execution.algos.policy import OBSERVATION_FIELDS, Observation, check_policy
from execsim.ml import CostAwarePolicy, ExplorePolicy

SPREAD = OBSERVATION_FIELDS.index("spread_ticks")


def _obs(spread: float, time_left: float = 0.5, qty_left: float = 0.5, gap: float = 0.0) -> Observation:
    v = np.zeros(len(OBSERVATION_FIELDS))
    v[OBSERVATION_FIELDS.index("time_left")] = time_left
    v[OBSERVATION_FIELDS.index("qty_left")] = qty_left
    v[SPREAD] = spread
    v[OBSERVATION_FIELDS.index("schedule_gap")] = gap
    v[OBSERVATION_FIELDS.index("side")] = 1
    return Observation.from_vector(v)


def _data(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, len(OBSERVATION_FIELDS)))
    X[:, SPREAD] = rng.uniform(1, 30, n)
    y = 0.5 * X[:, SPREAD] + 2.0 + rng.normal(scale=0.1, size=n)  # half the spread, plus 2 ticks
    return X, y


def test_fit_recovers_a_known_linear_cost_model() -> None:
    X, y = _data()
    p = CostAwarePolicy(ridge=1e-6).fit(X, y)
    pred = p.predict_cost(X)
    assert np.corrcoef(pred, y)[0, 1] > 0.99
    assert p.r2_ > 0.98
    assert p.predict_cost(_obs(10.0).to_vector())[0] == pytest.approx(7.0, abs=0.2)


def test_the_policy_trades_more_when_crossing_is_predicted_cheap() -> None:
    p = CostAwarePolicy(n_steps=10).fit(*_data())
    cheap, dear = p.act(_obs(2.0)), p.act(_obs(28.0))
    assert cheap.trade_fraction > dear.trade_fraction
    assert cheap.order_type == "ioc"
    # far behind the schedule it trades at least the TWAP step even when crossing is dear
    behind = p.act(_obs(28.0, gap=-0.3))
    assert behind.trade_fraction >= CostAwarePolicy(n_steps=10).act(_obs(28.0, gap=-0.3)).trade_fraction


def test_unfitted_policy_is_twap_and_the_last_step_finishes() -> None:
    p = CostAwarePolicy(n_steps=10)
    assert p.act(_obs(5.0, time_left=0.05, qty_left=0.3)).trade_fraction == 1.0
    with pytest.raises(ConfigError, match="not fitted"):
        p.predict_cost(np.zeros(len(OBSERVATION_FIELDS)))


def test_bad_training_data_is_rejected_with_the_reason() -> None:
    with pytest.raises(ConfigError, match="must have shape"):
        CostAwarePolicy().fit(np.zeros((5, 2)), np.zeros(5))
    X, y = _data(10)
    y[3] = np.nan
    with pytest.raises(ConfigError, match="NaN"):
        CostAwarePolicy().fit(X, y)


def test_both_policies_pass_the_policy_conformance_checks() -> None:
    check_policy(CostAwarePolicy(n_steps=10).fit(*_data()))
    check_policy(ExplorePolicy(10, seed=3))
