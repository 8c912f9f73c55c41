"""`execsim run` as a user runs it: a real process, a YAML file, a results folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "execsim", "run", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


def test_run_writes_a_results_folder_named_after_the_config(tmp_path: Path) -> None:
    out = _run(str(REPO / "examples" / "synthetic_slices_mock.yaml"), "--output", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    folders = list(tmp_path.iterdir())
    assert len(folders) == 1
    folder = folders[0]
    assert folder.name.startswith("synthetic-slices-mock-")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert folder.name.endswith(manifest["config_id"][:12])
    assert manifest["seeds"]["root"] == 7
    assert {p.name for p in folder.iterdir()} >= {
        "config.yaml",
        "orders.parquet",
        "fills.parquet",
        "market.parquet",
    }
    assert "filled qty 50" in out.stdout


def test_run_with_a_mistyped_key_fails_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstrategy: {class: execsim.backtest.strategies:SliceTaker}\nvenu: []\n")
    out = _run(str(bad), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "unknown key 'venu'" in out.stderr
    assert "Traceback" not in out.stderr


def test_run_with_a_missing_config_file_fails_in_one_line(tmp_path: Path) -> None:
    out = _run(str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert out.returncode == 2
    assert "config file not found" in out.stderr
