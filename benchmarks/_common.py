"""Shared helpers of the benchmark scripts: data paths, CPU timing, memory, machine facts, tables.

(The hftbacktest glue shared by the L2 and market-making scripts is in ``_hbt.py``.)

Method (the same in every script)
---------------------------------
* Time is CPU time of this process (:func:`time.process_time`), not wall time: the benchmark
  machine is shared, and CPU seconds are what another process cannot steal. Each measurement is
  repeated and the best and the median are reported; ratios compare numbers from the same run.
* Compilation and numba cache loading are kept out of steady-state numbers: every engine is
  called once on a small input before it is timed, and the cold start is measured on its own,
  in fresh processes (see :func:`cold_start`).
* Memory is reported two ways, each named: ``tracemalloc`` peak (Python-allocated buffers,
  numpy arrays included, nothing allocated by Rust/C libraries) and the growth of the process's
  peak resident set (``ru_maxrss``) over a measured step in a fresh process (everything).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO_ROOT / "benchmarks"

T = TypeVar("T")


def shared_data_dir() -> Path:
    """The shared real-data folder: ``$EXECSIM_SHARED_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get("EXECSIM_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def lobster_goog_paths() -> tuple[Path, Path] | None:
    """(message, orderbook) files of the LOBSTER GOOG 2012-06-21 level-10 day, or None if absent."""
    d = shared_data_dir() / "lobster"
    msg = d / "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
    book = d / "GOOG_2012-06-21_34200000_57600000_orderbook_10.csv.gz"
    return (msg, book) if msg.is_file() and book.is_file() else None


# -- timing -------------------------------------------------------------------------------


@dataclass(slots=True)
class Timing:
    """CPU seconds of repeated runs of one measurement."""

    name: str
    items: int
    cpu_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.cpu_s)

    @property
    def median(self) -> float:
        return statistics.median(self.cpu_s)

    @property
    def rate_best(self) -> float:
        """Items per CPU second, from the best run."""
        return self.items / self.best if self.best > 0 else float("inf")

    @property
    def rate_median(self) -> float:
        """Items per CPU second, from the median run."""
        return self.items / self.median if self.median > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(
            best_cpu_s=self.best,
            median_cpu_s=self.median,
            rate_best=self.rate_best,
            rate_median=self.rate_median,
        )
        return d

    def measure(self, fn: Callable[[], T]) -> T:
        """Call ``fn()`` (see :func:`cpu_timed`), record its CPU and wall seconds, return its result."""
        out, cpu, wall = cpu_timed(fn)
        self.cpu_s.append(cpu)
        self.wall_s.append(wall)
        return out


def cpu_timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """Call ``fn()``; return its result, the CPU seconds and the wall seconds it took."""
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


# -- memory -------------------------------------------------------------------------------


def max_rss_bytes() -> int:
    """Peak resident set size of this process so far, in bytes (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _status_kib(field_name: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


class PeakRss:
    """Growth of the resident set over a step: peak during the step minus the size before it.

    On Linux the kernel's high-water mark (``VmHWM``) is reset at the start (writing ``5`` to
    ``/proc/self/clear_refs``), so an earlier, larger peak (e.g. while the input data was being
    generated) does not hide the step's own. Elsewhere it falls back to ``ru_maxrss``, which
    only sees growth beyond the process's earlier peak (``method`` says which was used).
    """

    def __init__(self) -> None:
        self.method = "ru_maxrss"
        try:
            Path("/proc/self/clear_refs").write_text("5")
            if _status_kib("VmHWM") is not None:
                self.method = "VmHWM after reset"
        except OSError:
            pass
        self.before = self._current() if self.method != "ru_maxrss" else max_rss_bytes()

    @staticmethod
    def _current() -> int:
        return (_status_kib("VmRSS") or 0) * 1024

    def growth(self) -> int:
        """Bytes the peak resident set rose above the size at construction."""
        if self.method == "ru_maxrss":
            return max_rss_bytes() - self.before
        return (_status_kib("VmHWM") or 0) * 1024 - self.before


def tracemalloc_peak(fn: Callable[[], Any]) -> int:
    """Peak bytes traced by :mod:`tracemalloc` (numpy buffers included) while ``fn()`` runs."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


# -- fresh processes ------------------------------------------------------------------------


def run_child(script: Path, args: Sequence[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``script --child ...`` in a fresh interpreter and return the JSON it prints last."""
    full_env = dict(os.environ)
    full_env.setdefault("OMP_NUM_THREADS", "1")
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO_ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {script.name} {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"child {script.name} {' '.join(args)} printed no JSON:\n{proc.stdout}")
    return dict(json.loads(lines[-1]))


def cold_start(script: Path, args: Sequence[str]) -> dict[str, Any]:
    """Measure a cold start twice in fresh processes sharing a new, empty numba cache folder.

    The first child starts with an empty cache (it compiles and writes the cache), the second
    finds it (it loads the cache). Returns ``{"compile": {...}, "cache_load": {...}}``.
    """
    with tempfile.TemporaryDirectory(prefix="execsim-bench-numba-") as cache_dir:
        env = {"NUMBA_CACHE_DIR": cache_dir}
        first = run_child(script, args, env)
        second = run_child(script, args, env)
    return {"compile": first, "cache_load": second}


def print_child_timing(fn: Callable[[], Any]) -> None:
    """The child's side of :func:`cold_start`: time ``fn()``, print ``{"cpu_s", "wall_s"}`` as JSON."""
    _, cpu, wall = cpu_timed(fn)
    print(json.dumps({"cpu_s": cpu, "wall_s": wall}))


# -- machine and reporting ----------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(module: str) -> str:
    try:
        mod = __import__(module)
    except ImportError:
        return "not installed"
    return str(getattr(mod, "__version__", "unknown"))


def machine_info() -> dict[str, Any]:
    """Facts a reader needs to judge the numbers: CPUs, load, Python and library versions."""
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "nproc": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "loadavg_1_5_15": [round(x, 2) for x in load],
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "numba": _version("numba"),
        "hftbacktest": _version("hftbacktest"),
        "sortedcontainers": _version("sortedcontainers"),
        "platform": platform.platform(),
    }


def print_machine(
    before: dict[str, Any], after: dict[str, Any], libs: Sequence[str] = ("numpy", "numba")
) -> None:
    """One line on the machine (from :func:`machine_info`) and its load before and after the run."""
    versions = ", ".join(f"{lib} {before[lib]}" for lib in libs)
    print(
        f"machine: {before['nproc']} CPUs, {before['cpu_model']}; Python {before['python']}, {versions}; "
        f"load average before {before['loadavg_1_5_15']}, after {after['loadavg_1_5_15']}"
    )


def log(msg: str) -> None:
    """A progress line on stderr (the results go to stdout)."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def fmt_rate(x: float) -> str:
    """Format items per second with an SI suffix (``12.3 M``)."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.2f} {suffix}"
    return f"{x:.1f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a Markdown table (pasteable into docs/benchmarks.md)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def timing_row(name: str, d: dict[str, Any], items_suffix: str = "") -> list[object]:
    """A table row of one :meth:`Timing.as_dict`: name, items, best and median CPU s, rates, runs."""
    return [
        name,
        f"{d['items']:,}{items_suffix}",
        f"{d['best_cpu_s']:.3f}",
        f"{d['median_cpu_s']:.3f}",
        fmt_rate(d["rate_best"]),
        fmt_rate(d["rate_median"]),
        len(d["cpu_s"]),
    ]


def speed_ratios(timings: dict[str, dict[str, Any]], ours: str, label: str | None = None) -> dict[str, float]:
    """``ours`` against every other timing, in items per CPU second (best and median).

    Keys read ``"{label} / {other} (best)"``; ``label`` defaults to ``ours``.
    """
    label = ours if label is None else label
    mine = timings[ours]
    out = {}
    for name, other in timings.items():
        if name == ours:
            continue
        out[f"{label} / {name} (best)"] = mine["rate_best"] / other["rate_best"]
        out[f"{label} / {name} (median)"] = mine["rate_median"] / other["rate_median"]
    return out


def write_json(path: str | Path, payload: dict[str, Any]) -> None:
    """Write the results as pretty JSON."""
    Path(path).write_text(json.dumps(payload, indent=2, default=str) + "\n")
