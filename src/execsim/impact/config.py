"""The impact part of a run config: which model, with which parameters.

.. code-block:: yaml

    impact:
      model: square_root          # none | almgren_chriss | square_root | propagator
      params:
        Y: 0.8
        sigma_ticks_per_sqrt_day: 550
        daily_volume_lots: 700000
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import ValidationError, model_validator

from execsim.core.config import FrozenConfig
from execsim.core.errors import ConfigError
from execsim.impact.base import ImpactModel
from execsim.impact.models import MODELS

__all__ = ["ImpactConfig", "ModelName"]

ModelName = Literal["none", "almgren_chriss", "square_root", "propagator"]

ParamValue = bool | int | float | str | None


def _build(model: str, params: dict[str, Any]) -> ImpactModel:
    cls = MODELS.get(model)
    if cls is None:
        raise ConfigError(f"unknown impact model {model!r}; known: {', '.join(sorted(MODELS))}")
    valid = cls._param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ConfigError(
            f"impact model {model!r} has no parameter(s) {', '.join(repr(u) for u in unknown)}; "
            f"valid: {', '.join(valid) or 'none'}"
        )
    m = cls(**params)
    m._validate_params()
    return m


class ImpactConfig(FrozenConfig):
    """Config of the impact model: ``model`` names it, ``params`` are its constructor parameters.

    The default is ``none`` (pure replay). An unknown model, an unknown parameter or an invalid
    value is a :class:`~execsim.core.errors.ConfigError` naming it, raised when the config is made.

    Examples
    --------
    >>> cfg = ImpactConfig(model="almgren_chriss", params={"permanent": 0.01, "temporary": 0.0})
    >>> type(cfg.build()).__name__
    'AlmgrenChrissImpact'
    """

    model: ModelName = "none"
    params: dict[str, ParamValue] = {}

    def __init__(self, **data: Any) -> None:
        # direct construction raises the same ConfigError as from_dict / from_yaml
        try:
            super().__init__(**data)
        except ValidationError as err:
            parts = []
            for e in err.errors():
                loc = ".".join(str(p) for p in e["loc"]) or "<root>"
                if e["type"] == "extra_forbidden":
                    parts.append(f"unknown key {loc!r}")
                else:
                    parts.append(f"{loc}: {e['msg']} (got {e.get('input')!r})")
            raise ConfigError("invalid ImpactConfig: " + "; ".join(parts)) from None

    @model_validator(mode="after")
    def _check_model(self) -> Self:
        try:
            _build(self.model, dict(self.params))
        except ConfigError as err:
            raise ValueError(str(err)) from None
        return self

    def build(self) -> ImpactModel:
        """Return a new (unfitted) model with these parameters."""
        return _build(self.model, dict(self.params))

    @classmethod
    def from_model(cls, model: ImpactModel) -> ImpactConfig:
        """The config of ``model`` with its fitted values as parameters (see ``fitted_params``)."""
        name = type(model).name
        if MODELS.get(name) is not type(model):
            raise ConfigError(f"{type(model).__name__} is not a built-in impact model")
        params = {k: (float(v) if isinstance(v, float) else v) for k, v in model.fitted_params().items()}
        return cls(model=name, params=params)
