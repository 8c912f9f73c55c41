"""Frozen, typed configuration objects with a content-addressed id.

A config is frozen data. Its id is the sha256 of its canonical JSON (keys sorted, no
whitespace, the class name included), so two equal configs have the same id in any process,
and every run, result and audit record can store it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar, Self

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from execsim.core.errors import ConfigError, DataNotFoundError

__all__ = ["FrozenConfig", "canonical_json"]


def canonical_json(obj: Any) -> str:
    """Return the canonical JSON text of ``obj``: sorted keys, no spaces, UTF-8 characters kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _describe(err: ValidationError, cls_name: str, source: str | None) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "<root>"
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown key {loc!r}")
        else:
            parts.append(f"{loc}: {e['msg']} (got {e.get('input')!r})")
    where = f"{source}: " if source else ""
    return f"{where}invalid {cls_name}: " + "; ".join(parts)


class FrozenConfig(BaseModel):
    """Base class of every execsim config.

    Subclasses declare typed fields. Instances are immutable, reject unknown keys, and expose
    :attr:`config_id`.

    Examples
    --------
    >>> class Demo(FrozenConfig):
    ...     seed: int = 7
    >>> Demo().config_id == Demo(seed=7).config_id
    True
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(
        frozen=True, extra="forbid", strict=False, validate_default=True
    )

    @property
    def config_id(self) -> str:
        """The sha256 hex digest of this config's canonical JSON."""
        payload = {"type": type(self).__name__, "config": self.model_dump(mode="json")}
        return hashlib.sha256(canonical_json(payload).encode()).hexdigest()

    def to_json(self) -> str:
        """Return this config as canonical JSON."""
        return canonical_json(self.model_dump(mode="json"))

    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None) -> Self:
        """Validate ``data`` into a config; raise :class:`ConfigError` naming bad keys."""
        if not isinstance(data, dict):
            where = f"{source}: " if source else ""
            raise ConfigError(f"{where}expected a mapping for {cls.__name__}, got {data!r}")
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise ConfigError(_describe(err, cls.__name__, source)) from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> Self:
        """Load a config from a YAML file."""
        p = Path(path)
        if not p.is_file():
            raise DataNotFoundError(f"config file not found: {p}")
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as err:
            raise ConfigError(f"{p}: not valid YAML: {err}") from None
        return cls.from_dict(data, source=str(p))
