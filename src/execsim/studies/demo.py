"""The built-in execution study (``execsim demo``).

On the reactive agent market (no data files), one parent order is executed by TWAP, VWAP,
POV, implementation shortfall and a cost-aware ML policy fitted on simulated data, on the
same market seeds (common random numbers), each run with its counterfactual twin. The study
prints a TCA comparison, compares the ML policy with TWAP (paired bootstrap), and writes the
results folders and the best-execution report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from execsim.backtest import RunConfig, RunResult, run_session
from execsim.core.timeutil import NS_PER_S
from execsim.execution.algos import (
    ImplementationShortfallAlgo,
    PolicyAlgo,
    PovAlgo,
    TwapAlgo,
    VwapAlgo,
)
from execsim.execution.schedules import estimate_volume_curve
from execsim.execution.strategy import Strategy
from execsim.ml.cost_policy import CostAwarePolicy, ExplorePolicy, training_examples
from execsim.reporting import build_report, write_report
from execsim.tca import analyze, paired_comparison

__all__ = ["DemoConfig", "DemoResult", "run_demo"]

ALGOS = ("twap", "vwap", "pov", "is", "ml")


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoConfig:
    """What the demo runs (defaults: 2,000 shares bought over 15 minutes, 3 seeds)."""

    seed: int = 7
    seeds: int = 3
    train_seeds: int = 3
    minutes: float = 18.0
    start_s: float = 60.0
    duration_s: float = 15 * 60.0
    qty: int = 2_000
    n_slices: int = 15
    out: Path = Path("demo")


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoResult:
    """The study's outcome: per-algorithm TCA rows, the ML-vs-TWAP comparison, where files went."""

    rows: list[dict[str, Any]]
    comparison: Any
    ml_fit: dict[str, float]
    report_paths: dict[str, Path]
    run_dirs: list[Path]
    elapsed_s: float


def _cfg(seed: int, minutes: float, name: str, counterfactual: bool) -> RunConfig:
    return RunConfig.from_dict(
        {
            "name": name,
            "seed": seed,
            "data": {"kind": "agents", "minutes": minutes},
            "venues": [
                {"name": "ABM", "kind": "replay", "fees": {"taker_per_unit": 0.003, "maker_per_unit": -0.002}}
            ],
            "strategy": {"class": "execsim.execution:Strategy"},
            "counterfactual": counterfactual,
        }
    )


def _common(c: DemoConfig) -> dict[str, Any]:
    return {"side": "buy", "qty": c.qty, "start_offset_s": c.start_s, "duration_s": c.duration_s}


def _algo(name: str, c: DemoConfig, curve: list[float], policy: CostAwarePolicy) -> Strategy:
    base = _common(c)
    if name == "twap":
        return TwapAlgo(TwapAlgo.Config(**base, n_slices=c.n_slices, complete_at_end=True))
    if name == "vwap":
        return VwapAlgo(VwapAlgo.Config(**base, volume_curve=curve, complete_at_end=True))
    if name == "pov":
        return PovAlgo(PovAlgo.Config(**base, participation=0.15, catch_up_lots=50, complete_at_end=True))
    if name == "is":
        return ImplementationShortfallAlgo(
            ImplementationShortfallAlgo.Config(
                **base, n_slices=c.n_slices, sigma=2.0, eta=0.05, risk_aversion=2e-3, complete_at_end=True
            )
        )
    return PolicyAlgo(PolicyAlgo.Config(**base, n_decisions=c.n_slices, complete_at_end=True), policy=policy)


def run_demo(config: DemoConfig | None = None, *, log: Callable[[str], None] = print) -> DemoResult:
    """Run the study; ``log`` receives one line per stage."""
    c = config or DemoConfig()
    t0 = time.perf_counter()
    runs_dir = c.out / "runs"
    eval_seeds = [c.seed + i for i in range(c.seeds)]
    train_seeds = [c.seed + 1000 + i for i in range(c.train_seeds)]

    # 1. history for VWAP: the market's volume profile on training days, without us
    log("1/4 learning the intraday volume curve from the market without us …")
    times, qtys = [], []
    for s in train_seeds:
        r = run_session(_cfg(s, c.minutes, "history", False), strategy=Strategy())
        t = r.market_trades.to_pylist()
        start = r.manifest["start_ns"] + int(c.start_s * NS_PER_S)
        times += [x["ts_event"] - start for x in t]
        qtys += [x["qty"] for x in t]
    bucket = int(c.duration_s * NS_PER_S / c.n_slices)
    vc = estimate_volume_curve(
        np.array(times, np.int64), np.array(qtys, np.int64), bucket_ns=bucket, session_start_ns=0,
        session_end_ns=int(c.duration_s * NS_PER_S), smoothing=1,
    )  # fmt: skip
    curve = [float(x) for x in vc.fractions]

    # 2. the ML policy: explore on training seeds, fit the cost model
    log("2/4 fitting the ML policy's cost model on simulated executions …")
    X_parts, y_parts = [], []
    for i, s in enumerate(train_seeds):
        algo = PolicyAlgo(
            PolicyAlgo.Config(**_common(c), n_decisions=c.n_slices, complete_at_end=True),
            policy=ExplorePolicy(c.n_slices, seed=i),
        )
        res = run_session(_cfg(s, c.minutes, "explore", False), strategy=algo)
        X, y = training_examples(algo, res)
        X_parts.append(X)
        y_parts.append(y)
    policy = CostAwarePolicy(c.n_slices).fit(np.vstack(X_parts), np.concatenate(y_parts))
    ml_fit = {
        "examples": float(sum(len(y) for y in y_parts)),
        "r2": policy.r2_,
        "mean_cost_ticks": policy.cost_mean_,
    }

    # 3. evaluation: every algorithm on the same seeds, each with its counterfactual twin
    log(f"3/4 executing {c.qty:,} shares with {len(ALGOS)} algorithms on {len(eval_seeds)} market seeds …")
    results: list[RunResult] = []
    costs: dict[str, list[float]] = {a: [] for a in ALGOS}
    table: dict[str, dict[str, list[float]]] = {a: {} for a in ALGOS}
    dirs: list[Path] = []
    twins: dict[str, Any] = {}  # the market without us, per seed: shared by the five algorithms
    keys = {
        "IS bps": "shortfall.implementation_shortfall_bps",
        "vs VWAP bps": "slippage.slippage_vwap_bps",
        "fees bps": "shortfall.fees_bps",
        "fill %": "fill.fill_rate_by_quantity",
        "part. %": "participation.participation_rate",
        "markout 60s bps": "markouts.markout_60s_bps",
        "impact bps": "counterfactual.impact_bps",
        "drift bps": "counterfactual.drift_bps",
    }
    for s in eval_seeds:
        for a in ALGOS:
            res = run_session(_cfg(s, c.minutes, a, True), strategy=_algo(a, c, curve, policy), twins=twins)
            results.append(res)
            dirs.append(res.write(runs_dir))
            p = analyze(res).parents[0]
            for label, key in keys.items():
                try:
                    v = float(p.value(key))
                except (KeyError, TypeError, ValueError):
                    v = float("nan")
                table[a].setdefault(label, []).append(v)
            costs[a].append(table[a]["IS bps"][-1])

    rows = []
    for a in ALGOS:
        row: dict[str, Any] = {"algo": a}
        for label, vals in table[a].items():
            arr = np.array(vals, dtype=float)
            scale = 100.0 if label in ("fill %", "part. %") else 1.0
            row[label] = float(np.nanmean(arr)) * scale if np.isfinite(arr).any() else float("nan")
        rows.append(row)
    comparison = paired_comparison(
        costs["ml"], costs["twap"], n_boot=5_000, seed=c.seed, metric="IS bps (ML − TWAP)"
    )

    # 4. the best-execution report over every run
    log("4/4 writing the best-execution report …")
    report = build_report(
        results, title=f"execsim demo: {c.qty:,} shares, {len(ALGOS)} algorithms", n_boot=2_000
    )
    paths = write_report(report, c.out, formats=("html", "json"))
    return DemoResult(
        rows=rows,
        comparison=comparison,
        ml_fit=ml_fit,
        report_paths=paths,
        run_dirs=dirs,
        elapsed_s=time.perf_counter() - t0,
    )
