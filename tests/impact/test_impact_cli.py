"""``execsim impact calibrate``: LOBSTER and canonical Parquet input, config output, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from execsim.cli.main import main
from execsim.data.feeds.canonical import write_parquet
from execsim.data.schema import F_LAST, K_SET_LEVEL, K_TRADE, empty_events
from execsim.impact import AlmgrenChrissImpact, ImpactConfig, SquareRootImpact
from execsim.model.instrument import Instrument

S = 1_000_000_000


def l2_day(n: int = 1_800, seed: int = 0) -> np.ndarray:
    """An L2 stream: every second a trade at the touch, then the touch moves with the trade's sign."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, int, int, int, int]] = []  # ts, kind, side, price, qty
    bid, ask = 10_000, 10_002
    rows += [(0, K_SET_LEVEL, 1, bid, 50), (0, K_SET_LEVEL, -1, ask, 50)]
    for i in range(1, n + 1):
        side = 1 if rng.random() < 0.5 else -1
        qty = int(rng.integers(1, 20))
        rows.append((i * S, K_TRADE, side, ask if side > 0 else bid, qty))
        rows += [(i * S, K_SET_LEVEL, 1, bid, 0), (i * S, K_SET_LEVEL, -1, ask, 0)]
        bid, ask = bid + side, ask + side
        rows += [(i * S, K_SET_LEVEL, 1, bid, 50), (i * S, K_SET_LEVEL, -1, ask, 50)]
    ev = empty_events(len(rows))
    for j, (ts, kind, side, price, qty) in enumerate(rows):
        ev[j] = (ts, ts, j, kind, side, price, qty, 0, 0)
    # a message is consistent after its last record: the trade, and the second ask update
    last = (ev["kind"] == K_TRADE) | (np.arange(len(ev)) % 5 == 1)
    ev["flags"][last] = F_LAST
    return ev


def test_calibrate_almgren_chriss_from_a_canonical_parquet_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inst = Instrument(symbol="TEST", venue="SIM", tick_size="0.01")
    path = tmp_path / "day.parquet"
    write_parquet([l2_day()], path, inst)
    out_cfg = tmp_path / "impact.yaml"
    rc = main(["impact", "calibrate", "--parquet", str(path), "--model", "almgren_chriss",
               "--bootstrap", "20", "--config-out", str(out_cfg)])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0
    assert "AlmgrenChrissImpact fitted on TEST: 1800 trades" in out
    assert "permanent γ" in out
    cfg = ImpactConfig.from_dict(yaml.safe_load(out_cfg.read_text())["impact"])
    model = cfg.build()
    assert isinstance(model, AlmgrenChrissImpact)
    # each trade moves the touch one tick its way: γ ≈ (net signed trades) / (net signed volume)
    assert model.permanent is not None
    assert 0.05 < model.permanent < 0.2
    assert cfg.params["tick_size"] == 0.01


@pytest.mark.shared_data
def test_calibrate_square_root_on_the_goog_day(
    lobster_goog: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    msg, book = lobster_goog
    out_cfg = tmp_path / "sq.yaml"
    rc = main(["impact", "calibrate", "--messages", str(msg), "--orderbook", str(book),
               "--bootstrap", "10", "--config-out", str(out_cfg)])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0
    assert "| δ |" in out
    assert "model: square_root" in out
    model = ImpactConfig.from_dict(yaml.safe_load(out_cfg.read_text())["impact"]).build()
    assert isinstance(model, SquareRootImpact)
    assert model.delta is not None
    assert 0.2 < model.delta < 1.0


def test_calibrate_errors_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["impact", "calibrate", "--messages", str(tmp_path / "m.csv")]) == 2
    assert "needs --orderbook" in capsys.readouterr().err
    assert main(["impact", "calibrate", "--parquet", str(tmp_path / "missing.parquet")]) == 2
    assert "missing.parquet" in capsys.readouterr().err
