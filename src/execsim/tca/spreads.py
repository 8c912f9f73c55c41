"""Quoted, effective and realized spreads, price impact and spread capture, per fill.

For a fill of side sign ``s`` at price ``p`` with pre-trade reference quote ``(b, a)`` and mid
``m = (b + a) / 2`` (see :class:`~execsim.tca.base.FillsView`), and ``m_h`` the consolidated
mid ``h`` seconds after the fill::

    quoted spread      a − b
    effective spread   2 s (p − m)            cost: positive when paying more than the mid
    realized spread    2 s (p − m_h)          what stays paid once the price has moved on
    price impact       s (m_h − m)            the mid moving against us after the fill
    effective = realized + 2 × impact         (per fill, exactly)
    spread capture     s (m − p) / ((a − b) / 2)   passive fills only: the share of the
                       half spread earned (1 = filled at our touch; not a cost: higher is better)

Each is the quantity-weighted mean over the fills where it exists, in ticks and in bps of the
parent's decision mid. Marks after the last market sample are not available, so fills too close
to the end drop out of the longer horizons.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from execsim.tca.base import FillsView, MetricValue, TcaContext, horizon_key, weighted_mean
from execsim.tca.market import MarketState

__all__ = ["Spreads"]


class Spreads:
    """Quoted / effective / realized spreads, price impact by horizon, spread capture."""

    name = "spreads"

    def compute(
        self, fills: FillsView, market: MarketState, context: TcaContext
    ) -> Mapping[str, MetricValue]:
        """Compute the spread measures (ticks and bps), quantity-weighted over fills."""
        s = fills.sign.astype(np.float64)
        px = fills.price.astype(np.float64)
        w = fills.qty.astype(np.float64)
        m = fills.ref_mid
        quoted = fills.ref_ask - fills.ref_bid
        eff = 2.0 * s * (px - m)
        out: dict[str, MetricValue] = {}

        def put(key: str, values: np.ndarray, weights: np.ndarray = w) -> None:
            out.update(context.ticks_and_bps(key, weighted_mean(values, weights)))

        put("quoted_spread", quoted)
        put("effective_spread", eff)
        put("passive_effective_spread", eff, np.where(fills.maker, w, 0.0))
        put("aggressive_effective_spread", eff, np.where(fills.maker, 0.0, w))
        for h in context.config.impact_horizons_s:
            m_h = market.mark(fills.ts, h)
            put(f"realized_spread_{horizon_key(h)}", 2.0 * s * (px - m_h))
            put(f"price_impact_{horizon_key(h)}", s * (m_h - m))
        half = quoted / 2.0
        passive = fills.maker & (half > 0)
        capture = np.full(len(fills), np.nan)
        capture[passive] = s[passive] * (m[passive] - px[passive]) / half[passive]
        out["spread_capture"] = weighted_mean(capture, np.where(passive, w, 0.0))
        out["passive_qty"] = int(fills.qty[fills.maker].sum())
        out["aggressive_qty"] = int(fills.qty[~fills.maker].sum())
        return out
