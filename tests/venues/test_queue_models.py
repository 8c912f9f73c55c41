"""Queue-position models: each rule checked against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

from execsim.core.errors import ConfigError
from execsim.venues.queue_models import (
    ProbQueue,
    QueueModelConfig,
    RiskAverseQueue,
    queue_model_from_config,
)


def test_risk_averse_advances_only_on_trades_and_clamps_to_the_level() -> None:
    m = RiskAverseQueue()
    qa = 100.0  # joined the back of a 100-lot level
    qa, reach = m.on_trade(qa, 30)  # 30 lots trade at our price
    assert (qa, reach) == (70.0, 0)
    qa = m.on_level_change(qa, 100, 70, traded=30)  # the update that reflects the trade
    assert qa == 70.0
    qa = m.on_level_change(qa, 70, 60)  # 10 cancelled: assumed behind us, but 60 < 70 ahead
    assert qa == 60.0
    qa = m.on_level_change(qa, 60, 90)  # 30 join behind us
    assert qa == 60.0
    qa = m.on_level_change(qa, 90, 75)  # 15 cancelled: behind us (75 >= 60)
    assert qa == 60.0
    qa = m.on_level_change(qa, 75, 50)  # the level is now smaller than our queue: clamp
    assert qa == 50.0
    qa, reach = m.on_trade(qa, 55)  # 55 lots: 50 ahead of us, 5 reach us
    assert (qa, reach) == (0.0, 5)


def test_risk_averse_level_removed_puts_us_at_the_front() -> None:
    assert RiskAverseQueue().on_level_change(40.0, 50, 0) == 0.0


def test_power_ratio_splits_a_cancel_by_squares_of_front_and_back() -> None:
    m = ProbQueue("power", 2.0)
    # front 30, back 70 (level 100): p_behind = 70² / (30² + 70²) = 4900 / 5800
    p = 4900 / 5800
    assert m.prob_behind(30, 70) == pytest.approx(p)
    qa = m.on_level_change(30.0, 100, 90)  # 10 lots cancelled
    assert qa == pytest.approx(30 - (1 - p) * 10)  # 28.448...
    assert qa == pytest.approx(28.448275862)


def test_power_one_spreads_cancels_uniformly() -> None:
    m = ProbQueue("power", 1.0)
    # 40 ahead of 100: a uniformly random cancel is ahead of us with probability 0.4
    assert m.on_level_change(40.0, 100, 90) == pytest.approx(36.0)


def test_log_ratio_uses_log1p() -> None:
    m = ProbQueue("log")
    p = math.log(71) / (math.log(31) + math.log(71))
    assert m.prob_behind(30, 70) == pytest.approx(p)
    assert m.on_level_change(30.0, 100, 90) == pytest.approx(30 - (1 - p) * 10)
    assert m.on_level_change(30.0, 100, 90) == pytest.approx(25.5383, abs=1e-4)


def test_ratio_total_and_share_forms() -> None:
    # f(back) / f(front + back) with f(x) = x: 70 / 100
    assert ProbQueue("power", 1.0, "ratio_total").prob_behind(30, 70) == pytest.approx(0.7)
    assert ProbQueue("power", 1.0, "ratio_total").on_level_change(30.0, 100, 90) == pytest.approx(27.0)
    # 1 - f(front / (front + back)) with f(x) = x²: 1 - 0.09
    assert ProbQueue("power", 2.0, "share").prob_behind(30, 70) == pytest.approx(0.91)
    assert ProbQueue("power", 2.0, "share").on_level_change(30.0, 100, 90) == pytest.approx(29.1)
    # log with ratio_total: log(71) / log(101)
    assert ProbQueue("log", form="ratio_total").prob_behind(30, 70) == pytest.approx(
        math.log(71) / math.log(101)
    )


def test_a_cancel_larger_than_what_is_behind_us_takes_the_rest_from_ahead() -> None:
    m = ProbQueue("power", 2.0)
    # front 2, back 10, level 12 -> 1: p = 100/104; behind share 11·p = 10.577 > 10 lots behind,
    # so ahead loses (1 - p)·11 + 0.577 = 1 lot exactly
    assert m.on_level_change(2.0, 12, 1) == pytest.approx(1.0)


def test_trades_explain_part_of_a_decrease() -> None:
    m = ProbQueue("power", 1.0)
    qa, _ = m.on_trade(50.0, 20)  # 30 ahead now
    # level 100 -> 70: all 30 explained by the 20 traded? no: 20 traded, 10 cancelled.
    # front 30, back = 100 - 20 - 30 = 50: the 10 cancelled split 30/80 ahead
    assert m.on_level_change(qa, 100, 70, traded=20) == pytest.approx(30 - 10 * 30 / 80)
    # a decrease fully explained by trades moves nothing
    assert m.on_level_change(qa, 100, 80, traded=20) == pytest.approx(30.0)
    # an increase never moves us, even after trades
    assert m.on_level_change(qa, 100, 120, traded=20) == pytest.approx(30.0)


def test_empty_queue_edge_cases_do_not_produce_nan() -> None:
    m = ProbQueue("power", 3.0)
    assert m.prob_behind(0, 0) == 1.0
    assert m.on_level_change(0.0, 5, 2) == 0.0
    assert ProbQueue("power", 2.0, "share").prob_behind(0, 0) == 1.0


def test_config_builds_each_model_and_rejects_unknown_keys() -> None:
    assert isinstance(queue_model_from_config(QueueModelConfig()), RiskAverseQueue)
    m = queue_model_from_config(QueueModelConfig(model="prob_power", n=3, form="share"))
    assert isinstance(m, ProbQueue)
    assert (m.func, m.n, m.form) == ("power", 3.0, "share")
    m = queue_model_from_config(QueueModelConfig.from_dict({"model": "prob_log"}))
    assert isinstance(m, ProbQueue)
    assert m.func == "log"
    with pytest.raises(ConfigError, match="unknown key 'power'"):
        QueueModelConfig.from_dict({"model": "prob_power", "power": 2})
    with pytest.raises(ConfigError, match="model"):
        QueueModelConfig.from_dict({"model": "magic"})
    with pytest.raises(ConfigError):
        QueueModelConfig.from_dict({"model": "prob_log", "form": "share"})
    with pytest.raises(ConfigError):
        QueueModelConfig.from_dict({"model": "prob_power", "n": 0})


def test_bad_parameters_are_rejected_with_a_message() -> None:
    with pytest.raises(ConfigError, match="power n"):
        ProbQueue("power", -1.0)
    with pytest.raises(ConfigError, match="func"):
        ProbQueue("exp")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="share"):
        ProbQueue("log", form="share")
    with pytest.raises(ValueError, match=">= 0"):
        RiskAverseQueue().on_level_change(1.0, -1, 0)
