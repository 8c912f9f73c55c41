"""Queue-position models: where our resting order sits in a price level we only see in aggregate.

On L2 (price-level) data the tape says how many lots rest at a price, never in which order, so
a model estimates ``queue_ahead``, the lots in front of our order. It starts at the level's
quantity when the order joins (the back of the queue) and moves on two kinds of news:

* **a trade at our price** (by an aggressor of the other side): its volume takes the queue
  ahead first; once ``queue_ahead`` reaches 0 the rest of the volume fills us (partial fills
  allowed). Every model does this the same way.
* **the level shrinks without a trade** (a cancellation): the models differ here.

``RiskAverseQueue``
    Every unexplained decrease happens *behind* us; we advance only through trades at our
    price. ``queue_ahead`` is only ever clamped to the level's new quantity (fewer lots cannot
    be ahead of us than rest at the price). Conservative: it never overstates fills.
``ProbQueue``
    A decrease of ``d`` lots not explained by trades is split: a share ``1 - p`` is taken from
    the lots ahead of us and ``p`` from those behind, with ``p`` the probability that a
    cancellation happened behind us, a function of ``front`` (= ``queue_ahead``) and ``back``
    (= the lots behind us, ``level before − trades since − front``, at least 0). With ``f`` a
    power (``x**n``) or ``log(1 + x)``:

    ========================  ============================================
    ``form``                  ``p`` (probability the cancel was behind us)
    ========================  ============================================
    ``"ratio"`` (default)     ``f(back) / (f(front) + f(back))``
    ``"ratio_total"``         ``f(back) / f(front + back)``
    ``"share"`` (power only)  ``1 − f(front / (front + back))``
    ========================  ============================================

    With ``f(x) = x`` and ``"ratio"``, cancellations are spread uniformly over the queue. A
    larger ``n`` concentrates them on the longer side of our order: near the back, most
    cancellations are ahead of us; near the front, most are behind. When the share behind
    exceeds ``back``, the excess is taken from ahead. ``queue_ahead`` is clamped to the new level
    quantity afterwards, as in the risk-averse model. These are the estimators of Rigtorp's note
    (quant.stackexchange question 3782) as hftbacktest implements them (its ``ProbQueueModel``,
    ``…2`` and ``…3`` variants).

Trades that the next level update reflects are not counted twice: the volume printed at our
price since the level's last update is subtracted from that update's decrease before the
model sees it. A level increase never moves us (new orders join behind).

The models run inside the compiled venue loop with no Python call per event: each class
validates its parameters and exposes them as a small float array (:meth:`QueueModel.params`)
that the kernels interpret. :meth:`QueueModel.on_trade` and :meth:`QueueModel.on_level_change`
run the same compiled code one step at a time, for tests and for anyone checking a number by
hand. Choose a model by config with :class:`QueueModelConfig` and :func:`queue_model_from_config`;
the documented default is the conservative ``risk_averse`` model.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Final, Literal

import numpy as np
from pydantic import Field, model_validator

from execsim.core.config import FrozenConfig
from execsim.core.errors import ConfigError
from execsim.venues import _l2_venue_kernels as _k

__all__ = [
    "ProbQueue",
    "QueueModel",
    "QueueModelConfig",
    "RiskAverseQueue",
    "queue_model_from_config",
]

ProbFunc = Literal["power", "log"]
ProbForm = Literal["ratio", "ratio_total", "share"]

_FUNC_CODE: Final = {"power": _k.QF_POWER, "log": _k.QF_LOG}
_FORM_CODE: Final = {"ratio": _k.FORM_RATIO, "ratio_total": _k.FORM_RATIO_TOTAL, "share": _k.FORM_SHARE}


class QueueModel(ABC):
    """A queue-position model for our resting orders on L2 data.

    Subclasses only validate and describe; the compiled venue loop interprets :meth:`params`.
    """

    @abstractmethod
    def params(self) -> np.ndarray:
        """The model as a float64 array for the compiled kernels (layout in ``_l2_venue_kernels``)."""

    def on_trade(self, queue_ahead: float, qty: int) -> tuple[float, int]:
        """Apply a trade of ``qty`` lots at our price; return ``(queue_ahead, lots reaching us)``.

        The lots reaching us are what the trade leaves after the queue ahead (whole lots, before
        capping at the order's open quantity); the same for every model.
        """
        if qty < 0:
            raise ValueError(f"trade qty must be >= 0, got {qty}")
        excess = float(qty) - float(queue_ahead)
        reach = math.floor(excess) if excess >= 1.0 else 0
        return max(float(queue_ahead) - float(qty), 0.0), reach

    def on_level_change(self, queue_ahead: float, old_qty: int, new_qty: int, traded: int = 0) -> float:
        """Return ``queue_ahead`` after our level went from ``old_qty`` to ``new_qty`` lots.

        ``traded`` is the volume printed at our price since the level's previous update (already
        taken off ``queue_ahead`` by :meth:`on_trade`); it explains that much of a decrease.
        """
        if old_qty < 0 or new_qty < 0 or traded < 0:
            raise ValueError(f"quantities must be >= 0, got old={old_qty}, new={new_qty}, traded={traded}")
        return float(
            _k.level_change(float(queue_ahead), int(old_qty), int(new_qty), int(traded), self.params())
        )


class RiskAverseQueue(QueueModel):
    """Conservative: we advance only when volume trades at our price.

    A level decrease without trades is assumed to happen behind us; ``queue_ahead`` is clamped
    to the level's quantity when the level falls below it.
    """

    def params(self) -> np.ndarray:
        p = np.zeros(_k.N_QP, np.float64)
        p[_k.QP_MODEL] = _k.QM_RISK_AVERSE
        return p

    def __repr__(self) -> str:
        return "RiskAverseQueue()"


class ProbQueue(QueueModel):
    """Probabilistic: unexplained decreases are split ahead/behind by ``f(front)`` vs ``f(back)``.

    Parameters
    ----------
    func
        ``"power"`` (``f(x) = x**n``) or ``"log"`` (``f(x) = log(1 + x)``).
    n
        The power of ``"power"`` (> 0); ignored by ``"log"``.
    form
        How ``f`` makes the probability ``p`` that a cancellation was behind us (module
        docstring): ``"ratio"``, ``"ratio_total"`` or ``"share"`` (power only).
    """

    def __init__(self, func: ProbFunc = "power", n: float = 2.0, form: ProbForm = "ratio") -> None:
        if func not in _FUNC_CODE:
            raise ConfigError(f"ProbQueue func must be 'power' or 'log', got {func!r}")
        if form not in _FORM_CODE:
            raise ConfigError(f"ProbQueue form must be one of {sorted(_FORM_CODE)}, got {form!r}")
        if not (isinstance(n, int | float) and math.isfinite(n) and n > 0):
            raise ConfigError(f"ProbQueue power n must be a finite number > 0, got {n!r}")
        if func == "log" and form == "share":
            raise ConfigError("ProbQueue form 'share' needs f(1) = 1: use it with func='power'")
        self.func: ProbFunc = func
        self.n = float(n)
        self.form: ProbForm = form

    def params(self) -> np.ndarray:
        p = np.zeros(_k.N_QP, np.float64)
        p[_k.QP_MODEL] = _k.QM_PROB
        p[_k.QP_FUNC] = _FUNC_CODE[self.func]
        p[_k.QP_N] = self.n
        p[_k.QP_FORM] = _FORM_CODE[self.form]
        return p

    def prob_behind(self, front: float, back: float) -> float:
        """Probability that a cancellation happened behind our order (``p`` of the docstring)."""
        return float(_k.prob_behind(float(front), float(back), self.params()))

    def __repr__(self) -> str:
        if self.func == "log":
            return f"ProbQueue(func='log', form={self.form!r})"
        return f"ProbQueue(func='power', n={self.n:g}, form={self.form!r})"


class QueueModelConfig(FrozenConfig):
    """Which queue model a venue uses.

    ``model``: ``"risk_averse"`` (default), ``"prob_power"`` (power ``n``) or ``"prob_log"``;
    ``form`` picks the probabilistic variant (see :mod:`execsim.venues.queue_models`).
    """

    model: Literal["risk_averse", "prob_power", "prob_log"] = "risk_averse"
    n: float = Field(default=2.0, gt=0, description="prob_power: the power of f(x) = x**n")
    form: ProbForm = Field(default="ratio", description="prob_*: ratio, ratio_total or share")

    @model_validator(mode="after")
    def _check(self) -> QueueModelConfig:
        if not math.isfinite(self.n):
            raise ValueError(f"n must be finite, got {self.n}")
        if self.model == "prob_log" and self.form == "share":
            raise ValueError("form 'share' needs f(1) = 1: use it with model 'prob_power'")
        return self


def queue_model_from_config(cfg: QueueModelConfig) -> QueueModel:
    """Build the queue model a config names."""
    if cfg.model == "risk_averse":
        return RiskAverseQueue()
    if cfg.model == "prob_power":
        return ProbQueue("power", cfg.n, cfg.form)
    return ProbQueue("log", cfg.n, cfg.form)
