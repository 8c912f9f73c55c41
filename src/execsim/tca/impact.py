"""Our impact versus market drift, from the counterfactual run.

A run with ``counterfactual: true`` stores the market path of the same session without our
orders (``counterfactual_market``). Over a parent's execution interval ``[t0, t1]``, with ``m``
the actual consolidated mid, ``c`` the counterfactual one and ``s`` the side sign::

    move   = s (m(t1) − m(t0))                         what the mid did while we traded
    drift  = s (c(t1) − c(t0))                         what it would have done without us
    impact = s ((m(t1) − c(t1)) − (m(t0) − c(t0)))     how much our orders moved it meanwhile
    move   = impact + drift                            (exactly)

For the first parent of a run ``m(t0) = c(t0)`` and this is simply impact = actual −
counterfactual at the end and drift = counterfactual − start. Later parents start from a market
our earlier orders have already moved (the gap ``m(t0) − c(t0)``, reported as
``gap_at_start_ticks``); taking it out charges each parent only with the change of the gap while
it traded (orders of other parents trading at the same time still count).

Cost-signed (positive = against the client) in ticks, bps of the decision mid, and currency
(per-unit move × filled quantity). ``impact_after_h`` is the impact ``h`` seconds after the end,
to see it decay. Without the table the section says "not available".
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from execsim.tca.base import FillsView, MetricValue, TcaContext, horizon_key
from execsim.tca.market import MarketState

__all__ = ["CounterfactualImpact"]

NOT_AVAILABLE = "not available: the run has no counterfactual_market table (run it with counterfactual: true)"


class CounterfactualImpact:
    """Split the mid move over the execution into our impact and market drift."""

    name = "counterfactual"

    def compute(
        self, fills: FillsView, market: MarketState, context: TcaContext
    ) -> Mapping[str, MetricValue]:
        """Compute move, impact and drift (ticks, bps, currency), or say it is not available."""
        cf = market.counterfactual
        if cf is None:
            return {"available": False, "reason": NOT_AVAILABLE}
        p = context.parent
        s = p.sign if p is not None else (int(fills.sign[0]) if len(fills) else 1)
        t0, t1 = context.t_start, context.t_end
        m0, m1 = market.mid_at(t0), market.mid_at(t1)
        c0, c1 = cf.mid_at(t0), cf.mid_at(t1)
        gap0 = m0 - c0
        x = fills.total_qty
        f = context.ccy_per_tick_lot
        parts = {"mid_move": s * (m1 - m0), "impact": s * ((m1 - c1) - gap0), "drift": s * (c1 - c0)}
        out: dict[str, MetricValue] = {
            "available": True,
            "start_mid_ticks": m0,
            "end_mid_ticks": m1,
            "counterfactual_start_mid_ticks": c0,
            "counterfactual_end_mid_ticks": c1,
            "gap_at_start_ticks": s * gap0,
        }
        for k, v in parts.items():
            out.update(context.ticks_and_bps(k, v))
            out[f"{k}_ccy"] = v * x * f
        end = np.array([t1], np.int64)
        for h in context.config.reversion_horizons_s:
            d = s * (float(market.mark(end, h)[0] - cf.mark(end, h)[0]) - gap0)
            out.update(context.ticks_and_bps(f"impact_after_{horizon_key(h)}", d))
        return out
