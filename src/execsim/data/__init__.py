"""Market data: the canonical event schema, feed handlers and the data repository."""

from execsim.data.feeds.base import DEFAULT_BATCH, FeedHandler, FeedReport
from execsim.data.repository import CatalogEntry, ImportResult, Repository, SymbolSummary
from execsim.data.schema import ARROW_SCHEMA, EVENT_DTYPE, empty_events
from execsim.data.synthetic import iter_synthetic_l2, synthetic_l2_stream
from execsim.data.validation import EventValidator, validate_events

__all__ = [
    "ARROW_SCHEMA",
    "DEFAULT_BATCH",
    "EVENT_DTYPE",
    "CatalogEntry",
    "EventValidator",
    "FeedHandler",
    "FeedReport",
    "ImportResult",
    "Repository",
    "SymbolSummary",
    "empty_events",
    "iter_synthetic_l2",
    "synthetic_l2_stream",
    "validate_events",
]
