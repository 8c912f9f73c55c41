"""Agent-based market benchmark: order-book operations per CPU second of the synthetic market.

Measures the default :class:`execsim.agents.AgentMarketVenue` (noise traders, market makers,
momentum and value traders, calibrated to the GOOG day) running without us for ``--hours`` of
market time. An *order-book operation* is one submit, one cancel or one execution processed by
the book (``stats["book_ops"]``: submits + cancels + executions, market orders and rejected
post-only quotes included); events recorded, agent steps and market seconds per CPU second are
reported beside it.

References, in the same spirit as the issue's target (an agent-based simulator in pure Python,
ABIDES, reaches about 1.9 k operations per CPU second on this kind of machine; the target is
1,000 times that):

* ``pure-Python noise market``: the same noise-trader process (Poisson limit orders placed as in
  :class:`~execsim.agents.NoiseTraderConfig`, fleeting / patient / deep cancellations, market
  orders with the GOOG size tables) on a plain Python book (a ``SortedDict`` of FIFO deques),
  measured in this run. It has no market makers, momentum or value traders and no event
  recording, so it is a *lower bound* on what a pure-Python ABM costs, not ABIDES.
* ``ABIDES (quoted)``: the issue's 1.9 k ops per CPU second, not measured here.

Method: CPU time (:func:`time.process_time`) of ``advance`` only (the venue's construction and
warm-up are outside the timing), after one untimed run that loads or compiles the kernels; the
best and the median of ``--repeats`` runs on different seeds. Cold starts are measured in fresh
processes with a private ``NUMBA_CACHE_DIR``: once with the cache empty (compilation), once
with it filled (cache load).

Usage::

    .venv/bin/python benchmarks/bench_abm.py [--hours H] [--repeats R] [--ref-seconds S]
        [--json OUT] [--no-fresh]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from _common import cold_start, fmt_rate, machine_info, print_child_timing, print_table, write_json
from execsim.agents import AgentMarketConfig, AgentMarketVenue, NoiseTraderConfig

SCRIPT = Path(__file__).resolve()
ABIDES_OPS_PER_CPU_S = 1_900.0
TARGET_RATIO = 1_000.0


# ================================================================================ execsim
def run_market_once(
    cfg: AgentMarketConfig, seed: int, hours: float
) -> tuple[dict[str, int], float, float, int]:
    """Build a venue (untimed), run it ``hours``; return (stats, cpu_s, wall_s, events recorded)."""
    v = AgentMarketVenue(
        name="ABM", instrument=cfg.instrument(), config=cfg, seed=np.random.SeedSequence(seed)
    )
    c0, w0 = time.process_time(), time.perf_counter()
    v.advance(cfg.start_ns + int(hours * 3600e9))
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    n_events = len(v.drain_events())
    return v.stats, cpu, wall, n_events


def run_abm_benchmark(*, hours: float = 6.5, repeats: int = 5, ref_seconds: float = 7200.0) -> dict[str, Any]:
    """Time the agent market and the pure-Python reference; return the raw numbers."""
    cfg = AgentMarketConfig()
    run_market_once(cfg, 999, min(hours, 0.05))  # compile or load the kernels, untimed
    per_run = []
    for r in range(repeats):
        st, cpu, wall, n_ev = run_market_once(cfg, 1 + r, hours)
        per_run.append({"seed": 1 + r, "cpu_s": cpu, "wall_s": wall, "events": n_ev, **st})
    # the work differs a little between seeds: rates use each run's own counts
    rates = [p["book_ops"] / p["cpu_s"] for p in per_run]
    ev_rates = [p["events"] / p["cpu_s"] for p in per_run]
    step_rates = [p["steps"] / p["cpu_s"] for p in per_run]
    market_s = [hours * 3600 / p["cpu_s"] for p in per_run]
    # the noise traders alone: the same process as the pure-Python reference
    noise_cfg = cfg.model_copy(
        update={
            "market_makers": cfg.market_makers.model_copy(update={"count": 0}),
            "momentum": cfg.momentum.model_copy(update={"count": 0}),
            "value": cfg.value.model_copy(update={"count": 0}),
        }
    )
    noise_rates = []
    for r in range(repeats):
        st, cpu, _wall, _n = run_market_once(noise_cfg, 1 + r, hours)
        noise_rates.append(st["book_ops"] / cpu)
    ref = run_reference(cfg.noise, seconds=ref_seconds, seed=1)
    return {
        "hours": hours,
        "repeats": repeats,
        "runs": per_run,
        "ops_per_cpu_s": {"best": max(rates), "median": float(np.median(rates))},
        "events_per_cpu_s": {"best": max(ev_rates), "median": float(np.median(ev_rates))},
        "steps_per_cpu_s": {"best": max(step_rates), "median": float(np.median(step_rates))},
        "market_seconds_per_cpu_s": {"best": max(market_s), "median": float(np.median(market_s))},
        "noise_only_ops_per_cpu_s": {"best": max(noise_rates), "median": float(np.median(noise_rates))},
        "reference_pure_python": ref,
        "abides_quoted_ops_per_cpu_s": ABIDES_OPS_PER_CPU_S,
    }


# ================================================================================ pure-Python reference
class _PyBook:
    """A plain Python price-time book: one ``SortedDict`` of FIFO deques per side."""

    def __init__(self) -> None:
        from sortedcontainers import SortedDict

        self.side: dict[int, Any] = {1: SortedDict(), -1: SortedDict()}
        self.orders: dict[int, tuple[int, int]] = {}  # id -> (side, price)
        self.qty: dict[int, int] = {}

    def best(self, side: int) -> int | None:
        levels = self.side[side]
        if not levels:
            return None
        return int(levels.peekitem(-1 if side > 0 else 0)[0])

    def add(self, oid: int, side: int, price: int, qty: int) -> None:
        levels = self.side[side]
        if price not in levels:
            levels[price] = deque()
        levels[price].append(oid)
        self.orders[oid] = (side, price)
        self.qty[oid] = qty

    def cancel(self, oid: int) -> bool:
        if oid not in self.orders:
            return False
        side, price = self.orders.pop(oid)
        del self.qty[oid]
        q = self.side[side][price]
        q.remove(oid)
        if not q:
            del self.side[side][price]
        return True

    def market(self, side: int, qty: int) -> list[tuple[int, int]]:
        """Take ``qty`` from the contra side; return the (order id, lots) executed."""
        contra = self.side[-side]
        out = []
        while qty > 0 and contra:
            price, q = contra.peekitem(0 if side > 0 else -1)
            oid = q[0]
            take = min(qty, self.qty[oid])
            qty -= take
            self.qty[oid] -= take
            out.append((oid, take))
            if self.qty[oid] == 0:
                q.popleft()
                del self.orders[oid]
                del self.qty[oid]
                if not q:
                    del contra[price]
        return out


def run_reference(nz: NoiseTraderConfig, *, seconds: float, seed: int) -> dict[str, Any]:
    """The noise-trader process in pure Python for ``seconds`` of market time; ops per CPU second."""
    rng = random.Random(seed)
    book = _PyBook()
    mid = 57_000
    lw = np.cumsum(nz.limit_size_weights) / sum(nz.limit_size_weights)
    mw = np.cumsum(nz.market_size_weights) / sum(nz.market_size_weights)

    def pick(cw: np.ndarray, sizes: tuple[int, ...]) -> int:
        u = rng.random()
        for c, s in zip(cw, sizes, strict=True):
            if u < c:
                return s
        return sizes[-1]

    classes: list[list[int]] = [[], [], []]
    cancel_rate = (nz.fleeting_cancel_rate, nz.patient_cancel_rate, nz.deep_cancel_rate)
    oid = 0
    ops = 0
    for i in range(40):  # an initial book, as the venue's
        for side in (1, -1):
            oid += 1
            book.add(oid, side, mid - side * (15 + 1 + i), 100)
            classes[1].append(oid)
    t = 0.0
    c0 = time.process_time()
    while True:
        rates = [
            nz.limit_rate,
            nz.market_rate,
            *(r * len(c) for r, c in zip(cancel_rate, classes, strict=True)),
        ]
        total = sum(rates)
        t += rng.expovariate(total)
        if t > seconds:
            break
        u = rng.random() * total
        k = 0
        while u >= rates[k]:
            u -= rates[k]
            k += 1
        if k == 0:  # limit order
            side = 1 if rng.random() < 0.5 else -1
            own, other = book.best(side), book.best(-side)
            u1, u2 = rng.random(), rng.random()
            if own is None or other is None:
                ref = own if own is not None else (other if other is not None else mid)
                price = ref - side * (1 + int(u2 * nz.empty_side_ticks))
                cls = 1
            else:
                spread = (other - own) * side
                if u1 < nz.p_inside and spread > 1:
                    kmax = max(1, int((spread - 1) * nz.inside_max_frac))
                    k_in = 1 + int(math.log(1 - u2) / math.log(1 - 1 / nz.inside_mean_ticks))
                    price = own + side * min(k_in, kmax)
                    cls = 0 if rng.random() < nz.fleeting_share_inside else 1
                elif u1 < nz.p_inside + nz.p_at_best:
                    price = own
                    cls = 0 if rng.random() < nz.fleeting_share else 1
                elif (u1 - nz.p_inside - nz.p_at_best) / (1 - nz.p_inside - nz.p_at_best) < nz.p_far:
                    price = own - side * (1 + int(u2 * nz.far_max_ticks))
                    cls = 2
                else:
                    d = 1 + int(math.log(1 - u2) / math.log(1 - 1 / nz.behind_mean_ticks))
                    price = own - side * min(d, nz.behind_max_ticks)
                    cls = 0 if rng.random() < nz.fleeting_share else 1
            oid += 1
            book.add(oid, side, price, pick(lw, nz.limit_sizes))
            classes[cls].append(oid)
            ops += 1
        elif k == 1:  # market order
            side = 1 if rng.random() < 0.5 else -1
            ops += 1 + len(book.market(side, pick(mw, nz.market_sizes)))
        else:  # cancellation of a random order of class k - 2
            c = classes[k - 2]
            j = rng.randrange(len(c))
            c[j], c[-1] = c[-1], c[j]
            if book.cancel(c.pop()):
                ops += 1
        # executed orders leave their class lists lazily (their cancel finds nothing)
    cpu = time.process_time() - c0
    return {
        "market_s": seconds,
        "cpu_s": cpu,
        "book_ops": ops,
        "ops_per_cpu_s": ops / cpu if cpu else float("inf"),
    }


# ================================================================================ cold start
def _child() -> None:
    def first_run() -> None:
        cfg = AgentMarketConfig(warmup_s=60)
        v = AgentMarketVenue(
            name="ABM", instrument=cfg.instrument(), config=cfg, seed=np.random.SeedSequence(1)
        )
        v.advance(cfg.start_ns + 60 * 1_000_000_000)

    print_child_timing(first_run)


def report(res: dict[str, Any]) -> None:
    """Print the results as Markdown tables."""
    ops = res["ops_per_cpu_s"]
    ref = res["reference_pure_python"]
    print(f"\nAgent market, default config, {res['hours']} h of market time, {res['repeats']} seeds\n")
    rows = [
        [
            "execsim AgentMarketVenue (compiled)",
            fmt_rate(ops["best"]),
            fmt_rate(ops["median"]),
            f"{ops['median'] / ABIDES_OPS_PER_CPU_S:,.0f}×",
            f"{ops['median'] / ref['ops_per_cpu_s']:,.0f}×",
        ],
        [
            "execsim, noise traders only (the reference's process)",
            fmt_rate(res["noise_only_ops_per_cpu_s"]["best"]),
            fmt_rate(res["noise_only_ops_per_cpu_s"]["median"]),
            f"{res['noise_only_ops_per_cpu_s']['median'] / ABIDES_OPS_PER_CPU_S:,.0f}×",
            f"{res['noise_only_ops_per_cpu_s']['median'] / ref['ops_per_cpu_s']:,.0f}×",
        ],
        [
            "pure-Python noise market (this run)",
            fmt_rate(ref["ops_per_cpu_s"]),
            "",
            f"{ref['ops_per_cpu_s'] / ABIDES_OPS_PER_CPU_S:,.1f}×",
            "1×",
        ],
        ["ABIDES (quoted in the issue, not run)", fmt_rate(ABIDES_OPS_PER_CPU_S), "", "1×", ""],
    ]
    print_table(["engine", "book ops / CPU-s (best)", "(median)", "vs ABIDES", "vs pure Python"], rows)
    target = TARGET_RATIO * ABIDES_OPS_PER_CPU_S
    met = "met" if ops["median"] >= target else "NOT met"
    print(
        f"\ntarget ≥ {fmt_rate(target)} ops/CPU-s (1,000× ABIDES): {met} (median {fmt_rate(ops['median'])})"
    )
    print(
        f"also: {fmt_rate(res['events_per_cpu_s']['median'])} recorded events/CPU-s, "
        f"{fmt_rate(res['steps_per_cpu_s']['median'])} agent steps/CPU-s, "
        f"{res['market_seconds_per_cpu_s']['median']:,.0f} market seconds per CPU second (median)"
    )
    r0 = res["runs"][0]
    print(
        f"per run (seed {r0['seed']}): {r0['book_ops']:,} book ops = {r0['submits']:,} submits + "
        f"{r0['cancels']:,} cancels + {r0['executions']:,} executions; {r0['events']:,} events"
    )
    if "cold_start" in res:
        cs = res["cold_start"]
        print("\nCold start (fresh process: import, venue with 60 s warm-up, 60 s of market)\n")
        print_table(
            ["numba cache", "CPU s", "wall s"],
            [
                ["empty (compile)", f"{cs['compile']['cpu_s']:.1f}", f"{cs['compile']['wall_s']:.1f}"],
                ["filled (load)", f"{cs['cache_load']['cpu_s']:.2f}", f"{cs['cache_load']['wall_s']:.2f}"],
            ],
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hours", type=float, default=6.5, help="market hours per run (default 6.5)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--ref-seconds", type=float, default=7200.0, help="market seconds of the Python reference")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--no-fresh", action="store_true", help="skip the fresh-process cold starts")
    p.add_argument("--child", choices=["cold"], help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child()
        return 0
    res = run_abm_benchmark(hours=args.hours, repeats=args.repeats, ref_seconds=args.ref_seconds)
    if not args.no_fresh:
        res["cold_start"] = cold_start(SCRIPT, ["--child", "cold"])
    res["machine"] = machine_info()
    report(res)
    if args.json:
        write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
