"""``execsim binance verify``: last line, exit status, one-line errors."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from execsim.cli.main import main

T0 = 1_723_161_253_000_000_000
E0 = 1_723_161_255_000
LAST_LINE = re.compile(r"checked=(\d+) mismatches=(\d+)")


def _capture(path: Path, *, diff_qty: str = "2.5", ticker_u: int = 106) -> Path:
    """A tiny spot capture: the bridging diff before the snapshot, one checkable bookTicker."""
    records: list[dict[str, Any]] = [
        {
            "stream": "btcusdt@depth@100ms",
            "data": {"e": "depthUpdate", "E": E0, "s": "BTCUSDT", "U": 100, "u": 103, "b": [], "a": []},
        },
        {"lastUpdateId": 101, "bids": [["100.01", "1.5"]], "asks": [["101.00", "3"], ["101.50", "1"]]},
        {
            "stream": "btcusdt@depth@100ms",
            "data": {
                "e": "depthUpdate",
                "E": E0 + 100,
                "s": "BTCUSDT",
                "U": 104,
                "u": 106,
                "b": [],
                "a": [["101.00", diff_qty]],
            },
        },
        {
            "stream": "btcusdt@bookTicker",
            "data": {"u": ticker_u, "s": "BTCUSDT", "b": "100.01", "B": "1.5", "a": "101.00", "A": "2.5"},
        },
    ]
    text = "\n".join(f"{T0 + i} {json.dumps(r)}" for i, r in enumerate(records)) + "\n"
    path.write_bytes(gzip.compress(text.encode()))
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    rc = main(["binance", "verify", *args])
    out = capsys.readouterr()
    return rc, out.out.strip().splitlines(), out.err


def test_a_consistent_capture_exits_0_with_the_counts_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, lines, _ = _run(capsys, str(_capture(tmp_path / "c.gz")))
    assert rc == 0
    assert lines[-1] == "checked=1 mismatches=0"
    assert any("not checkable 0" in ln for ln in lines)


def test_a_mismatch_exits_1_and_lists_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, lines, _ = _run(capsys, str(_capture(tmp_path / "c.gz", diff_qty="2.4")))
    assert rc == 1
    assert lines[-1] == "checked=1 mismatches=1"
    assert any("u=106" in ln and "c.gz:4" in ln for ln in lines)


def test_nothing_checkable_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, lines, _ = _run(capsys, str(_capture(tmp_path / "c.gz", ticker_u=105)))
    assert rc == 1
    assert lines[-1] == "checked=0 mismatches=0"


def test_bad_input_is_one_line_on_stderr_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, lines, err = _run(capsys, str(tmp_path / "missing.gz"))
    assert rc == 2
    assert lines == []
    assert err.count("\n") == 1
    assert err.startswith("execsim: error: ")
    assert "missing.gz" in err
    rc, _, err = _run(capsys, str(_capture(tmp_path / "c.gz")), "--tick-size", "0.5")
    assert rc == 2
    assert "row 2: price '100.01'" in err
    assert "--tick-size" in err


def test_options_reach_the_feed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _capture(tmp_path / "c.gz")
    rc, lines, _ = _run(capsys, str(path), "--market", "spot", "--lot-size", "0.01", "--symbol", "BTCUSDT")
    assert rc == 0
    assert "lot 0.01" in lines[0]
    rc, _, err = _run(capsys, str(path), "--symbol", "ETHUSDT")
    assert rc == 2
    assert "no stream of symbol ETHUSDT" in err
    assert "BTCUSDT" in err


def test_the_installed_command_runs_as_a_process(tmp_path: Path) -> None:
    path = _capture(tmp_path / "c.gz")
    out = subprocess.run(
        [sys.executable, "-m", "execsim", "binance", "verify", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "checked=1 mismatches=0"


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "files",
    [
        ["spot/btcusdt_20240808.gz", "spot/btcusdt_20240809.gz"],
        ["spot/btcusdt_20240808.gz"],
        ["usdm/btcusdt_20240808.gz"],
    ],
    ids=["spot-08+09", "spot-08", "usdm-08"],
)
def test_every_shared_capture_verifies(
    shared_data: Path, files: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    d = shared_data / "binance_hftbacktest"
    rc, lines, _ = _run(capsys, *(str(d / f) for f in files))
    m = LAST_LINE.fullmatch(lines[-1])
    assert m is not None, lines[-1]
    assert int(m.group(1)) > 0
    assert int(m.group(2)) == 0
    assert rc == 0


@pytest.mark.shared_data
def test_the_continuation_file_alone_is_a_clear_error(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, lines, err = _run(capsys, str(shared_data / "binance_hftbacktest" / "spot" / "btcusdt_20240809.gz"))
    assert rc == 2
    assert lines == []
    assert "no REST depth snapshot" in err
    assert err.count("\n") == 1
