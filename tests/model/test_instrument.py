from __future__ import annotations

from decimal import Decimal

import pytest

from execsim.core.errors import InstrumentError
from execsim.model import Instrument


@pytest.fixture
def btc() -> Instrument:
    return Instrument(symbol="BTCUSDT", venue="BINANCE", tick_size="0.01", lot_size="0.000001")


def test_prices_round_trip_through_ticks_exactly(btc: Instrument) -> None:
    assert btc.price_to_ticks("61837.63000000") == 6_183_763
    assert btc.ticks_to_price(6_183_763) == Decimal("61837.63")
    assert btc.qty_to_lots("3.78826000") == 3_788_260
    assert btc.lots_to_qty(3_788_260) == Decimal("3.78826")


def test_off_grid_price_raises_unless_rounding_is_explicit(btc: Instrument) -> None:
    with pytest.raises(InstrumentError, match=r"61837\.635 is not a multiple of tick_size 0\.01"):
        btc.price_to_ticks("61837.635")
    assert btc.price_to_ticks("61837.635", rounding="down") == 6_183_763
    assert btc.price_to_ticks("61837.635", rounding="up") == 6_183_764
    with pytest.raises(InstrumentError, match="rounding must be one of"):
        btc.price_to_ticks("1", rounding="sideways")


def test_floats_convert_through_their_shortest_repr(btc: Instrument) -> None:
    assert btc.price_to_ticks(0.07) == 7  # 0.07 * 100 == 7.000000000000001 in binary floating point


@pytest.mark.parametrize("bad", ["abc", "nan", "inf", ""])
def test_non_numeric_prices_are_rejected(btc: Instrument, bad: str) -> None:
    with pytest.raises(InstrumentError, match="price"):
        btc.price_to_ticks(bad)


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"tick_size": "0"}, "tick_size must be positive"),
        ({"tick_size": "0.01", "lot_size": "-1"}, "lot_size must be positive"),
        ({"tick_size": "x"}, "tick_size is not a number"),
        ({"tick_size": "0.01", "symbol": ""}, "symbol must be a non-empty string"),
    ],
)
def test_invalid_instruments_are_rejected(kwargs: dict[str, str], msg: str) -> None:
    args = {"symbol": "X", "venue": "V", **kwargs}
    with pytest.raises(InstrumentError, match=msg):
        Instrument(**args)


def test_dict_round_trip_and_unknown_fields(btc: Instrument) -> None:
    assert Instrument.from_dict(btc.to_dict()) == btc
    with pytest.raises(InstrumentError, match="unknown instrument field"):
        Instrument.from_dict({**btc.to_dict(), "colour": "red"})


def test_instrument_is_immutable(btc: Instrument) -> None:
    with pytest.raises(AttributeError):
        btc.symbol = "ETH"  # type: ignore[misc]
