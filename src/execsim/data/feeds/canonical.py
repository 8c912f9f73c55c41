"""Canonical events in and out: Parquet (the storage format) and CSV (for people and other tools).

Parquet files hold the columns of :data:`~execsim.data.schema.ARROW_SCHEMA` in row groups of
:data:`ROW_GROUP_ROWS` records, zstd-compressed, and carry in the Arrow schema metadata:

``execsim.schema_version``
    :data:`SCHEMA_VERSION`, the version of the canonical record layout.
``execsim.instrument``
    The instrument as JSON (:meth:`Instrument.to_dict`), so a file is self-describing.
``execsim.metadata``
    Optional caller metadata as JSON (e.g. the feed report of an import).

CSV files have a header row with the canonical field names, one event per row. ``kind`` and
``side`` are written as readable names (``add``, ``execute``…; ``buy``, ``sell``, ``none``)
unless ``readable=False``; on input both names and integer codes are accepted (``bid`` /
``ask`` too, any case). A CSV file carries no instrument, so :class:`CanonicalCsvFeed` needs
one.

Both readers stream (one row group or CSV block at a time) and validate every batch with
:class:`~execsim.data.validation.EventValidator`; writers validate what they write too, so a
canonical file is valid by construction.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from execsim.core.errors import DataError, DataNotFoundError, ParseError
from execsim.data.feeds.base import DEFAULT_BATCH, FeedReport
from execsim.data.schema import ARROW_SCHEMA, EVENT_DTYPE, FIELD_NAMES, events_to_arrow
from execsim.data.validation import EventValidator
from execsim.model.enums import EventKind, Side
from execsim.model.instrument import Instrument

__all__ = [
    "META_INSTRUMENT",
    "META_METADATA",
    "META_SCHEMA_VERSION",
    "ROW_GROUP_ROWS",
    "SCHEMA_VERSION",
    "CanonicalCsvFeed",
    "CanonicalParquetFeed",
    "ParquetWriteInfo",
    "file_sha256",
    "read_parquet_metadata",
    "write_csv",
    "write_parquet",
]

SCHEMA_VERSION: Final = "1"
"""Version of the canonical record layout stored in every Parquet file."""
META_SCHEMA_VERSION: Final = b"execsim.schema_version"
META_INSTRUMENT: Final = b"execsim.instrument"
META_METADATA: Final = b"execsim.metadata"
ROW_GROUP_ROWS: Final = 262_144
"""Records per Parquet row group: about 13 MB uncompressed, a few MB on disk."""

_KIND_NAMES = np.array([""] + [EventKind.from_code(c).value for c in range(1, 9)])
_SIDE_NAMES = np.array([Side.SELL.value, Side.NONE.value, Side.BUY.value])  # index side + 1
_KIND_BY_NAME = {k.value: k.code for k in EventKind} | {str(k.code): k.code for k in EventKind}
_SIDE_BY_NAME = {s.value: s.code for s in Side} | {
    "bid": 1,
    "ask": -1,
    "1": 1,
    "-1": -1,
    "0": 0,
}
_INT_RE = r"^-?[0-9]+$"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of a file's bytes (read in 1 MiB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------- Parquet


@dataclass(frozen=True, slots=True, kw_only=True)
class ParquetWriteInfo:
    """What :func:`write_parquet` wrote.

    Attributes
    ----------
    path
        The file written.
    rows
        Number of events.
    sha256
        Hex sha256 of the file's bytes.
    ts_min, ts_max
        Smallest and largest ``ts_event`` (``None`` for an empty file).
    kind_counts
        Events by :class:`~execsim.model.EventKind` value.
    """

    path: Path
    rows: int
    sha256: str
    ts_min: int | None
    ts_max: int | None
    kind_counts: dict[str, int] = field(default_factory=dict)


def _schema_with_metadata(instrument: Instrument, metadata: dict[str, Any] | None) -> pa.Schema:
    meta = {
        META_SCHEMA_VERSION: SCHEMA_VERSION.encode(),
        META_INSTRUMENT: json.dumps(instrument.to_dict(), sort_keys=True).encode(),
    }
    if metadata:
        meta[META_METADATA] = json.dumps(metadata, sort_keys=True, default=str).encode()
    return ARROW_SCHEMA.with_metadata(meta)


def write_parquet(
    batches: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    instrument: Instrument,
    *,
    metadata: dict[str, Any] | None = None,
    row_group_rows: int = ROW_GROUP_ROWS,
) -> ParquetWriteInfo:
    """Stream canonical event batches into one Parquet file.

    Batches are validated (kinds, sides, quantities, time and seq order), gathered into row
    groups of ``row_group_rows`` records and written with zstd compression. The file appears
    atomically: it is written as ``<path>.tmp`` and renamed when complete.

    Parameters
    ----------
    batches
        Arrays of :data:`~execsim.data.schema.EVENT_DTYPE`, in stream order.
    path
        The file to write (its folder is created).
    instrument
        Stored in the schema metadata.
    metadata
        Extra JSON-serialisable metadata, stored under ``execsim.metadata``.
    row_group_rows
        Records per row group.

    Returns
    -------
    ParquetWriteInfo
        Rows, content hash, time span and kind counts of the file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    schema = _schema_with_metadata(instrument, metadata)
    check = EventValidator(str(path))
    counts = np.zeros(256, dtype=np.int64)
    ts_min: int | None = None
    ts_max: int | None = None
    pending: list[np.ndarray] = []
    n_pending = 0
    try:
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:

            def flush() -> None:
                nonlocal pending, n_pending
                if pending:
                    table = events_to_arrow(np.concatenate(pending)).replace_schema_metadata(schema.metadata)
                    writer.write_table(table, row_group_size=row_group_rows)
                pending, n_pending = [], 0

            for batch in batches:
                check(batch)
                if not batch.shape[0]:
                    continue
                counts += np.bincount(batch["kind"], minlength=256)
                ts = batch["ts_event"]
                lo, hi = int(ts.min()), int(ts.max())
                ts_min = lo if ts_min is None else min(ts_min, lo)
                ts_max = hi if ts_max is None else max(ts_max, hi)
                # row groups are cut at exact multiples of row_group_rows
                while batch.shape[0]:
                    take = min(row_group_rows - n_pending, batch.shape[0])
                    pending.append(batch[:take])
                    n_pending += take
                    batch = batch[take:]
                    if n_pending >= row_group_rows:
                        flush()
            flush()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    kind_counts = {EventKind.from_code(c).value: int(counts[c]) for c in np.flatnonzero(counts) if c}
    return ParquetWriteInfo(
        path=path,
        rows=check.rows,
        sha256=file_sha256(path),
        ts_min=ts_min,
        ts_max=ts_max,
        kind_counts=kind_counts,
    )


def read_parquet_metadata(path: str | os.PathLike[str]) -> tuple[Instrument, dict[str, Any]]:
    """Return the instrument and the caller metadata stored in a canonical Parquet file.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    DataError
        The file is not Parquet, lacks canonical columns or types, or has no instrument.
    """
    src = str(path)
    if not Path(path).is_file():
        raise DataNotFoundError(f"{src}: no such Parquet file")
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise DataError(f"not a readable Parquet file: {err}", source=src) from None
    _check_schema(schema, src)
    meta = schema.metadata or {}
    raw = meta.get(META_INSTRUMENT)
    if raw is None:
        raise DataError(
            "no instrument in the Parquet metadata (key 'execsim.instrument'); "
            "was it written by execsim.write_parquet?",
            source=src,
        )
    try:
        instrument = Instrument.from_dict(json.loads(raw))
    except (ValueError, TypeError) as err:
        raise DataError(f"malformed instrument metadata: {err}", source=src, value=raw) from None
    version = meta.get(META_SCHEMA_VERSION, b"").decode()
    if version != SCHEMA_VERSION:
        raise DataError(
            f"unsupported canonical schema version (this execsim reads {SCHEMA_VERSION!r})",
            source=src,
            value=version or None,
        )
    extra = json.loads(meta[META_METADATA]) if META_METADATA in meta else {}
    return instrument, extra


def _check_schema(schema: pa.Schema, src: str) -> None:
    missing = [n for n in FIELD_NAMES if n not in schema.names]
    if missing:
        raise DataError(f"not a canonical event file: missing column(s) {missing}", source=src)
    for f in ARROW_SCHEMA:
        got = schema.field(f.name).type
        if got != f.type:
            raise DataError(
                f"column {f.name!r} has type {got}, expected {f.type}", source=src, value=str(got)
            )


class CanonicalParquetFeed:
    """Read a canonical Parquet file (as written by :func:`write_parquet`) as a feed.

    Parameters
    ----------
    path
        The Parquet file. Its schema and instrument metadata are checked on construction.

    Attributes
    ----------
    instrument
        From the file's metadata.
    metadata
        The caller metadata stored with the file (may be empty).
    report
        Rows read and events emitted (a canonical file has nothing to skip).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.instrument, self.metadata = read_parquet_metadata(self.path)
        self.report = FeedReport(source=str(self.path))

    @property
    def paths(self) -> tuple[Path, ...]:
        """The source file(s)."""
        return (self.path,)

    def batches(
        self,
        batch_size: int = DEFAULT_BATCH,
        *,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield validated event batches of at most ``batch_size`` records.

        Parameters
        ----------
        batch_size
            Maximum events per batch.
        start_ns, end_ns
            Keep only events with ``start_ns <= ts_event < end_ns``. Row groups whose
            ``ts_event`` statistics lie outside the interval are not read at all.
        """
        src = str(self.path)
        self.report = FeedReport(source=src)
        lo = -(2**63) if start_ns is None else int(start_ns)
        hi = 2**63 - 1 if end_ns is None else int(end_ns)
        check = EventValidator(src)
        pf = pq.ParquetFile(self.path)
        try:
            meta = pf.metadata
            ts_col = pf.schema_arrow.get_field_index("ts_event")
            first_row = 0
            for g in range(meta.num_row_groups):
                rg = meta.row_group(g)
                st = rg.column(ts_col).statistics
                offset, first_row = first_row, first_row + rg.num_rows
                if st is not None and st.has_min_max and (st.max < lo or st.min >= hi):
                    continue
                for rb in pf.iter_batches(batch_size=batch_size, row_groups=[g], columns=list(FIELD_NAMES)):
                    ev = _batch_to_events(rb, src, offset)
                    check(ev, row_offset=offset)
                    offset += ev.shape[0]
                    self.report.rows_read += ev.shape[0]
                    ts = ev["ts_event"]
                    if ev.shape[0] and (ts[0] < lo or ts[-1] >= hi):
                        ev = ev[(ts >= lo) & (ts < hi)]
                    if ev.shape[0]:
                        _count_kinds(self.report, ev)
                        yield ev
        finally:
            pf.close()


def _batch_to_events(rb: pa.RecordBatch, src: str, row_offset: int) -> np.ndarray:
    out = np.zeros(rb.num_rows, dtype=EVENT_DTYPE)
    for name in FIELD_NAMES:
        col = rb.column(name)
        if col.null_count:
            i = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
            raise ParseError(f"null in column {name!r}", source=src, row=row_offset + i + 1)
        out[name] = col.to_numpy(zero_copy_only=False)
    return out


def _count_kinds(report: FeedReport, ev: np.ndarray) -> None:
    counts = np.bincount(ev["kind"], minlength=9)
    for c in np.flatnonzero(counts):
        report.events_emitted[EventKind.from_code(int(c)).value] += int(counts[c])


# -------------------------------------------------------------------------------------- CSV


def write_csv(
    batches: Iterable[np.ndarray],
    path: str | os.PathLike[str],
    *,
    readable: bool = True,
) -> int:
    """Stream canonical event batches into a CSV file with a header row; return the rows written.

    Parameters
    ----------
    batches
        Arrays of :data:`~execsim.data.schema.EVENT_DTYPE`, in stream order (validated).
    path
        The file to write.
    readable
        Write ``kind`` and ``side`` as names (``execute``, ``sell``) rather than integer codes.
        Both are lossless, and :class:`CanonicalCsvFeed` reads either.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    check = EventValidator(str(path))
    if readable:
        fields = [pa.field(f.name, pa.string()) if f.name in ("kind", "side") else f for f in ARROW_SCHEMA]
        schema = pa.schema(fields)
    else:
        schema = ARROW_SCHEMA
    # the header is written by hand: pyarrow would quote the names
    with open(path, "wb") as f:
        f.write((",".join(FIELD_NAMES) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        with pacsv.CSVWriter(f, schema, write_options=options) as w:
            for batch in batches:
                check(batch)
                table = events_to_arrow(batch)
                if readable:
                    kind = pa.array(_KIND_NAMES[batch["kind"]], type=pa.string())
                    side = pa.array(_SIDE_NAMES[batch["side"].astype(np.int64) + 1], type=pa.string())
                    table = table.set_column(3, "kind", kind).set_column(4, "side", side)
                w.write_table(table.cast(schema))
    return check.rows


class CanonicalCsvFeed:
    """Read a canonical CSV file (a header row with the canonical field names) as a feed.

    The file may be gzip-compressed (detected from its first bytes). Columns may come in any
    order; every canonical column must be present and extra columns are an error. Values are
    checked as they are read: a non-integer (``NaN``, ``1.5``, empty), an unknown ``kind`` or
    ``side`` name, an out-of-range code, time going backwards or ``seq`` not increasing raise
    :class:`~execsim.core.errors.ParseError` or :class:`~execsim.core.errors.TimeOrderError`
    naming the file, the row (the header is row 1) and the value.

    Parameters
    ----------
    path
        The CSV file.
    instrument
        The instrument the events are quoted in (a CSV file does not carry it).
    block_size
        Bytes parsed per block (bounded memory).
    """

    def __init__(
        self, path: str | os.PathLike[str], instrument: Instrument, *, block_size: int = 1 << 22
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise DataNotFoundError(f"{self.path}: no such CSV file")
        if not isinstance(instrument, Instrument):
            raise TypeError(f"instrument must be an Instrument, got {type(instrument).__name__}")
        self.instrument = instrument
        self.block_size = block_size
        self.report = FeedReport(source=str(self.path))

    @property
    def paths(self) -> tuple[Path, ...]:
        """The source file(s)."""
        return (self.path,)

    def _open(self) -> pacsv.CSVStreamingReader:
        with open(self.path, "rb") as f:
            magic = f.read(2)
        stream = pa.input_stream(self.path, compression="gzip" if magic == b"\x1f\x8b" else None)
        try:
            return pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=self.block_size, use_threads=False),
                parse_options=pacsv.ParseOptions(newlines_in_values=False),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in FIELD_NAMES},
                    strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as err:
            stream.close()
            raise ParseError(f"cannot read CSV: {err}", source=str(self.path)) from None

    def batches(self, batch_size: int = DEFAULT_BATCH) -> Iterator[np.ndarray]:
        """Yield validated event batches of at most ``batch_size`` records."""
        src = str(self.path)
        self.report = FeedReport(source=src)
        check = EventValidator(src)
        reader = self._open()
        names = reader.schema.names
        missing = [n for n in FIELD_NAMES if n not in names]
        extra = [n for n in names if n not in FIELD_NAMES]
        if missing or extra:
            reader.close()
            raise ParseError(
                f"CSV header must have exactly the canonical fields {list(FIELD_NAMES)}; "
                f"missing {missing}, unexpected {extra}",
                source=src,
                row=1,
            )
        rows_before = 0
        try:
            while True:
                try:
                    rb = reader.read_next_batch()
                except StopIteration:
                    break
                except pa.ArrowInvalid as err:
                    raise ParseError(
                        f"malformed CSV after data row {rows_before + 1}: {err}", source=src
                    ) from None
                # header is row 1: data row j (0-based, file-wide) is row j + 2
                ev = _csv_batch_to_events(rb, src, rows_before + 1)
                for start in range(0, ev.shape[0], batch_size):
                    chunk = ev[start : start + batch_size]
                    check(chunk, row_offset=rows_before + 1 + start)
                    self.report.rows_read += chunk.shape[0]
                    _count_kinds(self.report, chunk)
                    yield chunk
                rows_before += ev.shape[0]
        finally:
            reader.close()


def _csv_batch_to_events(rb: pa.RecordBatch, src: str, row_offset: int) -> np.ndarray:
    out = np.zeros(rb.num_rows, dtype=EVENT_DTYPE)
    for f in ARROW_SCHEMA:
        col = rb.column(f.name)
        if f.name == "kind":
            out["kind"] = _names_to_codes(col, _KIND_BY_NAME, "kind", src, row_offset)
        elif f.name == "side":
            out["side"] = _names_to_codes(col, _SIDE_BY_NAME, "side", src, row_offset)
        else:
            out[f.name] = _ints(col, f.name, f.type, src, row_offset)
    return out


def _ints(col: pa.Array, name: str, typ: pa.DataType, src: str, row_offset: int) -> np.ndarray:
    stripped = pc.utf8_trim_whitespace(col)
    ok = pc.match_substring_regex(stripped, _INT_RE).to_numpy(zero_copy_only=False)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ParseError(
            f"column {name!r} is not an integer", source=src, row=row_offset + i + 1, value=col[i].as_py()
        )
    try:
        values = pc.cast(stripped, pa.int64()).to_numpy()
    except pa.ArrowInvalid:  # out of int64 range
        bad = [i for i, v in enumerate(stripped.to_pylist()) if not -(2**63) <= int(v) < 2**63]
        raise ParseError(
            f"column {name!r} is out of the int64 range",
            source=src,
            row=row_offset + bad[0] + 1,
            value=col[bad[0]].as_py(),
        ) from None
    info = np.iinfo(typ.to_pandas_dtype())
    out_of_range = (values < info.min) | (values > info.max)
    if out_of_range.any():
        i = int(np.flatnonzero(out_of_range)[0])
        raise ParseError(
            f"column {name!r} is out of range for {typ}",
            source=src,
            row=row_offset + i + 1,
            value=int(values[i]),
        )
    return values


def _names_to_codes(col: pa.Array, table: dict[str, int], name: str, src: str, row_offset: int) -> np.ndarray:
    values = np.asarray(pc.utf8_lower(pc.utf8_trim_whitespace(col)).to_numpy(zero_copy_only=False))
    uniq, inverse = np.unique(values, return_inverse=True)
    codes = np.empty(len(uniq), dtype=np.int64)
    for j, u in enumerate(uniq):
        code = table.get(str(u))
        if code is None:
            i = int(np.flatnonzero(inverse == j)[0])
            raise ParseError(
                f"unknown {name} (expected one of {sorted(k for k in table if not k.lstrip('-').isdigit())} "
                "or its integer code)",
                source=src,
                row=row_offset + i + 1,
                value=col[i].as_py(),
            )
        codes[j] = code
    return codes[inverse.reshape(-1)]
