"""Feed handlers: one module per source, each emitting canonical events."""

from execsim.data.feeds.base import DEFAULT_BATCH, FeedHandler, FeedReport
from execsim.data.feeds.bitstamp import BitstampFeed
from execsim.data.feeds.canonical import (
    CanonicalCsvFeed,
    CanonicalParquetFeed,
    ParquetWriteInfo,
    read_parquet_metadata,
    write_csv,
    write_parquet,
)

__all__ = [
    "DEFAULT_BATCH",
    "BitstampFeed",
    "CanonicalCsvFeed",
    "CanonicalParquetFeed",
    "FeedHandler",
    "FeedReport",
    "ParquetWriteInfo",
    "read_parquet_metadata",
    "write_csv",
    "write_parquet",
]
