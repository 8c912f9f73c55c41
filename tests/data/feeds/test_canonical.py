"""Canonical Parquet and CSV: exact round trips, streaming, metadata, and clear errors."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from execsim.core.errors import DataError, DataNotFoundError, ParseError, TimeOrderError
from execsim.data.feeds.base import FeedHandler
from execsim.data.feeds.canonical import (
    SCHEMA_VERSION,
    CanonicalCsvFeed,
    CanonicalParquetFeed,
    read_parquet_metadata,
    write_csv,
    write_parquet,
)
from execsim.data.schema import (
    F_LAST,
    F_SNAPSHOT,
    K_ADD,
    K_CANCEL,
    K_CLEAR,
    K_DELETE,
    K_EXECUTE,
    K_HALT,
    K_SET_LEVEL,
    K_TRADE,
    empty_events,
    events_to_arrow,
)
from execsim.model.instrument import Instrument

INST = Instrument(symbol="BTCUSD", venue="BITSTAMP", tick_size="0.01", lot_size="0.00000001")
HEADER = "ts_event,ts_recv,seq,kind,side,price,qty,order_id,flags"


def sample(n: int = 1000) -> np.ndarray:
    """Events of every kind, with extreme values in every column."""
    rng = np.random.default_rng(7)
    ev = empty_events(n)
    ev["ts_event"] = 1_430_438_400_000_000_000 + np.cumsum(rng.integers(0, 5_000_000, n))
    ev["ts_recv"] = ev["ts_event"] + rng.integers(0, 1000, n)
    ev["seq"] = np.arange(n) * 3 + 11
    kinds = np.array([K_ADD, K_CANCEL, K_DELETE, K_EXECUTE, K_TRADE, K_SET_LEVEL, K_CLEAR, K_HALT])
    ev["kind"] = kinds[rng.integers(0, 8, n)]
    ev["side"] = rng.choice([-1, 1], n)
    ev["side"][ev["kind"] == K_TRADE] = 0
    ev["price"] = rng.integers(-(2**62), 2**62, n)
    ev["qty"] = rng.integers(1, 2**62, n)
    ev["qty"][ev["kind"] == K_HALT] = 2
    ev["order_id"] = rng.integers(0, 2**63 - 1, n, dtype=np.int64)
    ev["flags"] = rng.integers(0, 2**16, n)
    return ev


def read_all(feed: FeedHandler, batch_size: int = 65_536) -> np.ndarray:
    return np.concatenate(list(feed.batches(batch_size)))


# ------------------------------------------------------------------------------- Parquet
def test_parquet_round_trip_is_exact_with_instrument_and_metadata(tmp_path: Path) -> None:
    ev = sample()
    path = tmp_path / "a" / "events.parquet"
    info = write_parquet([ev[:300], ev[300:301], ev[301:]], path, INST, metadata={"note": "x"})
    assert info.rows == len(ev)
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (info.ts_min, info.ts_max) == (int(ev["ts_event"][0]), int(ev["ts_event"][-1]))
    expected = {
        name: int((ev["kind"] == code).sum())
        for name, code in [("add", K_ADD), ("cancel", K_CANCEL), ("halt", K_HALT)]
    }
    assert {k: info.kind_counts[k] for k in expected} == expected
    assert sum(info.kind_counts.values()) == len(ev)
    feed = CanonicalParquetFeed(path)
    assert feed.instrument == INST
    assert feed.metadata == {"note": "x"}
    back = read_all(feed, batch_size=128)
    assert np.array_equal(back, ev)
    assert feed.report.rows_read == len(ev)
    assert not (tmp_path / "a" / "events.parquet.tmp").exists()


def test_parquet_file_has_zstd_row_groups_and_schema_metadata(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    write_parquet([sample(1000)], path, INST, row_group_rows=256)
    meta = pq.ParquetFile(path).metadata
    assert meta.num_row_groups == 4  # 256 + 256 + 256 + 232
    assert meta.row_group(0).num_rows == 256
    assert meta.row_group(0).column(0).compression == "ZSTD"
    schema_meta = pq.read_schema(path).metadata
    assert schema_meta[b"execsim.schema_version"].decode() == SCHEMA_VERSION
    assert json.loads(schema_meta[b"execsim.instrument"]) == INST.to_dict()


def test_parquet_time_window_reads_only_the_row_groups_it_needs(tmp_path: Path) -> None:
    ev = sample(1000)
    path = tmp_path / "e.parquet"
    write_parquet([ev], path, INST, row_group_rows=100)
    lo, hi = int(ev["ts_event"][420]), int(ev["ts_event"][480])
    feed = CanonicalParquetFeed(path)
    got = read_all(feed)
    assert len(got) == 1000
    got = np.concatenate(list(feed.batches(start_ns=lo, end_ns=hi)))
    assert np.array_equal(got, ev[(ev["ts_event"] >= lo) & (ev["ts_event"] < hi)])
    assert feed.report.rows_read == 100  # one row group of 100 read


def test_writing_invalid_events_fails_and_leaves_no_file(tmp_path: Path) -> None:
    ev = sample(10)
    ev["ts_event"][5] = ev["ts_event"][4] - 1
    path = tmp_path / "bad.parquet"
    with pytest.raises(TimeOrderError, match=r"bad\.parquet, row 6"):
        write_parquet([ev], path, INST)
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_parquet_without_instrument_metadata_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    pq.write_table(events_to_arrow(sample(5)), path)
    with pytest.raises(DataError, match=r"plain\.parquet: no instrument"):
        CanonicalParquetFeed(path)


def test_parquet_with_a_wrong_column_type_or_missing_column_is_refused(tmp_path: Path) -> None:
    table = events_to_arrow(sample(5))
    path = tmp_path / "t.parquet"
    pq.write_table(table.set_column(5, "price", table.column("price").cast(pa.float64(), safe=False)), path)
    with pytest.raises(DataError, match=r"column 'price' has type double, expected int64"):
        CanonicalParquetFeed(path)
    pq.write_table(table.drop(["flags"]), path)
    with pytest.raises(DataError, match=r"missing column\(s\) \['flags'\]"):
        read_parquet_metadata(path)


def test_not_parquet_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.parquet"
    junk.write_text("hello")
    with pytest.raises(DataError, match=r"junk\.parquet: not a readable Parquet file"):
        CanonicalParquetFeed(junk)
    with pytest.raises(DataNotFoundError):
        CanonicalParquetFeed(tmp_path / "none.parquet")


# ----------------------------------------------------------------------------------- CSV
def test_parquet_to_csv_to_array_is_exact_with_names_and_with_codes(tmp_path: Path) -> None:
    ev = sample()
    pq_path = tmp_path / "e.parquet"
    write_parquet([ev], pq_path, INST)
    for readable in (True, False):
        csv_path = tmp_path / f"e-{readable}.csv"
        assert write_csv(CanonicalParquetFeed(pq_path).batches(100), csv_path, readable=readable) == 1000
        feed = CanonicalCsvFeed(csv_path, INST, block_size=4096)
        assert np.array_equal(read_all(feed, batch_size=77), ev)
        assert feed.report.rows_read == 1000
        with open(csv_path) as f:
            assert f.readline().strip() == HEADER
            kind_col = f.readline().split(",")[3]
        assert kind_col.isdigit() != readable


def test_csv_with_names_codes_and_bid_ask_mixed_in_any_case(tmp_path: Path) -> None:
    path = tmp_path / "hand.csv"
    path.write_text(
        HEADER
        + "\n"
        + "10,10,0,ADD,Bid,23647,100,7,1\n"
        + "11,11,1,1,ask,23650,50,8,1\n"
        + "12,12,2,execute,buy,23647,40,7,1\n"
        + "13,13,3,5,none,23647,1,99,1\n"
        + "14,14,4,set_level,-1,23651,0,0,3\n"
    )
    ev = read_all(CanonicalCsvFeed(path, INST))
    assert list(ev["kind"]) == [K_ADD, K_ADD, K_EXECUTE, K_TRADE, K_SET_LEVEL]
    assert list(ev["side"]) == [1, -1, 1, 0, -1]
    assert list(ev["flags"]) == [F_LAST] * 4 + [F_LAST | F_SNAPSHOT]


def test_gzipped_csv_is_read(tmp_path: Path) -> None:
    ev = sample(50)
    write_csv([ev], tmp_path / "e.csv")
    packed = tmp_path / "e.csv.data"  # no .gz suffix: detected from the bytes
    packed.write_bytes(gzip.compress((tmp_path / "e.csv").read_bytes()))
    assert np.array_equal(read_all(CanonicalCsvFeed(packed, INST)), ev)


@pytest.mark.parametrize(
    ("row", "error", "pattern", "value"),
    [
        ("12,12,2,add,buy,NaN,1,7,1", ParseError, "column 'price' is not an integer", "NaN"),
        ("12,12,2,add,buy,1.5,1,7,1", ParseError, "column 'price' is not an integer", "1.5"),
        ("12,12,2,add,buy,,1,7,1", ParseError, "column 'price' is not an integer", ""),
        ("12,12,2,modify,buy,1,1,7,1", ParseError, "unknown kind", "modify"),
        ("12,12,2,add,up,1,1,7,1", ParseError, "unknown side", "up"),
        ("12,12,2,add,buy,1,1,7,70000", ParseError, "out of range for uint16", 70000),
        ("12,12,2,add,buy,1,99999999999999999999,7,1", ParseError, "int64", "99999999999999999999"),
        ("9,12,2,add,buy,1,1,7,1", TimeOrderError, "ts_event goes backwards", 9),
        ("12,12,1,add,buy,1,1,7,1", TimeOrderError, "seq does not increase", 1),
        ("12,12,2,add,none,1,1,7,1", ParseError, "ADD needs side", 0),
    ],
)
def test_bad_csv_row_names_file_row_and_value(
    tmp_path: Path, row: str, error: type[Exception], pattern: str, value: object
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"{HEADER}\n10,10,0,add,buy,1,1,1,1\n11,11,1,add,buy,1,1,2,1\n{row}\n")
    with pytest.raises(error, match=pattern) as info:
        read_all(CanonicalCsvFeed(path, INST))
    assert info.value.row == 4  # type: ignore[attr-defined]  # header is row 1
    assert info.value.value == value  # type: ignore[attr-defined]
    assert "bad.csv, row 4" in str(info.value)


def test_csv_error_rows_count_across_blocks(tmp_path: Path) -> None:
    ev = sample(3000)
    path = tmp_path / "e.csv"
    write_csv([ev], path)
    lines = path.read_text().splitlines()
    lines[2501] = lines[2501].replace(",", ",x", 1)  # data row 2501 = file row 2502
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParseError, match="row 2502"):
        read_all(CanonicalCsvFeed(path, INST, block_size=10_000), batch_size=100)


def test_csv_header_must_be_the_canonical_fields(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("ts_event,ts_recv,seq,kind,side,price,qty,order_id,extra\n1,1,0,add,buy,1,1,1,1\n")
    with pytest.raises(ParseError, match=r"missing \['flags'\], unexpected \['extra'\]"):
        read_all(CanonicalCsvFeed(path, INST))


def test_csv_feed_needs_a_file_and_an_instrument(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError):
        CanonicalCsvFeed(tmp_path / "none.csv", INST)
    path = tmp_path / "e.csv"
    write_csv([sample(3)], path)
    with pytest.raises(TypeError, match="Instrument"):
        CanonicalCsvFeed(path, "BTCUSD")  # type: ignore[arg-type]


@st.composite
def event_arrays(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(0, 40))
    ev = empty_events(n)
    ev["ts_event"] = np.cumsum(draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)))
    ev["ts_recv"] = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
    ev["seq"] = np.cumsum(draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n)))
    ev["kind"] = draw(st.lists(st.sampled_from([K_DELETE, K_CLEAR, K_EXECUTE]), min_size=n, max_size=n))
    ev["side"] = draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=n, max_size=n))
    ev["price"] = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
    ev["qty"] = draw(st.lists(st.integers(1, 2**63 - 1), min_size=n, max_size=n))
    ev["order_id"] = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
    ev["flags"] = draw(st.lists(st.integers(0, 2**16 - 1), min_size=n, max_size=n))
    return ev


@settings(max_examples=25, deadline=None)
@given(ev=event_arrays())
def test_any_valid_stream_survives_parquet_and_csv(
    tmp_path_factory: pytest.TempPathFactory, ev: np.ndarray
) -> None:
    d = tmp_path_factory.mktemp("rt")
    write_parquet([ev], d / "e.parquet", INST)
    write_csv(CanonicalParquetFeed(d / "e.parquet").batches(), d / "e.csv")
    batches = list(CanonicalCsvFeed(d / "e.csv", INST).batches())
    back = np.concatenate(batches) if batches else empty_events(0)
    assert np.array_equal(back, ev)
