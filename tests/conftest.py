"""Shared fixtures: where the real market data lives, and a clean numba/thread environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The shared real-data folder: ``$EXECSIM_SHARED_DATA`` or ``<repo>/../shared/data``."""
    env = os.environ.get("EXECSIM_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; skips the test with a reason when it is absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared market data not found at {path} (set EXECSIM_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def lobster_goog(shared_data: Path) -> tuple[Path, Path]:
    """(message, orderbook) paths of the LOBSTER GOOG level-10 day."""
    d = shared_data / "lobster"
    msg = d / "GOOG_2012-06-21_34200000_57600000_message_10.csv.gz"
    book = d / "GOOG_2012-06-21_34200000_57600000_orderbook_10.csv.gz"
    if not (msg.is_file() and book.is_file()):
        pytest.skip(f"LOBSTER GOOG sample not found under {d}")
    return msg, book
