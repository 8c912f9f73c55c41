"""Slippage against benchmarks, participation, fill rates and time to fill.

Slippage of a parent against a benchmark price ``B`` (ticks), with ``p̄`` its average fill
price, ``X`` its filled quantity and ``s`` its side sign::

    slippage_bps = s (p̄ − B) / P_d × 10⁴        slippage_ccy = s (p̄ − B) X × tick_size × lot_size

Positive = the fills were worse than the benchmark (bought above it, sold below it). Fees are
not in slippage (they are a component of the shortfall). Benchmarks: the decision mid
(arrival), the market VWAP over the execution interval without and with our own volume, the
TWAP of the consolidated mid over the interval, and the session close.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from execsim.core.timeutil import NS_PER_S
from execsim.tca.base import FillsView, MetricValue, TcaContext
from execsim.tca.market import MarketState

__all__ = ["FillRate", "Participation", "Slippage"]

NAN = float("nan")


class Slippage:
    """Slippage of the average fill price against arrival, interval VWAP (without and with our
    volume), interval TWAP of the mid, and close."""

    name = "slippage"

    def compute(
        self, fills: FillsView, market: MarketState, context: TcaContext
    ) -> Mapping[str, MetricValue]:
        """Compute each benchmark (ticks) and the slippage against it (bps and currency)."""
        p = context.parent
        if p is None:
            return {"available": False, "reason": "slippage needs a parent order"}
        t0, t1 = context.t_start, context.t_end
        ours = (context.our_fills.ts, context.our_fills.price, context.our_fills.qty)
        in_tape = context.config.our_fills_in_tape
        bench = {
            "arrival": p.decision_mid,
            "vwap": market.vwap(t0, t1, ours=ours, with_ours=False, our_fills_in_tape=in_tape),
            "vwap_with_ours": market.vwap(t0, t1, ours=ours, with_ours=True, our_fills_in_tape=in_tape),
            "twap": market.twap(t0, t1),
            "close": market.close(context.config.close_price),
        }
        x = fills.total_qty
        avg = fills.notional_ticks / x if x else NAN
        f = context.ccy_per_tick_lot
        out: dict[str, MetricValue] = {
            "avg_fill_price_ticks": avg,
            "filled_qty": x,
            "interval_start_ns": t0,
            "interval_end_ns": t1,
        }
        for name, b in bench.items():
            diff = p.sign * (avg - b) if x else NAN
            out[f"{name}_ticks"] = b
            out[f"slippage_{name}_bps"] = context.bps(diff)
            out[f"slippage_{name}_ccy"] = diff * x * f if x else NAN
        return out


class Participation:
    """Our share of the market volume over the execution interval, overall and per bucket.

    Market volume includes our own fills (all of them, any parent): the tape plus our fills in a
    replay, the tape alone with ``our_fills_in_tape``. Buckets of ``participation_bucket_s``
    (default one minute) start at the decision; the last one is cut at the interval's end.
    ``participation_mean_bucket`` is the mean of the bucket rates, ``participation_max_bucket``
    the worst; buckets without market volume are left out.
    """

    name = "participation"

    def compute(
        self, fills: FillsView, market: MarketState, context: TcaContext
    ) -> Mapping[str, MetricValue]:
        """Compute participation over the interval and per bucket."""
        t0, t1 = context.t_start, context.t_end
        bucket = round(context.config.participation_bucket_s * NS_PER_S)
        n_b = max(1, -(-(t1 - t0) // bucket))
        tape_ts, _, tape_q = market.trades_between(t0, t1)
        allf = context.our_fills
        in_all = (allf.ts >= t0) & (allf.ts <= t1)
        in_ours = (fills.ts >= t0) & (fills.ts <= t1)

        def per_bucket(ts: np.ndarray, qty: np.ndarray) -> np.ndarray:
            b = np.minimum((ts - t0) // bucket, n_b - 1).astype(np.int64)
            return np.bincount(b, weights=qty.astype(np.float64), minlength=n_b)[:n_b]

        tape_b = per_bucket(tape_ts, tape_q)
        all_b = per_bucket(allf.ts[in_all], allf.qty[in_all])
        our_b = per_bucket(fills.ts[in_ours], fills.qty[in_ours])
        market_b = tape_b if context.config.our_fills_in_tape else tape_b + all_b
        ok = market_b > 0
        rates = our_b[ok] / market_b[ok]
        mkt = float(market_b.sum())
        return {
            "our_qty": int(fills.qty[in_ours].sum()),
            "market_qty": float(tape_b.sum()),
            "market_with_ours_qty": mkt,
            "participation_rate": float(our_b.sum()) / mkt if mkt > 0 else NAN,
            "participation_mean_bucket": float(rates.mean()) if len(rates) else NAN,
            "participation_max_bucket": float(rates.max()) if len(rates) else NAN,
            "n_buckets": int(n_b),
            "bucket_s": context.config.participation_bucket_s,
        }


class FillRate:
    """How much and how many: fill rate by quantity and by child count, and time to fill."""

    name = "fill"

    def compute(
        self, fills: FillsView, market: MarketState, context: TcaContext
    ) -> Mapping[str, MetricValue]:
        """Compute fill rates and the time from the decision to the first and last fill (s)."""
        p = context.parent
        kids = context.children
        x = fills.total_qty
        n_kids = len(kids)
        filled_kids = int((kids.filled_qty > 0).sum())
        out: dict[str, MetricValue] = {
            "filled_qty": x,
            "n_fills": len(fills),
            "n_children": n_kids,
            "n_children_filled": filled_kids,
            "n_children_complete": int(((kids.filled_qty >= kids.qty) & (kids.qty > 0)).sum()),
            "fill_rate_by_count": filled_kids / n_kids if n_kids else NAN,
        }
        if p is not None:
            out["parent_qty"] = p.qty
            out["fill_rate_by_quantity"] = x / p.qty if p.qty else NAN
            out["time_to_first_fill_s"] = (
                (int(fills.ts.min()) - p.ts_decision) / NS_PER_S if len(fills) else NAN
            )
            out["time_to_last_fill_s"] = (
                (int(fills.ts.max()) - p.ts_decision) / NS_PER_S if len(fills) else NAN
            )
            out["complete"] = bool(x >= p.qty)
        return out
