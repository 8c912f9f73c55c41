"""The data repository: partitioned Parquet + DuckDB catalog, idempotent imports, queries, hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.dataset as pads
import pytest

from execsim.core.errors import DataError, DataNotFoundError
from execsim.data.feeds.bitstamp import BitstampFeed
from execsim.data.feeds.canonical import CanonicalCsvFeed, CanonicalParquetFeed, write_csv
from execsim.data.repository import Repository, default_root
from execsim.data.schema import K_ADD, K_DELETE, empty_events
from execsim.model.instrument import Instrument

NS_DAY = 86_400 * 10**9
MIDNIGHT = 1_430_524_800 * 10**9  # 2015-05-02T00:00:00Z
INST = Instrument(symbol="XYZ", venue="TESTX", tick_size="0.01", lot_size="1")
REAL = "bitstamp_obanalytics/bitstamp_btcusd_2015-05-01T0000-0230Z.log.gz"


def stream(start: int, n: int, step: int, seq0: int = 0) -> np.ndarray:
    ev = empty_events(n)
    ev["ts_event"] = start + np.arange(n) * step
    ev["ts_recv"] = ev["ts_event"]
    ev["seq"] = seq0 + np.arange(n)
    ev["kind"] = np.where(np.arange(n) % 2 == 0, K_ADD, K_DELETE)
    ev["side"] = 1
    ev["price"] = 100
    ev["qty"] = 5
    ev["order_id"] = np.arange(n) // 2
    return ev


def csv_feed(tmp_path: Path, ev: np.ndarray, name: str = "s.csv") -> CanonicalCsvFeed:
    path = tmp_path / name
    write_csv([ev], path)
    return CanonicalCsvFeed(path, INST)


@pytest.fixture(scope="module")
def bitstamp_log(shared_data: Path) -> Path:
    path = shared_data / REAL
    if not path.is_file():
        pytest.skip(f"Bitstamp capture not found at {path}")
    return path


def test_import_writes_a_hive_partition_and_catalogs_it(tmp_path: Path, bitstamp_log: Path) -> None:
    repo = Repository(tmp_path / "repo")
    feed = BitstampFeed(bitstamp_log)
    result = repo.import_feed(feed)
    assert [p.status for p in result.parts] == ["added"]
    entry = result.parts[0].entry
    assert entry.path.startswith("venue=BITSTAMP/symbol=BTCUSD/date=2015-05-01/part-")
    path = repo.root / entry.path
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry.path.endswith(f"part-{entry.sha256[:16]}.parquet")
    assert entry.rows == feed.report.total_emitted
    assert entry.kind_counts == dict(feed.report.events_emitted)
    assert entry.report["rows_read"] == 30_279
    assert entry.report["skipped"] == dict(feed.report.skipped)
    assert entry.source_files == (str(bitstamp_log.resolve()),)
    # one source file: the source hash is the hash of its hash
    file_hash = hashlib.sha256(bitstamp_log.read_bytes()).hexdigest()
    assert entry.source_sha256 == hashlib.sha256(file_hash.encode()).hexdigest()
    assert entry.instrument == feed.instrument
    assert entry.feed == "execsim.data.feeds.bitstamp.BitstampFeed"
    assert repo.list() == [entry]
    # the part is a canonical file and holds exactly what the feed emitted
    stored = np.concatenate(list(CanonicalParquetFeed(path).batches()))
    assert np.array_equal(stored, np.concatenate(list(BitstampFeed(bitstamp_log).batches())))


def test_reimporting_the_same_source_is_a_no_op(tmp_path: Path, bitstamp_log: Path) -> None:
    repo = Repository(tmp_path)
    first = repo.import_feed(BitstampFeed(bitstamp_log)).parts[0].entry
    again = repo.import_feed(BitstampFeed(bitstamp_log))
    assert [p.status for p in again.parts] == ["unchanged"]
    assert again.parts[0].entry == first
    assert repo.list() == [first]
    assert len(list(tmp_path.rglob("*.parquet"))) == 1
    assert "unchanged" in again.summary()


def test_reimporting_a_source_differently_replaces_the_old_parts(tmp_path: Path, bitstamp_log: Path) -> None:
    repo = Repository(tmp_path)
    old = repo.import_feed(BitstampFeed(bitstamp_log)).parts[0].entry
    new = repo.import_feed(BitstampFeed(bitstamp_log, snapshots="all"))
    assert [p.status for p in new.parts] == ["replaced"]
    assert new.removed == (old.path,)
    assert not (tmp_path / old.path).exists()
    assert repo.list() == [new.parts[0].entry]
    assert repo.verify().ok


def test_show_summarises_from_the_catalog_without_reading_data(tmp_path: Path, bitstamp_log: Path) -> None:
    repo = Repository(tmp_path)
    entry = repo.import_feed(BitstampFeed(bitstamp_log)).parts[0].entry
    (tmp_path / entry.path).unlink()  # show must not need the data
    s = repo.show("BTCUSD")
    assert s.venues == ("BITSTAMP",)
    assert s.dates == (dt.date(2015, 5, 1),)
    assert s.rows == entry.rows
    assert s.kind_counts["execute"] == 331  # one per trade print (PROVENANCE.md: 331 trades)
    assert s.skipped["order_book snapshot (L2, not emitted)"] == 2705
    assert (s.ts_min, s.ts_max) == (entry.ts_min, entry.ts_max)
    text = s.format()
    assert entry.sha256 in text
    assert "2015-05-01T00:00:04.637000000Z" in text
    with pytest.raises(DataNotFoundError, match="no data for ETHUSD"):
        repo.show("ETHUSD")
    with pytest.raises(DataNotFoundError):
        repo.show("BTCUSD", date="2015-05-02")


def test_query_streams_a_time_window_in_order(tmp_path: Path, bitstamp_log: Path) -> None:
    repo = Repository(tmp_path)
    repo.import_feed(BitstampFeed(bitstamp_log))
    every = np.concatenate(list(BitstampFeed(bitstamp_log).batches()))
    assert np.array_equal(np.concatenate(list(repo.query("BTCUSD"))), every)
    lo, hi = 1_430_440_000 * 10**9, 1_430_441_000 * 10**9
    got = np.concatenate(list(repo.query("BTCUSD", lo, hi, batch_size=1000)))
    assert np.array_equal(got, every[(every["ts_event"] >= lo) & (every["ts_event"] < hi)])
    assert list(repo.query("BTCUSD", 0, 10)) == []
    with pytest.raises(DataNotFoundError):
        repo.query("BTCUSD", venue="KRAKEN")


def test_a_stream_across_midnight_becomes_two_dated_parts(tmp_path: Path) -> None:
    ev = stream(MIDNIGHT - 50 * 10**9, 100, 10**9)  # 50 s before to 49 s after midnight
    repo = Repository(tmp_path / "r")
    result = repo.import_feed(csv_feed(tmp_path, ev))
    dates = [p.entry.date for p in result.parts]
    assert dates == [dt.date(2015, 5, 1), dt.date(2015, 5, 2)]
    assert [p.entry.rows for p in result.parts] == [50, 50]
    assert result.parts[1].entry.ts_min == MIDNIGHT
    assert (tmp_path / "r" / "venue=TESTX/symbol=XYZ/date=2015-05-02").is_dir()
    back = np.concatenate(list(repo.query("XYZ")))
    assert np.array_equal(back, ev)  # seq continues across the split
    day2 = np.concatenate(list(repo.query("XYZ", MIDNIGHT)))
    assert np.array_equal(day2, ev[50:])


def test_other_tools_read_the_tree_as_a_hive_partitioned_table(tmp_path: Path) -> None:
    ev = stream(MIDNIGHT - 5 * 10**9, 10, 10**9)
    root = tmp_path / "repo"
    Repository(root).import_feed(csv_feed(tmp_path, ev, "hive.csv"))
    ds = pads.dataset(root, format="parquet", partitioning="hive", ignore_prefixes=[".", "catalog"])
    table = ds.to_table()
    assert table.num_rows == 10
    assert set(table.column("date").to_pylist()) == {"2015-05-01", "2015-05-02"}
    assert set(table.column("venue").to_pylist()) == {"TESTX"}
    counts = duckdb.sql(
        f"SELECT date, count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning=true) "
        "GROUP BY date ORDER BY date"
    ).fetchall()
    assert counts == [(dt.date(2015, 5, 1), 5), (dt.date(2015, 5, 2), 5)]


def test_a_second_source_overlapping_in_time_is_flagged_and_queries_refuse_it(tmp_path: Path) -> None:
    repo = Repository(tmp_path / "r")
    repo.import_feed(csv_feed(tmp_path, stream(MIDNIGHT, 10, 10**9), "a.csv"))
    result = repo.import_feed(csv_feed(tmp_path, stream(MIDNIGHT + 5 * 10**9, 10, 10**9), "b.csv"))
    assert [p.status for p in result.parts] == ["added"]
    assert any("overlaps in time" in w for w in result.warnings)
    with pytest.raises(DataError, match="overlap in time"):
        list(repo.query("XYZ"))
    # a window that touches only the first part is fine
    assert len(np.concatenate(list(repo.query("XYZ", MIDNIGHT, MIDNIGHT + 5 * 10**9)))) == 5


def test_a_later_non_overlapping_source_adds_a_part_to_the_same_date(tmp_path: Path) -> None:
    repo = Repository(tmp_path / "r")
    repo.import_feed(csv_feed(tmp_path, stream(MIDNIGHT, 10, 10**9), "a.csv"))
    repo.import_feed(csv_feed(tmp_path, stream(MIDNIGHT + 100 * 10**9, 10, 10**9), "b.csv"))
    assert [e.date for e in repo.list()] == [dt.date(2015, 5, 2)] * 2
    assert len(np.concatenate(list(repo.query("XYZ")))) == 20


def test_symbol_on_two_venues_needs_a_venue(tmp_path: Path) -> None:
    repo = Repository(tmp_path / "r")
    repo.import_feed(csv_feed(tmp_path, stream(MIDNIGHT, 4, 10), "a.csv"))
    other = Instrument(symbol="XYZ", venue="OTHERX", tick_size="0.01", lot_size="1")
    write_csv([stream(MIDNIGHT, 4, 10)], tmp_path / "b.csv")
    repo.import_feed(CanonicalCsvFeed(tmp_path / "b.csv", other))
    with pytest.raises(DataError, match="several venues"):
        repo.query("XYZ")
    assert len(np.concatenate(list(repo.query("XYZ", venue="OTHERX")))) == 4
    assert [e.venue for e in repo.list(symbol="XYZ")] == ["OTHERX", "TESTX"]
    assert [e.venue for e in repo.list(venue="TESTX")] == ["TESTX"]
    assert repo.instrument("XYZ", venue="OTHERX") == other


def test_verify_reports_changed_missing_and_unknown_files(tmp_path: Path) -> None:
    repo = Repository(tmp_path / "r")
    parts = repo.import_feed(csv_feed(tmp_path, stream(MIDNIGHT - 10, 4, 5))).parts
    assert repo.verify().ok
    assert repo.verify().checked == 2
    first, second = (repo.root / p.entry.path for p in parts)
    first.write_bytes(first.read_bytes() + b"x")
    second.rename(second.with_name("part-moved.parquet"))
    report = repo.verify()
    assert not report.ok
    text = "\n".join(report.problems)
    assert f"hash differs: {parts[0].entry.path}" in text
    assert f"missing: {parts[1].entry.path}" in text
    assert "not in the catalog: venue=TESTX/symbol=XYZ/date=2015-05-02/part-moved.parquet" in text


def test_empty_or_absent_repository_lists_nothing_and_creates_nothing(tmp_path: Path) -> None:
    repo = Repository(tmp_path / "nothing")
    assert repo.list() == []
    assert repo.verify().ok
    assert not (tmp_path / "nothing").exists()
    with pytest.raises(DataNotFoundError):
        repo.query("XYZ")


def test_feed_without_events_writes_nothing(tmp_path: Path) -> None:
    result = Repository(tmp_path / "r").import_feed(csv_feed(tmp_path, empty_events(0)))
    assert result.parts == ()
    assert result.warnings == ("the feed produced no events: nothing was written",)


def test_default_root_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EXECSIM_DATA", str(tmp_path / "env-root"))
    assert Repository().root == tmp_path / "env-root"
    monkeypatch.delenv("EXECSIM_DATA")
    assert default_root() == Path("execsim-data")


def test_a_symbol_that_cannot_name_a_folder_is_refused(tmp_path: Path) -> None:
    bad = Instrument(symbol="BTC/USD", venue="X", tick_size="1")
    write_csv([stream(0, 2, 1)], tmp_path / "s.csv")
    with pytest.raises(DataError, match="cannot name a partition folder"):
        Repository(tmp_path / "r").import_feed(CanonicalCsvFeed(tmp_path / "s.csv", bad))


def test_progress_is_called_with_the_events_written(tmp_path: Path) -> None:
    seen: list[int] = []
    Repository(tmp_path / "r").import_feed(
        csv_feed(tmp_path, stream(0, 25, 1)), progress=seen.append, batch_size=10
    )
    assert seen == [10, 10, 5]


def test_a_second_writer_process_gets_a_clear_error(tmp_path: Path) -> None:
    repo = Repository(tmp_path / "r")
    repo.import_feed(csv_feed(tmp_path, stream(0, 2, 1)))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('locked', flush=True);"
            " time.sleep(30)",
            str(repo.catalog_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        start = time.monotonic()
        with pytest.raises(DataError, match="one writer at a time"):
            repo.import_feed(csv_feed(tmp_path, stream(10**9, 2, 1), "second.csv"))
        with pytest.raises(DataError, match="one writer at a time"):
            repo.list()
        assert time.monotonic() - start < 20
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert len(repo.list()) == 1  # the failed import left nothing behind
    assert repo.verify().ok
