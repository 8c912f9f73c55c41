"""Order books (L3, L2) and the matching engine, with compiled hot loops."""

__all__: list[str] = []
