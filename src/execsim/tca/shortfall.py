"""Implementation shortfall (Perold) and its decomposition.

For a parent of side sign ``s`` (+1 buy, −1 sell), quantity ``Q`` and decision price ``P_d``
(the arrival mid at the decision), fills ``i`` of quantity ``q_i`` at price ``p_i`` executed by
child ``c(i)``, ``X = Σ q_i`` filled, ``U = max(Q − X, 0)`` unfilled::

    shortfall = s Σ q_i (p_i − P_d)  +  s U (P_opp − P_d)  +  fees
              = delay + trading + timing + opportunity + fees

    delay       = s X (M_1 − P_d)              decision → first child's arrival
    timing      = s Σ q_i (m_c(i) − M_1)       the mid's drift over the execution
    trading     = s Σ q_i (p_i − m_c(i))       execution prices vs the mid at each child's arrival
    opportunity = s U (P_opp − P_d)            the unfilled rest, marked at the close (or end)
    fees        = Σ fee_i                      explicit costs (negative for rebates)

``m_c`` is the mid of the quote child ``c`` met when it reached its venue (recorded by the
session; the consolidated sample before its arrival when that quote was one-sided), ``M_1`` that
of the first child to arrive. The identity is exact algebra, so the components sum to the
total up to float rounding. Currency = ticks × lots × ``tick_size × lot_size``; bps are of the
paper portfolio ``Q × P_d``, so the components add up in bps too.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from execsim.tca.base import FillsView, MetricValue, OrdersView, TcaContext
from execsim.tca.market import MarketState

__all__ = ["ImplementationShortfall", "child_arrival_mids"]

NAN = float("nan")


def child_arrival_mids(children: OrdersView, market: MarketState) -> np.ndarray:
    """The mid each child order met on arrival at its venue (ticks; NaN when unknown).

    The venue's quote recorded at the order's arrival when two-sided, else the consolidated
    sampled mid strictly before the arrival, else (an arrival at the very first sample) the
    sample at the arrival.
    """
    mids = children.arrival_mid.copy()
    for strict in (True, False):
        missing = ~np.isfinite(mids)
        if missing.any():
            mids[missing] = market.mid(children.ts_arrival[missing], strict=strict)
    return mids


class ImplementationShortfall:
    """Perold's implementation shortfall of one parent and its five components (see module)."""

    name = "shortfall"

    def compute(
        self, fills: FillsView, market: MarketState, context: TcaContext
    ) -> Mapping[str, MetricValue]:
        """Compute shortfall, delay, trading, timing, opportunity cost and fees (bps and currency)."""
        p = context.parent
        if p is None:
            return {"available": False, "reason": "implementation shortfall needs a parent order"}
        s, q_parent, pd = p.sign, p.qty, p.decision_mid
        f = context.ccy_per_tick_lot
        kids = context.children
        px = fills.price.astype(np.float64)
        q = fills.qty.astype(np.float64)
        filled = float(q.sum())
        unfilled = max(q_parent - filled, 0.0)
        kid_mid = child_arrival_mids(kids, market)
        if len(kids):
            first = int(np.argmin(kids.ts_arrival))
            m1 = float(kid_mid[first])
        else:
            m1 = NAN
        pos = {o: i for i, o in enumerate(kids.order_id.tolist())}
        rows = np.array([pos.get(o, -1) for o in fills.order_id.tolist()], np.int64)
        m_c = np.where(rows >= 0, kid_mid[np.maximum(rows, 0)] if len(kids) else NAN, NAN)
        if context.config.opportunity_price == "close":
            p_opp = market.close(context.config.close_price)
        else:
            p_opp = market.mid_at(context.t_end)
        fees = float(fills.fee.sum())

        executed = s * float(np.dot(q, px - pd)) if filled else 0.0
        if filled:
            delay = s * filled * (m1 - pd)
            timing = s * float(np.dot(q, m_c - m1))
            trading = s * float(np.dot(q, px - m_c))
        else:
            delay = timing = trading = 0.0
        opportunity = s * unfilled * (p_opp - pd) if unfilled else 0.0
        total = (executed + opportunity) * f + fees
        notional = q_parent * pd * f
        out: dict[str, MetricValue] = {
            "decision_mid_ticks": pd,
            "decision_mid_source": p.decision_mid_source,
            "first_arrival_mid_ticks": m1,
            "avg_fill_price_ticks": float(np.dot(q, px) / filled) if filled else NAN,
            "opportunity_price_ticks": p_opp,
            "opportunity_reference": context.config.opportunity_price,
            "paper_notional_ccy": notional,
            "filled_qty": int(filled),
            "unfilled_qty": int(unfilled),
            "overfilled_qty": int(max(filled - q_parent, 0)),
            "decomposition_complete": bool(np.isfinite([delay, timing, trading, opportunity]).all()),
        }
        costs_ccy = {
            "implementation_shortfall": total,
            "delay_cost": delay * f,
            "timing_cost": timing * f,
            "trading_cost": trading * f,
            "opportunity_cost": opportunity * f,
            "fees": fees,
        }
        for key, ccy in costs_ccy.items():
            out[f"{key}_ccy"] = ccy
            out[f"{key}_bps"] = ccy / notional * 1e4 if np.isfinite(notional) and notional > 0 else NAN
        return out
