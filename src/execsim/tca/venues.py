"""Venue analysis: where child orders went and how they were filled.

Per venue: the routed quantity (Σ of the child orders' quantities), the filled quantity, the
fill rate (filled / routed), the share of the filled quantity that was passive (maker) or
aggressive (taker), and the midpoint share: fills exactly at the mid of their pre-trade
reference quote (``2 × price == bid + ask`` in integer ticks; a half-tick midpoint that a dark
pool rounds is not a midpoint fill). Shares are of quantity, not of fill count.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from execsim.tca.base import FillsView, MetricValue, TcaContext
from execsim.tca.market import MarketState

__all__ = ["VenueAnalysis", "midpoint_fills"]

NAN = float("nan")


def midpoint_fills(fills: FillsView) -> np.ndarray:
    """Whether each fill is at the mid of its reference quote (compared in integer ticks)."""
    ok = np.isfinite(fills.ref_bid) & np.isfinite(fills.ref_ask)
    two_mid = np.where(ok, fills.ref_bid + fills.ref_ask, 0.0)
    return ok & (2 * fills.price == np.rint(two_mid).astype(np.int64))


class VenueAnalysis:
    """Routed and filled quantity, fill rate, passive / aggressive / midpoint share per venue."""

    name = "venues"

    def compute(
        self, fills: FillsView, market: MarketState, context: TcaContext
    ) -> Mapping[str, MetricValue]:
        """Compute the venue table (``by_venue``) and its totals."""
        kids = context.children
        mid = midpoint_fills(fills)
        routed_total = int(kids.qty.sum())
        filled_total = fills.total_qty
        table: dict[str, MetricValue] = {}
        for v in sorted(set(kids.venue.tolist()) | set(fills.venue.tolist())):
            k = kids.venue == v
            fv = fills.venue == v
            routed = int(kids.qty[k].sum())
            filled = int(fills.qty[fv].sum())
            passive = int(fills.qty[fv & fills.maker].sum())
            table[v] = {
                "n_orders": int(k.sum()),
                "n_fills": int(fv.sum()),
                "routed_qty": routed,
                "filled_qty": filled,
                "fill_rate": filled / routed if routed else NAN,
                "routed_share": routed / routed_total if routed_total else NAN,
                "filled_share": filled / filled_total if filled_total else NAN,
                "passive_share": passive / filled if filled else NAN,
                "aggressive_share": (filled - passive) / filled if filled else NAN,
                "midpoint_share": int(fills.qty[fv & mid].sum()) / filled if filled else NAN,
            }
        return {
            "by_venue": table,
            "n_venues": len(table),
            "routed_qty": routed_total,
            "filled_qty": filled_total,
        }
