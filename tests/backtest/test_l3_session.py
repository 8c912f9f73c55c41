"""Sessions over order-by-order (LOBSTER) data: the L3 replay venue under market impact."""

from __future__ import annotations

import math
from itertools import groupby
from pathlib import Path
from typing import Any

from execsim.backtest import RunConfig, run_session
from execsim.data.feeds.lobster import LobsterFeed

NS_PER_MIN = 60 * 10**9
SLICES = {
    "class": "execsim.backtest.strategies:SliceTaker",
    # marketable IOC buys of 100 shares, one a minute, up to $0.05 through the ask
    "params": {"total_qty": 300, "slices": 3, "interval_ms": 60_000, "max_cross_ticks": 500},
}


def _cfg(lobster_goog: tuple[Path, Path], **over: Any) -> RunConfig:
    msg, book = lobster_goog
    start = int(next(iter(LobsterFeed(msg, book).batches()))["ts_event"][0])
    base: dict[str, Any] = {
        "data": {"kind": "lobster", "messages": str(msg), "orderbook": str(book)},
        "strategy": SLICES,
        "end_ns": start + 5 * NS_PER_MIN,
    }
    base.update(over)
    return RunConfig.from_dict(base)


def _impact(gamma: float) -> dict[str, Any]:
    # γ in ticks of $0.0001 (LOBSTER's price unit) per share
    return {"model": "almgren_chriss", "params": {"permanent": gamma, "temporary": 0.0, "tick_size": 0.0001}}


def _round_half_away(x: float) -> int:
    # the rounding of docs/impact.md: to the nearest tick, halves away from zero
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def test_permanent_impact_moves_the_l3_venue_quote_by_gamma_times_our_net_volume(
    lobster_goog: tuple[Path, Path],
) -> None:
    gamma = 0.37
    res = run_session(_cfg(lobster_goog, impact=_impact(gamma), counterfactual=True))
    assert res.manifest["session"]["venues"] == {"LIT": "L3ReplayVenue"}
    assert res.manifest["session"]["impact"] == "almgren_chriss"
    net = sum(f["qty"] if f["side"] == "buy" else -f["qty"] for f in res.fills.to_pylist())
    assert net > 0
    shift = _round_half_away(gamma * net)
    assert shift > 0
    actual = res.market.to_pylist()[-1]
    cf = res.counterfactual_market.to_pylist()[-1]
    assert actual["ts"] == cf["ts"]
    assert actual["bid_px"] - cf["bid_px"] == shift
    assert actual["ask_px"] - cf["ask_px"] == shift


def test_later_slices_of_an_l3_session_pay_for_the_impact_of_the_earlier_ones(
    lobster_goog: tuple[Path, Path],
) -> None:
    gamma = 2.0
    with_impact = run_session(_cfg(lobster_goog, impact=_impact(gamma))).fills.to_pylist()
    without = run_session(_cfg(lobster_goog)).fills.to_pylist()

    def slices(fills: list[dict[str, Any]]) -> list[list[tuple[int, int]]]:
        return [[(f["price"], f["qty"]) for f in g] for _, g in groupby(fills, key=lambda f: f["ts_venue"])]

    a, b = slices(with_impact), slices(without)
    assert len(a) == len(b) == 3
    # every slice takes the same recorded lots (its limit moves with the book), and pays the
    # permanent shift of what was bought before it
    bought = 0
    for got, plain in zip(a, b, strict=True):
        shift = _round_half_away(gamma * bought)
        assert got == [(p + shift, q) for p, q in plain]
        bought += sum(q for _, q in got)
    assert bought == 300
