"""ImpactConfig: choosing the impact model by name and parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from execsim.core.errors import ConfigError
from execsim.impact import (
    AlmgrenChrissImpact,
    ImpactConfig,
    NoImpact,
    PropagatorImpact,
    SquareRootImpact,
    simulate_propagator_tape,
)


def test_the_default_is_pure_replay() -> None:
    cfg = ImpactConfig()
    assert cfg.model == "none"
    assert cfg.params == {}
    assert isinstance(cfg.build(), NoImpact)


def test_build_passes_the_parameters_unchanged() -> None:
    cfg = ImpactConfig(
        model="square_root", params={"Y": 0.8, "sigma_ticks_per_sqrt_day": 550, "daily_volume_lots": 7e5}
    )
    m = cfg.build()
    assert isinstance(m, SquareRootImpact)
    assert (m.Y, m.sigma_ticks_per_sqrt_day, m.daily_volume_lots, m.delta) == (0.8, 550, 7e5, 0.5)
    assert m is not cfg.build()  # a new model each time


def test_unknown_model_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"model.*'linear'"):
        ImpactConfig(model="linear")
    with pytest.raises(ConfigError, match="'linear'"):
        ImpactConfig.from_dict({"model": "linear"})


def test_unknown_parameter_is_a_config_error_naming_it_and_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"no parameter\(s\) 'gamma'.*valid: fixed_cost, permanent"):
        ImpactConfig(model="almgren_chriss", params={"gamma": 0.1})
    with pytest.raises(ConfigError, match="'sigma'"):
        ImpactConfig.from_dict({"model": "square_root", "params": {"sigma": 1.0}})


def test_invalid_parameter_value_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="parameter 'permanent_fraction'"):
        ImpactConfig(model="square_root", params={"permanent_fraction": 1.5})
    with pytest.raises(ConfigError, match="parameter 'kernel'"):
        ImpactConfig(model="propagator", params={"kernel": "gauss"})


def test_unknown_top_level_key_is_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown key 'modle'"):
        ImpactConfig.from_dict({"modle": "none"})


def test_from_yaml(tmp_path: Path) -> None:
    p = tmp_path / "impact.yaml"
    p.write_text("model: propagator\nparams:\n  G0: 2.5\n  tau_s: 30\n  kernel: exponential\n")
    m = ImpactConfig.from_yaml(p).build()
    assert isinstance(m, PropagatorImpact)
    assert (m.G0, m.tau_s, m.kernel) == (2.5, 30, "exponential")


def test_config_id_depends_on_the_parameters_only() -> None:
    a = ImpactConfig(model="almgren_chriss", params={"permanent": 0.1, "temporary": 0.0})
    b = ImpactConfig(model="almgren_chriss", params={"temporary": 0.0, "permanent": 0.1})
    c = ImpactConfig(model="almgren_chriss", params={"permanent": 0.2, "temporary": 0.0})
    assert a.config_id == b.config_id != c.config_id


def test_from_model_freezes_fitted_values_into_parameters() -> None:
    tape = simulate_propagator_tape(
        2_000, G0=30.0, ell0=5.0, kernel="exponential", noise_ticks=5.0, seed=3, tick_size=0.0001
    )
    model = PropagatorImpact(kernel="exponential").fit(tape)
    cfg = ImpactConfig.from_model(model)
    assert cfg.model == "propagator"
    assert cfg.params["G0"] == model.G0_
    assert cfg.params["tau_s"] == model.tau_s_
    assert cfg.params["tick_size"] == 0.0001
    rebuilt = cfg.build()
    a = model.start(tick_size_price=0.01, rng=None)
    b = rebuilt.start(tick_size_price=0.01, rng=None)
    for st in (a, b):
        st.on_fill(10, 1, 100, 1)
    assert a.impact_ticks(5_000_000_000) == b.impact_ticks(5_000_000_000) != 0.0


def test_from_model_accepts_a_model_with_given_parameters() -> None:
    cfg = ImpactConfig.from_model(AlmgrenChrissImpact(permanent=0.5, temporary=0.1))
    assert cfg.params == {"permanent": 0.5, "temporary": 0.1, "fixed_cost": 0.0, "tick_size": None}
