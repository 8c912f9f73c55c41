from __future__ import annotations

import pytest

from execsim.data import schema
from execsim.model import EventKind, Side, TradingStatus


def test_side_codes_match_the_lobster_direction_convention() -> None:
    assert [Side.BUY.code, Side.SELL.code, Side.NONE.code] == [1, -1, 0]
    assert all(Side.from_code(s.code) is s for s in Side)
    assert Side.BUY.opposite is Side.SELL
    assert Side.NONE.opposite is Side.NONE
    with pytest.raises(ValueError, match="unknown side code 2"):
        Side.from_code(2)


def test_every_event_kind_has_a_unique_code_matching_the_schema_constants() -> None:
    codes = {k.code for k in EventKind}
    assert codes == set(range(1, 9))
    assert all(EventKind.from_code(k.code) is k for k in EventKind)
    assert schema.K_ADD == EventKind.ADD.code
    assert schema.K_HALT == EventKind.HALT.code
    with pytest.raises(ValueError, match="unknown event kind code 9"):
        EventKind.from_code(9)


def test_trading_status_codes_are_distinct() -> None:
    assert sorted(s.code for s in TradingStatus) == [0, 1, 2]
