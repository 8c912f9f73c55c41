"""Order books (L3, L2) and the matching engine, with compiled hot loops."""

from execsim.book.l3 import L3Book
from execsim.book.orders import LevelView, OrderView

__all__: list[str] = ["L3Book", "LevelView", "OrderView"]
