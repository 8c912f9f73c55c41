"""The agent-market benchmark still runs: its core on a tiny input (never timed here)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from execsim.agents import NoiseTraderConfig

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    pytest.importorskip("sortedcontainers", reason="the bench extra is not installed")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(BENCH_DIR))
        yield importlib.import_module("bench_abm")


def test_abm_benchmark_core_counts_book_operations(bench: ModuleType) -> None:
    res = bench.run_abm_benchmark(hours=0.02, repeats=1, ref_seconds=20)
    run = res["runs"][0]
    assert run["book_ops"] == run["submits"] + run["cancels"] + run["executions"] > 0
    assert res["ops_per_cpu_s"]["median"] > 0
    assert res["reference_pure_python"]["book_ops"] > 0


def test_the_pure_python_reference_book_matches_price_time_priority(bench: ModuleType) -> None:
    book = bench._PyBook()
    book.add(1, 1, 100, 5)
    book.add(2, 1, 100, 5)
    book.add(3, 1, 101, 5)
    assert book.best(1) == 101
    assert book.market(-1, 8) == [(3, 5), (1, 3)]  # best price first, then time priority
    assert book.cancel(2)
    assert not book.cancel(3)  # fully executed
    assert book.best(1) == 100
    ref = bench.run_reference(NoiseTraderConfig(), seconds=5, seed=1)
    assert ref["book_ops"] > 0
