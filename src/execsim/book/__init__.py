"""Order books (L3, L2) and the matching engine, with compiled hot loops."""

from execsim.book.l2 import BBO_DTYPE, L2Book
from execsim.book.l3 import L3Book
from execsim.book.orders import LevelView, OrderView
from execsim.book.replay import (
    LevelMismatch,
    LobsterVerifyResult,
    compare_top_levels,
    verify_lobster,
)

__all__: list[str] = [
    "BBO_DTYPE",
    "L2Book",
    "L3Book",
    "LevelMismatch",
    "LevelView",
    "LobsterVerifyResult",
    "OrderView",
    "compare_top_levels",
    "verify_lobster",
]
