"""Order books (L3, L2) and the matching engine, with compiled hot loops."""

from execsim.book.l2 import BBO_DTYPE, L2Book
from execsim.book.l3 import L3Book
from execsim.book.orders import LevelView, OrderView

__all__: list[str] = ["BBO_DTYPE", "L2Book", "L3Book", "LevelView", "OrderView"]
