"""Fee models: what a fill costs (positive) or earns (negative, a rebate).

Fees are accounting, not matching, so they are computed in the quote currency as floats from
integer ticks and lots through the instrument. A model has one method, :meth:`FeeModel.fee`,
vectorised over fills.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from pydantic import Field

from execsim.core.config import FrozenConfig
from execsim.model.enums import LiquiditySide
from execsim.model.instrument import Instrument

__all__ = ["FeeConfig", "FeeModel", "MakerTakerFees", "NoFees"]


class FeeModel(ABC):
    """Fees of fills in the quote currency."""

    @abstractmethod
    def fee(
        self, instrument: Instrument, price_ticks: np.ndarray, qty_lots: np.ndarray, is_maker: np.ndarray
    ) -> np.ndarray:
        """Return the fee of each fill (float64, quote currency; negative = rebate)."""


class NoFees(FeeModel):
    """Every fill is free."""

    def fee(
        self, instrument: Instrument, price_ticks: np.ndarray, qty_lots: np.ndarray, is_maker: np.ndarray
    ) -> np.ndarray:
        return np.zeros(len(price_ticks), dtype=np.float64)

    def __repr__(self) -> str:
        return "NoFees()"


class MakerTakerFees(FeeModel):
    """Maker/taker fees per unit of quantity and in basis points of notional.

    ``fee = qty × per_unit + notional × bps / 10,000`` with the maker or taker rates by the
    fill's liquidity side. Negative maker rates are rebates (e.g. ``maker_per_unit=-0.002``
    for a $0.002/share rebate). ``qty`` is in instrument units (shares, BTC), not lots.
    """

    def __init__(
        self,
        *,
        maker_bps: float = 0.0,
        taker_bps: float = 0.0,
        maker_per_unit: float = 0.0,
        taker_per_unit: float = 0.0,
    ) -> None:
        self.maker_bps, self.taker_bps = float(maker_bps), float(taker_bps)
        self.maker_per_unit, self.taker_per_unit = float(maker_per_unit), float(taker_per_unit)

    def fee(
        self, instrument: Instrument, price_ticks: np.ndarray, qty_lots: np.ndarray, is_maker: np.ndarray
    ) -> np.ndarray:
        qty = np.asarray(qty_lots, dtype=np.float64) * float(instrument.lot_size)
        notional = qty * np.asarray(price_ticks, dtype=np.float64) * float(instrument.tick_size)
        maker = np.asarray(is_maker, dtype=bool)
        bps = np.where(maker, self.maker_bps, self.taker_bps)
        per_unit = np.where(maker, self.maker_per_unit, self.taker_per_unit)
        return qty * per_unit + notional * bps / 10_000.0

    def fee_one(
        self, instrument: Instrument, price_ticks: int, qty_lots: int, liquidity: LiquiditySide
    ) -> float:
        """The fee of one fill."""
        return float(
            self.fee(
                instrument, np.array([price_ticks]), np.array([qty_lots]), np.array([liquidity == "maker"])
            )[0]
        )

    def __repr__(self) -> str:
        return (
            f"MakerTakerFees(maker_bps={self.maker_bps}, taker_bps={self.taker_bps}, "
            f"maker_per_unit={self.maker_per_unit}, taker_per_unit={self.taker_per_unit})"
        )


class FeeConfig(FrozenConfig):
    """Fee schedule of one venue (all zero: no fees)."""

    maker_bps: float = Field(default=0.0, description="maker fee in bps of notional (negative: rebate)")
    taker_bps: float = Field(default=0.0, description="taker fee in bps of notional")
    maker_per_unit: float = Field(default=0.0, description="maker fee per share/unit (negative: rebate)")
    taker_per_unit: float = Field(default=0.0, description="taker fee per share/unit")

    def build(self) -> FeeModel:
        """The fee model this config describes."""
        if not any((self.maker_bps, self.taker_bps, self.maker_per_unit, self.taker_per_unit)):
            return NoFees()
        return MakerTakerFees(**self.model_dump())
