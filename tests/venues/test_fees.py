from __future__ import annotations

import numpy as np
import pytest

from execsim.model import Instrument, LiquiditySide
from execsim.venues.fees import FeeConfig, MakerTakerFees, NoFees

GOOG = Instrument(symbol="GOOG", venue="NASDAQ", tick_size="0.01", lot_size="1")


def test_per_share_taker_fee_and_maker_rebate_by_hand() -> None:
    fees = MakerTakerFees(maker_per_unit=-0.002, taker_per_unit=0.003)
    # 100 shares at $585.33: taker pays 0.30, maker earns 0.20
    out = fees.fee(GOOG, np.array([58533, 58533]), np.array([100, 100]), np.array([False, True]))
    assert out.tolist() == pytest.approx([0.30, -0.20])


def test_bps_fee_on_notional_by_hand() -> None:
    btc = Instrument(symbol="BTCUSDT", venue="BINANCE", tick_size="0.01", lot_size="0.000001")
    fees = MakerTakerFees(maker_bps=1.0, taker_bps=4.0)
    # 0.5 BTC at 60,000 = 30,000 USDT notional: taker 4 bps = 12, maker 1 bp = 3
    assert fees.fee_one(btc, 6_000_000, 500_000, LiquiditySide.TAKER) == pytest.approx(12.0)
    assert fees.fee_one(btc, 6_000_000, 500_000, LiquiditySide.MAKER) == pytest.approx(3.0)


def test_fee_config_builds_no_fees_when_all_zero() -> None:
    assert isinstance(FeeConfig().build(), NoFees)
    assert NoFees().fee(GOOG, np.array([1]), np.array([1]), np.array([True])).tolist() == [0.0]
    assert isinstance(FeeConfig(taker_bps=0.5).build(), MakerTakerFees)
