"""Calibrate the impact models on the LOBSTER GOOG day and write docs/impact-calibration.md.

Usage::

    .venv/bin/python scripts/calibrate_impact.py [--data DIR] [--out docs/impact-calibration.md]
        [--seed 0] [--bootstrap 200]

``DIR`` defaults to ``$EXECSIM_SHARED_DATA/lobster`` or ``../shared/data/lobster``. The output is
deterministic for given data, seed and package version (no timestamps).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from execsim.core.version import __version__
from execsim.data.feeds.lobster import LobsterFeed
from execsim.impact import (
    AlmgrenChrissImpact,
    ImpactConfig,
    PropagatorCalibration,
    PropagatorImpact,
    SquareRootImpact,
    TradeTape,
    calibrate_linear_impact,
    calibrate_propagator,
    calibrate_square_root,
    trade_tape,
)

REPO = Path(__file__).resolve().parents[1]
MESSAGE = "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
ORDERBOOK = "GOOG_2012-06-21_34200000_57600000_orderbook_10.csv.gz"


def _default_data() -> Path:
    env = os.environ.get("EXECSIM_SHARED_DATA")
    return (Path(env) if env else REPO.parent / "shared" / "data") / "lobster"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _yaml(cfg: ImpactConfig) -> str:
    lines = ["impact:", f"  model: {cfg.model}", "  params:"]
    for k, v in sorted(cfg.params.items()):
        lines.append(f"    {k}: {v if not isinstance(v, float) else f'{v:.6g}'}")
    return "\n".join(lines)


def _robustness(tape: TradeTape, seed: int, n_boot: int) -> list[str]:
    rows = [
        "| variant | Y | δ | 95 % CI of δ | R² | buckets |",
        "|---|---|---|---|---|---|",
    ]
    variants: list[tuple[str, dict[str, Any]]] = [
        ("all lengths 60 s – 30 min (the result above)", {}),
        ("short buckets only (60, 120, 300 s)", {"intervals_s": (60.0, 120.0, 300.0)}),
        ("long buckets only (10, 15, 30 min), 6 bins", {"intervals_s": (600.0, 900.0, 1800.0), "n_bins": 6}),
        ("8 bins instead of 12", {"n_bins": 8}),
        ("σ from 5-minute mid changes", {"sigma_interval_s": 300.0}),
        ("δ fixed at 0.5 (Y only)", {"delta": 0.5}),
    ]
    for name, kw in variants:
        kw = {"n_bootstrap": n_boot, "seed": seed, **kw}
        n_bins = int(kw.get("n_bins", 12))
        try:
            c = calibrate_square_root(tape, **kw)
        except ValueError as err:  # too few buckets for this variant
            rows.append(f"| {name} | – | – | – | – | ({err}) |")
            continue
        ci = "fixed" if c.delta_fixed else f"[{c.delta_ci[0]:.3g}, {c.delta_ci[1]:.3g}]"
        rows.append(
            f"| {name} | {c.Y:.3g} | {c.delta:.3g} | {ci} | {c.r2:.3g} | {c.n_buckets} ({n_bins} bins) |"
        )
    return rows


def _propagator_reading(pr: PropagatorCalibration) -> str:
    R = pr.response
    peak = max(range(1, len(R)), key=lambda k: R[k])
    fits = {f.kernel: f for f in pr.fits}
    best = max(pr.fits, key=lambda f: f.r2)
    minutes = pr.lags[-1] * pr.mean_intertrade_s / 60
    text = (
        f"Reading: the measured response peaks at lag {peak} ({R[peak]:.0f} ticks) and ends at "
        f"{R[-1]:.0f} ticks at lag {pr.lags[-1]} (≈ {minutes:.0f} minutes); signs are correlated "
        f"(C(1) = {pr.sign_autocorr[1]:.2f}), which is why R keeps rising after lag 1. The chosen "
        f"fit splits the kernel into a permanent G_inf = {pr.fit.G_inf:.0f} ticks and a transient "
        f"G0 = {pr.fit.G0:.0f} ticks decaying over ℓ0 = {pr.fit.ell0:.1f} trades ({pr.tau_s:.0f} s). "
        f"The better fit by R² is the {best.kernel} kernel."
    )
    pl = fits.get("power_law")
    if pl is not None and pl.beta >= 2.9:
        text += (
            f" The power-law family's best β ({pl.beta:.2f}) sits at the top of its range: over these "
            "lags the data prefer a fast, exponential-like decay to a long power-law tail."
        )
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=_default_data(), help="folder with the LOBSTER GOOG files")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "impact-calibration.md")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    ap.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples")
    args = ap.parse_args(argv)
    msg, book = args.data / MESSAGE, args.data / ORDERBOOK
    if not (msg.is_file() and book.is_file()):
        print(f"LOBSTER GOOG files not found under {args.data}", file=sys.stderr)
        return 2

    feed = LobsterFeed(msg, book)
    tape = trade_tape(feed)
    print(tape.summary(), file=sys.stderr)
    sq = calibrate_square_root(tape, n_bootstrap=args.bootstrap, seed=args.seed)
    pr = calibrate_propagator(tape, kernel="exponential")
    lin = calibrate_linear_impact(tape, n_bootstrap=args.bootstrap, seed=args.seed)
    sq_model = SquareRootImpact().fit(tape, n_bootstrap=0)
    pr_model = PropagatorImpact(kernel="exponential").fit(tape)
    ac_model = AlmgrenChrissImpact().fit(tape, n_bootstrap=0)

    tick_dollars = 0.0001
    cents = tick_dollars * 100  # one data tick in cents
    q_example = 1_000
    sq_peak = sq.impact_ticks(q_example)
    quote_half_spread = lin.fixed_cost

    lines = [
        "# Impact calibration: LOBSTER GOOG, 2012-06-21",
        "",
        "Written by `scripts/calibrate_impact.py` — do not edit by hand. Reproduce with:",
        "",
        "```",
        f".venv/bin/python scripts/calibrate_impact.py --seed {args.seed} --bootstrap {args.bootstrap}",
        "```",
        "",
        f"execsim {__version__}; data: `{MESSAGE}` (sha256 `{_sha256(msg)[:16]}…`) and `{ORDERBOOK}` "
        f"(sha256 `{_sha256(book)[:16]}…`), read with `LobsterFeed` at LOBSTER's own price unit, "
        f"so **one tick here is ${tick_dollars:g}** (a cent is 100 ticks). Methods, assumptions and "
        "limits: [impact.md](impact.md).",
        "",
        "## The tape",
        "",
        f"{tape.summary()}. Executions are visible (LOBSTER type 4, aggressor = the opposite of the "
        "resting side) and hidden (type 5); consecutive executions at the same nanosecond and sign "
        "are one aggressive order.",
        "",
        "## Square-root law",
        "",
        "`E[Δmid · sign(Q)] / σ = Y · (|Q|/V)^δ` over non-overlapping time buckets of net signed "
        "volume `Q`. The buckets are a proxy for metaorders (see impact.md): the net flow of all "
        "traders in a bucket is not one trader's order, and prices also move for reasons other than "
        "the flow, so `Y` here is not the `Y ≈ 0.5–1` of proprietary metaorder studies.",
        "",
        sq.to_markdown(),
        f"Reading: a {q_example:,}-lot metaorder ({q_example / sq.daily_volume_lots:.2%} of the day's "
        "volume) "
        f"would move GOOG by about {sq_peak:.0f} ticks = {sq_peak * cents:.1f} cents at its peak.",
        "",
        "Robustness of the fit (same data, one choice changed at a time):",
        "",
        *_robustness(tape, args.seed, args.bootstrap),
        "",
        "A variant whose δ interval covers most of the search range (0.02 – 2) is not pinned down "
        "by its buckets: one day has only a few dozen buckets of 10 minutes or more.",
        "",
        "## Propagator",
        "",
        "Response `R(ℓ) = E[(m_{n+ℓ} − m_n) ε_n]` and sign autocorrelation `C(ℓ)` in trade time; "
        "both kernel families fitted by weighted least squares through `R = G ⋆ C`.",
        "",
        pr.to_markdown(),
        _propagator_reading(pr),
        "",
        "## Almgren–Chriss (linear)",
        "",
        lin.to_markdown(),
        f"Reading: a small market order pays about {quote_half_spread:.0f} ticks "
        f"({quote_half_spread * cents:.1f} cents, about half the quoted spread) over the mid; the "
        "size term is negligible because most GOOG market orders were 100 shares and the touch was "
        "deep enough for them (R² of the size regression ≈ 0). On replayed depth, the venue's book "
        "walk already charges this cost, so the linear temporary impact should stay 0 there.",
        "",
        "## Ready-made configs",
        "",
        "Fitted values frozen into run configs (`ImpactConfig.from_model`); `tick_size` records "
        "the $0.0001 ticks they are expressed in, and a run on a $0.01 instrument rescales them.",
        "",
        "```yaml",
        _yaml(ImpactConfig.from_model(sq_model)),
        "```",
        "",
        "```yaml",
        _yaml(ImpactConfig.from_model(pr_model)),
        "```",
        "",
        "```yaml",
        _yaml(ImpactConfig.from_model(ac_model)),
        "```",
        "",
    ]
    text = "\n".join(lines)
    args.out.write_text(text, encoding="utf-8")
    print(
        f"wrote {args.out} (δ = {sq.delta:.3f}, Y = {sq.Y:.3g}; propagator R² = {pr.fit.r2:.3f})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
