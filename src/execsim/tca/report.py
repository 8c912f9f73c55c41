"""Analyse a run: every metric per parent order, aggregates, the venue table; ``tca.json``.

:func:`analyze` turns a :class:`~execsim.backtest.RunResult` into a frozen :class:`TcaReport`.
Each parent order is analysed on its own fills, child orders and execution interval; the
aggregate sums what adds up (currency, quantities, counts) and takes decision-notional-weighted
means of the rest (bps, rates, shares, seconds), so the aggregate shortfall in bps is total
shortfall over total paper notional. Price levels (``*_ticks``) and times (``*_ns``) stay per
parent. Fills of orders with no parent (``parent_id`` 0) are counted under ``unattributed``
and appear in the run's venue table only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from execsim.core.errors import ConfigError, DataNotFoundError
from execsim.model.enums import Side
from execsim.tca.base import FillsView, OrdersView, ParentView, TcaConfig, TcaContext, TcaMetric
from execsim.tca.impact import CounterfactualImpact
from execsim.tca.market import MarketState
from execsim.tca.markouts import Markouts
from execsim.tca.shortfall import ImplementationShortfall
from execsim.tca.slippage import FillRate, Participation, Slippage
from execsim.tca.spreads import Spreads
from execsim.tca.venues import VenueAnalysis

if TYPE_CHECKING:
    from execsim.backtest.results import RunResult

__all__ = [
    "DEFAULT_METRICS",
    "SCHEMA",
    "ParentTca",
    "TcaReport",
    "analyze",
    "build_context",
    "read_tca",
    "write_tca",
]

SCHEMA = "execsim.tca/1"

DEFAULT_METRICS: tuple[TcaMetric, ...] = (
    ImplementationShortfall(),
    Slippage(),
    Participation(),
    FillRate(),
    Spreads(),
    Markouts(),
    VenueAnalysis(),
    CounterfactualImpact(),
)
"""Every metric, in report order."""


# -- immutable, JSON-ready values ------------------------------------------------------------
def _freeze(v: Any) -> Any:
    if isinstance(v, Mapping):
        return MappingProxyType({str(k): _freeze(x) for k, x in v.items()})
    if isinstance(v, list | tuple):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return float(v) + 0.0  # + 0.0 turns −0.0 (a zero cost times a sell's sign) into 0.0
    return v


def _thaw(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {k: _thaw(x) for k, x in v.items()}
    if isinstance(v, tuple | list):
        return [_thaw(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None  # not available: JSON has no NaN
    return v


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentTca:
    """The TCA of one parent order: ``metrics[section][key]``."""

    parent_id: int
    index: int
    side: str
    qty: int
    algo: str
    venue: str
    ts_decision: int
    metrics: Mapping[str, Mapping[str, Any]]

    def value(self, key: str) -> Any:
        """One value, by ``"section.key"`` or by a key that only one section has.

        Raises
        ------
        KeyError
            When the key is unknown or ambiguous.
        """
        if "." in key:
            sec, _, k = key.partition(".")
            return self.metrics[sec][k]
        hits = [sec for sec, vals in self.metrics.items() if key in vals]
        if len(hits) != 1:
            what = "unknown" if not hits else f"ambiguous (in {hits}; write 'section.key')"
            raise KeyError(f"TCA key {key!r} is {what}")
        return self.metrics[hits[0]][key]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN → None)."""
        return {
            "parent_id": self.parent_id,
            "index": self.index,
            "side": self.side,
            "qty": self.qty,
            "algo": self.algo,
            "venue": self.venue,
            "ts_decision": self.ts_decision,
            "metrics": _thaw(self.metrics),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TcaReport:
    """The TCA of one run: per parent, aggregated, the venue table and what was unattributed."""

    run_id: str
    name: str
    seed: int | None
    instrument: Mapping[str, str]
    config: Mapping[str, Any]
    metrics: tuple[str, ...]
    parents: tuple[ParentTca, ...]
    aggregate: Mapping[str, Mapping[str, Any]]
    venues: Mapping[str, Any]
    unattributed: Mapping[str, Any]
    counterfactual_available: bool

    @property
    def currency(self) -> str:
        """The currency of every ``*_ccy`` value."""
        return str(self.instrument.get("currency", ""))

    def parent(self, parent_id: int) -> ParentTca:
        """The TCA of one parent, by id."""
        for p in self.parents:
            if p.parent_id == parent_id:
                return p
        raise KeyError(
            f"no parent {parent_id} in this report; parents: {[p.parent_id for p in self.parents]}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: NaN (not available) becomes None."""
        return {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "name": self.name,
            "seed": self.seed,
            "instrument": dict(self.instrument),
            "currency": self.currency,
            "config": _thaw(self.config),
            "metrics": list(self.metrics),
            "counterfactual_available": self.counterfactual_available,
            "parents": [p.to_dict() for p in self.parents],
            "aggregate": _thaw(self.aggregate),
            "venues": _thaw(self.venues),
            "unattributed": _thaw(self.unattributed),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (sorted keys; no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TcaReport:
        """Rebuild a report from :meth:`to_dict` output (None stays None)."""
        if d.get("schema") != SCHEMA:
            raise ConfigError(f"not an execsim TCA report (schema {d.get('schema')!r}, expected {SCHEMA!r})")
        parents = tuple(
            ParentTca(
                **{k: p[k] for k in ("parent_id", "index", "side", "qty", "algo", "venue", "ts_decision")},
                metrics=_freeze(p["metrics"]),
            )
            for p in d["parents"]
        )
        return cls(
            run_id=d["run_id"],
            name=d["name"],
            seed=d["seed"],
            instrument=_freeze(d["instrument"]),
            config=_freeze(d["config"]),
            metrics=tuple(d["metrics"]),
            parents=parents,
            aggregate=_freeze(d["aggregate"]),
            venues=_freeze(d["venues"]),
            unattributed=_freeze(d["unattributed"]),
            counterfactual_available=bool(d["counterfactual_available"]),
        )


# -- building the views ----------------------------------------------------------------------
def _parents(result: RunResult, market: MarketState) -> list[ParentView]:
    t = result.tables["parents"]
    out = []
    cols = {n: t.column(n).to_pylist() for n in t.column_names}
    for i in range(t.num_rows):
        bid, ask = int(cols["arrival_bid"][i] or 0), int(cols["arrival_ask"][i] or 0)
        ts = int(cols["ts_decision"][i])
        if bid > 0 and ask > 0:
            mid, source = (bid + ask) / 2.0, "arrival quote"
        else:
            mid = market.mid_at(ts) if market.end_ns is not None else float("nan")
            source = "market sample" if math.isfinite(mid) else "none"
        lim = cols["limit_price"][i]
        out.append(
            ParentView(
                parent_id=int(cols["parent_id"][i]),
                index=i,
                side=Side(cols["side"][i]),
                qty=int(cols["qty"][i]),
                ts_decision=ts,
                arrival_bid=bid,
                arrival_ask=ask,
                limit_price=None if lim is None else int(lim),
                algo=str(cols["algo"][i] or ""),
                venue=str(cols["venue"][i] or ""),
                decision_mid=mid,
                decision_mid_source=source,
            )
        )
    return out


def build_context(
    result: RunResult, config: TcaConfig | None = None
) -> tuple[MarketState, OrdersView, FillsView, list[TcaContext]]:
    """The market, all orders, all fills and one context per parent of a run.

    Useful to run a single metric by hand: ``metric.compute(fills.select(fills.parent_id ==
    ctx.parent.parent_id), market, ctx)``.
    """
    cfg = config or TcaConfig()
    tables = result.tables
    market = MarketState(tables["market"], tables.get("market_trades"), tables.get("counterfactual_market"))
    end = result.manifest.get("end_ns")
    session_end = int(end) if end is not None else (market.end_ns or 0)
    orders = OrdersView.from_tables(tables["orders"], tables.get("order_events"), session_end)
    fills = FillsView.from_tables(tables["fills"], orders, market)
    contexts = []
    for p in _parents(result, market):
        kids = orders.select(orders.parent_id == p.parent_id)
        fts = fills.ts[fills.parent_id == p.parent_id]
        t_end = max(
            [p.ts_decision]
            + ([int(kids.ts_done.max())] if len(kids) else [])
            + ([int(fts.max())] if len(fts) else [])
        )
        contexts.append(
            TcaContext(
                instrument=result.instrument,
                config=cfg,
                parent=p,
                children=kids,
                our_fills=fills,
                t_start=p.ts_decision,
                t_end=t_end,
                session_end_ns=session_end,
            )
        )
    return market, orders, fills, contexts


def _resolve(metrics: Sequence[TcaMetric | str] | None) -> tuple[TcaMetric, ...]:
    if metrics is None:
        return DEFAULT_METRICS
    by_name = {m.name: m for m in DEFAULT_METRICS}
    out: list[TcaMetric] = []
    for m in metrics:
        if isinstance(m, str):
            if m not in by_name:
                raise ConfigError(f"unknown TCA metric {m!r}; known: {sorted(by_name)}")
            m = by_name[m]
        elif not isinstance(m, TcaMetric):
            raise ConfigError(f"a TCA metric needs a name and compute(fills, market, context); got {m!r}")
        out.append(m)
    names = [m.name for m in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError(f"TCA metric names must be unique; repeated: {dup}")
    return tuple(out)


# -- aggregation -----------------------------------------------------------------------------
def _is_sum(key: str) -> bool:
    return key.endswith(("_ccy", "_qty")) or key.startswith("n_")


def _aggregate(values: list[Mapping[str, Any]], weights: np.ndarray) -> dict[str, Any]:
    keys: list[str] = []
    for v in values:
        keys.extend(k for k in v if k not in keys)
    out: dict[str, Any] = {}
    for k in keys:
        present = [(v[k], w) for v, w in zip(values, weights, strict=True) if k in v]
        xs = [x for x, _ in present]
        if all(isinstance(x, Mapping) for x in xs):
            out[k] = _aggregate(xs, np.array([w for _, w in present]))
        elif all(isinstance(x, bool) for x in xs):
            out[k] = all(xs)
        elif all(isinstance(x, str) for x in xs):
            if len(set(xs)) == 1:
                out[k] = xs[0]
        elif all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs):
            if k.endswith(("_ticks", "_ns")):
                continue
            arr = np.array(xs, np.float64)
            ws = np.array([w for _, w in present], np.float64)
            ok = np.isfinite(arr)
            if _is_sum(k):
                total = float(arr[ok].sum()) if ok.any() else float("nan")
                out[k] = int(total) if all(isinstance(x, int) for x in xs) and ok.all() else total
            else:
                ok &= np.isfinite(ws) & (ws > 0)
                out[k] = float(np.dot(arr[ok], ws[ok]) / ws[ok].sum()) if ok.any() else float("nan")
    return out


# -- the entry points --------------------------------------------------------------------------
def analyze(
    result: RunResult,
    *,
    metrics: Sequence[TcaMetric | str] | None = None,
    config: TcaConfig | None = None,
) -> TcaReport:
    """Compute the TCA of a run: every metric per parent order, aggregated, and per venue.

    Parameters
    ----------
    result
        A run's result (in memory or :meth:`RunResult.load`-ed).
    metrics
        Metric plug-ins or names of built-in ones (default: all of :data:`DEFAULT_METRICS`).
    config
        Horizons and reference choices (default :class:`TcaConfig`).

    Returns
    -------
    TcaReport
        Frozen and JSON-serialisable.
    """
    cfg = config or TcaConfig()
    chosen = _resolve(metrics)
    market, orders, fills, contexts = build_context(result, cfg)
    parents: list[ParentTca] = []
    weights = []
    for ctx in contexts:
        p = ctx.parent
        assert p is not None  # build_context makes one context per parent
        pf = fills.select(fills.parent_id == p.parent_id)
        vals = {m.name: dict(m.compute(pf, market, ctx)) for m in chosen}
        parents.append(
            ParentTca(
                parent_id=p.parent_id,
                index=p.index,
                side=p.side.value,
                qty=p.qty,
                algo=p.algo,
                venue=p.venue,
                ts_decision=p.ts_decision,
                metrics=_freeze(vals),
            )
        )
        weights.append(p.qty * p.decision_mid * ctx.ccy_per_tick_lot)
    aggregate = _aggregate([p.metrics for p in parents], np.array(weights, np.float64)) if parents else {}
    aggregate.pop("venues", None)  # the run-level venue table below replaces a sum of parents' tables
    aggregate["parents"] = {"n_parents": len(parents)}
    known = {c.parent.parent_id for c in contexts if c.parent is not None}
    run_ctx = TcaContext(
        instrument=result.instrument,
        config=cfg,
        parent=None,
        children=orders,
        our_fills=fills,
        t_start=market.start_ns or 0,
        t_end=market.end_ns or 0,
        session_end_ns=int(result.manifest.get("end_ns") or (market.end_ns or 0)),
    )
    venue_metric = next((m for m in chosen if m.name == "venues"), None)
    venues = dict(venue_metric.compute(fills, market, run_ctx)) if venue_metric is not None else {}
    orphan_o = ~np.isin(orders.parent_id, list(known))
    orphan_f = ~np.isin(fills.parent_id, list(known))
    unattributed = {
        "n_orders": int(orphan_o.sum()),
        "n_fills": int(orphan_f.sum()),
        "filled_qty": int(fills.qty[orphan_f].sum()),
        "note": "orders without a declared parent (ctx.new_parent) are in the venue table only",
    }
    seeds = result.manifest.get("seeds", {})
    return TcaReport(
        run_id=result.run_id,
        name=str(result.manifest.get("name", "")),
        seed=seeds.get("root") if isinstance(seeds, Mapping) else None,
        instrument=_freeze(result.instrument.to_dict()),
        config=_freeze(cfg.model_dump(mode="json")),
        metrics=tuple(m.name for m in chosen),
        parents=tuple(parents),
        aggregate=_freeze(aggregate),
        venues=_freeze(venues),
        unattributed=_freeze(unattributed),
        counterfactual_available=market.counterfactual is not None,
    )


def write_tca(result: RunResult, folder: str | Path, *, report: TcaReport | None = None) -> Path:
    """Write ``tca.json`` (the report of ``result``, computed unless given) into ``folder``."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    path = d / "tca.json"
    path.write_text((report or analyze(result)).to_json())
    return path


def read_tca(folder_or_file: str | Path) -> TcaReport:
    """Read a ``tca.json`` (or the one in a results folder)."""
    p = Path(folder_or_file)
    if p.is_dir():
        p = p / "tca.json"
    if not p.is_file():
        raise DataNotFoundError(f"no TCA report at {p}")
    return TcaReport.from_dict(json.loads(p.read_text()))
