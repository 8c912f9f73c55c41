"""How well does each L2 queue-position model reproduce exact L3 fills?

Method: the LOBSTER GOOG day is replayed order by order (L3) and, aggregated to price levels
(L2: level updates plus trade prints, :class:`execsim.book.aggregate.L3ToL2`), by level. At
seeded random times a passive order of ``--qty`` shares joins the best bid or the best ask.
The L3 replay venue gives the truth (our order waits in the real FIFO queue); each L2 queue
model estimates the same order's fate from level data only. Each placement runs alone in a
fresh venue, so placements do not interact. Writes the results to ``docs/fidelity.md``
(between markers, so other sections of the file are kept).

Usage: python scripts/fidelity_queue_models.py [--placements 200] [--horizon-s 300] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from execsim.book.aggregate import L3ToL2
from execsim.data.feeds.lobster import LobsterFeed
from execsim.model import Side
from execsim.venues.base import ReportKind, SubmitOrder
from execsim.venues.l2_replay import L2ReplayVenue
from execsim.venues.l3_replay import L3ReplayVenue
from execsim.venues.queue_models import QueueModelConfig

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "fidelity.md"
BEGIN, END = "<!-- queue-models:begin -->", "<!-- queue-models:end -->"
MODELS = {
    "risk_averse": QueueModelConfig(model="risk_averse"),
    "prob_power n=2": QueueModelConfig(model="prob_power", n=2.0),
    "prob_power n=3": QueueModelConfig(model="prob_power", n=3.0),
    "prob_log": QueueModelConfig(model="prob_log"),
}


@dataclass
class Outcome:
    first_fill_s: float | None
    filled: int


def _data_dir() -> Path:
    env = os.environ.get("EXECSIM_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def _place(venue, t: int, side: Side, qty: int, horizon_ns: int) -> Outcome:  # type: ignore[no-untyped-def]
    venue.advance(t)
    q = venue.quote()
    price = q.bid_px if side is Side.BUY else q.ask_px
    reps = venue.handle(SubmitOrder(ts_ns=t, order_id=1, side=side, qty=qty, price=price, post_only=True))
    first: float | None = None
    filled = 0
    for r in reps:
        if r.kind is ReportKind.REJECTED:
            return Outcome(None, -1)
    end = t + horizon_ns
    while filled < qty:
        reached, reps = venue.advance(end)
        for r in reps:
            if r.kind is ReportKind.FILL:
                filled += r.qty
                if first is None:
                    first = (r.ts_ns - t) / 1e9
        if reached >= end and not reps:
            break
    return Outcome(first, filled)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--placements", type=int, default=200)
    ap.add_argument("--horizon-s", type=float, default=300.0)
    ap.add_argument("--qty", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-write", action="store_true", help="print only; do not update docs/fidelity.md")
    args = ap.parse_args()
    d = _data_dir() / "lobster"
    msg = d / "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
    ob = d / "GOOG_2012-06-21_34200000_57600000_orderbook_10.csv.gz"
    if not msg.is_file():
        print(f"LOBSTER GOOG sample not found under {d}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    feed = LobsterFeed(msg, ob)
    l3 = np.concatenate(list(feed.batches()))
    l2 = L3ToL2().convert(l3)
    inst = feed.instrument
    rng = np.random.default_rng(args.seed)
    start, stop = int(l3["ts_event"][0]), int(l3["ts_event"][-1])
    horizon = int(args.horizon_s * 1e9)
    times = np.sort(rng.integers(start + 60 * 10**9, stop - horizon, size=args.placements))
    sides = [Side.BUY if i % 2 == 0 else Side.SELL for i in range(args.placements)]

    truth = [
        _place(L3ReplayVenue(name="L3", instrument=inst, batches=[l3]), int(t), s, args.qty, horizon)
        for t, s in zip(times, sides, strict=True)
    ]
    results: dict[str, list[Outcome]] = {}
    for name, cfg in MODELS.items():
        results[name] = [
            _place(L2ReplayVenue([l2], inst, name="L2", queue_model=cfg), int(t), s, args.qty, horizon)
            for t, s in zip(times, sides, strict=True)
        ]
    elapsed = time.perf_counter() - t0

    ok = [i for i, o in enumerate(truth) if o.filled >= 0]
    n = len(ok)

    def row(name: str, outs: list[Outcome]) -> str:
        p_any = np.mean([outs[i].filled > 0 for i in ok])
        p_full = np.mean([outs[i].filled >= args.qty for i in ok])
        if outs is truth:
            return f"| {name} | {p_any:.1%} | {p_full:.1%} | — | — | — | — | — | — |"
        agree = np.mean([(outs[i].filled > 0) == (truth[i].filled > 0) for i in ok])
        both = [i for i in ok if outs[i].first_fill_s is not None and truth[i].first_fill_s is not None]
        err = np.array([outs[i].first_fill_s - truth[i].first_fill_s for i in both])  # type: ignore[operator]
        med_abs = f"{np.median(np.abs(err)):.2f}" if len(err) else "n/a"
        mean_abs = f"{np.mean(np.abs(err)):.2f}" if len(err) else "n/a"
        exact = f"{np.mean(err == 0):.0%}" if len(err) else "n/a"
        bias = f"{np.mean(err):+.2f}" if len(err) else "n/a"
        qty_err = np.mean([outs[i].filled - truth[i].filled for i in ok])
        return (
            f"| {name} | {p_any:.1%} | {p_full:.1%} | {agree:.1%} | {exact} | {med_abs} | {mean_abs} "
            f"| {bias} | {qty_err:+.1f} |"
        )

    def score(outs: list[Outcome]) -> tuple[float, float]:
        agree = float(np.mean([(outs[i].filled > 0) == (truth[i].filled > 0) for i in ok]))
        both = [i for i in ok if outs[i].first_fill_s is not None and truth[i].first_fill_s is not None]
        err = [abs(outs[i].first_fill_s - truth[i].first_fill_s) for i in both]  # type: ignore[operator]
        return agree, float(np.mean(err)) if err else float("inf")

    def reading() -> str:
        best = min(results, key=lambda m: (-score(results[m])[0], score(results[m])[1]))
        agree, mae = score(results[best])
        return (
            f"Reading: on this sample **{best}** is closest to the exact L3 fills (it agrees on whether an "
            f"order fills {agree:.1%} of the time, mean absolute first-fill time error {mae:.2f} s). "
            "The risk-averse model moves an order forward only on trades at its price (and when the level "
            "shrinks below the estimated queue ahead); the probabilistic models also move it forward on a "
            "share of the cancellations, so they fill earlier. On GOOG, touch levels are often one or two "
            "orders deep and empty completely, which makes every model exact for many placements. "
            "This is one stock on one day: measure on data like yours before choosing."
        )

    lines = [
        BEGIN,
        "## L2 queue-position models against exact L3 fills (LOBSTER GOOG, 2012-06-21)",
        "",
        f"Command: `python scripts/fidelity_queue_models.py --placements {args.placements} "
        f"--horizon-s {args.horizon_s:g} --qty {args.qty} --seed {args.seed}` ({elapsed:.0f} s).",
        "",
        f"{n} passive post-only orders of {args.qty} shares, placed at seeded random times at the best bid "
        f"(even placements) or best ask (odd), each alone in a fresh venue and followed for "
        f"{args.horizon_s:g} s. *Truth* is the L3 replay venue (our order in the real FIFO queue); the "
        "other rows replay the same day aggregated to price levels plus trade prints and estimate the "
        "queue position with the named model. Time errors are over orders filled in both.",
        "",
        "| model | P(any fill) | P(full fill) | agrees with truth (filled or not) | same first-fill time "
        "| median abs error (s) | mean abs error (s) | mean bias (s, model − truth) "
        "| mean filled-qty error (shares) |",
        "|---|---|---|---|---|---|---|---|---|",
        row("truth (L3 FIFO)", truth),
        *[row(name, outs) for name, outs in results.items()],
        "",
        reading(),
        END,
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        old = DOC.read_text() if DOC.is_file() else "# Fidelity: simulated against real\n\n"
        if BEGIN in old and END in old:
            new = old[: old.index(BEGIN)] + text + old[old.index(END) + len(END) :]
        else:
            new = old.rstrip() + "\n\n" + text + "\n"
        DOC.write_text(new)
        print(f"\nwrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
