from __future__ import annotations

import pytest

from execsim.core import errors as err_mod


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (err_mod.ConfigError, ValueError),
        (err_mod.DataError, ValueError),
        (err_mod.ParseError, ValueError),
        (err_mod.TimeOrderError, ValueError),
        (err_mod.CrossedBookError, ValueError),
        (err_mod.SequenceGapError, ValueError),
        (err_mod.DataNotFoundError, FileNotFoundError),
        (err_mod.BookError, RuntimeError),
        (err_mod.InstrumentError, ValueError),
    ],
)
def test_each_error_is_an_execsim_error_and_its_builtin(cls: type, builtin: type) -> None:
    assert issubclass(cls, err_mod.ExecsimError)
    assert issubclass(cls, builtin)


def test_data_error_message_names_file_row_and_value() -> None:
    err = err_mod.TimeOrderError("time goes backwards", source="day.csv", row=12, value=-5)
    assert str(err) == "day.csv, row 12: time goes backwards (got -5)"
    assert (err.source, err.row, err.value) == ("day.csv", 12, -5)


def test_data_error_without_location_is_just_the_message() -> None:
    assert str(err_mod.DataError("empty file")) == "empty file"


def test_optional_dependency_error_says_how_to_install() -> None:
    err = err_mod.OptionalDependencyError("torch", "rl", "training a policy")
    assert isinstance(err, ImportError)
    assert "pip install 'execsim[rl]'" in str(err)
