from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execsim.kernel import Kernel, KernelError


def test_events_run_in_time_then_priority_then_scheduling_order() -> None:
    k = Kernel(start_ns=100)
    seen: list[str] = []
    k.schedule(200, seen.append, "t200-p0-first")
    k.schedule(200, seen.append, "t200-p-1", priority=-1)
    k.schedule(150, seen.append, "t150")
    k.schedule(200, seen.append, "t200-p0-second")
    assert k.run() == 4
    assert seen == ["t150", "t200-p-1", "t200-p0-first", "t200-p0-second"]
    assert k.now == 200


def test_cancelled_events_never_run_and_cancel_reports_whether_it_acted() -> None:
    k = Kernel()
    seen: list[int] = []
    a = k.schedule(10, seen.append, 1)
    b = k.schedule(20, seen.append, 2)
    assert len(k) == 2
    assert k.cancel(a) is True
    assert k.cancel(a) is False
    assert len(k) == 1
    k.run()
    assert seen == [2]
    assert k.cancel(b) is False  # already ran


def test_run_until_stops_before_later_events_and_advances_the_clock() -> None:
    k = Kernel()
    seen: list[int] = []
    for t in (5, 10, 15):
        k.schedule(t, seen.append, t)
    assert k.run(until_ns=12) == 2
    assert k.now == 12
    assert seen == [5, 10]
    assert k.peek() == 15


def test_callbacks_can_schedule_more_events_and_stop_the_run() -> None:
    k = Kernel()
    seen: list[int] = []

    def tick(i: int) -> None:
        seen.append(i)
        if i == 3:
            k.stop()
        k.schedule_after(10, tick, i + 1)

    k.schedule(0, tick, 0)
    k.run()
    assert seen == [0, 1, 2, 3]
    assert k.now == 30
    assert k.peek() == 40


def test_time_never_goes_backwards() -> None:
    k = Kernel(start_ns=50)
    with pytest.raises(KernelError, match="cannot schedule at 40 ns: the kernel is already at 50 ns"):
        k.schedule(40, print)
    with pytest.raises(KernelError, match="delay must be >= 0"):
        k.schedule_after(-1, print)
    with pytest.raises(KernelError, match="cannot run until 10 ns"):
        k.run(until_ns=10)


def test_two_kernels_in_one_process_are_independent() -> None:
    a, b = Kernel(), Kernel()
    out: list[str] = []
    a.schedule(1, out.append, "a")
    b.schedule(1, out.append, "b")
    a.run()
    assert out == ["a"]
    assert len(b) == 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1_000), st.integers(-3, 3)), max_size=60), st.data())
def test_execution_order_is_the_sorted_order_of_surviving_keys(
    items: list[tuple[int, int]], data: st.DataObject
) -> None:
    k = Kernel()
    seen: list[int] = []
    handles = [k.schedule(t, seen.append, i, priority=p) for i, (t, p) in enumerate(items)]
    drop = data.draw(st.sets(st.sampled_from(range(len(items))) if items else st.nothing()))
    for i in drop:
        k.cancel(handles[i])
    k.run()
    expected = sorted((t, p, i) for i, (t, p) in enumerate(items) if i not in drop)
    assert seen == [i for _, _, i in expected]


def test_skip_to_moves_the_clock_without_running_events_due_then() -> None:
    k = Kernel()
    seen: list[int] = []
    k.schedule(10, seen.append, 10)
    k.skip_to(10)
    assert k.now == 10
    assert seen == []
    with pytest.raises(KernelError, match="cannot skip to 11 ns"):
        k.skip_to(11)
    k.run()
    assert seen == [10]
