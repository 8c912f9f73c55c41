"""The report object and its renderings: golden JSON, determinism, self-contained HTML, a real browser."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from execsim.backtest import RunResult
from execsim.core.errors import ConfigError
from execsim.reporting import (
    SCHEMA,
    BestExecutionPolicy,
    BestExecutionReport,
    build_report,
    render_html,
    render_terminal,
    write_report,
)
from execsim.tca import analyze

CHROMIUM = Path("/usr/bin/chromium")
POLICY = BestExecutionPolicy.from_dict({"venue": {"approved": ["LIT"]}})
CHARTS = ("schedule", "slippage", "markouts", "impact")


@pytest.fixture(scope="module")
def two_algos(make_hand_run: Callable[..., RunResult]) -> BestExecutionReport:
    """Runs ``a`` and ``b`` (same seed, same parents); ``b`` sells 2 ticks worse."""
    a = make_hand_run(name="a", seed=1)
    b = make_hand_run(name="b", seed=1, sell_px=9988)
    return build_report([a, b], POLICY, n_boot=200)


def _normalised_json(report: BestExecutionReport) -> str:
    return re.sub(r'"execsim_version": "[^"]*"', '"execsim_version": "X"', report.to_json())


def test_report_json_matches_the_golden_file(
    hand_run: RunResult, make_hand_run: Callable[..., RunResult], golden: Callable[[str, str], None]
) -> None:
    report = build_report([hand_run, make_hand_run(name="b", sell_px=9988)], POLICY, n_boot=200)
    golden("two_runs_report.json", _normalised_json(report))


def test_report_json_is_strict_sorted_and_reproducible(
    hand_run: RunResult, make_hand_run: Callable[..., RunResult]
) -> None:
    one = build_report([hand_run], POLICY, n_boot=200).to_json()
    two = build_report([make_hand_run()], POLICY, n_boot=200).to_json()
    assert one == two
    d = json.loads(one)
    assert d["schema"] == SCHEMA
    assert list(d) == sorted(d)
    assert "NaN" not in one
    assert d["baseline"] is None
    assert d["comparisons"] == []


def test_the_report_holds_summary_breaches_evidence_venues_and_charts(two_algos: BestExecutionReport) -> None:
    r = two_algos
    assert [x.label for x in r.runs] == ["a", "b"]
    assert [x.group for x in r.runs] == ["a", "b"]
    assert [(o.run, o.parent_id) for o in r.orders] == [("a", 1), ("a", 2), ("b", 1), ("b", 2)]
    # a: IS = (0.9 ccy + 5 ccy) / (10000 + 5000) paper notional; b's sell costs 12 bps instead of 10
    assert r.runs[0].metrics["implementation_shortfall_bps"] == pytest.approx(5.9 / 15000 * 1e4)
    assert r.runs[1].metrics["implementation_shortfall_bps"] == pytest.approx(6.9 / 15000 * 1e4)
    # the breaches: per run the buy's fill rate (high), the buy's and the run's venue share (high),
    # the sell's participation (2 × medium); and b's sell at 9988 marks out 12 bps > 10 (low)
    assert r.breach_counts() == {"low": 1, "medium": 4, "high": 6}
    assert [b.severity.value for b in r.breaches] == ["high"] * 6 + ["medium"] * 4 + ["low"]
    (low,) = [b for b in r.breaches if b.severity.value == "low"]
    assert (low.run, low.parent, low.rule, low.value) == ("b", 2, "price.markout_bps", pytest.approx(12.0))
    assert {(b.run, b.parent) for b in r.breaches if b.rule == "venue.approved_share"} == {
        ("a", 1),
        ("a", "run"),
        ("b", 1),
        ("b", "run"),
    }
    assert [v.venue for v in r.venues] == ["LIT", "DARK"]
    assert set(r.venues_by_run) == {"a", "b"}
    # A vs B: a − b on (seed 1, parent 0) = 0 and (seed 1, parent 1) = −2 bps
    assert r.baseline == "a"
    ims = [c for c in r.comparisons if c.metric == "implementation_shortfall_bps"]
    assert [(c.a, c.b) for c in ims] == [("b", "a")]
    assert ims[0].comparison is not None
    assert ims[0].comparison["mean_diff"] == pytest.approx(1.0)  # b − a: (0 + 2) / 2
    assert ims[0].comparison["warning"] is True
    ch = r.charts
    assert [s["run"] for s in ch["schedule"]] == ["a", "a", "b", "b"]
    sched = ch["schedule"][0]
    assert sched["reference_end_s"] == pytest.approx(60.0)  # "until" T0 + 70 s, decided at 10 s
    assert "strategy log" in sched["reference_end_source"]
    assert sched["filled_share"] == pytest.approx([0.0, 0.6, 0.9])
    assert ch["schedule"][1]["reference_end_source"].startswith("when its last child")
    child = {(c["run"], c["order_id"]): c["slippage_arrival_bps"] for c in ch["slippage_children"]}
    assert child[("a", 1)] == pytest.approx(1.0)  # bought at 10001 vs 10000: 1 bps
    assert child[("a", 2)] == pytest.approx(0.0)
    assert child[("b", 3)] == pytest.approx(12.0)
    assert ch["counterfactual"] == ()  # no counterfactual run


def test_build_report_rejects_bad_input(hand_run: RunResult) -> None:
    with pytest.raises(ConfigError, match="at least one run"):
        build_report([])
    with pytest.raises(ConfigError, match="baseline 'zzz'"):
        build_report([hand_run], baseline="zzz")
    with pytest.raises(ConfigError, match="2 TCA reports for 1 runs"):
        build_report([hand_run], tca=[None, None])
    other = analyze(dataclasses.replace(hand_run, manifest={**hand_run.manifest, "config_id": "0" * 64}))
    with pytest.raises(ConfigError, match="was given for run"):
        build_report([hand_run], tca=[other])


def test_runs_with_one_name_get_unique_labels_and_one_group(make_hand_run: Callable[..., RunResult]) -> None:
    a = make_hand_run(name="same", seed=1)
    b = make_hand_run(name="same", seed=1, sell_px=9989)
    r = build_report([a, b], n_boot=200)  # each run has two algorithms: the name is the group
    assert [x.label for x in r.runs] == ["same/seed1/same1000#1", "same/seed1/same1000#2"]
    assert {x.group for x in r.runs} == {"same"}
    assert r.comparisons == ()
    assert r.baseline is None


def test_runs_with_one_name_and_one_algorithm_each_are_compared_by_algorithm(
    make_hand_run: Callable[..., RunResult],
) -> None:
    x = make_hand_run(name="demo", seed=1, algo="twap")
    y = make_hand_run(name="demo", seed=1, algo="vwap", sell_px=9989)
    r = build_report([x, y], n_boot=200)
    assert [run.group for run in r.runs] == ["twap", "vwap"]
    c = next(c for c in r.comparisons if c.metric == "slippage_arrival_bps")
    assert (c.a, c.b) == ("vwap", "twap")
    assert c.comparison is not None
    assert c.comparison["n"] == 2
    assert c.comparison["mean_diff"] == pytest.approx(0.5)  # (0 + 1 bps) / 2


def test_write_report_writes_the_chosen_formats(two_algos: BestExecutionReport, tmp_path: Path) -> None:
    paths = write_report(two_algos, tmp_path / "out", formats=["json", "terminal"])
    assert set(paths) == {"json", "terminal"}
    assert json.loads(paths["json"].read_text())["title"] == two_algos.title
    assert "Policy breaches" in paths["terminal"].read_text()
    assert not (tmp_path / "out" / "report.html").exists()
    with pytest.raises(ConfigError, match="unknown report format"):
        write_report(two_algos, tmp_path, formats=["pdf"])


def test_the_terminal_summary_shows_orders_breaches_venues_and_the_comparison(
    two_algos: BestExecutionReport,
) -> None:
    text = render_terminal(two_algos, width=160)
    assert "\x1b[" not in text  # plain text unless color=True
    assert "breach (high)" in text
    assert "likelihood.fill_rate_by_quantity" in text
    assert "Venues (RTS 28 style" in text
    lit = next(ln for ln in text.splitlines() if ln.startswith("│ LIT"))
    assert "79.3%" in lit  # 115 of 145 lots
    assert "A versus B (B = a" in text
    assert "small sample" in text
    assert "\x1b[" in render_terminal(two_algos, color=True)


# -- the HTML -----------------------------------------------------------------------------------
def test_the_html_is_self_contained(two_algos: BestExecutionReport) -> None:
    html = render_html(two_algos)
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", html, flags=re.I)
    external = [t for t in tags if re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", t, flags=re.I)]
    assert external == []
    assert html.count("<script") >= 1 + len(CHARTS)
    from plotly.offline import get_plotlyjs

    assert get_plotlyjs()[:2000] in html  # the bundle itself is inlined
    for name in CHARTS:
        assert f'id="chart-{name}"' in html
    for section in (
        "Summary",
        "Best-execution policy and breaches",
        "Per-order evidence",
        "RTS 28",
        "Algorithm A versus B",
    ):
        assert section in html


def test_the_html_escapes_report_text(hand_run: RunResult) -> None:
    evil = BestExecutionPolicy.from_dict({"name": "<script>alert(1)</script>", "description": "a & b"})
    html = render_html(build_report([hand_run], evil, n_boot=200))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a &amp; b" in html


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install chromium) for the browser check"
)
def test_the_html_renders_its_charts_in_a_headless_browser(
    two_algos: BestExecutionReport, tmp_path: Path
) -> None:
    page = write_report(two_algos, tmp_path, formats=["html"])["html"]
    flags = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=False
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    # plotly turned every chart div into a drawn plot with its SVG layers
    for name in CHARTS:
        div = re.search(rf'<div id="chart-{name}"[^>]*class="([^"]*)"', dom.stdout)
        assert div is not None, name
        assert "js-plotly-plot" in div.group(1), name
    assert dom.stdout.count('class="main-svg"') >= 2 * len(CHARTS)
    shot = tmp_path / "report.png"
    subprocess.run(
        [*flags, "--window-size=1400,4800", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file()
    assert shot.stat().st_size > 50_000
