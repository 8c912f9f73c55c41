"""`execsim report` as a user runs it: a real process over results folders written by real sessions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from execsim.backtest import RunConfig, run_session

REPO = Path(__file__).resolve().parents[2]


def _report(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "execsim", "report", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Results folders of a TWAP and a POV run (same seed) on the synthetic market, L2 replay."""
    out = tmp_path_factory.mktemp("runs")
    folders = {}
    for name, cls, extra in (("twap", "TwapAlgo", {"n_slices": 4}), ("pov", "PovAlgo", {})):
        cfg = RunConfig.from_dict(
            {
                "name": name,
                "seed": 5,
                "data": {"kind": "synthetic", "n_events": 30_000, "minutes": 3},
                "venues": [{"name": "LIT", "kind": "replay", "fees": {"taker_bps": 0.5}}],
                "strategy": {
                    "class": f"execsim.execution.algos:{cls}",
                    "params": {"side": "buy", "qty": 80, "duration_s": 60, "start_offset_s": 5, **extra},
                },
            }
        )
        folders[name] = run_session(cfg).write(out)
    return folders


def test_report_of_one_run_writes_html_json_and_tca_into_the_run_folder(runs: dict[str, Path]) -> None:
    folder = runs["twap"]
    for f in ("tca.json", "report.html", "report.json"):
        (folder / f).unlink(missing_ok=True)
    out = _report(str(folder), cwd=folder.parent)
    assert out.returncode == 0, out.stderr
    assert "Per order" in out.stdout
    assert "twap" in out.stdout
    assert f"{folder}/tca.json written" in out.stdout
    assert (folder / "tca.json").is_file()
    report = json.loads((folder / "report.json").read_text())
    assert report["schema"] == "execsim.report/1"
    assert [r["name"] for r in report["runs"]] == ["twap"]
    assert report["orders"][0]["algo"] == "twap"
    assert report["orders"][0]["qty"] == 80
    html = (folder / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert 'id="chart-schedule"' in html
    # a second report reuses tca.json and writes the same bytes
    first = (folder / "report.json").read_bytes()
    again = _report(str(folder), "--format", "json", cwd=folder.parent)
    assert again.returncode == 0, again.stderr
    assert "tca.json reused" in again.stdout
    assert "Per order" not in again.stdout
    assert (folder / "report.json").read_bytes() == first


def test_report_of_two_runs_with_a_policy_compares_them(runs: dict[str, Path], tmp_path: Path) -> None:
    policy = REPO / "examples" / "best_execution_policy.yaml"
    out = _report(
        str(runs["twap"]),
        str(runs["pov"]),
        "--policy",
        str(policy),
        "--out",
        str(tmp_path / "rep"),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["policy"]["name"] == "example desk policy (liquid equities)"
    assert [r["label"] for r in report["runs"]] == ["twap", "pov"]
    assert report["baseline"] == "twap"
    # one parent each, same seed: one pair, too few to compare — said, not hidden
    assert {c["a"] for c in report["comparisons"]} == {"pov"}
    assert all(c["comparison"] is None and "pairs" in c["error"] for c in report["comparisons"])
    assert "A versus B" in out.stdout
    assert (tmp_path / "rep" / "report.html").is_file()


def test_report_with_several_runs_defaults_to_a_report_folder(runs: dict[str, Path], tmp_path: Path) -> None:
    out = _report(str(runs["twap"]), str(runs["pov"]), "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "report" / "report.json").is_file()


def test_report_terminal_only_writes_no_files(runs: dict[str, Path], tmp_path: Path) -> None:
    out = _report(str(runs["pov"]), "--format", "terminal", "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Venues (RTS 28 style" in out.stdout
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "results folder(s) not found: nope"),
        (["{empty}"], "is not an execsim results folder"),
        (["{pov}", "--policy", "{bad_policy}"], "unknown key 'price.slipage_vwap_bps'"),
        (["{pov}", "--policy", "missing.yaml"], "config file not found"),
        (["{pov}", "--format", "pdf"], "unknown report format"),
    ],
)
def test_bad_input_fails_in_one_line_with_status_2(
    runs: dict[str, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    bad = tmp_path / "bad.yaml"
    bad.write_text("price:\n  slipage_vwap_bps: {max: 3}\n")
    subs = {"{empty}": str(tmp_path / "empty"), "{pov}": str(runs["pov"]), "{bad_policy}": str(bad)}
    out = _report(*[subs.get(a, a) for a in args], cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr
