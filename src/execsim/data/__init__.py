"""Market data: the canonical event schema, feed handlers and the data repository."""

from execsim.data.feeds.base import DEFAULT_BATCH, FeedHandler, FeedReport
from execsim.data.schema import ARROW_SCHEMA, EVENT_DTYPE, empty_events
from execsim.data.synthetic import iter_synthetic_l2, synthetic_l2_stream

__all__ = [
    "ARROW_SCHEMA",
    "DEFAULT_BATCH",
    "EVENT_DTYPE",
    "FeedHandler",
    "FeedReport",
    "empty_events",
    "iter_synthetic_l2",
    "synthetic_l2_stream",
]
