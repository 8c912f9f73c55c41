"""Metaorder impact measured against a counterfactual twin of the agent market."""

from __future__ import annotations

import numpy as np
import pytest

from execsim.agents import AgentMarketConfig
from execsim.agents.metaorders import metaorder_impact
from execsim.core.errors import ConfigError

CFG = AgentMarketConfig(warmup_s=120)
KW = {"duration_s": 120.0, "n_children": 12, "horizons_s": (60.0,), "n_bootstrap": 20}


def test_bigger_metaorders_move_the_price_further_and_the_result_is_reproducible() -> None:
    a = metaorder_impact(CFG, [500, 5_000], seeds=range(6), **KW)  # type: ignore[arg-type]
    b = metaorder_impact(CFG, [5_000, 500], seeds=range(6), **KW)  # type: ignore[arg-type]
    assert a == b  # same seeds, sizes in any order: the same numbers
    small, big = a.points
    assert (small.qty, big.qty) == (500, 5_000)
    assert big.impact_ticks > small.impact_ticks
    assert big.impact_ticks > 2 * big.stderr_ticks > 0
    assert small.n_runs == 6
    assert len(big.after_ticks) == 1
    assert a.horizons_s == (60.0,)
    lo, hi = a.exponent_ci
    # a fitted number, and an interval that the seed resampling actually spreads
    assert np.isfinite([a.exponent, lo, hi]).all()
    assert lo < hi


def test_buys_and_sells_are_both_signed_with_the_metaorder() -> None:
    # seed 0 buys, seed 1 sells: each alone must show a positive impact for a large order
    for seed in (0, 1):
        r = metaorder_impact(CFG, [20_000], seeds=[seed], **KW)  # type: ignore[arg-type]
        assert r.points[0].impact_ticks > 0


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"sizes": []}, "sizes"),
        ({"sizes": [0, 100]}, "sizes"),
        ({"duration_s": 0.0}, "duration_s"),
        ({"n_children": 0}, "n_children"),
        ({"seeds": []}, "seed"),
        ({"horizons_s": (-1.0,)}, "horizons_s"),
        ({"n_bootstrap": -1}, "n_bootstrap"),
    ],
)
def test_bad_arguments_are_refused_by_name(kw: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"sizes": [100], "seeds": [0]}
    args.update(kw)
    sizes = args.pop("sizes")
    with pytest.raises(ConfigError, match=match):
        metaorder_impact(CFG, sizes, **args)  # type: ignore[arg-type]
