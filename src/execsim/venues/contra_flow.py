"""Contra-side flow for a dark pool: who arrives to trade against our hidden orders, and when.

A dark pool shows nothing, so whether our resting order fills depends on the *other*
participants that arrive at the pool. That flow is a realism assumption, so it is a plug-in
with one method, :meth:`ContraFlowModel.arrivals`: the contra orders arriving in a time
window, as a structured array of :data:`CONTRA_DTYPE`. Each arrival is taken to be an
immediate-or-cancel interest: it trades with what rests in the pool at that instant and the
rest of it goes elsewhere.

Default (:class:`PoissonContraFlow`, :class:`ContraFlowConfig`): Poisson arrivals at
0.1 per second (one every 10 s on average), buy or sell with probability 0.5, lognormal sizes
with a median of 100 lots and a log-sd of 1.0 (at least 1 lot), no minimum quantity of their
own. These are placeholders of the right order of magnitude for a US large-cap stock in one
midpoint pool (small average dark prints); calibrate them to the pool being modelled.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

import numpy as np
from pydantic import Field

from execsim.core.config import FrozenConfig
from execsim.core.errors import DataError

__all__ = [
    "CONTRA_DTYPE",
    "ContraFlowConfig",
    "ContraFlowModel",
    "PoissonContraFlow",
    "ScheduledContraFlow",
    "check_contra_arrivals",
]

CONTRA_DTYPE = np.dtype(
    [
        ("ts", np.int64),  # arrival time, ns
        ("side", np.int8),  # 1: the contra buys, -1: it sells
        ("qty", np.int64),  # lots, > 0
        ("min_qty", np.int64),  # its minimum execution size, lots (0: none)
    ]
)
"""One contra arrival: time, side code, size and minimum execution size."""


class ContraFlowModel(ABC):
    """Contra orders arriving at a dark pool."""

    @abstractmethod
    def arrivals(self, t0_ns: int, t1_ns: int, rng: np.random.Generator) -> np.ndarray:
        """Return the contra orders arriving in ``(t0_ns, t1_ns]``, sorted by time.

        The pool calls this on consecutive fixed windows, so a model with independent
        increments (Poisson) gives the same stream however the session steps the pool.
        """


def check_contra_arrivals(arr: np.ndarray, t0_ns: int, t1_ns: int, source: str) -> np.ndarray:
    """Validate a model's output for ``(t0_ns, t1_ns]``; raise :class:`DataError` naming the row."""
    if arr.dtype != CONTRA_DTYPE:
        raise DataError(f"contra arrivals must have dtype {CONTRA_DTYPE}", source=source, value=arr.dtype)
    checks = (
        ((arr["ts"] <= t0_ns) | (arr["ts"] > t1_ns), f"arrival outside the window ({t0_ns}, {t1_ns}]"),
        (np.concatenate(([False], np.diff(arr["ts"]) < 0)), "arrival times go backwards"),
        (arr["qty"] <= 0, "quantity must be positive"),
        (arr["min_qty"] < 0, "min_qty must be >= 0"),
        (~np.isin(arr["side"], (1, -1)), "side must be 1 (buy) or -1 (sell)"),
    )
    for bad, what in checks:
        idx = np.flatnonzero(bad)
        if idx.size:
            i = int(idx[0])
            raise DataError(what, source=source, row=i + 1, value=arr[i].tolist())
    return arr


class PoissonContraFlow(ContraFlowModel):
    """Poisson arrivals with lognormal sizes.

    Parameters
    ----------
    rate_per_s
        Mean arrivals per second.
    median_qty_lots, qty_sigma
        Sizes are ``round(median × exp(sigma × N(0, 1)))``, at least 1 lot.
    buy_probability
        Probability that an arrival is a buyer (it trades against our sells).
    min_qty_lots
        Each arrival's own minimum execution size.
    """

    def __init__(
        self,
        *,
        rate_per_s: float = 0.1,
        median_qty_lots: float = 100.0,
        qty_sigma: float = 1.0,
        buy_probability: float = 0.5,
        min_qty_lots: int = 0,
    ) -> None:
        self.rate_per_s = float(rate_per_s)
        self.median_qty_lots = float(median_qty_lots)
        self.qty_sigma = float(qty_sigma)
        self.buy_probability = float(buy_probability)
        self.min_qty_lots = int(min_qty_lots)

    def arrivals(self, t0_ns: int, t1_ns: int, rng: np.random.Generator) -> np.ndarray:
        span = int(t1_ns) - int(t0_ns)
        n = int(rng.poisson(self.rate_per_s * span / 1e9)) if span > 0 else 0
        out = np.empty(n, dtype=CONTRA_DTYPE)
        # uniform on (t0, t1]: t1 − floor(u × span) with u in [0, 1)
        out["ts"] = np.sort(t1_ns - np.floor(rng.random(n) * span).astype(np.int64))
        out["side"] = np.where(rng.random(n) < self.buy_probability, 1, -1)
        qty = np.rint(self.median_qty_lots * np.exp(self.qty_sigma * rng.normal(0.0, 1.0, n)))
        out["qty"] = np.maximum(qty, 1).astype(np.int64)
        out["min_qty"] = self.min_qty_lots
        return out

    def __repr__(self) -> str:
        return (
            f"PoissonContraFlow(rate_per_s={self.rate_per_s}, median_qty_lots={self.median_qty_lots}, "
            f"qty_sigma={self.qty_sigma}, buy_probability={self.buy_probability}, "
            f"min_qty_lots={self.min_qty_lots})"
        )


class ScheduledContraFlow(ContraFlowModel):
    """An explicit list of contra arrivals (a scenario, or dark prints from a tape)."""

    def __init__(self, records: np.ndarray) -> None:
        r = np.asarray(records)
        if r.size:
            check_contra_arrivals(r, int(r["ts"].min()) - 1, int(r["ts"].max()), "ScheduledContraFlow")
        self.records = r.astype(CONTRA_DTYPE, copy=True)

    def arrivals(self, t0_ns: int, t1_ns: int, rng: np.random.Generator) -> np.ndarray:
        ts = self.records["ts"]
        lo, hi = np.searchsorted(ts, t0_ns, side="right"), np.searchsorted(ts, t1_ns, side="right")
        return self.records[lo:hi].copy()

    def __repr__(self) -> str:
        return f"ScheduledContraFlow(n={self.records.size})"


class ContraFlowConfig(FrozenConfig):
    """Config of the contra-flow model (Poisson, the default)."""

    kind: Literal["poisson"] = "poisson"
    rate_per_s: float = Field(default=0.1, ge=0.0, description="mean contra arrivals per second")
    median_qty_lots: float = Field(default=100.0, gt=0.0, description="median arrival size")
    qty_sigma: float = Field(default=1.0, ge=0.0, description="log-sd of arrival sizes")
    buy_probability: float = Field(default=0.5, ge=0.0, le=1.0, description="share of contra buyers")
    min_qty_lots: int = Field(default=0, ge=0, description="each arrival's own minimum execution size")

    def build(self) -> ContraFlowModel:
        """The model this config describes."""
        return PoissonContraFlow(**self.model_dump(exclude={"kind"}))
