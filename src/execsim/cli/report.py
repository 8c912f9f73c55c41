"""``execsim report RUN_DIR...``: the best-execution report of one or several results folders.

Reads each results folder, runs TCA (reusing the folder's ``tca.json`` when it belongs to the
run, else computing it and writing ``tca.json`` there), checks the best-execution policy (the
documented defaults unless ``--policy`` is given), writes ``report.html`` and ``report.json``
and prints the terminal summary.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from execsim.backtest import RunResult
    from execsim.tca import TcaReport

__all__ = ["load_run", "register", "report_command"]


def register(sub: Any) -> None:
    """Add the ``report`` command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="write the best-execution report (HTML, JSON, terminal) of results folders",
        description="Analyse one or several results folders (TCA), check them against a best-execution "
        "policy, and write a self-contained report.html (charts work offline), report.json, and a "
        "terminal summary. Several runs with different names are compared pair by pair (A vs B).",
    )
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="results folder(s) of execsim run")
    p.add_argument(
        "--policy",
        type=Path,
        default=None,
        help="best-execution policy (YAML); default: the built-in policy (docs/reporting.md)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where report.html / report.json go (default: the run folder, or ./report for several runs)",
    )
    p.add_argument(
        "--format",
        default="html,json,terminal",
        help="comma-separated outputs: html, json, terminal (default: all three)",
    )
    p.add_argument(
        "--baseline",
        default=None,
        help="run group (run name, or algorithm when all runs share a name) the others are compared "
        "with (default: the first)",
    )
    p.add_argument("--title", default=None, help="the report's title")
    p.add_argument(
        "--recompute-tca", action="store_true", help="recompute TCA even when the folder has a tca.json"
    )
    p.set_defaults(func=report_command)


def load_run(folder: Path, *, recompute: bool = False) -> tuple[RunResult, TcaReport, str]:
    """Load a results folder and its TCA; return (result, tca, what was done with tca.json)."""
    from execsim.backtest import RunResult
    from execsim.core.errors import ConfigError, DataNotFoundError
    from execsim.tca import analyze, read_tca

    if not folder.is_dir():
        raise DataNotFoundError(f"results folder not found: {folder}")
    result = RunResult.load(folder)
    tca_path = folder / "tca.json"
    if tca_path.is_file() and not recompute:
        try:
            tca = read_tca(tca_path)
        except (ConfigError, ValueError, KeyError, TypeError):
            tca = None  # an older or foreign tca.json: recompute it below
        if tca is not None and tca.run_id == result.run_id:
            return result, tca, "reused"
    tca = analyze(result)
    try:
        tca_path.write_text(tca.to_json())
        how = "written"
    except OSError as err:  # a read-only results folder still gets its report
        how = f"not written ({type(err).__name__}: {err})"
    return result, tca, how


def report_command(args: argparse.Namespace) -> int:
    """Build and write the report; print the terminal summary."""
    from execsim.cli.progress import progress_bar
    from execsim.core.errors import ConfigError
    from execsim.reporting import BestExecutionPolicy, build_report, render_terminal, write_report
    from execsim.reporting.report import parse_formats

    formats = parse_formats(args.format.split(","))
    policy = BestExecutionPolicy.from_yaml(args.policy) if args.policy is not None else BestExecutionPolicy()
    missing = [str(r) for r in args.runs if not r.is_dir()]
    if missing:
        raise ConfigError(f"results folder(s) not found: {', '.join(missing)}")
    results, tcas, notes = [], [], []
    with progress_bar("loading runs and TCA", total=len(args.runs)) as advance:
        for folder in args.runs:
            result, tca, how = load_run(folder, recompute=args.recompute_tca)
            results.append(result)
            tcas.append(tca)
            notes.append(f"{folder}/tca.json {how}")
            advance(1)
    report = build_report(results, policy, tca=tcas, baseline=args.baseline, title=args.title)
    out = args.out if args.out is not None else (args.runs[0] if len(args.runs) == 1 else Path("report"))
    to_write = [f for f in formats if f != "terminal"]
    files = write_report(report, out, formats=to_write) if to_write else {}
    if "terminal" in formats:
        sys.stdout.write(render_terminal(report, color=sys.stdout.isatty()))
    for n in notes:
        print(n)
    for kind, path in files.items():
        print(f"{kind}: {path}")
    return 0
