"""hftbacktest glue shared by the L2 replay and market-making benchmarks.

hftbacktest is the ``bench`` extra: :data:`hbt_mod` is None when it is missing, and the scripts
then run without its rows. Kept apart from ``_common`` so that the scripts that never use
hftbacktest do not import it.
"""

from __future__ import annotations

import numpy as np

from execsim.data.schema import F_SNAPSHOT, K_CLEAR, K_SET_LEVEL, K_TRADE
from execsim.data.synthetic import default_instrument

try:  # the "bench" extra; the scripts still run (without those rows) when it is missing
    import hftbacktest as hbt_mod
except ImportError:  # pragma: no cover - depends on the environment
    hbt_mod = None

TICK = float(default_instrument().tick_size)
LOT = float(default_instrument().lot_size)
"""Tick and lot size of the synthetic instrument, which every stream of these benchmarks uses."""


def level_price_range(events: np.ndarray) -> tuple[int, int]:
    """Lowest and highest price of the ``SET_LEVEL`` events (the range hftbacktest's ROI must hold)."""
    levels = events["kind"] == K_SET_LEVEL
    return int(events["price"][levels].min()), int(events["price"][levels].max())


def to_hftbacktest(events: np.ndarray, *, routing: str) -> np.ndarray:
    """Convert canonical events to hftbacktest's ``event_dtype`` (done once, never timed).

    ``SET_LEVEL`` becomes ``DEPTH_EVENT`` (``DEPTH_SNAPSHOT_EVENT`` inside a snapshot), ``CLEAR``
    (both sides) ``DEPTH_CLEAR_EVENT``, ``TRADE`` ``TRADE_EVENT``; the side becomes
    ``BUY_EVENT``/``SELL_EVENT``; ``ts_event``/``ts_recv`` become ``exch_ts``/``local_ts``;
    prices and quantities become floats (ticks times tick size, lots times lot size).
    ``routing`` is ``"local"`` (events for the local processor only) or ``"exch+local"`` (for
    both the exchange and the local processor).
    """
    if hbt_mod is None:
        raise RuntimeError("hftbacktest is not installed (pip install 'execsim[bench]')")
    h = hbt_mod
    kind, side = events["kind"], events["side"]
    if np.any(side[kind == K_CLEAR] != 0):
        raise ValueError("one-sided CLEAR is not converted by this benchmark")
    ev = np.zeros(len(events), dtype=np.uint64)
    snap = (events["flags"] & F_SNAPSHOT) != 0
    ev[kind == K_SET_LEVEL] = h.DEPTH_EVENT
    ev[(kind == K_SET_LEVEL) & snap] = h.DEPTH_SNAPSHOT_EVENT
    ev[kind == K_TRADE] = h.TRADE_EVENT
    ev[kind == K_CLEAR] = h.DEPTH_CLEAR_EVENT
    ev[side == 1] |= np.uint64(h.BUY_EVENT)
    ev[side == -1] |= np.uint64(h.SELL_EVENT)
    route = h.LOCAL_EVENT if routing == "local" else h.LOCAL_EVENT | h.EXCH_EVENT
    ev |= np.uint64(route)
    out = np.zeros(len(events), dtype=h.event_dtype)
    out["ev"] = ev
    out["exch_ts"] = events["ts_event"]
    out["local_ts"] = events["ts_recv"]
    out["px"] = events["price"] * TICK
    out["qty"] = events["qty"] * LOT
    return out
