from __future__ import annotations

import numpy as np
import pytest

from execsim.core.errors import ConfigError
from execsim.data.schema import empty_events
from execsim.venues.latency import (
    ConstantLatency,
    DataLatency,
    EmpiricalLatency,
    LatencyConfig,
    StateDependentLatency,
    latency_from_config,
)

TS = np.array([0, 10, 20, 1_000_000, 1_000_005], dtype=np.int64)


def test_constant_latency_delays_every_event_equally() -> None:
    assert ConstantLatency(500).delays(TS).tolist() == [500] * 5
    assert ConstantLatency(7).delay(123) == 7
    with pytest.raises(ConfigError, match="latency_ns must be >= 0"):
        ConstantLatency(-1)


def test_data_latency_uses_the_feed_difference_plus_a_clock_offset_and_never_goes_negative() -> None:
    recv = TS + np.array([5, -3, 100, 0, 1])
    assert DataLatency().delays(TS, ts_recv_ns=recv).tolist() == [5, 0, 100, 0, 1]
    assert DataLatency(offset_ns=10).delays(TS, ts_recv_ns=recv).tolist() == [15, 7, 110, 10, 11]
    with pytest.raises(ConfigError, match="needs the data's ts_recv"):
        DataLatency().delays(TS)


def test_empirical_latency_draws_only_observed_values_reproducibly() -> None:
    ev = empty_events(4)
    ev["ts_event"] = [0, 1, 2, 3]
    ev["ts_recv"] = [10, 21, 32, 43]
    a = EmpiricalLatency.from_events(ev, np.random.default_rng(1)).delays(np.zeros(1000, dtype=np.int64))
    b = EmpiricalLatency.from_events(ev, np.random.default_rng(1)).delays(np.zeros(1000, dtype=np.int64))
    assert set(a.tolist()) == {10, 20, 30, 40}
    assert np.array_equal(a, b)
    with pytest.raises(ConfigError, match="smallest is -5 ns"):
        EmpiricalLatency(np.array([1, -5]), np.random.default_rng(0))


def test_state_dependent_latency_rises_with_the_message_rate() -> None:
    m = StateDependentLatency(base_ns=100, per_event_ns=10, window_ns=50)
    # events in the trailing 50 ns window (inclusive of itself): 1, 2, 3, 1, 2
    assert m.delays(TS).tolist() == [110, 120, 130, 110, 120]
    capped = StateDependentLatency(base_ns=100, per_event_ns=10, window_ns=50, max_ns=115)
    assert capped.delays(TS).tolist() == [110, 115, 115, 110, 115]


def test_config_builds_each_model_and_rejects_unknown_names() -> None:
    assert isinstance(latency_from_config(LatencyConfig(model="constant", latency_ns=3)), ConstantLatency)
    assert isinstance(latency_from_config(LatencyConfig(model="data")), DataLatency)
    assert isinstance(latency_from_config(LatencyConfig(model="state_dependent")), StateDependentLatency)
    with pytest.raises(ConfigError, match="needs the session's events"):
        latency_from_config(LatencyConfig(model="empirical"))
    with pytest.raises(ConfigError, match="model"):
        LatencyConfig.from_dict({"model": "telepathic"})
