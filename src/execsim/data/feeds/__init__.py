"""Feed handlers: one module per source, each emitting canonical events."""

from execsim.data.feeds.base import DEFAULT_BATCH, FeedHandler, FeedReport

__all__ = ["DEFAULT_BATCH", "FeedHandler", "FeedReport"]
