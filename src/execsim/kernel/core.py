"""The discrete-event kernel: one totally ordered timeline per simulation.

Events sit in a heap keyed ``(time_ns, priority, seq)``: time first, then a priority for
events due at the same nanosecond (lower runs first), then the order of scheduling, so the
order of execution never depends on anything but the inputs. Cancelling is lazy (the entry is
marked and skipped when it reaches the top), which keeps ``cancel`` O(1). There is no global
state: each :class:`Kernel` is independent, and many coexist in one process.

Time never goes backwards: scheduling in the past raises, and ``now`` only moves forward.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from execsim.core.errors import ExecsimError

__all__ = ["Kernel", "KernelError", "ScheduledEvent"]


class KernelError(ExecsimError, RuntimeError):
    """The kernel was asked to do something impossible (schedule in the past, run backwards)."""


@dataclass(slots=True, eq=False)
class ScheduledEvent:
    """A handle to a scheduled callback; pass it to :meth:`Kernel.cancel`."""

    time_ns: int
    priority: int
    seq: int
    callback: Callable[..., Any] = field(repr=False)
    args: tuple[Any, ...] = field(repr=False, default=())
    cancelled: bool = False

    def __lt__(self, other: ScheduledEvent) -> bool:
        return (self.time_ns, self.priority, self.seq) < (other.time_ns, other.priority, other.seq)


class Kernel:
    """A deterministic discrete-event scheduler.

    Parameters
    ----------
    start_ns
        The initial simulation time, UTC nanoseconds.

    Examples
    --------
    >>> k = Kernel(start_ns=0)
    >>> seen = []
    >>> _ = k.schedule(20, seen.append, "b")
    >>> _ = k.schedule(10, seen.append, "a")
    >>> k.run()
    2
    >>> seen, k.now
    (['a', 'b'], 20)
    """

    __slots__ = ("_heap", "_live", "_now", "_seq", "_stopped")

    def __init__(self, *, start_ns: int = 0) -> None:
        self._heap: list[ScheduledEvent] = []
        self._now = int(start_ns)
        self._seq = 0
        self._live = 0
        self._stopped = False

    @property
    def now(self) -> int:
        """Current simulation time, nanoseconds."""
        return self._now

    def __len__(self) -> int:
        """Number of pending (not cancelled) events."""
        return self._live

    def schedule(
        self, time_ns: int, callback: Callable[..., Any], *args: Any, priority: int = 0
    ) -> ScheduledEvent:
        """Schedule ``callback(*args)`` at absolute time ``time_ns``."""
        t = int(time_ns)
        if t < self._now:
            raise KernelError(f"cannot schedule at {t} ns: the kernel is already at {self._now} ns")
        ev = ScheduledEvent(t, int(priority), self._seq, callback, args)
        self._seq += 1
        self._live += 1
        heapq.heappush(self._heap, ev)
        return ev

    def schedule_after(
        self, delay_ns: int, callback: Callable[..., Any], *args: Any, priority: int = 0
    ) -> ScheduledEvent:
        """Schedule ``callback(*args)`` ``delay_ns`` after now (``delay_ns >= 0``)."""
        if delay_ns < 0:
            raise KernelError(f"delay must be >= 0 ns, got {delay_ns}")
        return self.schedule(self._now + int(delay_ns), callback, *args, priority=priority)

    def cancel(self, event: ScheduledEvent) -> bool:
        """Cancel a pending event; return False if it already ran or was cancelled."""
        if event.cancelled or event.seq < 0:
            return False
        event.cancelled = True
        self._live -= 1
        return True

    def peek(self) -> int | None:
        """Time of the next pending event, or None when there is none."""
        self._drop_cancelled()
        return self._heap[0].time_ns if self._heap else None

    def step(self) -> bool:
        """Run the next pending event; return False when there was none."""
        self._drop_cancelled()
        if not self._heap:
            return False
        ev = heapq.heappop(self._heap)
        self._live -= 1
        self._now = ev.time_ns
        ev.seq = -1  # marks it as run, so a late cancel() reports False
        ev.callback(*ev.args)
        return True

    def run(self, until_ns: int | None = None) -> int:
        """Run events in order until none is left, ``stop()`` is called, or the next one is
        after ``until_ns`` (then ``now`` advances to ``until_ns``). Return the number run."""
        if until_ns is not None and until_ns < self._now:
            raise KernelError(f"cannot run until {until_ns} ns: the kernel is already at {self._now} ns")
        self._stopped = False
        n = 0
        while not self._stopped:
            nxt = self.peek()
            if nxt is None or (until_ns is not None and nxt > until_ns):
                break
            self.step()
            n += 1
        if until_ns is not None and not self._stopped:
            self._now = max(self._now, int(until_ns))
        return n

    def skip_to(self, time_ns: int) -> None:
        """Move the clock to ``time_ns`` without running anything; no pending event may be
        earlier (events due exactly then stay pending)."""
        t = int(time_ns)
        nxt = self.peek()
        if t < self._now or (nxt is not None and nxt < t):
            raise KernelError(
                f"cannot skip to {t} ns: the clock is at {self._now} ns, next event at {nxt} ns"
            )
        self._now = t

    def stop(self) -> None:
        """Make the current :meth:`run` return after the event being processed."""
        self._stopped = True

    def _drop_cancelled(self) -> None:
        heap = self._heap
        while heap and heap[0].cancelled:
            heapq.heappop(heap)
