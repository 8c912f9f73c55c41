"""The data repository: canonical Parquet partitioned by venue / symbol / date, and a DuckDB catalog.

Layout under the root folder (``$EXECSIM_DATA``, else ``./execsim-data``)::

    <root>/catalog.duckdb
    <root>/venue=<VENUE>/symbol=<SYMBOL>/date=<YYYY-MM-DD>/part-<sha256[:16]>.parquet

The folders are Hive-style, so Spark, Ray, DuckDB (``hive_partitioning``) and
``pyarrow.dataset`` (``partitioning="hive"``) read the tree as one table with ``venue``,
``symbol`` and ``date`` columns. ``date`` is the UTC date of ``ts_event``: a stream spanning
midnight becomes two parts. Each part is a canonical Parquet file
(:func:`~execsim.data.feeds.canonical.write_parquet`) named after its content hash.

The catalog (table ``parts``) answers "what data do I have" without opening the data: per part
its venue, symbol, date, path, rows, time span, sha256, the source file(s) and their combined
hash, the instrument, the feed handler, its report (rows read, skips by reason), the event
counts by kind, the import time and the package version.

Imports are idempotent: a part whose content hash is already catalogued for its venue, symbol
and date is not written again (reported as ``unchanged``; the catalog keeps the provenance of
the first import). A part file holds only the events, the instrument and the schema version,
so identical events give identical bytes whatever file they came from (with the same pyarrow
writer). Re-importing the same source (same combined source hash) with a different result, e.g.
other handler options or a newer execsim, replaces the parts its earlier import made
(``replaced``). A part from another source that overlaps an existing one in time is stored
and flagged; :meth:`Repository.query` then refuses the overlap rather than interleave them.

Concurrency: one writer at a time. DuckDB locks the catalog file while an import runs; a
second process that tries to import, or to read the catalog meanwhile, gets a
:class:`~execsim.core.errors.DataError` saying the catalog is in use. Reads do not block each
other.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import itertools
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import duckdb
import numpy as np

from execsim.core.errors import DataError, DataNotFoundError
from execsim.core.timeutil import NS_PER_S, format_ns
from execsim.core.version import __version__
from execsim.data.feeds.base import DEFAULT_BATCH, FeedHandler, FeedReport
from execsim.data.feeds.canonical import (
    SCHEMA_VERSION,
    CanonicalParquetFeed,
    file_sha256,
    write_parquet,
)
from execsim.data.validation import EventValidator
from execsim.model.instrument import Instrument

__all__ = [
    "CATALOG_FILE",
    "CatalogEntry",
    "ImportResult",
    "ImportedPart",
    "Repository",
    "SymbolSummary",
    "VerifyReport",
    "default_root",
]

CATALOG_FILE: Final = "catalog.duckdb"
NS_PER_DAY: Final = 86_400 * NS_PER_S
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

_DDL = """
CREATE TABLE IF NOT EXISTS parts (
    path VARCHAR PRIMARY KEY,
    venue VARCHAR NOT NULL,
    symbol VARCHAR NOT NULL,
    date DATE NOT NULL,
    rows BIGINT NOT NULL,
    ts_min BIGINT,
    ts_max BIGINT,
    sha256 VARCHAR NOT NULL,
    source_files VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL,
    instrument VARCHAR NOT NULL,
    feed VARCHAR NOT NULL,
    report VARCHAR NOT NULL,
    kind_counts VARCHAR NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    package_version VARCHAR NOT NULL,
    schema_version VARCHAR NOT NULL
)
"""
_COLUMNS: Final = (
    "path",
    "venue",
    "symbol",
    "date",
    "rows",
    "ts_min",
    "ts_max",
    "sha256",
    "source_files",
    "source_sha256",
    "instrument",
    "feed",
    "report",
    "kind_counts",
    "imported_at",
    "package_version",
    "schema_version",
)


def default_root() -> Path:
    """The repository root: ``$EXECSIM_DATA`` if set, else ``./execsim-data``."""
    return Path(os.environ.get("EXECSIM_DATA") or "execsim-data")


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogEntry:
    """One catalogued Parquet part (one venue, symbol and UTC date from one import).

    Attributes
    ----------
    venue, symbol, date
        The partition.
    path
        The file, relative to the repository root (POSIX separators).
    rows
        Number of events.
    ts_min, ts_max
        Time span of ``ts_event`` (ns UTC); ``None`` only for an empty part.
    sha256
        Hex sha256 of the file.
    source_files
        The file(s) the import read.
    source_sha256
        sha256 over the sha256 of each source file, in order ("" when unknown).
    instrument
        The instrument of the events.
    feed
        The feed handler class that produced the events.
    report
        The handler's report of the whole import: ``rows_read``, ``events_emitted`` and
        ``skipped`` (counts by reason).
    kind_counts
        Events in this part by :class:`~execsim.model.EventKind` value.
    imported_at
        When the part was catalogued (UTC).
    package_version, schema_version
        execsim version and canonical schema version that wrote the part.
    """

    venue: str
    symbol: str
    date: dt.date
    path: str
    rows: int
    ts_min: int | None
    ts_max: int | None
    sha256: str
    source_files: tuple[str, ...]
    source_sha256: str
    instrument: Instrument
    feed: str
    report: dict[str, Any] = field(default_factory=dict)
    kind_counts: dict[str, int] = field(default_factory=dict)
    imported_at: dt.datetime
    package_version: str
    schema_version: str

    def span(self) -> str:
        """The time span as ``HH:MM:SS.mmm–HH:MM:SS.mmm`` (UTC)."""
        if self.ts_min is None or self.ts_max is None:
            return "-"
        return f"{format_ns(self.ts_min)[11:23]}–{format_ns(self.ts_max)[11:23]}"

    def _row(self) -> tuple[Any, ...]:
        return (
            self.path,
            self.venue,
            self.symbol,
            self.date,
            self.rows,
            self.ts_min,
            self.ts_max,
            self.sha256,
            json.dumps(list(self.source_files)),
            self.source_sha256,
            json.dumps(self.instrument.to_dict(), sort_keys=True),
            self.feed,
            json.dumps(self.report, sort_keys=True),
            json.dumps(self.kind_counts, sort_keys=True),
            self.imported_at.astimezone(dt.UTC).replace(tzinfo=None),
            self.package_version,
            self.schema_version,
        )

    @classmethod
    def _from_row(cls, row: Sequence[Any]) -> CatalogEntry:
        d = dict(zip(_COLUMNS, row, strict=True))
        return cls(
            path=d["path"],
            venue=d["venue"],
            symbol=d["symbol"],
            date=d["date"],
            rows=int(d["rows"]),
            ts_min=d["ts_min"],
            ts_max=d["ts_max"],
            sha256=d["sha256"],
            source_files=tuple(json.loads(d["source_files"])),
            source_sha256=d["source_sha256"],
            instrument=Instrument.from_dict(json.loads(d["instrument"])),
            feed=d["feed"],
            report=json.loads(d["report"]),
            kind_counts=json.loads(d["kind_counts"]),
            imported_at=d["imported_at"].replace(tzinfo=dt.UTC),
            package_version=d["package_version"],
            schema_version=d["schema_version"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedPart:
    """A part of an import and what happened to it.

    ``status`` is ``"added"`` (new), ``"unchanged"`` (identical content already catalogued:
    nothing written) or ``"replaced"`` (an earlier import of the same source was replaced).
    """

    entry: CatalogEntry
    status: Literal["added", "unchanged", "replaced"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportResult:
    """What :meth:`Repository.import_feed` did.

    Attributes
    ----------
    parts
        One per UTC date of the stream.
    report
        The feed handler's report (rows read, events, skips by reason).
    source_sha256
        Combined hash of the source files ("" when they are unknown).
    removed
        Paths of parts of an earlier import of the same source that were removed.
    warnings
        Things worth a look, e.g. a part overlapping in time with another source's part.
    """

    parts: tuple[ImportedPart, ...]
    report: FeedReport
    source_sha256: str
    removed: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        """Events in all parts."""
        return sum(p.entry.rows for p in self.parts)

    def summary(self) -> str:
        """A few lines for people: the parts, their status, and the handler's skips."""
        lines = [self.report.summary()]
        for p in self.parts:
            e = p.entry
            line = (
                f"  {p.status:<9} {e.venue}/{e.symbol}/{e.date} rows={e.rows} "
                f"span={e.span()} sha256={e.sha256[:12]}"
            )
            if p.status == "unchanged":
                names = ", ".join(Path(s).name for s in e.source_files) or "?"
                line += f" (identical content already stored, from {names})"
            lines.append(line)
        lines += [f"  removed   {r}" for r in self.removed]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolSummary:
    """What the catalog knows about one symbol (read from the catalog only, not the data)."""

    symbol: str
    venues: tuple[str, ...]
    dates: tuple[dt.date, ...]
    rows: int
    ts_min: int | None
    ts_max: int | None
    kind_counts: dict[str, int]
    skipped: dict[str, int]
    parts: tuple[CatalogEntry, ...]

    def format(self) -> str:
        """A human-readable multi-line description."""
        span = (
            f"{format_ns(self.ts_min)} – {format_ns(self.ts_max)}"
            if self.ts_min is not None and self.ts_max is not None
            else "-"
        )
        kinds = ", ".join(f"{k}={v}" for k, v in sorted(self.kind_counts.items())) or "none"
        skipped = ", ".join(f"{k}={v}" for k, v in sorted(self.skipped.items())) or "none"
        lines = [
            f"symbol:  {self.symbol}",
            f"venues:  {', '.join(self.venues)}",
            f"dates:   {', '.join(str(d) for d in self.dates)}",
            f"span:    {span}",
            f"events:  {self.rows} ({kinds})",
            f"skipped at import: {skipped}",
            "parts:",
        ]
        for e in self.parts:
            lines.append(
                f"  {e.venue}/{e.date} rows={e.rows} span={e.span()} sha256={e.sha256} "
                f"({e.path}; from {', '.join(Path(s).name for s in e.source_files) or '?'})"
            )
        return "\n".join(lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    """Result of :meth:`Repository.verify`: parts checked and every difference found."""

    checked: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when every catalogued file exists with its recorded hash and none is orphaned."""
        return not self.problems


def _check_name(value: str, what: str) -> str:
    if not _NAME_RE.fullmatch(value):
        raise DataError(
            f"{what} {value!r} cannot name a partition folder "
            "(use letters, digits, '.', '_' or '-', starting with a letter or digit)"
        )
    return value


def _feed_sources(feed: FeedHandler) -> tuple[Path, ...]:
    paths = getattr(feed, "paths", None)
    if paths:
        return tuple(Path(p) for p in paths)
    found = []
    for attr in ("message_path", "orderbook_path", "path"):
        p = getattr(feed, attr, None)
        if isinstance(p, str | os.PathLike):
            found.append(Path(p))
    return tuple(found)


class Repository:
    """Canonical market data on disk, with a DuckDB catalog.

    Parameters
    ----------
    root
        The repository folder; default :func:`default_root` (``$EXECSIM_DATA`` or
        ``./execsim-data``). It is created by the first import.

    Examples
    --------
    >>> repo = Repository("/data/execsim")                                # doctest: +SKIP
    >>> repo.import_feed(BitstampFeed("bitstamp.log.gz")).summary()       # doctest: +SKIP
    >>> for batch in repo.query("BTCUSD", venue="BITSTAMP"):              # doctest: +SKIP
    ...     book.apply(batch)
    """

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    @property
    def catalog_path(self) -> Path:
        """The DuckDB catalog file."""
        return self.root / CATALOG_FILE

    def __repr__(self) -> str:
        return f"Repository({str(self.root)!r})"

    # ------------------------------------------------------------------ catalog access
    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        if write:
            self.root.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.catalog_path), read_only=not write)
        except duckdb.Error as err:
            raise DataError(
                f"cannot open the catalog (another process may be importing: one writer at a time): {err}",
                source=str(self.catalog_path),
            ) from None
        try:
            if write:
                con.execute(_DDL)
            yield con
        finally:
            con.close()

    def _select(self, where: str = "", params: Sequence[Any] = ()) -> builtins.list[CatalogEntry]:
        if not self.catalog_path.is_file():
            return []
        with self._connect(write=False) as con:
            has = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'parts'"
            ).fetchone()
            if not has or not has[0]:
                return []
            rows = con.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM parts {where} ORDER BY venue, symbol, date, ts_min, path",
                list(params),
            ).fetchall()
        return [CatalogEntry._from_row(r) for r in rows]

    def list(self, symbol: str | None = None, venue: str | None = None) -> builtins.list[CatalogEntry]:
        """Return the catalogued parts, optionally of one symbol and/or venue, in order.

        Reads only the catalog. An absent catalog means an empty repository.
        """
        conds, params = [], []
        if symbol is not None:
            conds.append("symbol = ?")
            params.append(symbol)
        if venue is not None:
            conds.append("venue = ?")
            params.append(venue)
        return self._select(("WHERE " + " AND ".join(conds)) if conds else "", params)

    def show(
        self, symbol: str, *, venue: str | None = None, date: dt.date | str | None = None
    ) -> SymbolSummary:
        """Summarise a symbol from the catalog only (no data is read).

        Raises
        ------
        DataNotFoundError
            The catalog has no part for this symbol (and venue / date).
        """
        entries = self.list(symbol=symbol, venue=venue)
        if date is not None:
            day = dt.date.fromisoformat(date) if isinstance(date, str) else date
            entries = [e for e in entries if e.date == day]
        if not entries:
            what = " ".join(
                x for x in (symbol, f"venue={venue}" if venue else "", f"date={date}" if date else "") if x
            )
            raise DataNotFoundError(f"no data for {what} in {self.root}")
        kinds: Counter[str] = Counter()
        skipped: Counter[str] = Counter()
        seen_imports: set[tuple[str, str]] = set()
        for e in entries:
            kinds.update(e.kind_counts)
            # the report covers a whole import, which may span several parts: count it once
            key = (e.source_sha256 or e.path, e.feed)
            if key not in seen_imports:
                seen_imports.add(key)
                skipped.update(e.report.get("skipped", {}))
        ts_min = [e.ts_min for e in entries if e.ts_min is not None]
        ts_max = [e.ts_max for e in entries if e.ts_max is not None]
        return SymbolSummary(
            symbol=symbol,
            venues=tuple(sorted({e.venue for e in entries})),
            dates=tuple(sorted({e.date for e in entries})),
            rows=sum(e.rows for e in entries),
            ts_min=min(ts_min) if ts_min else None,
            ts_max=max(ts_max) if ts_max else None,
            kind_counts=dict(kinds),
            skipped=dict(skipped),
            parts=tuple(entries),
        )

    def instrument(self, symbol: str, *, venue: str | None = None) -> Instrument:
        """Return the instrument of a catalogued symbol (from its most recent part)."""
        entries = self._entries_for(symbol, venue)
        return max(entries, key=lambda e: (e.date, e.ts_min or 0)).instrument

    # ------------------------------------------------------------------ import
    def import_feed(
        self,
        feed: FeedHandler,
        *,
        sources: Sequence[str | os.PathLike[str]] | None = None,
        progress: Callable[[int], None] | None = None,
        batch_size: int = DEFAULT_BATCH,
    ) -> ImportResult:
        """Stream a feed into date partitions and register them in the catalog.

        Parameters
        ----------
        feed
            Any :class:`~execsim.data.feeds.FeedHandler`.
        sources
            The files the feed reads, for the catalog and the source hash; by default taken
            from the feed (``paths``, ``path`` or ``message_path`` / ``orderbook_path``).
        progress
            Called with the number of events of each batch as it is written.
        batch_size
            Events per batch pulled from the feed.

        Returns
        -------
        ImportResult
            The parts, with ``added`` / ``unchanged`` / ``replaced`` status.
        """
        inst = feed.instrument
        venue = _check_name(inst.venue, "venue")
        symbol = _check_name(inst.symbol, "symbol")
        src_paths = tuple(Path(p) for p in sources) if sources is not None else _feed_sources(feed)
        src_files = tuple(str(p.resolve()) for p in src_paths)
        src_hash = (
            hashlib.sha256("".join(file_sha256(p) for p in src_paths).encode()).hexdigest()
            if src_paths
            else ""
        )
        feed_name = f"{type(feed).__module__}.{type(feed).__qualname__}"
        tmp_dir = self.root / ".tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)

        written: builtins.list[tuple[dt.date, Path, Any]] = []
        try:
            for day, segments in itertools.groupby(
                self._split_days(feed, batch_size, progress), key=lambda x: x[0]
            ):
                fd, name = tempfile.mkstemp(suffix=".parquet", dir=tmp_dir)
                os.close(fd)
                # no provenance in the file: its bytes depend on the events and the instrument
                # only, so identical content from another source deduplicates (the catalog
                # keeps the provenance)
                info = write_parquet((seg for _, seg in segments), name, inst)
                written.append((day, Path(name), info))
            return self._register(feed, written, venue, symbol, inst, src_files, src_hash, feed_name)
        finally:
            for _, tmp, _ in written:
                with suppress(FileNotFoundError):
                    tmp.unlink()

    @staticmethod
    def _split_days(
        feed: FeedHandler, batch_size: int, progress: Callable[[int], None] | None
    ) -> Iterator[tuple[dt.date, np.ndarray]]:
        """Yield (UTC date, events of that date) in stream order, splitting at midnights."""
        check = EventValidator(str(feed.report.source))
        last_day: int | None = None
        for batch in feed.batches(batch_size):
            check(batch)
            if not batch.shape[0]:
                continue
            days = batch["ts_event"] // NS_PER_DAY
            cuts = np.flatnonzero(days[1:] != days[:-1]) + 1
            for seg in np.split(batch, cuts):
                d = int(seg["ts_event"][0] // NS_PER_DAY)
                if last_day is not None and d < last_day:  # pragma: no cover - validated above
                    raise DataError("events go back to an earlier date", source=feed.report.source)
                last_day = d
                yield dt.date(1970, 1, 1) + dt.timedelta(days=d), seg
            if progress is not None:
                progress(int(batch.shape[0]))

    def _register(
        self,
        feed: FeedHandler,
        written: builtins.list[tuple[dt.date, Path, Any]],
        venue: str,
        symbol: str,
        inst: Instrument,
        src_files: tuple[str, ...],
        src_hash: str,
        feed_name: str,
    ) -> ImportResult:
        report = feed.report
        report_dict = {
            "source": report.source,
            "rows_read": report.rows_read,
            "events_emitted": dict(report.events_emitted),
            "skipped": dict(report.skipped),
        }
        stats = getattr(feed, "stats", None)
        if isinstance(stats, dict) and stats:
            report_dict["stats"] = {str(k): int(v) for k, v in stats.items()}
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        parts: builtins.list[ImportedPart] = []
        warnings: builtins.list[str] = []
        removed: builtins.list[str] = []
        new_hashes = {info.sha256 for _, _, info in written}
        moved: builtins.list[Path] = []
        if not written:
            warnings.append("the feed produced no events: nothing was written")
        with self._connect(write=True) as con:
            existing = [
                CatalogEntry._from_row(r)
                for r in con.execute(
                    f"SELECT {', '.join(_COLUMNS)} FROM parts WHERE venue = ? AND symbol = ?",
                    [venue, symbol],
                ).fetchall()
            ]
            # an earlier import of the same source is replaced by this one
            stale = [
                e for e in existing if src_hash and e.source_sha256 == src_hash and e.sha256 not in new_hashes
            ]
            replacing = bool(stale)
            keep = [e for e in existing if e not in stale]
            con.execute("BEGIN TRANSACTION")
            try:
                for e in stale:
                    con.execute("DELETE FROM parts WHERE path = ?", [e.path])
                    removed.append(e.path)
                for day, tmp, info in written:
                    same = [e for e in keep if e.date == day and e.sha256 == info.sha256]
                    if same:
                        parts.append(ImportedPart(entry=same[0], status="unchanged"))
                        continue
                    rel = (
                        f"venue={venue}/symbol={symbol}/date={day.isoformat()}/"
                        f"part-{info.sha256[:16]}.parquet"
                    )
                    for e in keep:
                        if (
                            e.date == day
                            and e.ts_min is not None
                            and e.ts_max is not None
                            and info.ts_min is not None
                            and info.ts_max is not None
                            and e.ts_min < info.ts_max
                            and info.ts_min < e.ts_max
                        ):
                            warnings.append(
                                f"{rel} overlaps in time with {e.path} (from "
                                f"{', '.join(Path(s).name for s in e.source_files) or '?'}): "
                                "queries of this symbol will refuse the overlap"
                            )
                    entry = CatalogEntry(
                        venue=venue,
                        symbol=symbol,
                        date=day,
                        path=rel,
                        rows=info.rows,
                        ts_min=info.ts_min,
                        ts_max=info.ts_max,
                        sha256=info.sha256,
                        source_files=src_files,
                        source_sha256=src_hash,
                        instrument=inst,
                        feed=feed_name,
                        report=report_dict,
                        kind_counts=info.kind_counts,
                        imported_at=now,
                        package_version=__version__,
                        schema_version=SCHEMA_VERSION,
                    )
                    dest = self.root / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(tmp, dest)
                    moved.append(dest)
                    con.execute(
                        f"INSERT OR REPLACE INTO parts ({', '.join(_COLUMNS)}) VALUES "
                        f"({', '.join('?' * len(_COLUMNS))})",
                        list(entry._row()),
                    )
                    parts.append(ImportedPart(entry=entry, status="replaced" if replacing else "added"))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                for dest in moved:
                    with suppress(FileNotFoundError):
                        dest.unlink()
                raise
        for path in removed:
            if path not in {p.entry.path for p in parts}:
                with suppress(FileNotFoundError):
                    (self.root / path).unlink()
        return ImportResult(
            parts=tuple(parts),
            report=report,
            source_sha256=src_hash,
            removed=tuple(removed),
            warnings=tuple(warnings),
        )

    # ------------------------------------------------------------------ reading
    def _entries_for(self, symbol: str, venue: str | None) -> builtins.list[CatalogEntry]:
        entries = self.list(symbol=symbol, venue=venue)
        if not entries:
            where = f" on {venue}" if venue else ""
            raise DataNotFoundError(f"no data for {symbol}{where} in {self.root}")
        venues = sorted({e.venue for e in entries})
        if len(venues) > 1:
            raise DataError(f"{symbol} is on several venues {venues}: pass venue=")
        return entries

    def query(
        self,
        symbol: str,
        start_ns: int | None = None,
        end_ns: int | None = None,
        venue: str | None = None,
        *,
        batch_size: int = DEFAULT_BATCH,
    ) -> Iterator[np.ndarray]:
        """Stream the events of a symbol with ``start_ns <= ts_event < end_ns``, in time order.

        Only the parts whose catalogued span meets the interval are opened, and within them
        only the row groups whose ``ts_event`` statistics meet it. ``seq`` is as stored: it
        increases within a part and continues across the midnight split of one import, but
        restarts in a part from another source.

        Raises
        ------
        DataNotFoundError
            The symbol (on that venue) is not in the catalog.
        DataError
            The symbol is on several venues and ``venue`` is not given, or two parts from
            different sources overlap in time inside the interval (their events would
            interleave; remove one of them).
        """
        entries = self._entries_for(symbol, venue)
        lo = -(2**63) if start_ns is None else int(start_ns)
        hi = 2**63 - 1 if end_ns is None else int(end_ns)
        chosen = [
            e
            for e in entries
            if e.rows and e.ts_min is not None and e.ts_max is not None
            if e.ts_max >= lo and e.ts_min < hi
        ]
        chosen.sort(key=lambda e: (e.ts_min or 0, e.ts_max or 0, e.path))
        for a, b in itertools.pairwise(chosen):
            if (b.ts_min or 0) < (a.ts_max or 0):
                raise DataError(
                    f"parts {a.path} and {b.path} overlap in time "
                    f"({format_ns(b.ts_min or 0)} < {format_ns(a.ts_max or 0)})",
                    source=str(self.root),
                )
        return self._stream(chosen, lo, hi, batch_size)

    def _stream(
        self, chosen: builtins.list[CatalogEntry], lo: int, hi: int, batch_size: int
    ) -> Iterator[np.ndarray]:
        for e in chosen:
            path = self.root / e.path
            if not path.is_file():
                raise DataNotFoundError(f"{path}: catalogued part is missing (run verify)")
            yield from CanonicalParquetFeed(path).batches(batch_size, start_ns=lo, end_ns=hi)

    # ------------------------------------------------------------------ integrity
    def verify(self) -> VerifyReport:
        """Recompute every part's sha256 and compare it with the catalog.

        Reports catalogued files that are missing or whose hash differs, and Parquet files
        under the root that the catalog does not know (orphans).
        """
        entries = self.list()
        problems: builtins.list[str] = []
        known = set()
        for e in entries:
            known.add(e.path)
            path = self.root / e.path
            if not path.is_file():
                problems.append(f"missing: {e.path}")
                continue
            digest = file_sha256(path)
            if digest != e.sha256:
                problems.append(f"hash differs: {e.path} (catalog {e.sha256[:16]}, file {digest[:16]})")
        if self.root.is_dir():
            for path in sorted(self.root.glob("venue=*/symbol=*/date=*/*.parquet")):
                rel = path.relative_to(self.root).as_posix()
                if rel not in known:
                    problems.append(f"not in the catalog: {rel}")
        return VerifyReport(checked=len(entries), problems=tuple(problems))
