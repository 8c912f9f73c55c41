"""`execsim demo` as a user runs it: a real process, no data files."""

from __future__ import annotations

import re
import subprocess
import sys


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "execsim", "demo", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _stable(text: str) -> str:
    """The output without the timing line (CPU time varies run to run)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("replay"))


def test_demo_prints_a_book_and_trade_summary() -> None:
    out = _demo("--events", "50000", "--seed", "11")
    assert out.returncode == 0, out.stderr
    assert "synthetic market SYN@SYNTH, seed 11" in out.stdout
    assert re.search(r"events\s+50,000 ", out.stdout)
    assert re.search(r"trades\s+[\d,]+\s+volume", out.stdout)
    assert "crossed states: 0" in out.stdout
    assert "final book" in out.stdout


def test_demo_is_reproducible_from_its_seed() -> None:
    a = _demo("--events", "20000", "--seed", "4")
    b = _demo("--events", "20000", "--seed", "4")
    c = _demo("--events", "20000", "--seed", "5")
    assert _stable(a.stdout) == _stable(b.stdout)
    assert _stable(a.stdout) != _stable(c.stdout)


def test_demo_rejects_a_non_positive_event_count_in_one_line() -> None:
    out = _demo("--events", "0")
    assert out.returncode == 2
    assert out.stderr.strip() == "execsim: error: --events must be positive, got 0"
