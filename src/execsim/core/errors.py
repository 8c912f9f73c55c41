"""The one exception tree of execsim.

Every error execsim raises derives from :class:`ExecsimError`, and each subclass also
inherits the builtin exception a caller would naturally catch, so ``except ValueError``
keeps working::

    ExecsimError (Exception)
    ├── ConfigError (ValueError)            a config is malformed, mistyped or has unknown keys
    ├── DataError (ValueError)              input data is corrupt or inconsistent
    │   ├── ParseError                      a row cannot be parsed (bad field count, NaN, unknown enum)
    │   ├── TimeOrderError                  time goes backwards
    │   ├── CrossedBookError                a snapshot or rebuilt book is crossed
    │   └── SequenceGapError                an update id / sequence number is missing
    ├── DataNotFoundError (FileNotFoundError)  a file, dataset or catalog entry does not exist
    ├── BookError (RuntimeError)            an order book operation is impossible (unknown order, full)
    ├── InstrumentError (ValueError)        a price or quantity is not representable on an instrument
    └── OptionalDependencyError (ImportError)  an optional extra is needed but not installed

Business outcomes (a rejected order, a risk denial, an expiry, a kill switch) are events, never
exceptions.

Messages name what was received and where: the file, the row (1-based, as an editor shows it)
and the offending value. :class:`DataError` carries those as attributes too.
"""

from __future__ import annotations

__all__ = [
    "BookError",
    "ConfigError",
    "CrossedBookError",
    "DataError",
    "DataNotFoundError",
    "ExecsimError",
    "InstrumentError",
    "OptionalDependencyError",
    "ParseError",
    "SequenceGapError",
    "TimeOrderError",
]


class ExecsimError(Exception):
    """Base class of every error raised by execsim."""


class ConfigError(ExecsimError, ValueError):
    """A configuration is malformed, mistyped, or has unknown keys."""


class DataError(ExecsimError, ValueError):
    """Input data is corrupt or inconsistent.

    Parameters
    ----------
    message
        What is wrong, in words.
    source
        The file (or stream name) the data came from.
    row
        The 1-based row (line) number in ``source``, when known.
    value
        The offending value, when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        value: object = None,
    ) -> None:
        self.message = message
        self.source = source
        self.row = row
        self.value = value
        where = []
        if source is not None:
            where.append(str(source))
        if row is not None:
            where.append(f"row {row}")
        prefix = ", ".join(where)
        text = f"{prefix}: {message}" if prefix else message
        if value is not None:
            text += f" (got {value!r})"
        super().__init__(text)


class ParseError(DataError):
    """A row cannot be parsed: wrong field count, NaN, an unknown enum value."""


class TimeOrderError(DataError):
    """Timestamps go backwards."""


class CrossedBookError(DataError):
    """A snapshot or a rebuilt book has best bid >= best ask."""


class SequenceGapError(DataError):
    """An update id or sequence number is missing from a stream."""


class DataNotFoundError(ExecsimError, FileNotFoundError):
    """A file, dataset or catalog entry does not exist."""


class BookError(ExecsimError, RuntimeError):
    """An order-book operation is impossible (unknown order id, capacity exhausted)."""


class InstrumentError(ExecsimError, ValueError):
    """A price or quantity is not representable on an instrument's tick or lot grid."""


class OptionalDependencyError(ExecsimError, ImportError):
    """An optional dependency (an extra) is required but not installed."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package {package!r}; "
            f"install it with: pip install 'execsim[{extra}]'"
        )
