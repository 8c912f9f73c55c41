"""Instruments: the bridge between decimal prices at the edges and integer ticks and lots inside."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from execsim.core.errors import InstrumentError

__all__ = ["Instrument"]


def _dec(value: str | int | float | Decimal, what: str) -> Decimal:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InstrumentError(f"{what} is not a number: {value!r}") from None
    if not d.is_finite():
        raise InstrumentError(f"{what} is not finite: {value!r}")
    return d


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """A tradable instrument on one venue.

    Prices inside books and matching are integer multiples of ``tick_size`` (ticks), and
    quantities integer multiples of ``lot_size`` (lots). Conversions are exact: a value off the
    grid raises :class:`InstrumentError` rather than being rounded silently, unless a rounding
    direction is asked for explicitly.

    Parameters
    ----------
    symbol
        Venue symbol, e.g. ``"GOOG"`` or ``"BTCUSDT"``.
    venue
        Venue name, e.g. ``"NASDAQ"`` or ``"BINANCE_SPOT"``.
    tick_size
        Price increment, as a decimal string (``"0.01"``).
    lot_size
        Quantity increment (``"1"`` for shares, ``"0.000001"`` for BTC on Binance spot).
    currency
        Quote currency.
    timezone
        The venue's local time zone (IANA name), used where data carries local times.

    Examples
    --------
    >>> goog = Instrument(symbol="GOOG", venue="NASDAQ", tick_size="0.01", lot_size="1")
    >>> goog.price_to_ticks("585.33")
    58533
    >>> goog.ticks_to_price(58533)
    Decimal('585.33')
    """

    symbol: str
    venue: str
    tick_size: Decimal
    lot_size: Decimal
    currency: str = "USD"
    timezone: str = "UTC"

    def __init__(
        self,
        *,
        symbol: str,
        venue: str,
        tick_size: str | int | float | Decimal,
        lot_size: str | int | float | Decimal = "1",
        currency: str = "USD",
        timezone: str = "UTC",
    ) -> None:
        if not symbol or not isinstance(symbol, str):
            raise InstrumentError(f"symbol must be a non-empty string, got {symbol!r}")
        if not venue or not isinstance(venue, str):
            raise InstrumentError(f"venue must be a non-empty string, got {venue!r}")
        tick = _dec(tick_size, "tick_size")
        lot = _dec(lot_size, "lot_size")
        if tick <= 0:
            raise InstrumentError(f"tick_size must be positive, got {tick_size!r}")
        if lot <= 0:
            raise InstrumentError(f"lot_size must be positive, got {lot_size!r}")
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "venue", venue)
        object.__setattr__(self, "tick_size", tick)
        object.__setattr__(self, "lot_size", lot)
        object.__setattr__(self, "currency", currency)
        object.__setattr__(self, "timezone", timezone)

    # -- prices ---------------------------------------------------------------------------
    def price_to_ticks(self, price: str | int | float | Decimal, rounding: str | None = None) -> int:
        """Convert a decimal price to integer ticks.

        Parameters
        ----------
        price
            The price. Floats are converted through their shortest ``repr``.
        rounding
            ``None`` (default) requires the price to lie on the tick grid; ``"down"``, ``"up"``
            or ``"nearest"`` round explicitly.
        """
        return self._to_units(_dec(price, "price"), self.tick_size, "price", "tick_size", rounding)

    def ticks_to_price(self, ticks: int) -> Decimal:
        """Convert integer ticks to a decimal price."""
        return self.tick_size * int(ticks)

    def qty_to_lots(self, qty: str | int | float | Decimal, rounding: str | None = None) -> int:
        """Convert a decimal quantity to integer lots (exactly, unless ``rounding`` is given)."""
        return self._to_units(_dec(qty, "quantity"), self.lot_size, "quantity", "lot_size", rounding)

    def lots_to_qty(self, lots: int) -> Decimal:
        """Convert integer lots to a decimal quantity."""
        return self.lot_size * int(lots)

    @staticmethod
    def _to_units(value: Decimal, unit: Decimal, what: str, unit_name: str, rounding: str | None) -> int:
        q = value / unit
        if rounding is None:
            if q != q.to_integral_value():
                raise InstrumentError(
                    f"{what} {value} is not a multiple of {unit_name} {unit}; "
                    "pass rounding='down'|'up'|'nearest' to round explicitly"
                )
            return int(q)
        modes = {"down": "ROUND_FLOOR", "up": "ROUND_CEILING", "nearest": "ROUND_HALF_EVEN"}
        if rounding not in modes:
            raise InstrumentError(f"rounding must be one of {sorted(modes)}, got {rounding!r}")
        return int(q.to_integral_value(rounding=modes[rounding]))

    # -- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, str]:
        """Return a JSON-ready dict (decimals as strings)."""
        return {
            "symbol": self.symbol,
            "venue": self.venue,
            "tick_size": str(self.tick_size),
            "lot_size": str(self.lot_size),
            "currency": self.currency,
            "timezone": self.timezone,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Instrument:
        """Rebuild an instrument from :meth:`to_dict` output."""
        known = {"symbol", "venue", "tick_size", "lot_size", "currency", "timezone"}
        unknown = set(data) - known
        if unknown:
            raise InstrumentError(f"unknown instrument field(s): {sorted(unknown)}")
        return cls(**data)
