"""The report's charts: their data (from a run's results and TCA) and their plotly figures.

Chart data is plain, JSON-ready and part of the report (``report.json`` holds it too); the
figures are drawn from that data only. Four charts:

``schedule``
    Per parent order, the cumulative filled share of the parent against a **linear (TWAP)
    reference** from the decision time to the end of the parent's horizon. Runs do not store the
    algorithm's slice schedule, so the reference is an assumption, stated in the chart: the
    horizon end is the one an execution algorithm logs (``"<algo>: parent N ... until T"`` in
    the strategy log), otherwise the moment the parent's last child order was done.
``slippage``
    Histograms of slippage against the parent's decision (arrival) mid in bps, cost-signed,
    per child order (its average fill price) and per parent order (TCA's
    ``slippage_arrival_bps``).
``markouts``
    Mean markout (cost-signed: positive = adverse) against the horizon after each fill, for all,
    passive and aggressive fills — TCA's ``markouts`` metric re-run at :data:`CHART_HORIZONS_S`.
``impact``
    Impact decay: the mean mid move after our fills, ``s (m_h − m)`` (TCA's ``price_impact``,
    at :data:`CHART_HORIZONS_S`); and, for runs with a counterfactual, our impact against the
    no-trade market at the parent's end and ``h`` after it (TCA's ``counterfactual``).

Every mean over parents is TCA's aggregate: weighted by each parent's paper notional.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from execsim.core.timeutil import NS_PER_S
from execsim.tca import TcaConfig, TcaReport, analyze, build_context, horizon_key

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from execsim.backtest.results import RunResult

__all__ = [
    "CHART_HORIZONS_S",
    "MAX_SCHEDULE_PARENTS",
    "MAX_SCHEDULE_POINTS",
    "chart_data",
    "figures",
    "merge_chart_data",
]

CHART_HORIZONS_S: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
"""Horizons (s) of the markout and impact-decay curves."""

MAX_SCHEDULE_POINTS = 400
"""Points kept per parent in the schedule chart (fills beyond are thinned evenly; the last is kept)."""

MAX_SCHEDULE_PARENTS = 12
"""Parents drawn in the schedule chart (all are in the data)."""

_UNTIL = re.compile(r"\bparent (\d+)\b.*\buntil (\d+)\s*$")
NAN = float("nan")


def _f(x: Any) -> float | None:
    """A JSON-ready float (None when not finite)."""
    if x is None or isinstance(x, bool):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def _horizon_ends(result: RunResult) -> dict[int, int]:
    """Parent id → horizon end (ns) that an execution algorithm logged."""
    log = result.tables.get("strategy_log")
    out: dict[int, int] = {}
    if log is None or log.num_rows == 0:
        return out
    for msg in log.column("message").to_pylist():
        m = _UNTIL.search(str(msg or ""))
        if m:
            out.setdefault(int(m.group(1)), int(m.group(2)))
    return out


def _config_with(tca: TcaReport, **horizons: tuple[float, ...]) -> TcaConfig:
    base = {k: (list(v) if isinstance(v, tuple) else v) for k, v in tca.config.items()}
    return TcaConfig.from_dict({**base, **{k: list(v) for k, v in horizons.items()}})


def chart_data(
    result: RunResult, tca: TcaReport, label: str, *, horizons_s: Sequence[float] = CHART_HORIZONS_S
) -> dict[str, Any]:
    """The data of every chart for one run (JSON-ready; see the module docstring).

    Parameters
    ----------
    result
        The run's results.
    tca
        Its TCA (its :class:`~execsim.tca.TcaConfig` is reused, with the chart horizons).
    label
        The run's name in the report.
    horizons_s
        Horizons of the markout and impact curves.
    """
    hs = tuple(float(h) for h in horizons_s)
    _, _, fills, contexts = build_context(result)
    ends = _horizon_ends(result)
    schedule, child_slip, parent_slip = [], [], []
    by_pid = {p.parent_id: p for p in tca.parents}
    for ctx in contexts:
        p = ctx.parent
        assert p is not None  # build_context: one context per parent
        pf = fills.select(fills.parent_id == p.parent_id)
        order = np.argsort(pf.ts, kind="stable")
        t = (pf.ts[order] - p.ts_decision) / NS_PER_S
        cum = np.cumsum(pf.qty[order]) / p.qty if p.qty else np.zeros(len(order))
        if len(t) > MAX_SCHEDULE_POINTS:
            keep = np.unique(np.r_[np.linspace(0, len(t) - 1, MAX_SCHEDULE_POINTS).astype(int), len(t) - 1])
            t, cum = t[keep], cum[keep]
        if p.parent_id in ends:
            end_ns, source = ends[p.parent_id], "the algorithm's horizon end (strategy log)"
        else:
            end_ns, source = ctx.t_end, "when its last child order was done (no horizon in the strategy log)"
        schedule.append(
            {
                "run": label,
                "parent_id": p.parent_id,
                "algo": p.algo,
                "side": p.side.value,
                "qty": p.qty,
                "t_s": [0.0, *(float(x) for x in t)],
                "filled_share": [0.0, *(float(x) for x in cum)],
                "reference_end_s": max(0.0, (end_ns - p.ts_decision) / NS_PER_S),
                "reference_end_source": source,
            }
        )
        ptca = by_pid.get(p.parent_id)
        parent_slip.append(
            {
                "run": label,
                "parent_id": p.parent_id,
                "slippage_arrival_bps": _f(ptca.value("slippage_arrival_bps")) if ptca else None,
            }
        )
        pd_mid = p.decision_mid
        if not (math.isfinite(pd_mid) and pd_mid > 0):
            continue
        for oid in np.unique(pf.order_id):
            k = pf.order_id == oid
            q = pf.qty[k].astype(np.float64)
            avg = float(np.dot(pf.price[k].astype(np.float64), q) / q.sum())
            child_slip.append(
                {
                    "run": label,
                    "parent_id": p.parent_id,
                    "order_id": int(oid),
                    "filled_qty": int(q.sum()),
                    "slippage_arrival_bps": p.sign * (avg - pd_mid) / pd_mid * 1e4,
                }
            )
    keys = [horizon_key(h) for h in hs]
    if tca.parents:
        mk = analyze(result, metrics=["markouts"], config=_config_with(tca, markout_horizons_s=hs))
        sp = analyze(result, metrics=["spreads"], config=_config_with(tca, impact_horizons_s=hs))
        agg_m, agg_s = mk.aggregate.get("markouts", {}), sp.aggregate.get("spreads", {})
    else:
        agg_m, agg_s = {}, {}
    markouts = {
        "run": label,
        "horizons_s": list(hs),
        **{
            name: [_f(agg_m.get(f"markout_{k}{suffix}_bps")) for k in keys]
            for name, suffix in (
                ("all_bps", ""),
                ("passive_bps", "_passive"),
                ("aggressive_bps", "_aggressive"),
            )
        },
    }
    impact: dict[str, Any] = {
        "run": label,
        "horizons_s": list(hs),
        "price_impact_bps": [_f(agg_s.get(f"price_impact_{k}_bps")) for k in keys],
    }
    cf: dict[str, Any] | None = None
    if tca.counterfactual_available and tca.parents:
        c = analyze(result, metrics=["counterfactual"], config=_config_with(tca, reversion_horizons_s=hs))
        agg_c = c.aggregate.get("counterfactual", {})
        cf = {
            "run": label,
            "horizons_s": [0.0, *hs],
            "impact_bps": [_f(agg_c.get("impact_bps"))]
            + [_f(agg_c.get(f"impact_after_{k}_bps")) for k in keys],
            "drift_bps": _f(agg_c.get("drift_bps")),
        }
    return {
        "schedule": schedule,
        "slippage_children": child_slip,
        "slippage_parents": parent_slip,
        "markouts": [markouts],
        "impact": [impact],
        "counterfactual": [cf] if cf is not None else [],
    }


def merge_chart_data(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Concatenate the chart data of several runs (in run order)."""
    keys = ("schedule", "slippage_children", "slippage_parents", "markouts", "impact", "counterfactual")
    return {k: [x for part in parts for x in part.get(k, [])] for k in keys}


# -- figures -----------------------------------------------------------------------------------
_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)


def _color(i: int) -> str:
    return _PALETTE[i % len(_PALETTE)]


def _layout(fig: go.Figure, title: str, **kw: Any) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01},
        template="plotly_white",
        height=420,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.2},
        **kw,
    )
    return fig


def _no_data(fig: go.Figure, text: str) -> None:
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")


def _none_to_nan(xs: Sequence[float | None]) -> list[float]:
    return [NAN if x is None else float(x) for x in xs]


def _ticks(curves: Sequence[Mapping[str, Any]]) -> list[float]:
    return sorted({float(h) for c in curves for h in c["horizons_s"]})


def figures(data: Mapping[str, Any]) -> dict[str, go.Figure]:
    """The plotly figures of the report, drawn from :func:`chart_data` / :func:`merge_chart_data` output.

    Returns
    -------
    dict
        ``schedule``, ``slippage``, ``markouts``, ``impact``.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    runs = list(dict.fromkeys([m["run"] for m in data["markouts"]] + [s["run"] for s in data["schedule"]]))
    color = {r: _color(i) for i, r in enumerate(runs)}
    out: dict[str, go.Figure] = {}

    # schedule vs executed
    fig = go.Figure()
    sched = list(data["schedule"])
    for i, s in enumerate(sched[:MAX_SCHEDULE_PARENTS]):
        c = _color(i)
        name = f"{s['run']} #{s['parent_id']} ({s['algo'] or 'parent'} {s['side']} {s['qty']})"
        fig.add_trace(
            go.Scatter(
                x=s["t_s"],
                y=[100 * y for y in s["filled_share"]],
                mode="lines",
                line={"shape": "hv", "color": c, "width": 2},
                name=f"{name} executed",
                legendgroup=name,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[0.0, s["reference_end_s"]],
                y=[0.0, 100.0],
                mode="lines",
                line={"color": c, "dash": "dash", "width": 1},
                name=f"{name} linear reference",
                legendgroup=name,
                showlegend=False,
            )
        )
    if not sched:
        _no_data(fig, "no parent orders")
    more = (
        f" (first {MAX_SCHEDULE_PARENTS} of {len(sched)} parents)"
        if len(sched) > MAX_SCHEDULE_PARENTS
        else ""
    )
    out["schedule"] = _layout(
        fig,
        "Schedule vs executed: cumulative filled share; dashed = linear (TWAP) reference to the horizon end"
        + more,
        xaxis_title="seconds since the decision",
        yaxis_title="% of parent quantity",
    )

    # slippage distribution
    fig = make_subplots(rows=1, cols=2, subplot_titles=("child orders", "parent orders"))
    have = False
    for r in runs:
        xs = [c["slippage_arrival_bps"] for c in data["slippage_children"] if c["run"] == r]
        ps = [
            p["slippage_arrival_bps"]
            for p in data["slippage_parents"]
            if p["run"] == r and p["slippage_arrival_bps"] is not None
        ]
        have |= bool(xs or ps)
        fig.add_trace(
            go.Histogram(x=xs, name=r, marker_color=color[r], opacity=0.6, legendgroup=r), row=1, col=1
        )
        fig.add_trace(
            go.Box(
                x=ps,
                name=r,
                marker_color=color[r],
                boxpoints="all",
                jitter=0.3,
                legendgroup=r,
                showlegend=False,
                orientation="h",
            ),
            row=1,
            col=2,
        )
    if not have:
        _no_data(fig, "no fills")
    fig.update_xaxes(title_text="slippage vs arrival mid (bps, + = worse)")
    fig.update_yaxes(title_text="child orders", col=1)
    out["slippage"] = _layout(fig, "Slippage distribution (cost-signed)", barmode="overlay")

    # markouts
    fig = go.Figure()
    for m in data["markouts"]:
        c = color[m["run"]]
        for key, dash, what in (
            ("all_bps", "solid", "all"),
            ("passive_bps", "dash", "passive"),
            ("aggressive_bps", "dot", "aggressive"),
        ):
            ys = _none_to_nan(m[key])
            if all(math.isnan(y) for y in ys):
                continue
            fig.add_trace(
                go.Scatter(
                    x=m["horizons_s"],
                    y=ys,
                    mode="lines+markers",
                    line={"color": c, "dash": dash},
                    name=f"{m['run']} {what}",
                )
            )
    if not fig.data:
        _no_data(fig, "no markouts (no fills, or horizons past the data)")
    out["markouts"] = _layout(
        fig,
        "Markout curves: mean markout after each fill (bps, + = adverse)",
        xaxis={"title": "horizon (s)", "type": "log", "tickvals": _ticks(data["markouts"])},
        yaxis_title="markout (bps)",
    )

    # impact decay
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "mid move after our fills, s·(m_h − m)",
            "counterfactual: our impact vs the no-trade market after the parent's end",
        ),
    )
    for m in data["impact"]:
        ys = _none_to_nan(m["price_impact_bps"])
        if not all(math.isnan(y) for y in ys):
            fig.add_trace(
                go.Scatter(
                    x=m["horizons_s"],
                    y=ys,
                    mode="lines+markers",
                    line={"color": color[m["run"]]},
                    name=m["run"],
                    legendgroup=m["run"],
                ),
                row=1,
                col=1,
            )
    for cf in data["counterfactual"]:
        fig.add_trace(
            go.Scatter(
                x=cf["horizons_s"],
                y=_none_to_nan(cf["impact_bps"]),
                mode="lines+markers",
                line={"color": color[cf["run"]], "dash": "dash"},
                name=f"{cf['run']} counterfactual",
                legendgroup=cf["run"],
            ),
            row=1,
            col=2,
        )
    if not data["counterfactual"]:
        fig.add_annotation(
            text="no counterfactual run (set counterfactual: true)",
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="x2 domain",
            yref="y2 domain",
        )
    fig.update_xaxes(
        title_text="horizon after the fill (s)", type="log", tickvals=_ticks(data["impact"]), row=1, col=1
    )
    fig.update_xaxes(title_text="seconds after the parent's end", row=1, col=2)
    fig.update_yaxes(title_text="bps (+ = against us)", col=1)
    out["impact"] = _layout(fig, "Impact decay")
    return out
