"""Order books (L3, L2) and the matching engine, with compiled hot loops."""

from execsim.book.binance_verify import BboMismatch, BinanceVerifyResult, verify_binance
from execsim.book.l2 import BBO_DTYPE, L2Book
from execsim.book.l3 import L3Book
from execsim.book.matching import MatchingEngine, SelfTradePrevention
from execsim.book.orders import Fill, LevelView, MatchResult, OrderUpdate, OrderView
from execsim.book.replay import (
    LevelMismatch,
    LobsterVerifyResult,
    compare_top_levels,
    verify_lobster,
)

__all__: list[str] = [
    "BBO_DTYPE",
    "BboMismatch",
    "BinanceVerifyResult",
    "Fill",
    "L2Book",
    "L3Book",
    "LevelMismatch",
    "LevelView",
    "LobsterVerifyResult",
    "MatchResult",
    "MatchingEngine",
    "OrderUpdate",
    "OrderView",
    "SelfTradePrevention",
    "compare_top_levels",
    "verify_binance",
    "verify_lobster",
]
