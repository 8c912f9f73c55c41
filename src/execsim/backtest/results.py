"""A run's results: in memory as Arrow tables, on disk as a folder.

The folder (``<output>/<name>-<config id prefix>/``) holds::

    manifest.json       config id, seeds, data hashes, package and library versions, time span
    config.yaml         the config, as run
    parents.parquet     one row per parent order (decision time, arrival quote, side, qty)
    orders.parquet      one row per order: what was asked, what happened (with its parent), and
                        the venue's quote just before the order reached it (arrival_*)
    fills.parquet       one row per fill (venue time, receive time, price, qty, liquidity, fee)
    order_events.parquet every execution report in delivery order (and denials, session-end expiries)
    oms_events.parquet  the OMS's complete event log (requests, transitions, denials, kill switch)
    market.parquet      each venue's best bid and offer sampled at the run's interval
    market_trades.parquet every market trade print of the replayed data
    strategy_log.parquet messages the strategy logged
    counterfactual_market.parquet  (with ``counterfactual: true``) the market path without our orders

Governance, TCA and the dashboard read only these files. Nothing in them depends on the wall
clock, so the same data, config and seed give byte-identical files (a twin-run test checks).
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from execsim.core.errors import DataNotFoundError
from execsim.core.version import __version__
from execsim.model.instrument import Instrument

if TYPE_CHECKING:
    from execsim.backtest.config import RunConfig
    from execsim.execution.oms import OrderManager

__all__ = ["RunResult", "build_manifest"]

TABLES = (
    "parents",
    "orders",
    "oms_events",
    "fills",
    "order_events",
    "market",
    "market_trades",
    "strategy_log",
)


def build_manifest(
    config: RunConfig, data_hashes: dict[str, str], start_ns: int, end_ns: int
) -> dict[str, Any]:
    """The manifest of a run (no wall-clock values: it must be reproducible)."""
    import numba

    from execsim.backtest.session import SEED_STREAMS

    return {
        "config_id": config.config_id,
        "name": config.name,
        "seeds": {"root": config.seed, "streams": {s: [i] for i, s in enumerate(SEED_STREAMS)}},
        "data": {"description": config.data.kind, "sha256": dict(sorted(data_hashes.items()))},
        "start_ns": int(start_ns),
        "end_ns": int(end_ns),
        "versions": {
            "execsim": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "numba": numba.__version__,
            "pyarrow": pa.__version__,
        },
    }


def _table(columns: dict[str, Any]) -> pa.Table:
    return pa.table({k: pa.array(v) if not isinstance(v, pa.Array) else v for k, v in columns.items()})


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """The outcome of one run."""

    manifest: dict[str, Any]
    config: dict[str, Any]
    instrument: Instrument
    tables: dict[str, pa.Table] = field(repr=False)

    @property
    def run_id(self) -> str:
        """The config id (sha256 of the canonical config)."""
        return str(self.manifest["config_id"])

    def __getattr__(self, name: str) -> pa.Table:
        tables = object.__getattribute__(self, "tables")
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    @classmethod
    def from_session(
        cls,
        *,
        config: RunConfig,
        manifest: dict[str, Any],
        instrument: Instrument,
        oms: OrderManager,
        samples: list[tuple[int, str, int, int, int, int]],
        trades: np.ndarray,
        arrival_quotes: dict[int, Any] | None = None,
        strategy_log: list[tuple[int, str]],
    ) -> RunResult:
        """Assemble the result tables from a finished session."""
        rows = oms.all_orders()
        orders = {
            "order_id": [o.order_id for o, _, _ in rows],
            "venue": [o.venue for o, _, _ in rows],
            "side": [o.side.value for o, _, _ in rows],
            "order_type": [o.order_type.value for o, _, _ in rows],
            "tif": [o.tif.value for o, _, _ in rows],
            "price": pa.array([o.price for o, _, _ in rows], pa.int64()),
            "qty": pa.array([o.qty for o, _, _ in rows], pa.int64()),
            "filled_qty": pa.array([o.filled_qty for o, _, _ in rows], pa.int64()),
            "avg_price": pa.array([o.avg_price for o, _, _ in rows], pa.float64()),
            "status": [o.status.value for o, _, _ in rows],
            "ts_submit": pa.array([o.ts_submit for o, _, _ in rows], pa.int64()),
            "ts_done": pa.array([d for _, d, _ in rows], pa.int64()),
            "reason": pa.array([r for _, _, r in rows], pa.string()),
            "tag": [o.tag for o, _, _ in rows],
            "parent_id": pa.array([o.parent_id for o, _, _ in rows], pa.int64()),
        }
        aq = arrival_quotes or {}
        for col in ("bid_px", "bid_qty", "ask_px", "ask_qty"):
            orders[f"arrival_{col}"] = pa.array(
                [getattr(aq[o.order_id], col) if o.order_id in aq else None for o, _, _ in rows], pa.int64()
            )
        pr = oms.parents
        parents = {
            "parent_id": pa.array([p.parent_id for p in pr], pa.int64()),
            "side": pa.array([p.side.value for p in pr], pa.string()),
            "qty": pa.array([p.qty for p in pr], pa.int64()),
            "ts_decision": pa.array([p.ts_decision for p in pr], pa.int64()),
            "arrival_bid": pa.array([p.arrival_bid for p in pr], pa.int64()),
            "arrival_ask": pa.array([p.arrival_ask for p in pr], pa.int64()),
            "limit_price": pa.array([p.limit_price for p in pr], pa.int64()),
            "algo": pa.array([p.algo for p in pr], pa.string()),
            "venue": pa.array([p.venue for p in pr], pa.string()),
        }
        log = oms.report_log
        ev: list[Any] = list(zip(*log, strict=True)) if log else [() for _ in range(10)]
        order_events = {
            "ts_venue": pa.array(ev[0], pa.int64()),
            "ts_recv": pa.array(ev[1], pa.int64()),
            "order_id": pa.array(ev[2], pa.int64()),
            "venue": pa.array(ev[3], pa.string()),
            "kind": pa.array(ev[4], pa.string()),
            "command": pa.array(ev[5], pa.string()),
            "price": pa.array(ev[6], pa.int64()),
            "qty": pa.array(ev[7], pa.int64()),
            "leaves_qty": pa.array(ev[8], pa.int64()),
            "reason": pa.array(ev[9], pa.string()),
        }
        sm: list[Any] = list(zip(*samples, strict=True)) if samples else [() for _ in range(6)]
        market = {
            "ts": pa.array(sm[0], pa.int64()),
            "venue": pa.array(sm[1], pa.string()),
            "bid_px": pa.array(sm[2], pa.int64()),
            "bid_qty": pa.array(sm[3], pa.int64()),
            "ask_px": pa.array(sm[4], pa.int64()),
            "ask_qty": pa.array(sm[5], pa.int64()),
        }
        f = oms.fills_array()
        fills = {
            k: pa.array(v.tolist(), pa.string()) if v.dtype == object else pa.array(v) for k, v in f.items()
        }
        slog: list[Any] = list(zip(*strategy_log, strict=True)) if strategy_log else [(), ()]
        tables = {
            "parents": _table(parents),
            "orders": _table(orders),
            "fills": _table(fills),
            "order_events": _table(order_events),
            "market": _table(market),
            "market_trades": _table({n: trades[n] for n in trades.dtype.names or ()}),
            "oms_events": oms.events.to_arrow(),
            "strategy_log": _table(
                {"ts": pa.array(slog[0], pa.int64()), "message": pa.array(slog[1], pa.string())}
            ),
        }
        manifest = {**manifest, "instrument": instrument.to_dict()}
        return cls(
            manifest=manifest,
            config=config.model_dump(mode="json", by_alias=True),
            instrument=instrument,
            tables=tables,
        )

    def with_table(self, name: str, table: pa.Table) -> RunResult:
        """A copy of this result with one more (or a replaced) table."""
        return RunResult(
            manifest=self.manifest,
            config=self.config,
            instrument=self.instrument,
            tables={**self.tables, name: table},
        )

    # -- disk -----------------------------------------------------------------------------------
    def folder_name(self) -> str:
        """``<name>-<first 12 hex digits of the config id>``."""
        return f"{self.manifest['name']}-{self.run_id[:12]}"

    def write(self, output: str | Path) -> Path:
        """Write the results folder under ``output``; return its path (overwritten if present)."""
        d = Path(output) / self.folder_name()
        d.mkdir(parents=True, exist_ok=True)
        (d / "manifest.json").write_text(json.dumps(self.manifest, indent=2, sort_keys=True) + "\n")
        (d / "config.yaml").write_text(yaml.safe_dump(self.config, sort_keys=True))
        for name, table in self.tables.items():
            pq.write_table(table, d / f"{name}.parquet", compression="zstd")
        return d

    @classmethod
    def load(cls, folder: str | Path) -> RunResult:
        """Read a results folder written by :meth:`write`."""
        d = Path(folder)
        if not (d / "manifest.json").is_file():
            raise DataNotFoundError(f"{d} is not an execsim results folder (no manifest.json)")
        manifest = json.loads((d / "manifest.json").read_text())
        config = yaml.safe_load((d / "config.yaml").read_text())
        missing = [n for n in TABLES if not (d / f"{n}.parquet").is_file()]
        if missing:
            raise DataNotFoundError(f"{d}: results folder lacks {', '.join(n + '.parquet' for n in missing)}")
        tables = {p.stem: pq.read_table(p) for p in sorted(d.glob("*.parquet"))}
        return cls(
            manifest=manifest,
            config=config,
            instrument=Instrument.from_dict(manifest["instrument"]),
            tables=tables,
        )
