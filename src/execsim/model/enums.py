"""Domain enums. Always :class:`enum.StrEnum` in the Python API.

Compiled kernels use small integer codes internally; the mapping between the two lives here
and in :mod:`execsim.data.schema` (one place each), never scattered through the code.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "EventKind",
    "LiquiditySide",
    "OrderStatus",
    "OrderType",
    "Side",
    "TimeInForce",
    "TradingStatus",
]


class Side(StrEnum):
    """Side of an order. Kernel code: ``BUY = 1``, ``SELL = -1``, ``NONE = 0`` (unknown)."""

    BUY = "buy"
    SELL = "sell"
    NONE = "none"

    @property
    def code(self) -> int:
        """The integer code used in canonical records and kernels."""
        return _SIDE_CODE[self]

    @classmethod
    def from_code(cls, code: int) -> Side:
        """Return the side of a kernel code (1, -1 or 0)."""
        try:
            return _CODE_SIDE[int(code)]
        except KeyError:
            raise ValueError(f"unknown side code {code!r}; expected 1, -1 or 0") from None

    @property
    def opposite(self) -> Side:
        """The contra side (``NONE`` stays ``NONE``)."""
        return {Side.BUY: Side.SELL, Side.SELL: Side.BUY}.get(self, Side.NONE)


_SIDE_CODE = {Side.BUY: 1, Side.SELL: -1, Side.NONE: 0}
_CODE_SIDE = {v: k for k, v in _SIDE_CODE.items()}


class EventKind(StrEnum):
    """Kind of a canonical market event; see :mod:`execsim.data.schema` for each one's fields."""

    ADD = "add"
    CANCEL = "cancel"
    DELETE = "delete"
    EXECUTE = "execute"
    TRADE = "trade"
    SET_LEVEL = "set_level"
    CLEAR = "clear"
    HALT = "halt"

    @property
    def code(self) -> int:
        """The integer code stored in the ``kind`` column."""
        return _KIND_CODE[self]

    @classmethod
    def from_code(cls, code: int) -> EventKind:
        """Return the kind of a ``kind`` column code."""
        try:
            return _CODE_KIND[int(code)]
        except KeyError:
            raise ValueError(f"unknown event kind code {code!r}; expected 1..8") from None


_KIND_CODE = {
    EventKind.ADD: 1,
    EventKind.CANCEL: 2,
    EventKind.DELETE: 3,
    EventKind.EXECUTE: 4,
    EventKind.TRADE: 5,
    EventKind.SET_LEVEL: 6,
    EventKind.CLEAR: 7,
    EventKind.HALT: 8,
}
_CODE_KIND = {v: k for k, v in _KIND_CODE.items()}


class TradingStatus(StrEnum):
    """Trading status carried by ``HALT`` events (in their ``qty`` field, as the code)."""

    HALTED = "halted"
    QUOTING = "quoting"
    TRADING = "trading"

    @property
    def code(self) -> int:
        """The integer code stored in a HALT event's ``qty``."""
        return {TradingStatus.HALTED: 0, TradingStatus.QUOTING: 1, TradingStatus.TRADING: 2}[self]


class OrderType(StrEnum):
    """Order types of the matching engine."""

    LIMIT = "limit"
    MARKET = "market"
    MIDPOINT_PEG = "midpoint_peg"


class TimeInForce(StrEnum):
    """How long an order may rest: GTC rests, IOC/FOK never rest (FOK fills fully or not at all)."""

    GTC = "gtc"
    DAY = "day"
    IOC = "ioc"
    FOK = "fok"


class OrderStatus(StrEnum):
    """Lifecycle states of an order."""

    INITIALIZED = "initialized"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class LiquiditySide(StrEnum):
    """Whether a fill added liquidity (maker) or removed it (taker)."""

    MAKER = "maker"
    TAKER = "taker"
    NONE = "none"
