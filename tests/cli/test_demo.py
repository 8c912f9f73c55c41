"""`execsim demo` as a user runs it: a real process, no data files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path


def _demo(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "execsim", "demo", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=cwd,
    )


def test_demo_runs_the_execution_study_and_writes_the_report(tmp_path: Path) -> None:
    out = _demo("--seeds", "2", "--qty", "1000", "--out", str(tmp_path / "demo"))
    assert out.returncode == 0, out.stderr
    for algo in ("twap", "vwap", "pov", "is", "ml"):
        assert re.search(rf"^\s*{algo}\s+│", out.stdout, re.MULTILINE), algo
    assert "ML policy − TWAP, implementation shortfall" in out.stdout
    assert "warning:" in out.stdout  # two seeds cannot establish a difference: it says so
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    assert report  # a non-empty best-execution report
    html = (tmp_path / "demo" / "report.html").read_text()
    assert "<html" in html.lower()
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']https?://", html)  # self-contained, offline
    runs = sorted(p.name.split("-")[0] for p in (tmp_path / "demo" / "runs").iterdir())
    assert runs == sorted(["is", "ml", "pov", "twap", "vwap"] * 2)


def _stable(text: str) -> str:
    """The output without the timing line (CPU time varies run to run)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("replay"))


def test_market_only_prints_a_book_and_trade_summary() -> None:
    out = _demo("--market-only", "--events", "50000", "--seed", "11")
    assert out.returncode == 0, out.stderr
    assert "synthetic market SYN@SYNTH, seed 11" in out.stdout
    assert re.search(r"events\s+50,000 ", out.stdout)
    assert re.search(r"trades\s+[\d,]+\s+volume", out.stdout)
    assert "crossed states: 0" in out.stdout
    assert "final book" in out.stdout


def test_market_only_is_reproducible_from_its_seed() -> None:
    a = _demo("--market-only", "--events", "20000", "--seed", "4")
    b = _demo("--market-only", "--events", "20000", "--seed", "4")
    c = _demo("--market-only", "--events", "20000", "--seed", "5")
    assert _stable(a.stdout) == _stable(b.stdout)
    assert _stable(a.stdout) != _stable(c.stdout)


def test_demo_rejects_bad_arguments_in_one_line() -> None:
    out = _demo("--market-only", "--events", "0")
    assert out.returncode == 2
    assert out.stderr.strip() == "execsim: error: --events must be positive, got 0"
    out = _demo("--seeds", "0")
    assert out.returncode == 2
    assert out.stderr.strip() == "execsim: error: --seeds must be positive, got 0"
