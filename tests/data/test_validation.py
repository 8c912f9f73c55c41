"""Shared vectorised checks of canonical event batches."""

from __future__ import annotations

import numpy as np
import pytest

from execsim.core.errors import ParseError, TimeOrderError
from execsim.data.schema import (
    K_ADD,
    K_CANCEL,
    K_CLEAR,
    K_DELETE,
    K_EXECUTE,
    K_HALT,
    K_SET_LEVEL,
    K_TRADE,
    empty_events,
)
from execsim.data.validation import EventValidator, validate_events


def good(n: int = 8) -> np.ndarray:
    ev = empty_events(n)
    ev["ts_event"] = np.arange(n) * 10
    ev["seq"] = np.arange(n)
    kinds = [K_ADD, K_CANCEL, K_DELETE, K_EXECUTE, K_TRADE, K_SET_LEVEL, K_CLEAR, K_HALT]
    ev["kind"] = [kinds[i % len(kinds)] for i in range(n)]
    ev["side"] = [1, -1, 1, -1, 0, 1, 0, 0][:n] if n <= 8 else 1
    ev["qty"] = [5, 1, 0, 2, 3, 0, 0, 2][:n] if n <= 8 else 1
    return ev


def test_a_valid_batch_of_every_kind_passes() -> None:
    validate_events(good(), source="x")


@pytest.mark.parametrize(
    ("field", "index", "value", "error", "pattern"),
    [
        ("kind", 3, 0, ParseError, "unknown event kind"),
        ("kind", 3, 9, ParseError, "unknown event kind"),
        ("side", 2, 2, ParseError, "side must be"),
        ("side", 0, 0, ParseError, "ADD needs side"),
        ("side", 5, 0, ParseError, "SET_LEVEL needs side"),
        ("qty", 2, -1, ParseError, "negative quantity"),
        ("qty", 0, 0, ParseError, "ADD needs qty > 0"),
        ("qty", 4, 0, ParseError, "TRADE needs qty > 0"),
        ("qty", 7, 3, ParseError, "HALT qty"),
        ("ts_event", 4, 5, TimeOrderError, "ts_event goes backwards"),
        ("seq", 6, 5, TimeOrderError, "seq does not increase"),
    ],
)
def test_first_bad_record_is_reported_with_its_row_and_value(
    field: str, index: int, value: int, error: type[Exception], pattern: str
) -> None:
    ev = good()
    ev[field][index] = value
    with pytest.raises(error, match=pattern) as info:
        validate_events(ev, source="feed.csv", row_offset=100)
    assert info.value.row == 100 + index + 1  # type: ignore[attr-defined]
    assert info.value.value == value  # type: ignore[attr-defined]
    assert "feed.csv, row" in str(info.value)


def test_equal_timestamps_are_fine_but_equal_seq_is_not() -> None:
    ev = good()
    ev["ts_event"][1] = ev["ts_event"][0]
    validate_events(ev, source="x")
    ev["seq"][1] = ev["seq"][0]
    with pytest.raises(TimeOrderError):
        validate_events(ev, source="x")


def test_validator_carries_time_and_seq_across_batches() -> None:
    check = EventValidator("stream")
    first = good()
    check(first)
    second = good()
    second["seq"] += 8
    second["ts_event"] += 70  # last of the first batch is 70: equal time is allowed
    check(second)
    assert check.rows == 16
    third = good()
    third["seq"] += 16
    third["ts_event"] += 69  # goes back in time by 1 ns at its first record
    with pytest.raises(TimeOrderError, match="row 17") as info:
        check(third)
    assert info.value.value == 69  # type: ignore[attr-defined]


def test_wrong_dtype_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        validate_events(np.zeros(3), source="x")


def test_empty_batch_passes() -> None:
    validate_events(empty_events(0), source="x", prev_ts_event=5, prev_seq=5)
