from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from execsim.core.config import FrozenConfig, canonical_json
from execsim.core.errors import ConfigError, DataNotFoundError


class RunConfig(FrozenConfig):
    seed: int = 1
    symbol: str = "GOOG"
    levels: list[int] = [1, 2]


def test_equal_configs_have_equal_ids_and_different_configs_different_ids() -> None:
    assert RunConfig().config_id == RunConfig(seed=1, symbol="GOOG").config_id
    assert RunConfig().config_id != RunConfig(seed=2).config_id
    assert len(RunConfig().config_id) == 64


def test_config_id_depends_on_the_class() -> None:
    class Other(FrozenConfig):
        seed: int = 1
        symbol: str = "GOOG"
        levels: list[int] = [1, 2]

    assert Other().config_id != RunConfig().config_id


def test_config_is_frozen() -> None:
    cfg = RunConfig()
    with pytest.raises(ValidationError):
        cfg.seed = 3  # type: ignore[misc]


def test_unknown_key_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="unknown key 'sede'"):
        RunConfig.from_dict({"sede": 3})


def test_mistyped_value_is_an_error_naming_the_key_and_value() -> None:
    with pytest.raises(ConfigError, match=r"seed: .*got 'abc'"):
        RunConfig.from_dict({"seed": "abc"})


def test_from_yaml_reads_a_file_and_names_it_in_errors(tmp_path: Path) -> None:
    good = tmp_path / "run.yaml"
    good.write_text("seed: 5\nsymbol: BTC\n")
    assert RunConfig.from_yaml(good) == RunConfig(seed=5, symbol="BTC")
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML"):
        RunConfig.from_yaml(bad)
    notmap = tmp_path / "list.yaml"
    notmap.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        RunConfig.from_yaml(notmap)
    with pytest.raises(DataNotFoundError, match=r"missing\.yaml"):
        RunConfig.from_yaml(tmp_path / "missing.yaml")


def test_canonical_json_sorts_keys_and_has_no_spaces() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'
