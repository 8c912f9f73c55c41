"""Every example config runs and does what its comment says (real data: skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from execsim.backtest import RunConfig, run_session

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CONFIGS = sorted(p for p in EXAMPLES.glob("*.yaml") if p.name != "best_execution_policy.yaml")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_example_config_runs_and_fills_its_parent(path: Path, shared_data: Path) -> None:
    cfg = RunConfig.from_yaml(path)
    res = run_session(cfg, base_dir=path.parent)
    filled = sum(f["qty"] for f in res.fills.to_pylist())
    parents = res.parents.to_pylist()
    if parents:
        assert filled == parents[0]["qty"]
    else:
        assert filled == cfg.strategy.params["total_qty"]
    assert res.manifest["data"]["sha256"]


def test_every_example_is_listed() -> None:
    names = {p.stem for p in CONFIGS}
    assert {"goog_twap", "goog_pov", "binance_twap", "synthetic_slices_mock"} <= names
