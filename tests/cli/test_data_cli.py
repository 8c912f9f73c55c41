"""``execsim data import / list / show / verify`` as a user runs them."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest

from execsim.cli.main import main
from execsim.data.feeds.canonical import write_csv, write_parquet
from execsim.data.repository import Repository
from execsim.data.schema import K_ADD, K_DELETE, empty_events
from execsim.model.instrument import Instrument

BITSTAMP = "bitstamp_obanalytics/bitstamp_btcusd_2015-05-01T0000-0230Z.log.gz"
INST = Instrument(symbol="ABC", venue="TESTX", tick_size="0.5", lot_size="10")


def events(n: int = 20) -> np.ndarray:
    ev = empty_events(n)
    ev["ts_event"] = 1_700_000_000 * 10**9 + np.arange(n) * 10**6
    ev["ts_recv"] = ev["ts_event"]
    ev["seq"] = np.arange(n)
    ev["kind"] = np.where(np.arange(n) % 2 == 0, K_ADD, K_DELETE)
    ev["side"] = -1
    ev["price"] = 200
    ev["qty"] = 3
    ev["order_id"] = np.arange(n) // 2
    return ev


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_bitstamp_import_list_show_verify(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = shared_data / BITSTAMP
    if not log.is_file():
        pytest.skip(f"Bitstamp capture not found at {log}")
    root = str(tmp_path / "repo")
    code, out, _ = cli(capsys, "data", "import", "--format", "bitstamp", str(log), "--root", root)
    assert code == 0
    assert "rows=30279" in out
    assert "added     BITSTAMP/BTCUSD/2015-05-01" in out
    assert "order_book snapshot (L2, not emitted)=2705" in out  # skips are reported

    code, out, _ = cli(capsys, "data", "import", "-f", "bitstamp", str(log), "--root", root)
    assert code == 0
    assert "unchanged BITSTAMP/BTCUSD/2015-05-01" in out

    code, out, _ = cli(capsys, "data", "list", "--root", root)
    header, row = out.strip().splitlines()
    assert header.split() == ["VENUE", "SYMBOL", "DATE", "ROWS", "SPAN", "(UTC)", "SHA256"]
    entry = Repository(root).list()[0]
    assert row.split() == [
        "BITSTAMP",
        "BTCUSD",
        "2015-05-01",
        str(entry.rows),
        "00:00:04.637–02:29:59.986",
        entry.sha256[:12],
    ]

    code, out, _ = cli(capsys, "data", "show", "BTCUSD", "--root", root, "--date", "2015-05-01")
    assert code == 0
    assert "execute=331" in out
    assert entry.sha256 in out

    code, out, _ = cli(capsys, "data", "verify", "--root", root)
    assert (code, out.strip().splitlines()[-1]) == (0, "parts=1 problems=0")


def test_parquet_and_csv_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(tmp_path / "repo")
    write_parquet([events()], tmp_path / "e.parquet", INST)
    code, out, _ = cli(capsys, "data", "import", "-f", "parquet", str(tmp_path / "e.parquet"), "--root", root)
    assert code == 0
    assert "added     TESTX/ABC/2023-11-14 rows=20" in out

    write_csv([events()], tmp_path / "e.csv")
    code, _, err = cli(capsys, "data", "import", "-f", "csv", str(tmp_path / "e.csv"), "--root", root)
    assert code == 2
    assert "--symbol, --venue, --tick-size, --lot-size missing" in err

    args = ["--symbol", "ABC", "--venue", "TESTX", "--tick-size", "0.5", "--lot-size", "10"]
    code, out, _ = cli(capsys, "data", "import", "-f", "csv", str(tmp_path / "e.csv"), "--root", root, *args)
    assert code == 0
    # same events, same instrument: the same canonical content, so nothing new is stored
    assert "unchanged TESTX/ABC/2023-11-14" in out
    assert len(Repository(root).list()) == 1


def test_verify_fails_when_a_file_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    repo = Repository(tmp_path / "repo")
    write_parquet([events()], tmp_path / "e.parquet", INST)
    cli(capsys, "data", "import", "-f", "parquet", str(tmp_path / "e.parquet"), "--root", str(repo.root))
    part = repo.root / repo.list()[0].path
    part.write_bytes(part.read_bytes()[:-1])
    code, out, _ = cli(capsys, "data", "verify", "--root", str(repo.root))
    assert code == 1
    assert "hash differs" in out


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(tmp_path / "repo")
    code, _, err = cli(
        capsys, "data", "import", "-f", "lobster", str(tmp_path / "only-one.csv"), "--root", root
    )
    assert code == 2
    assert "lobster needs pairs of files" in err
    code, _, err = cli(capsys, "data", "import", "-f", "bitstamp", str(tmp_path / "none.log"), "--root", root)
    assert code == 2
    assert "no such Bitstamp log" in err
    code, _, err = cli(capsys, "data", "show", "NOPE", "--root", root)
    assert code == 2
    assert "no data for NOPE" in err
    code, out, _ = cli(capsys, "data", "list", "--root", root)
    assert (code, out.strip()) == (0, f"no data in {root}")
    code, _, err = cli(capsys, "data", "import", "-f", "parquet", "x.parquet", "--symbol", "A", "--tz", "UTC")
    assert code == 2
    assert "--symbol, --tz not used by the parquet format (a canonical Parquet file carries" in err
    code, _, err = cli(capsys, "data", "import", "-f", "binance", "x.gz", "--snapshots", "all")
    assert code == 2
    assert "--snapshots not used by the binance format" in err


def test_a_missing_handler_module_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "execsim.data.feeds.binance", None)
    code, _, err = cli(capsys, "data", "import", "-f", "binance", str(tmp_path / "x.gz"))
    assert code == 2
    assert "binance feed handler (execsim.data.feeds.binance) is not available" in err


def test_data_without_a_subcommand_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "data")
    assert code == 2
    assert "import" in out
    assert "verify" in out


def test_lobster_import(
    tmp_path: Path, lobster_goog: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("execsim.data.feeds.lobster", reason="LOBSTER handler not written yet")
    msg, ob = lobster_goog
    root = str(tmp_path / "repo")
    code, out, _ = cli(capsys, "data", "import", "-f", "lobster", str(msg), str(ob), "--root", root)
    assert code == 0
    assert "added     NASDAQ/GOOG/2012-06-21" in out
    (entry,) = Repository(root).list()
    with gzip.open(msg, "rt") as f:
        messages = sum(1 for _ in f)
    assert entry.report["rows_read"] == messages
    assert entry.source_files == (str(msg.resolve()), str(ob.resolve()))
    # 09:30–16:00 New York time is 13:30–20:00 UTC
    assert entry.span().startswith("13:30:00")


def test_binance_import_splits_at_midnight_utc(
    tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("execsim.data.feeds.binance", reason="Binance handler not written yet")
    path = shared_data / "binance_hftbacktest" / "spot" / "btcusdt_20240808.gz"
    if not path.is_file():
        pytest.skip(f"Binance capture not found at {path}")
    root = str(tmp_path / "repo")
    code, _out, _ = cli(capsys, "data", "import", "-f", "binance", str(path), "--root", root)
    assert code == 0
    entries = Repository(root).list()
    # PROVENANCE.md: 41,249 lines, collector clock 23:54:13.937 – 23:59:59.999 on Aug 8; the
    # exchange times of the last messages are already past midnight
    assert [str(e.date) for e in entries] == ["2024-08-08", "2024-08-09"]
    assert entries[0].report["rows_read"] == 41_249
    assert {e.venue for e in entries} == {entries[0].instrument.venue}
    events_total = sum(entries[0].report["events_emitted"].values())
    assert sum(e.rows for e in entries) == events_total
