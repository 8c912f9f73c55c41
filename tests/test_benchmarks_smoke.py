"""The benchmark scripts still run: each one's core on a tiny input (never timed here).

What is asserted is what makes their numbers meaningful: every engine replays the same events
into the same book (the scripts fail loudly otherwise, and that check itself is tested).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from execsim.book.l2 import L2Book
from execsim.data.schema import K_SET_LEVEL
from execsim.data.synthetic import synthetic_l2_stream

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"
HAVE_HFTBACKTEST = importlib.util.find_spec("hftbacktest") is not None


@pytest.fixture(scope="module")
def bench() -> Iterator[dict[str, ModuleType]]:
    """The benchmark modules, imported the way the scripts import each other."""
    pytest.importorskip("sortedcontainers", reason="the bench extra is not installed")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(BENCH_DIR))
        yield {
            name: importlib.import_module(name)
            for name in ("_common", "reference_book", "bench_l2_replay", "bench_l3_lobster")
        }


def test_l2_benchmark_core_runs_and_all_books_agree(bench: dict[str, ModuleType]) -> None:
    mod = bench["bench_l2_replay"]
    res = mod.run_l2_benchmark(n_events=20_000, seed=3, ref_events=5_000, repeats=1, ref_repeats=1)
    timings = res["timings"]
    expected = {"execsim L2Book", "pure-python SortedDict"}
    if HAVE_HFTBACKTEST:
        expected |= {f"hftbacktest {d} ({r})" for d, r in mod.HBT_VARIANTS}
    assert set(timings) == expected
    assert all(t["items"] > 0 and len(t["cpu_s"]) >= 1 for t in timings.values())
    bids, asks = res["final_top"]
    assert len(bids) == len(asks) == mod.TOP_N
    assert bids[0][0] < asks[0][0]
    # the reported top is the book's: replay independently and compare
    book = L2Book()
    book.apply(synthetic_l2_stream(seed=3, n_events=20_000))
    assert (bids[0], asks[0]) == (book.best_bid(), book.best_ask())
    assert set(mod.ratios(res)) == {
        f"execsim / {name} ({k})" for name in expected - {"execsim L2Book"} for k in ("best", "median")
    }


def test_a_book_that_replayed_different_events_is_caught(bench: dict[str, ModuleType]) -> None:
    mod = bench["bench_l2_replay"]
    events = synthetic_l2_stream(seed=4, n_events=5_000)
    ours = L2Book()
    ours.apply(events)
    # the reference replays the stream with the last depth update at its own best bid changed
    tampered = events.copy()
    ref_ok = bench["reference_book"].ReferenceL2Book()
    ref_ok.apply(events)
    mod.check_same("ours", mod.execsim_top(ours), "reference", mod.reference_top(ref_ok))
    best_bid_px = ref_ok.best_bid()[0]
    idx = np.flatnonzero(
        (tampered["kind"] == K_SET_LEVEL) & (tampered["side"] == 1) & (tampered["price"] == best_bid_px)
    )[-1]
    tampered["qty"][idx] += 1
    ref_bad = bench["reference_book"].ReferenceL2Book()
    ref_bad.apply(tampered)
    with pytest.raises(mod.BookMismatchError, match="final books differ"):
        mod.check_same("ours", mod.execsim_top(ours), "reference", mod.reference_top(ref_bad))


@pytest.mark.skipif(not HAVE_HFTBACKTEST, reason="hftbacktest (the bench extra) is not installed")
def test_hftbacktest_conversion_replays_to_the_same_book(bench: dict[str, ModuleType]) -> None:
    mod = bench["bench_l2_replay"]
    events = synthetic_l2_stream(seed=5, n_events=10_000, n_levels=8)
    ours = L2Book()
    ours.apply(events)
    top = mod.execsim_top(ours)
    lv = events["kind"] == K_SET_LEVEL
    price_range = (int(events["price"][lv].min()), int(events["price"][lv].max()))
    span = int(events["ts_recv"].max() - events["ts_event"].min()) + 1
    for depth, routing in mod.HBT_VARIANTS:
        data = mod.to_hftbacktest(events, routing=routing)
        hbt = mod.make_hbt(data, depth, price_range)
        assert mod.hbt_replay(hbt, span) == 1
        assert mod.hbt_top(hbt, top) == top, (depth, routing)
        hbt.close()


def test_l3_benchmark_core_on_a_prefix_matches_lobster(
    bench: dict[str, ModuleType], lobster_goog: tuple[Path, Path]
) -> None:
    mod = bench["bench_l3_lobster"]
    res = mod.run_l3_benchmark(*lobster_goog, repeats=1, max_rows=20_000)
    assert res["message_rows"] >= 20_000
    assert res["events"] > res["message_rows"]  # snapshot and reveals come on top
    assert set(res["timings"]) == {"apply"}
    assert res["book_stats"]["rejected_events"] == 0


def test_shared_data_resolver_honours_the_environment(
    bench: dict[str, ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = bench["_common"]
    monkeypatch.setenv("EXECSIM_SHARED_DATA", str(tmp_path))
    assert common.shared_data_dir() == tmp_path
    assert common.lobster_goog_paths() is None
    monkeypatch.delenv("EXECSIM_SHARED_DATA")
    assert common.shared_data_dir() == BENCH_DIR.parent.parent / "shared" / "data"
