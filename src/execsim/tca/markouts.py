"""Markouts of fills, split passive / aggressive and by venue, and post-trade reversion.

A fill of side sign ``s`` at price ``p`` is marked at the consolidated mid ``m_h`` ``h`` seconds
later::

    markout_h = s (p − m_h)        cost-signed: positive = the fill looks bad in hindsight

(the opposite sign of a trading desk's mark-to-market P&L, so that it reads like every other
cost here). Markouts are quantity-weighted means in bps of the parent's decision mid and in
ticks; fills whose horizon runs past the last market sample are left out of that horizon.

Post-trade reversion looks at the mid after the parent's last child was done, ``t_end``::

    reversion_h = s (m(t_end) − m(t_end + h))

positive when the price comes back after we stop (a buy pushed the price up and it falls back):
the temporary part of our impact, which the client paid and the market then gave back.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from execsim.tca.base import FillsView, MetricValue, TcaContext, horizon_key, weighted_mean
from execsim.tca.market import MarketState

__all__ = ["Markouts"]


class Markouts:
    """Markouts at each horizon (all, passive, aggressive; and per venue) and reversion."""

    name = "markouts"

    def compute(
        self, fills: FillsView, market: MarketState, context: TcaContext
    ) -> Mapping[str, MetricValue]:
        """Compute markouts (bps and ticks) and post-trade reversion (bps and ticks)."""
        s = fills.sign.astype(np.float64)
        px = fills.price.astype(np.float64)
        w = fills.qty.astype(np.float64)
        groups = {"": np.ones(len(fills), bool), "_passive": fills.maker, "_aggressive": ~fills.maker}
        marks = {h: s * (px - market.mark(fills.ts, h)) for h in context.config.markout_horizons_s}

        def block(sel: np.ndarray) -> dict[str, MetricValue]:
            out: dict[str, MetricValue] = {}
            for h, mk in marks.items():
                for g, gsel in groups.items():
                    v = weighted_mean(mk, np.where(sel & gsel, w, 0.0))
                    out.update(context.ticks_and_bps(f"markout_{horizon_key(h)}{g}", v))
            return out

        out = block(np.ones(len(fills), bool))
        by_venue: dict[str, MetricValue] = {}
        for v in sorted(set(fills.venue.tolist())):
            sel = fills.venue == v
            by_venue[v] = {"filled_qty": int(fills.qty[sel].sum()), **block(sel)}
        out["by_venue"] = by_venue
        p = context.parent
        sign = p.sign if p is not None else (int(s[0]) if len(s) else 0)
        m_end = market.mid_at(context.t_end)
        for h in context.config.reversion_horizons_s:
            m_h = float(market.mark(np.array([context.t_end], np.int64), h)[0])
            rev = sign * (m_end - m_h) if len(fills) else float("nan")
            out.update(context.ticks_and_bps(f"reversion_{horizon_key(h)}", rev))
        return out
