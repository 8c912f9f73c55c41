"""Feed handlers: one module per source, each emitting canonical events."""

from execsim.data.feeds.base import DEFAULT_BATCH, FeedHandler, FeedReport
from execsim.data.feeds.binance import BinanceChunk, BinanceFeed, BinanceFeedReport, BinanceMarket
from execsim.data.feeds.bitstamp import BitstampFeed
from execsim.data.feeds.canonical import (
    CanonicalCsvFeed,
    CanonicalParquetFeed,
    ParquetWriteInfo,
    read_parquet_metadata,
    write_csv,
    write_parquet,
)
from execsim.data.feeds.lobster import (
    LobsterChunk,
    LobsterFeed,
    LobsterFileName,
    LobsterReport,
    parse_lobster_filename,
)

__all__ = [
    "DEFAULT_BATCH",
    "BinanceChunk",
    "BinanceFeed",
    "BinanceFeedReport",
    "BinanceMarket",
    "BitstampFeed",
    "CanonicalCsvFeed",
    "CanonicalParquetFeed",
    "FeedHandler",
    "FeedReport",
    "LobsterChunk",
    "LobsterFeed",
    "LobsterFileName",
    "LobsterReport",
    "ParquetWriteInfo",
    "parse_lobster_filename",
    "read_parquet_metadata",
    "write_csv",
    "write_parquet",
]
