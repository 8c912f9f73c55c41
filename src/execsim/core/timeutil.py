"""Time: ``int`` nanoseconds since the Unix epoch, UTC, everywhere inside execsim."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

__all__ = [
    "NS_PER_MS",
    "NS_PER_S",
    "NS_PER_US",
    "format_ns",
    "local_midnight_utc_ns",
    "local_seconds_to_utc_ns",
]

NS_PER_US = 1_000
NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


def local_midnight_utc_ns(date: dt.date, tz: str) -> int:
    """Return local midnight of ``date`` in time zone ``tz`` as UTC nanoseconds."""
    midnight = dt.datetime(date.year, date.month, date.day, tzinfo=ZoneInfo(tz))
    return int(midnight.timestamp()) * NS_PER_S


def local_seconds_to_utc_ns(seconds_after_midnight: str | Decimal, date: dt.date, tz: str) -> int:
    """Convert seconds after local midnight (a decimal string) to UTC nanoseconds exactly.

    The conversion uses the UTC offset in force at local midnight; exchanges do not trade
    across a daylight-saving switch (which happens at 02:00 local).
    """
    secs = Decimal(seconds_after_midnight)
    return local_midnight_utc_ns(date, tz) + int(secs * NS_PER_S)


def format_ns(ts_ns: int) -> str:
    """Format UTC nanoseconds as ISO-8601 with nanoseconds, e.g. ``2012-06-21T13:30:00.015105074Z``."""
    secs, frac = divmod(int(ts_ns), NS_PER_S)
    base = dt.datetime.fromtimestamp(secs, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"
