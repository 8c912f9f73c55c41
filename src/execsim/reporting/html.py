"""``report.html``: the report rendered with a jinja2 template (autoescaped) and plotly charts.

The file is self-contained: the plotly.js bundle is inlined once in the page head and every
chart is drawn from data embedded in the page, so it opens offline (no CDN, no fetch). Only the
plotly bundle and the charts' own markup are inserted unescaped; every value of the report
(run names, venue names, policy text) passes through autoescaping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from execsim.core.version import __version__
from execsim.reporting.charts import figures
from execsim.reporting.policy import RULES, CheckStatus

if TYPE_CHECKING:
    from execsim.reporting.evidence import OrderEvidence
    from execsim.reporting.report import BestExecutionReport

__all__ = ["COLUMNS", "Column", "render_html"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the per-order evidence table."""

    factor: str
    field: str
    header: str
    kind: str  # "bps", "ccy", "s", "pct", "int", "ticks"
    rule: str | None = None


COLUMNS: tuple[Column, ...] = (
    Column("price", "implementation_shortfall_bps", "IS (bps)", "bps", "price.implementation_shortfall_bps"),
    Column("price", "delay_cost_bps", "delay", "bps"),
    Column("price", "timing_cost_bps", "timing", "bps"),
    Column("price", "trading_cost_bps", "trading", "bps"),
    Column("price", "opportunity_cost_bps", "opportunity", "bps"),
    Column("price", "slippage_arrival_bps", "vs arrival", "bps", "price.slippage_arrival_bps"),
    Column("price", "slippage_vwap_bps", "vs VWAP", "bps", "price.slippage_vwap_bps"),
    Column("price", "slippage_twap_bps", "vs TWAP", "bps"),
    Column("price", "slippage_close_bps", "vs close", "bps"),
    Column("price", "markout_{h}_bps", "markout {h}", "bps", "price.markout_bps"),
    Column("costs", "fees_bps", "fees (bps)", "bps", "costs.fees_bps"),
    Column("costs", "fees_ccy", "fees ({ccy})", "ccy"),
    Column("costs", "effective_spread_bps", "eff. spread (bps)", "bps", "costs.effective_spread_bps"),
    Column("speed", "time_to_first_fill_s", "first fill (s)", "s", "speed.time_to_first_fill_s"),
    Column("speed", "time_to_last_fill_s", "last fill (s)", "s", "speed.time_to_last_fill_s"),
    Column(
        "likelihood", "fill_rate_by_quantity", "fill rate (qty)", "pct", "likelihood.fill_rate_by_quantity"
    ),
    Column("likelihood", "fill_rate_by_count", "fill rate (orders)", "pct", "likelihood.fill_rate_by_count"),
    Column("likelihood", "unfilled_qty", "unfilled qty", "int"),
    Column("size", "participation_rate", "participation", "pct"),
    Column("size", "participation_mean_bucket", "mean bucket", "pct", "size.participation_mean"),
    Column("size", "participation_max_bucket", "worst bucket", "pct", "size.participation_worst_bucket"),
    Column("venue", "approved_share", "on approved venues", "pct", "venue.approved_share"),
)
"""The per-order evidence columns, grouped by execution factor (``{h}``: the markout horizon)."""


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))


def _num(v: Any, digits: int = 2) -> str:
    if not _is_num(v):
        return "n/a"
    text = f"{float(v):,.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.00"


def _pct(v: Any) -> str:
    return f"{float(v):.1%}" if _is_num(v) else "n/a"


def _unit(v: Any, unit: str) -> str:
    if unit == "fraction":
        return _pct(v)
    return f"{_num(v)} {unit}" if _is_num(v) else "n/a"


def _cell(v: Any, kind: str) -> str:
    if kind == "pct":
        return _pct(v)
    if kind == "int":
        return f"{int(v):,}" if _is_num(v) else "n/a"
    if kind == "s":
        return _num(v, 3)
    return _num(v, 2)


def _order_row(o: OrderEvidence, h: str) -> dict[str, Any]:
    checks = {c.rule: c for c in o.checks}
    cells = []
    for col in COLUMNS:
        field = col.field.format(h=h)
        v = o.factors.get(col.factor, {}).get(field)
        c = checks.get(col.rule) if col.rule else None
        css, title = "", ""
        if c is not None:
            title = c.message
            if c.status is CheckStatus.BREACH:
                css = f"breach-{c.severity.value}"
            elif c.status is CheckStatus.NOT_EVALUATED:
                css = "ne"
        cells.append({"text": _cell(v, col.kind), "css": css, "title": title})
    sev = o.worst_severity
    return {
        "run": o.run,
        "parent_id": o.parent_id,
        "algo": o.algo or "-",
        "side": o.side,
        "qty": f"{o.qty:,}",
        "venue": o.venue or "-",
        "cells": cells,
        "verdict": "pass" if sev is None else f"breach ({sev.value}) × {len(o.breaches)}",
        "verdict_css": "pass" if sev is None else f"sev-{sev.value}",
    }


def _policy_rows(report: BestExecutionReport) -> list[dict[str, Any]]:
    rows = []
    for s in RULES:
        factor, _, name = s.rule.partition(".")
        lim = report.policy[factor][name]
        bound = lim["min"] if s.direction == "min" else lim["max"]
        label = s.label
        if s.rule == "price.markout_bps":
            label += f" at {float(lim['horizon_s']):g} s"
        rows.append(
            {
                "factor": factor,
                "rule": s.rule,
                "label": label,
                "limit": "off"
                if bound is None
                else ("≥ " if s.direction == "min" else "≤ ") + _unit(bound, s.unit),
                "severity": lim["severity"],
                "on": bound is not None,
            }
        )
    return rows


def _template() -> Any:
    import jinja2

    text = resources.files("execsim.reporting").joinpath("templates/report.html.j2").read_text("utf-8")
    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    env.filters["unit"] = _unit
    return env.from_string(text)


def render_html(report: BestExecutionReport) -> str:
    """The report as one self-contained HTML page (plotly inlined; opens offline)."""
    import plotly.io as pio
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    from execsim.reporting.report import SCHEMA

    h = f"{float(report.policy['price']['markout_bps']['horizon_s']):g}s"
    ccy = report.runs[0].instrument.get("currency", "")
    cols = [{"header": c.header.format(h=h, ccy=ccy), "factor": c.factor} for c in COLUMNS]
    groups: list[tuple[str, int]] = []
    for c in COLUMNS:
        if groups and groups[-1][0] == c.factor:
            groups[-1] = (c.factor, groups[-1][1] + 1)
        else:
            groups.append((c.factor, 1))
    charts = []
    for name, fig in figures(report.charts).items():
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{name}",
            default_height="420px",
            config={"displaylogo": False, "responsive": True},
        )
        charts.append((name, Markup(div)))  # plotly's own markup; its data is JSON-encoded by plotly
    return str(
        _template().render(
            report=report,
            version=__version__,
            schema=SCHEMA,
            plotlyjs=Markup(get_plotlyjs()),  # the plotly.js bundle shipped with plotly
            policy_rows=_policy_rows(report),
            column_groups=groups,
            columns=cols,
            order_rows=[_order_row(o, h) for o in report.orders],
            charts=charts,
            n_not_evaluated=sum(c.status is CheckStatus.NOT_EVALUATED for c in report.checks),
        )
    )
