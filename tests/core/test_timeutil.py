from __future__ import annotations

import datetime as dt

from execsim.core.timeutil import format_ns, local_midnight_utc_ns, local_seconds_to_utc_ns


def test_new_york_summer_midnight_is_four_hours_behind_utc() -> None:
    ns = local_midnight_utc_ns(dt.date(2012, 6, 21), "America/New_York")
    assert format_ns(ns) == "2012-06-21T04:00:00.000000000Z"


def test_new_york_winter_midnight_is_five_hours_behind_utc() -> None:
    ns = local_midnight_utc_ns(dt.date(2012, 12, 21), "America/New_York")
    assert format_ns(ns) == "2012-12-21T05:00:00.000000000Z"


def test_seconds_after_midnight_convert_exactly_to_the_nanosecond() -> None:
    ns = local_seconds_to_utc_ns("34200.015105074", dt.date(2012, 6, 21), "America/New_York")
    assert format_ns(ns) == "2012-06-21T13:30:00.015105074Z"
    # a float would lose the last digits; the decimal path must not
    assert ns % 1_000 == 74
