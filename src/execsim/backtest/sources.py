"""Where a session's market data comes from: one small config per kind of source.

Each config opens a fresh stream of canonical event batches on every call of
:meth:`open` (a session reads the stream twice: once at venue time for the venue, once at
receive time for the strategy's view), knows its instrument, and hashes its input files so the
run manifest can prove which data a result came from.

Relative paths are resolved against the directory of the config file that named them, and
``$VARIABLES`` are expanded, so example configs can say ``$EXECSIM_SHARED_DATA/lobster/...``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from execsim.core.config import FrozenConfig
from execsim.core.errors import ConfigError, DataNotFoundError
from execsim.data.feeds.base import DEFAULT_BATCH, FeedHandler
from execsim.model.instrument import Instrument

__all__ = [
    "AgentSource",
    "BinanceSource",
    "DataSource",
    "LobsterSource",
    "OpenedSource",
    "ParquetSource",
    "RepositorySource",
    "SyntheticSource",
    "file_sha256",
]


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _resolve(path: str, base: Path | None) -> Path:
    p = Path(os.path.expandvars(os.path.expanduser(path)))
    if "$" in str(p):
        raise ConfigError(f"data path {path!r} names an environment variable that is not set")
    if not p.is_absolute() and base is not None:
        p = base / p
    if not p.exists():
        raise DataNotFoundError(f"data file not found: {p} (from {path!r})")
    return p


class OpenedSource:
    """A source ready to stream: its instrument, its data hashes and a batch opener.

    A *live* source (the reactive agent market) has no tape to open: its events come from the
    venue as the session runs it, because our orders change them.
    """

    def __init__(
        self,
        instrument: Instrument,
        opener: Callable[[], Iterator[np.ndarray]],
        hashes: dict[str, str],
        description: str,
        *,
        live: bool = False,
    ) -> None:
        self.instrument = instrument
        self._opener = opener
        self.hashes = hashes
        self.description = description
        self.live = live

    def open(self) -> Iterator[np.ndarray]:
        """A fresh iterator over the stream's event batches."""
        return self._opener()


def _feed_batches(make: Callable[[], FeedHandler], batch_size: int) -> Callable[[], Iterator[np.ndarray]]:
    def opener() -> Iterator[np.ndarray]:
        return make().batches(batch_size)

    return opener


class SyntheticSource(FrozenConfig):
    """The built-in seeded synthetic L2 stream (:mod:`execsim.data.synthetic`).

    Its seed is spawned from the run seed, so the run seed alone fixes the market.
    """

    kind: Literal["synthetic"] = "synthetic"
    n_events: int = Field(default=1_000_000, gt=0)
    minutes: float = Field(default=60.0, gt=0)
    mid_ticks: int = Field(default=100_000, gt=0)
    n_levels: int = Field(default=20, gt=0)
    trade_share: float = Field(default=0.05, ge=0, le=0.4)

    def opened(self, *, seed: np.random.SeedSequence, base: Path | None = None) -> OpenedSource:
        """Open the source (``seed``: the data stream's spawned seed sequence)."""
        from execsim.data.synthetic import default_instrument, iter_synthetic_l2

        entropy = seed.entropy
        key = seed.spawn_key

        def opener() -> Iterator[np.ndarray]:
            return iter_synthetic_l2(
                seed=np.random.SeedSequence(entropy, spawn_key=key),
                n_events=self.n_events,
                duration_ns=int(self.minutes * 60e9),
                mid_ticks=self.mid_ticks,
                n_levels=self.n_levels,
                trade_share=self.trade_share,
            )

        return OpenedSource(
            default_instrument(),
            opener,
            {"synthetic": self.config_id},
            f"synthetic L2 stream ({self.n_events:,} events, {self.minutes:g} min)",
        )


class LobsterSource(FrozenConfig):
    """A LOBSTER message + orderbook file pair (L3)."""

    kind: Literal["lobster"] = "lobster"
    messages: str
    orderbook: str
    tick_size: str = "0.0001"
    tz: str = "America/New_York"
    symbol: str | None = None

    def opened(self, *, seed: np.random.SeedSequence, base: Path | None = None) -> OpenedSource:
        """Open the source."""
        from execsim.data.feeds.lobster import LobsterFeed

        msg, ob = _resolve(self.messages, base), _resolve(self.orderbook, base)

        def make() -> FeedHandler:
            return LobsterFeed(msg, ob, tick_size=self.tick_size, tz=self.tz, symbol=self.symbol)

        feed = make()
        return OpenedSource(
            feed.instrument,
            _feed_batches(make, DEFAULT_BATCH),
            {msg.name: file_sha256(msg), ob.name: file_sha256(ob)},
            f"LOBSTER {msg.name}",
        )


class BinanceSource(FrozenConfig):
    """One or more Binance raw capture files read as one stream (L2)."""

    kind: Literal["binance"] = "binance"
    paths: list[str] = Field(min_length=1)
    market: str | None = None
    tick_size: str | None = None
    lot_size: str | None = None

    def opened(self, *, seed: np.random.SeedSequence, base: Path | None = None) -> OpenedSource:
        """Open the source."""
        from execsim.data.feeds.binance import BinanceFeed

        paths = [_resolve(p, base) for p in self.paths]

        def make() -> FeedHandler:
            return BinanceFeed(paths, market=self.market, tick_size=self.tick_size, lot_size=self.lot_size)

        feed = make()
        return OpenedSource(
            feed.instrument,
            _feed_batches(make, DEFAULT_BATCH),
            {p.name: file_sha256(p) for p in paths},
            "Binance " + ", ".join(p.name for p in paths),
        )


class ParquetSource(FrozenConfig):
    """A canonical Parquet file written by execsim."""

    kind: Literal["parquet"] = "parquet"
    path: str

    def opened(self, *, seed: np.random.SeedSequence, base: Path | None = None) -> OpenedSource:
        """Open the source."""
        from execsim.data.feeds.canonical import CanonicalParquetFeed

        path = _resolve(self.path, base)

        def make() -> FeedHandler:
            return CanonicalParquetFeed(path)

        return OpenedSource(
            make().instrument, _feed_batches(make, DEFAULT_BATCH), {path.name: file_sha256(path)}, str(path)
        )


class RepositorySource(FrozenConfig):
    """A symbol (and time range) from an execsim data repository."""

    kind: Literal["repository"] = "repository"
    symbol: str
    venue: str | None = None
    root: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None

    def opened(self, *, seed: np.random.SeedSequence, base: Path | None = None) -> OpenedSource:
        """Open the source."""
        from execsim.data.repository import Repository

        root = None if self.root is None else _resolve(self.root, base)
        repo = Repository(root)
        entries = repo.list(symbol=self.symbol, venue=self.venue)
        if not entries:
            raise DataNotFoundError(f"symbol {self.symbol!r} is not in the repository at {repo.root}")

        def opener() -> Iterator[np.ndarray]:
            return repo.query(self.symbol, self.start_ns, self.end_ns, venue=self.venue)

        return OpenedSource(
            repo.instrument(self.symbol, venue=self.venue),
            opener,
            {e.path: e.sha256 for e in entries},
            f"repository {repo.root} {self.symbol}",
        )


class AgentSource(FrozenConfig):
    """The reactive agent-based market (:mod:`execsim.agents`): background agents in compiled
    code that react to the book, our orders included. Its seed is the run's ``agents`` stream."""

    kind: Literal["agents"] = "agents"
    minutes: float = Field(default=30.0, gt=0, description="market time the session runs")
    market: dict[str, Any] = Field(
        default_factory=dict, description="AgentMarketConfig parameters (defaults resemble the GOOG day)"
    )

    def market_config(self) -> Any:
        """The validated :class:`~execsim.agents.AgentMarketConfig`."""
        from execsim.agents.config import AgentMarketConfig

        return AgentMarketConfig.from_dict(self.market, source="data.market")

    def opened(self, *, seed: np.random.SeedSequence, base: Path | None = None) -> OpenedSource:
        """Describe the live source (the venue produces the events)."""
        cfg = self.market_config()

        def opener() -> Iterator[np.ndarray]:
            raise ConfigError("the agent market is live: its events come from its venue, not a tape")

        return OpenedSource(
            cfg.instrument(),
            opener,
            {"agents": cfg.config_id},
            f"agent-based market ({self.minutes:g} min)",
            live=True,
        )


DataSource = Annotated[
    SyntheticSource | LobsterSource | BinanceSource | ParquetSource | RepositorySource | AgentSource,
    Field(discriminator="kind"),
]
