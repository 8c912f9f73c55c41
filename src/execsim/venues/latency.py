"""Latency models: how long information takes between the venue and the agent.

Three separate delays exist in every session (hftbacktest's *feed* and *order* latencies,
split further):

* **market data**: venue time ``ts_event`` → when the strategy can see the event;
* **order entry**: the strategy sends → the venue receives;
* **response**: the venue acts (ack, fill, cancel) → the strategy learns of it.

Each is a :class:`LatencyModel` with one method, :meth:`~LatencyModel.delays`, vectorised over
event times so a whole batch of market data is delayed in one numpy call. Models that draw
random numbers take a :class:`numpy.random.Generator` spawned from the run's seed sequence, so
runs stay deterministic.

Defaults (documented in every report): market data 0 (the data's own ``ts_recv`` is used),
order entry 200 µs, response 200 µs — a colocated participant on a US equity venue.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

import numpy as np
from pydantic import Field

from execsim.core.config import FrozenConfig
from execsim.core.errors import ConfigError

__all__ = [
    "ConstantLatency",
    "DataLatency",
    "EmpiricalLatency",
    "LatencyConfig",
    "LatencyModel",
    "StateDependentLatency",
    "latency_from_config",
]


class LatencyModel(ABC):
    """A delay in nanoseconds for each of a batch of events."""

    @abstractmethod
    def delays(self, ts_ns: np.ndarray, *, ts_recv_ns: np.ndarray | None = None) -> np.ndarray:
        """Return int64 delays (>= 0), one per event time in ``ts_ns``.

        Parameters
        ----------
        ts_ns
            Event times (venue time for market data; send time for orders), non-decreasing.
        ts_recv_ns
            The data's own receive times, where the model uses them (:class:`DataLatency`).
        """

    def delay(self, ts_ns: int) -> int:
        """The delay for one event at ``ts_ns``."""
        return int(self.delays(np.array([ts_ns], dtype=np.int64))[0])


class ConstantLatency(LatencyModel):
    """The same delay for every event."""

    def __init__(self, latency_ns: int) -> None:
        if latency_ns < 0:
            raise ConfigError(f"latency_ns must be >= 0, got {latency_ns}")
        self.latency_ns = int(latency_ns)

    def delays(self, ts_ns: np.ndarray, *, ts_recv_ns: np.ndarray | None = None) -> np.ndarray:
        return np.full(len(ts_ns), self.latency_ns, dtype=np.int64)

    def __repr__(self) -> str:
        return f"ConstantLatency(latency_ns={self.latency_ns})"


class DataLatency(LatencyModel):
    """The data's own feed latency, ``ts_recv − ts_event``, plus a constant offset.

    ``offset_ns`` corrects a capture clock that was off (the Binance sample's collector clock
    runs ~1.27 s behind the exchange, so its raw differences are negative). Negative results are
    clipped to 0 and never reorder events.
    """

    def __init__(self, offset_ns: int = 0) -> None:
        self.offset_ns = int(offset_ns)

    def delays(self, ts_ns: np.ndarray, *, ts_recv_ns: np.ndarray | None = None) -> np.ndarray:
        if ts_recv_ns is None:
            raise ConfigError("DataLatency needs the data's ts_recv; use it for market data only")
        return np.maximum(ts_recv_ns.astype(np.int64) - ts_ns + self.offset_ns, 0)

    def __repr__(self) -> str:
        return f"DataLatency(offset_ns={self.offset_ns})"


class EmpiricalLatency(LatencyModel):
    """Delays drawn (with replacement) from observed samples, e.g. a feed's ``ts_recv − ts_event``.

    Parameters
    ----------
    samples_ns
        Observed delays; negative values are rejected (correct the clock first).
    rng
        The random generator, spawned from the run's seed sequence.
    """

    def __init__(self, samples_ns: np.ndarray, rng: np.random.Generator) -> None:
        s = np.asarray(samples_ns, dtype=np.int64)
        if s.size == 0:
            raise ConfigError("EmpiricalLatency needs at least one sample")
        if (s < 0).any():
            raise ConfigError(f"EmpiricalLatency samples must be >= 0; smallest is {int(s.min())} ns")
        self.samples_ns = np.sort(s)
        self.rng = rng

    @classmethod
    def from_events(
        cls, events: np.ndarray, rng: np.random.Generator, *, offset_ns: int = 0
    ) -> EmpiricalLatency:
        """Build from canonical events' ``ts_recv − ts_event`` (plus a clock offset)."""
        d = events["ts_recv"].astype(np.int64) - events["ts_event"] + offset_ns
        return cls(np.maximum(d, 0), rng)

    def delays(self, ts_ns: np.ndarray, *, ts_recv_ns: np.ndarray | None = None) -> np.ndarray:
        return self.rng.choice(self.samples_ns, size=len(ts_ns))

    def __repr__(self) -> str:
        q = np.percentile(self.samples_ns, [50, 99]).astype(int)
        return f"EmpiricalLatency(n={self.samples_ns.size}, p50={q[0]}, p99={q[1]})"


class StateDependentLatency(LatencyModel):
    """A delay that rises with the message rate: ``base + per_msg_rate × rate``.

    ``rate`` is the number of events in the trailing ``window_ns`` (events per window),
    computed from the event times themselves, so bursts (a sweep, an open) slow the path the
    way a congested gateway or feed handler does. The delay is capped at ``max_ns``.
    """

    def __init__(
        self, base_ns: int, per_event_ns: float, window_ns: int = 1_000_000, max_ns: int = 10**9
    ) -> None:
        if base_ns < 0 or per_event_ns < 0 or window_ns <= 0 or max_ns < base_ns:
            raise ConfigError(
                "StateDependentLatency needs base_ns >= 0, per_event_ns >= 0, window_ns > 0, "
                f"max_ns >= base_ns; got {base_ns}, {per_event_ns}, {window_ns}, {max_ns}"
            )
        self.base_ns, self.per_event_ns = int(base_ns), float(per_event_ns)
        self.window_ns, self.max_ns = int(window_ns), int(max_ns)

    def delays(self, ts_ns: np.ndarray, *, ts_recv_ns: np.ndarray | None = None) -> np.ndarray:
        ts = np.asarray(ts_ns, dtype=np.int64)
        # events in (t - window, t]: index of the first event inside the window
        first = np.searchsorted(ts, ts - self.window_ns, side="right")
        rate = np.arange(1, len(ts) + 1) - first
        d = self.base_ns + np.rint(self.per_event_ns * rate).astype(np.int64)
        return np.minimum(d, self.max_ns)

    def __repr__(self) -> str:
        return (
            f"StateDependentLatency(base_ns={self.base_ns}, per_event_ns={self.per_event_ns}, "
            f"window_ns={self.window_ns}, max_ns={self.max_ns})"
        )


class LatencyConfig(FrozenConfig):
    """Config of one latency path; ``model`` picks the class, the other fields its parameters."""

    model: Literal["constant", "data", "empirical", "state_dependent"] = "constant"
    latency_ns: int = Field(default=200_000, ge=0, description="constant: the delay")
    offset_ns: int = Field(default=0, description="data/empirical: clock offset added to ts_recv − ts_event")
    base_ns: int = Field(default=100_000, ge=0, description="state_dependent: delay at zero load")
    per_event_ns: float = Field(
        default=1_000.0, ge=0, description="state_dependent: extra ns per event in window"
    )
    window_ns: int = Field(default=1_000_000, gt=0, description="state_dependent: trailing window")
    max_ns: int = Field(default=10**9, ge=0, description="state_dependent: cap")


def latency_from_config(
    cfg: LatencyConfig, *, rng: np.random.Generator | None = None, events: np.ndarray | None = None
) -> LatencyModel:
    """Build the latency model a config names (``empirical`` needs ``events`` and ``rng``)."""
    if cfg.model == "constant":
        return ConstantLatency(cfg.latency_ns)
    if cfg.model == "data":
        return DataLatency(cfg.offset_ns)
    if cfg.model == "state_dependent":
        return StateDependentLatency(cfg.base_ns, cfg.per_event_ns, cfg.window_ns, cfg.max_ns)
    if events is None or rng is None:
        raise ConfigError("the empirical latency model needs the session's events and a random generator")
    return EmpiricalLatency.from_events(events, rng, offset_ns=cfg.offset_ns)
