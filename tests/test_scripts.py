"""The scripts that write docs/ must keep running (tiny inputs, nothing written)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_queue_model_fidelity_script_runs_on_a_few_placements(lobster_goog: tuple[Path, Path]) -> None:
    out = subprocess.run(
        [sys.executable, str(REPO / "scripts/fidelity_queue_models.py"), "--placements", "4", "--no-write"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "| truth (L3 FIFO) |" in out.stdout
    assert "| risk_averse |" in out.stdout
