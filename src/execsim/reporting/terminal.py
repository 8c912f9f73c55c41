"""The terminal summary of a best-execution report: rich tables rendered to text."""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

from execsim.reporting.policy import CheckStatus, Severity

if TYPE_CHECKING:
    from rich.console import RenderableType

    from execsim.reporting.report import BestExecutionReport

__all__ = ["render_terminal", "terminal_renderables"]

_SEV_STYLE = {Severity.HIGH: "bold red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}
MAX_BREACH_LINES = 30


def _n(v: Any, digits: int = 2) -> str:
    if v is None or isinstance(v, bool):
        return "n/a"
    x = float(v)
    if not math.isfinite(x):
        return "n/a"
    text = f"{x:,.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.00"


def _pct(v: Any) -> str:
    if v is None:
        return "n/a"
    x = float(v)
    return "n/a" if not math.isfinite(x) else f"{x:.1%}"


def terminal_renderables(report: BestExecutionReport) -> list[RenderableType]:
    """The rich tables of the summary: per order, breaches, venues, A versus B."""
    from rich.table import Table
    from rich.text import Text

    out: list[RenderableType] = [Text(report.title, style="bold")]
    counts = report.breach_counts()
    out.append(
        Text(
            f"policy: {report.policy.get('name', '')} · {len(report.orders)} parent orders in "
            f"{len(report.runs)} run(s) · breaches: "
            + ", ".join(f"{counts[s.value]} {s.value}" for s in reversed(Severity))
        )
    )
    h = f"{float(report.policy['price']['markout_bps']['horizon_s']):g}s"
    t = Table(title="Per order (bps of the decision mid; + = worse for the client)", title_justify="left")
    for col, just in (
        ("run", "left"),
        ("parent", "right"),
        ("algo", "left"),
        ("side", "left"),
        ("qty", "right"),
        ("fill", "right"),
        ("IS", "right"),
        ("vs arrival", "right"),
        ("vs VWAP", "right"),
        ("fees", "right"),
        ("max part.", "right"),
        (f"markout {h}", "right"),
        ("verdict", "left"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for o in report.orders:
        sev = o.worst_severity
        verdict = (
            Text("pass", style="green")
            if sev is None
            else Text(f"breach ({sev.value})", style=_SEV_STYLE[sev])
        )
        t.add_row(
            o.run,
            str(o.parent_id),
            o.algo or "-",
            o.side,
            f"{o.qty:,}",
            _pct(o.value("likelihood", "fill_rate_by_quantity")),
            _n(o.value("price", "implementation_shortfall_bps")),
            _n(o.value("price", "slippage_arrival_bps")),
            _n(o.value("price", "slippage_vwap_bps")),
            _n(o.value("costs", "fees_bps")),
            _pct(o.value("size", "participation_max_bucket")),
            _n(o.value("price", f"markout_{h}_bps")),
            verdict,
        )
    if not report.orders:
        t.add_row("(no parent orders declared)", *[""] * 12)
    out.append(t)

    b = report.breaches
    if b:
        bt = Table(title="Policy breaches", title_justify="left")
        for col in ("severity", "run", "parent", "rule", "value", "limit"):
            bt.add_column(col)
        for c in b[:MAX_BREACH_LINES]:
            lim = ("≤ " if c.direction == "max" else "≥ ") + _fmt(c.threshold, c.unit)
            bt.add_row(
                Text(c.severity.value, style=_SEV_STYLE[c.severity]),
                c.run,
                str(c.parent),
                c.rule,
                _fmt(c.value, c.unit),
                lim,
            )
        if len(b) > MAX_BREACH_LINES:
            bt.add_row("…", f"{len(b) - MAX_BREACH_LINES} more in report.json", "", "", "", "")
        out.append(bt)
    else:
        n_ne = sum(c.status is CheckStatus.NOT_EVALUATED for c in report.checks)
        out.append(Text(f"No policy breaches ({n_ne} checks not evaluated).", style="green"))

    vt = Table(title="Venues (RTS 28 style, every order of the runs)", title_justify="left")
    for col in (
        "venue",
        "approved",
        "volume %",
        "orders %",
        "passive %",
        "aggressive %",
        "directed %",
        "fill rate",
        "midpoint %",
    ):
        vt.add_column(col, justify="left" if col == "venue" else "right")
    for v in report.venues:
        vt.add_row(
            v.venue,
            "-" if v.approved is None else ("yes" if v.approved else "NO"),
            _pct(v.volume_share),
            _pct(v.orders_share),
            _pct(v.passive_share),
            _pct(v.aggressive_share),
            _pct(v.directed_share),
            _pct(v.fill_rate),
            _pct(v.midpoint_share),
        )
    out.append(vt)

    if report.comparisons:
        ct = Table(title=f"A versus B (B = {report.baseline}; A − B, + = A costs more)", title_justify="left")
        for col in ("A", "metric", "pairs", "mean A−B", "CI", "p", "note"):
            ct.add_column(col)
        for comp in report.comparisons:
            if comp.comparison is None:
                ct.add_row(comp.a, comp.metric, "-", "-", "-", "-", comp.error)
                continue
            d = comp.comparison
            ct.add_row(
                comp.a,
                comp.metric,
                str(d["n"]),
                _n(d["mean_diff"]),
                f"[{_n(d['ci_low'])}, {_n(d['ci_high'])}]",
                _n(d["p_value"], 3),
                Text("small sample: " + d["warning_text"], style="yellow") if d["warning"] else "",
            )
        out.append(ct)
    return out


def _fmt(v: float, unit: str) -> str:
    if unit == "fraction":
        return _pct(v)
    return f"{_n(v)} {unit}"


def render_terminal(report: BestExecutionReport, *, width: int = 140, color: bool = False) -> str:
    """The terminal summary as text (ANSI colours with ``color=True``).

    Parameters
    ----------
    report
        The report.
    width
        Console width in characters.
    color
        Emit ANSI styles (for a terminal) or plain text (for files and tests).
    """
    from rich.console import Console

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        soft_wrap=False,
    )
    for r in terminal_renderables(report):
        console.print(r)
    return buf.getvalue()
