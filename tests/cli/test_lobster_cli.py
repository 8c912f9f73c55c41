"""``execsim lobster verify`` as a user runs it: last line, exit status, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from execsim.cli.main import main

A1, A2 = 1_010_000, 1_010_100
B1, B2 = 1_000_000, 999_900


def _pair(folder: Path, messages: list[str], rows: list[str], levels: int = 1) -> tuple[Path, Path]:
    stem = "ABC_2016-01-04_34200000_57600000"
    m = folder / f"{stem}_message_{levels}.csv"
    b = folder / f"{stem}_orderbook_{levels}.csv"
    m.write_text("\n".join(messages) + "\n")
    b.write_text("\n".join(rows) + "\n")
    return m, b


def _consistent(folder: Path) -> tuple[Path, Path]:
    """Three messages and the rows they produce (bid side of a one-level book)."""
    messages = [f"34200.1,1,1,10,{B1},1", f"34200.2,1,2,5,{B1},1", f"34200.3,3,1,10,{B1},1"]
    rows = [f"{A1},100,{B1},30", f"{A1},100,{B1},35", f"{A1},100,{B1},25"]
    return _pair(folder, messages, rows)


def _verify(capsys: pytest.CaptureFixture[str], m: Path, b: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["lobster", "verify", "--messages", str(m), "--orderbook", str(b), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_matching_files_exit_zero_and_end_with_the_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _verify(capsys, *_consistent(tmp_path))
    assert code == 0, err
    assert out.splitlines()[-1] == "rows=3 mismatches=0"
    assert "ABC on NASDAQ" in out
    assert "type1=2 type3=1" in out


def test_a_row_the_messages_do_not_explain_exits_one_and_lists_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m, b = _consistent(tmp_path)
    rows = b.read_text().splitlines()
    rows[1] = f"{A1},100,{B1},36"  # the add was 5 shares, the row says 6
    b.write_text("\n".join(rows) + "\n")
    code, out, _ = _verify(capsys, m, b)
    assert code == 1
    lines = out.splitlines()
    # only row 2: the depth file is compared with, never fed into, the book at that level
    assert lines[-1] == "rows=3 mismatches=1"
    assert "row 2 bid level 1: expected 36 @ 100, got 35 @ 100" in out


def test_bad_input_is_one_line_on_stderr_and_exit_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m, b = _consistent(tmp_path)
    m.write_text(m.read_text().replace("34200.2,1,2,5", "34200.2,1,2,five"))
    code, out, err = _verify(capsys, m, b)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "row 2" in err
    assert "'five'" in err
    code, _, err = _verify(capsys, tmp_path / "missing_message_1.csv", b)
    assert code == 2
    assert "not found" in err


def test_symbol_date_and_tick_can_be_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m, b = _consistent(tmp_path)
    m2 = m.rename(tmp_path / "messages.csv")
    b2 = b.rename(tmp_path / "book.csv")
    code, _, err = _verify(capsys, m2, b2)
    assert code == 2
    assert "cannot tell the symbol" in err
    code, out, _ = _verify(capsys, m2, b2, "--symbol", "XYZ", "--date", "2016-01-04", "--tick-size", "0.01")
    assert code == 0
    assert "XYZ on NASDAQ" in out
    assert "tick 0.01" in out
    assert out.splitlines()[-1] == "rows=3 mismatches=0"


def test_goog_day_verifies_with_zero_mismatches(
    lobster_goog: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _verify(capsys, *lobster_goog)
    assert code == 0, err
    assert out.splitlines()[-1] == "rows=147916 mismatches=0"
    assert "messages/s" in out


def test_goog_day_with_a_cent_tick_is_bad_input(
    lobster_goog: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _verify(capsys, *lobster_goog, "--tick-size", "0.01")
    assert code == 2
    assert "is not a multiple of tick_size 0.01" in err
    assert "rows=" not in out


def test_the_installed_command_runs_as_a_process(tmp_path: Path) -> None:
    m, b = _consistent(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "execsim", "lobster", "verify", "--messages", str(m), "--orderbook", str(b)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "rows=3 mismatches=0"
