"""Write ``docs/fidelity-abm.md``: the agent market's stylised facts beside the real GOOG day's.

Both sides go through the same code (:mod:`execsim.agents.stylized_facts` and
:mod:`execsim.agents.calibration`): the LOBSTER GOOG 2012-06-21 day (prices read in LOBSTER's
$0.0001 units, 100 to the $0.01 tick) and the default :class:`execsim.agents.AgentMarketConfig`
run without us for the same 6.5 hours, on several seeds. Each fact has a tolerance stated
before the comparison; the table says whether the synthetic mean over the seeds meets it.

Usage::

    .venv/bin/python scripts/fidelity_abm.py [--seeds 101,102,103,104,105] [--hours 6.5]
        [--out docs/fidelity-abm.md]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from execsim.agents import AgentMarketConfig, LatentLiquidityConfig, run_market
from execsim.agents.calibration import OrderFlowStats, order_flow_stats
from execsim.agents.metaorders import MetaorderImpact, metaorder_impact
from execsim.agents.stylized_facts import (
    StylizedFacts,
    autocorrelation,
    impact_exponent,
    market_series,
    stylized_facts,
    window_impact,
)
from execsim.data.feeds.lobster import LobsterFeed
from execsim.impact.calibration import SquareRootCalibration, calibrate_square_root
from execsim.impact.tape import trade_tape

REPO = Path(__file__).resolve().parents[1]
S = 1_000_000_000
MSG = "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
BOOK = "GOOG_2012-06-21_34200000_57600000_orderbook_10.csv.gz"


def _data_dir() -> Path:
    env = os.environ.get("EXECSIM_SHARED_DATA")
    return (Path(env) if env else REPO.parent / "shared" / "data") / "lobster"


@dataclass(frozen=True, slots=True)
class Check:
    """One fact: how to read it, and its tolerance."""

    name: str
    get: Callable[[StylizedFacts], float]
    tolerance: str
    ok: Callable[[float, float], bool]
    fmt: str = "{:.1f}"


def _rel(r: float) -> Callable[[float, float], bool]:
    return lambda real, syn: abs(syn - real) <= r * abs(real)


def _factor(f: float) -> Callable[[float, float], bool]:
    return lambda real, syn: real > 0 and syn > 0 and abs(math.log(syn / real)) <= math.log(f)


def _abs(d: float) -> Callable[[float, float], bool]:
    return lambda real, syn: abs(syn - real) <= d


def _checks(n_levels: int) -> list[Check]:
    c = [
        Check("spread mean (ticks)", lambda f: f.spread.mean, "±25 %", _rel(0.25)),
        Check("spread median (ticks)", lambda f: f.spread.median, "±25 %", _rel(0.25)),
        Check("spread 5th percentile (ticks)", lambda f: f.spread.p5, "±35 %", _rel(0.35)),
        Check("spread 95th percentile (ticks)", lambda f: f.spread.p95, "±35 %", _rel(0.35)),
    ]
    for i in range(n_levels):
        c.append(
            Check(
                f"depth at level {i + 1} (lots)",
                lambda f, i=i: f.depth[i],
                "× or ÷ 1.5",
                _factor(1.5),
                "{:.0f}",
            )
        )
    for h in (1, 10, 60):
        c.append(
            Check(
                f"std of {h} s mid returns (ticks)", lambda f, h=h: f.return_std_ticks[h], "±30 %", _rel(0.3)
            )
        )
    for h in (1, 10, 60):
        c.append(
            Check(f"excess kurtosis of {h} s returns", lambda f, h=h: f.kurtosis[h], "× or ÷ 2", _factor(2.0))
        )
    c.append(
        Check(
            "ACF of \\|1 min returns\\|, mean of lags 1–3",
            lambda f: float(np.mean(f.abs_return_acf[:3])),
            "±0.10 and > 0",
            lambda real, syn: abs(syn - real) <= 0.1 and syn > 0,
            "{:.3f}",
        )
    )
    c.append(
        Check(
            "ACF of \\|1 min returns\\|, mean of lags 4–10",
            lambda f: float(np.mean(f.abs_return_acf[3:])),
            "±0.10",
            _abs(0.1),
            "{:.3f}",
        )
    )
    c.append(
        Check(
            "impact exponent (1 min windows, 8 bins)",
            lambda f: f.impact.exponent,
            "±0.20",
            _abs(0.2),
            "{:.2f}",
        )
    )
    c.append(Check("executions per day", lambda f: f.n_trades, "±30 %", _rel(0.3), "{:,.0f}"))
    c.append(Check("traded volume per day (lots)", lambda f: f.traded_volume, "±30 %", _rel(0.3), "{:,.0f}"))
    return c


SIGN_LAGS = (1, 5, 20)


def _flow_rows(real: OrderFlowStats, syn: OrderFlowStats) -> list[tuple[str, str, str]]:
    def q(x: tuple[float, ...]) -> str:
        return " / ".join(f"{v:.0f}" for v in x)

    rows = [
        ("limit orders per second", f"{real.limit_rate:.2f}", f"{syn.limit_rate:.2f}"),
        ("cancellations per second", f"{real.cancel_rate:.2f}", f"{syn.cancel_rate:.2f}"),
        ("market orders per second", f"{real.market_order_rate:.3f}", f"{syn.market_order_rate:.3f}"),
        ("hidden executions per second", f"{real.hidden_trade_rate:.3f}", f"{syn.hidden_trade_rate:.3f}"),
        ("mean limit order size", f"{real.mean_limit_size:.1f}", f"{syn.mean_limit_size:.1f}"),
        ("mean market order size", f"{real.mean_market_size:.1f}", f"{syn.mean_market_size:.1f}"),
        ("share placed inside the spread", f"{real.p_inside:.3f}", f"{syn.p_inside:.3f}"),
        ("share placed at the best price", f"{real.p_at_best:.3f}", f"{syn.p_at_best:.3f}"),
        ("share placed behind the best", f"{real.p_behind:.3f}", f"{syn.p_behind:.3f}"),
        ("median improvement inside the spread (ticks)", f"{real.inside_improvement_median:.0f}",
         f"{syn.inside_improvement_median:.0f}"),
        ("distance behind the best, quartiles and 90 % (ticks)", q(real.behind_distance_quantiles),
         q(syn.behind_distance_quantiles)),
    ]  # fmt: skip
    for k in ("inside", "at_best", "behind"):
        rows.append(
            (
                f"median life, {k.replace('_', ' ')} (s)",
                f"{real.median_life_s[k]:.2f}",
                f"{syn.median_life_s[k]:.2f}",
            )
        )
    rows.append(
        ("share of lives under 1 s", f"{real.share_life_below_1s:.2f}", f"{syn.share_life_below_1s:.2f}")
    )
    return rows


def build(seeds: list[int], hours: float) -> str:
    """Compute everything and return the Markdown section."""
    d = _data_dir()
    msg, book = d / MSG, d / BOOK
    if not (msg.is_file() and book.is_file()):
        raise SystemExit(f"LOBSTER GOOG files not found under {d} (set EXECSIM_SHARED_DATA)")
    t0 = time.perf_counter()
    real_ev = np.concatenate(list(LobsterFeed(msg, book).batches(1 << 16)))
    real = stylized_facts(real_ev, price_per_tick=100)
    real_flow = order_flow_stats(real_ev, price_per_tick=100)
    real_series = market_series(real_ev, price_per_tick=100)
    real_windows = {
        w: impact_exponent(*window_impact(real_series, w * S)).exponent for w in (30, 60, 120, 300)
    }
    real_tape = trade_tape(real_ev)
    real_sqrt = calibrate_square_root(real_tape, n_bootstrap=200, seed=0)
    real_sqrt_half = calibrate_square_root(real_tape, delta=0.5, n_bootstrap=200, seed=0)

    cfg = AgentMarketConfig()
    syn: list[StylizedFacts] = []
    syn_flow = None
    syn_windows: dict[int, list[float]] = {w: [] for w in real_windows}
    syn_sqrt: list[SquareRootCalibration] = []
    syn_sign_acf = np.zeros(0)
    for seed in seeds:
        ev = run_market(cfg, np.random.SeedSequence(seed), int(hours * 3600 * S))
        syn.append(stylized_facts(ev))
        series = market_series(ev)
        for w in syn_windows:
            syn_windows[w].append(impact_exponent(*window_impact(series, w * S)).exponent)
        tape = trade_tape(ev)
        syn_sqrt.append(calibrate_square_root(tape, n_bootstrap=200, seed=0))
        if syn_flow is None:
            syn_flow = order_flow_stats(ev)
            syn_sign_acf = autocorrelation(tape.sign, SIGN_LAGS)
    assert syn_flow is not None
    no_latent = cfg.model_copy(update={"latent": LatentLiquidityConfig(density=0.0)})
    metas = {
        "default": metaorder_impact(cfg, META_SIZES, seeds=range(META_SEEDS)),
        "without latent liquidity": metaorder_impact(no_latent, META_SIZES, seeds=range(META_SEEDS)),
    }
    elapsed = time.perf_counter() - t0

    n_levels = len(real.depth)
    checks = _checks(n_levels)
    lines = [
        "## The agent-based market against the GOOG day",
        "",
        f"Written by `scripts/fidelity_abm.py --seeds {','.join(map(str, seeds))} --hours {hours:g}` "
        f"({elapsed:.0f} s). Real: LOBSTER GOOG 2012-06-21 (NASDAQ, 09:30–16:00, $0.01 tick). "
        f"Synthetic: the default `AgentMarketConfig` (config id `{cfg.config_id[:12]}`), run without "
        f"us for {hours:g} h after its warm-up, seeds {', '.join(map(str, seeds))}. Both streams go "
        "through the same code (`execsim.agents.stylized_facts`): the book is sampled every second "
        "(time-weighted statistics), depth is per *occupied* level (as LOBSTER's 10 levels), returns "
        "are log returns of the mid, and the impact exponent is the log-log slope of the mean signed "
        "mid change against the mean absolute net signed volume over 8 equal-count bins of 1-minute "
        "windows (a proxy for metaorders: public data do not say who traded).",
        "",
        "Tolerances were fixed before the comparison; the *synthetic* column is the mean over the "
        "seeds, with the range across seeds in brackets. How the defaults were set: the order sizes "
        "were measured on the GOOG day, and the limit-order rate and where orders are placed started "
        "from it (`execsim.agents.calibration`, table below); the parameters that cannot be observed "
        "(cancellation classes, deep book, makers, momentum and value traders, fundamental, latent "
        "liquidity, activity) were tuned by a random search on the facts below with seeds 11–13, and "
        "last choices were made on seeds 11–13, 1 and 2. The last search also fitted the pooled "
        "exponent of the next sections and let two measured parameters move: the noise traders' limit"
        " orders, 3.0 → 2.6 per second (the market maker's requotes come on top), and the share of "
        "them placed inside the spread, 0.18 → 0.33 (it is what brings 1-second volatility up). The "
        "seeds reported here were used for neither.",
        "",
        "| fact | GOOG | synthetic | tolerance | met |",
        "|---|---|---|---|---|",
    ]
    n_met = 0
    for c in checks:
        r = float(c.get(real))
        vals = [float(c.get(f)) for f in syn]
        m = float(np.mean(vals))
        ok = c.ok(r, m)
        n_met += ok
        rng = f" [{c.fmt.format(min(vals))}–{c.fmt.format(max(vals))}]" if len(vals) > 1 else ""
        met = "yes" if ok else "**no**"
        lines.append(f"| {c.name} | {c.fmt.format(r)} | {c.fmt.format(m)}{rng} | {c.tolerance} | {met} |")
    lines += [
        "",
        f"**{n_met} of {len(checks)} facts within tolerance.**",
        "",
        "### How stable the impact exponent is",
        "",
        "The exponent depends on the window length, on one real day as on the synthetic market "
        "(same estimator, 8 bins):",
        "",
        "| window | GOOG | synthetic (mean over seeds) |",
        "|---|---|---|",
    ]
    for w, e in real_windows.items():
        lines.append(f"| {w} s | {e:.2f} | {np.nanmean(syn_windows[w]):.2f} |")
    lines += _sqrt_section(real_sqrt, syn_sqrt, seeds)
    lines += _metaorder_section(real_sqrt_half, metas, price_per_tick=100)
    lines += [
        "",
        "### Autocorrelation of absolute 1-minute returns, lag by lag",
        "",
        "| lag (min) | " + " | ".join(str(i) for i in range(1, len(real.abs_return_acf) + 1)) + " |",
        "|---|" + "---|" * len(real.abs_return_acf),
        "| GOOG | " + " | ".join(f"{x:.2f}" for x in real.abs_return_acf) + " |",
        "| synthetic | "
        + " | ".join(f"{x:.2f}" for x in np.mean([f.abs_return_acf for f in syn], axis=0))
        + " |",
        "",
        f"With about {int(real.duration_s // 60)} one-minute returns a day, one lag's standard error is "
        f"about {1 / math.sqrt(real.duration_s / 60):.2f}.",
        "",
        "### Order flow (what the noise traders' parameters stand for)",
        "",
        "`execsim.agents.calibration.order_flow_stats` on the GOOG day and on the synthetic market "
        f"(seed {seeds[0]}).",
        "",
        "| statistic | GOOG | synthetic |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in _flow_rows(real_flow, syn_flow)]
    real_sign_acf = autocorrelation(real_tape.sign, SIGN_LAGS)
    lines.append(
        f"| trade-sign autocorrelation, lag {' / '.join(map(str, SIGN_LAGS))} (trades) | "
        + " / ".join(f"{x:.2f}" for x in real_sign_acf)
        + " | "
        + " / ".join(f"{x:.2f}" for x in syn_sign_acf)
        + " |"
    )
    lines += ["", _caveats(real, syn, real_flow, syn_flow), ""]
    return "\n".join(lines)


def _sqrt_section(
    real: SquareRootCalibration, syn: list[SquareRootCalibration], seeds: list[int]
) -> list[str]:
    """The square-root law fitted the way ``docs/impact-calibration.md`` fits it, on both sides."""
    lo, hi = real.delta_ci
    d = [c.delta for c in syn]
    inside = lo <= float(np.mean(d)) <= hi
    out = [
        "",
        "### The square-root law, fitted on buckets of every length",
        "",
        "The 1-minute exponent above is one window length and 8 bins of about 49 windows: on the "
        "real day alone it ranges from 0.46 to 1.27 with the window. The fit of "
        "[impact-calibration.md](impact-calibration.md) (`execsim.impact.calibrate_square_root`: "
        "`E[Δmid · sign(Q)] / σ = Y (|Q|/V)^δ` on buckets of 60 s to 30 min pooled, 12 bins, "
        "weighted least squares, 200 bootstrap resamples of buckets) pins δ down better; it runs "
        "here on both streams, the synthetic one per seed. This section was added in a later "
        "session, after the 1-minute estimator proved unstable; it is reported, not counted above.",
        "",
        "| stream | δ | 95 % CI | R² of the bin means |",
        "|---|---|---|---|",
        f"| GOOG | {real.delta:.2f} | {lo:.2f}–{hi:.2f} | {real.r2:.2f} |",
    ]
    for s, c in zip(seeds, syn, strict=True):
        out.append(
            f"| synthetic, seed {s} | {c.delta:.2f} | {c.delta_ci[0]:.2f}–{c.delta_ci[1]:.2f} | {c.r2:.2f} |"
        )
    out += [
        "",
        f"Synthetic mean {np.mean(d):.2f} (sd {np.std(d):.2f} across seeds): "
        + ("inside" if inside else "**outside**")
        + f" GOOG's 95 % interval {lo:.2f}–{hi:.2f}. Each synthetic seed's δ is tight, and the "
        "synthetic response is "
        + ("close to linear" if np.mean(d) > 0.9 else "mildly concave")
        + ", while the real day's is concave; the real interval is wide (one day), so the two are "
        "told apart at its upper end only.",
    ]
    return out


META_SIZES = (1_000, 3_000, 10_000, 30_000)
META_SEEDS = 64


def _metaorder_section(
    real_half: SquareRootCalibration, metas: dict[str, MetaorderImpact], price_per_tick: int
) -> list[str]:
    """Metaorders sent into the synthetic market, against the square-root law of the GOOG day."""
    first = next(iter(metas.values()))
    # the real tape's prices are in LOBSTER units
    sig = real_half.sigma_ticks_per_sqrt_day / price_per_tick
    vol, y = real_half.daily_volume_lots, real_half.Y
    h = " / ".join(f"+{x / 60:g} min" for x in first.horizons_s)
    out = [
        "",
        "### Metaorders: what our own trading costs",
        "",
        "The estimators above read impact off anonymous net volume. In the synthetic market a "
        "metaorder can be sent for real: `execsim.agents.metaorders.metaorder_impact` buys (even "
        "seeds) or sells (odd seeds) each size as "
        f"{first.n_children} equal market orders over {first.duration_s / 60:g} minutes, and reads "
        "the impact as the mid's difference from a twin run of the same seed without it, at the "
        f"end of the execution and {h} after it; seeds 0–{first.points[0].n_runs - 1}. The reference "
        "is the square-root law with the GOOG day's own constants: `Y σ √(Q/V)` with σ = "
        f"{sig:.0f} ticks per √day, V = {vol:,.0f} lots per day and Y = {y:.2f} "
        f"(95 % CI {real_half.Y_ci[0]:.2f}–{real_half.Y_ci[1]:.2f}), the bucket fit above with δ held "
        "at 0.5. That Y comes from anonymous buckets, not from metaorders, so the reference gives "
        "the scale, not a tolerance. This section was added with the latent liquidity population "
        "and is not counted in the facts above.",
        "",
        "| metaorder (lots) | share of a day's volume | square-root law (ticks) | "
        + " | ".join(f"{name}: impact at end ± s.e. ({h})" for name in metas)
        + " |",
        "|---|---|---|" + "---|" * len(metas),
    ]
    for i, p in enumerate(first.points):
        ref = y * sig * math.sqrt(p.qty / vol)
        cells = []
        for m in metas.values():
            q = m.points[i]
            after = " / ".join(f"{x:.0f}" for x in q.after_ticks)
            cells.append(f"{q.impact_ticks:.1f} ± {q.stderr_ticks:.1f} ({after})")
        out.append(f"| {p.qty:,} | {p.qty / vol:.2%} | {ref:.0f} | " + " | ".join(cells) + " |")
    out += ["", "| market | impact exponent δ (impact ∝ Q^δ) | 95 % CI (seeds resampled) |", "|---|---|---|"]
    for name, m in metas.items():
        out.append(f"| {name} | {m.exponent:.2f} | {m.exponent_ci[0]:.2f}–{m.exponent_ci[1]:.2f} |")
    return out


def _caveats(
    real: StylizedFacts, syn: list[StylizedFacts], real_flow: OrderFlowStats, syn_flow: OrderFlowStats
) -> str:
    d_syn = np.mean([f.depth for f in syn], axis=0)
    depth_note = (
        f"from level 4 to level 10 the synthetic depth goes from {d_syn[3]:.0f} to {d_syn[-1]:.0f} "
        f"lots, GOOG's from {real.depth[3]:.0f} to {real.depth[-1]:.0f}"
    )
    flow_note = (
        f"{syn_flow.limit_rate:.2f} limit orders per second in all against GOOG's "
        f"{real_flow.limit_rate:.2f}, of which {AgentMarketConfig().noise.limit_rate:.2f} "
        "from the noise traders"
    )
    return "\n".join(
        [
            "### What does not match, and what to keep in mind",
            "",
            "- One real day is one sample: the real kurtosis, the autocorrelations and the impact "
            "exponent carry wide error bars (see the window table), so a tolerance met or missed "
            "by a little means little.",
            "- The synthetic market is deliberately simple: it has no hidden orders (GOOG prints "
            "hidden executions, counted in the order-flow table), no opening or closing auction and "
            "no intraday seasonality (GOOG is busier near the open and the close).",
            "- Volatility clustering comes from a slow random *activity* factor that scales every "
            "rate and the fundamental's variance, i.e. it is put in, not emergent.",
            "- **The square-root impact exponent: reproduced, by two mechanisms that work "
            "together.** (1) *Latent liquidity* (`LatentLiquidityConfig`, after Donier, Bonart, "
            "Mastromatteo and Bouchaud 2015): V-shaped interest around an anchor, shown at the "
            "touch once the mid reaches it, so moving the price D ticks from the anchor takes "
            "about density × D² / 2 lots on top of the visible book. The anchor is the price's "
            "own memory, a 36-minute average of the mid; anchored on the exogenous fundamental "
            "value (the previous default) it resisted only moves away from that value, and "
            "news-driven moves, the bulk of the volatility, met no resistance. (2) *Persistent "
            "order flow*: the noise traders' market orders are the children of split parents "
            "and repeat the last side with probability 0.87, so signed volume comes in runs that "
            "push into the latent book, the way metaorders do (trade-sign autocorrelation in the "
            "order-flow table). Either alone left the pooled exponent near 0.8–1.0 in the "
            "prototypes; together, after a random search with the pooled exponent in its loss, "
            "the 1-minute exponent, the pooled fit and metaorders sent for real are all concave: "
            "the tables above. Metaorders cost about 0.9 to 1.5 times the square-root law with the "
            "GOOG day's constants. Without the latent book (column *without latent liquidity*) "
            "the visible book alone cannot absorb even 1,000 lots: the price runs away at every "
            "size, and that column's exponent only says that the runaway saturates.",
            "- **What the retune cost.** The share of limit orders placed inside the spread is "
            "0.33 instead of GOOG's 0.18 (the search raised it to bring 1-second volatility back "
            "after the latent orders steadied the touch); the level-4 depth is now just outside "
            "its tolerance; the makers quote 45 lots instead of 150, and the deep orders are at "
            "least 195 lots. The exponent per seed still varies (see the per-seed δ above and the "
            "1-minute range in brackets), and the synthetic trade signs are less correlated than "
            "GOOG's at lag 1 and more at lag 20 (order-flow table).",
            "- **Impact decays, mostly within ten minutes.** After a metaorder the price keeps "
            "a fifth to a half of its impact five minutes later and almost none after ten (the "
            "*+5 min / +10 min* columns; probably the latent book's anchor following the mid and "
            "the value traders pulling toward the fundamental, not isolated). The fundamental "
            "itself is exogenous (our orders do not move it), so there is no permanent impact. "
            "Real impact decays only in part; a fundamental that absorbs part of the signed "
            "order flow would add it, and is not built.",
            "- **What was tried on the aggregate exponent before** (pooled square-root fit, seeds "
            "11, 12, 13, 1 and 2; the zero-intelligence default gave δ = 1.03, sd 0.06), each as "
            "a prototype and reverted because δ did not move: latent liquidity revealed in "
            "proportion to the displacement from a 20–300 s average of the mid, 0.97–1.06; market "
            "orders capped at the opposite best level, 1.07; cancellation rates that do not scale "
            "with activity, 0.93; makers that move their reference with a memory of trade signs, "
            "1.01; makers centred on the fundamental, 0.89–1.16; no momentum traders, 1.02; "
            "momentum and value orders split into children, 1.07–1.13; momentum and value orders "
            "of a fixed size, 0.98–1.04; a deep book whose density grows with distance, "
            "0.97–1.10; noise limit orders whose side leans against the recent market-order "
            "imbalance, 0.99–1.01; persistent noise market orders without a latent book, "
            "0.96–1.11; the latent book anchored on the fundamental, 0.80–0.96; value traders "
            "whose thresholds are spread so that their flow grows with the square of the "
            "mispricing, 0.95–1.00.",
            f"- The depth profile is flatter than GOOG's: {depth_note}.",
            f"- The order flow counts every population: the market maker's requotes add to the "
            f"limit orders and cancellations ({flow_note}), and the momentum and value traders' "
            "market orders, sized by their signals, make the mean market order larger than "
            "GOOG's, with fewer of them.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--seeds", default="101,102,103,104,105", help="comma-separated seeds of the synthetic runs"
    )
    p.add_argument("--hours", type=float, default=6.5)
    p.add_argument("--out", default=str(REPO / "docs" / "fidelity-abm.md"))
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    text = build(seeds, args.hours)
    Path(args.out).write_text("# Fidelity of the agent-based market\n\n" + text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
