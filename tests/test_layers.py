"""Layers import downward only (DESIGN.md): a package may import its own layer's modules and
lower layers, never a higher layer nor a sibling of the same rank."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "execsim"

# rank of each top-level sub-package; equal ranks are siblings and may not import each other.
# DESIGN.md draws venues/impact/agents as one box; inside it impact < venues < agents, because
# a venue applies an impact model to the replayed book and the agent market is itself a venue.
RANKS: dict[str, int] = {
    "core": 0,
    "model": 1,
    "data": 2,
    "book": 3,
    "kernel": 3,
    "impact": 4,
    "venues": 5,
    "agents": 6,
    "execution": 7,
    "fix": 8,
    "backtest": 9,
    "tca": 10,
    "reporting": 11,
    "governance": 11,
    "ml": 12,
    "rl": 12,
    "scale": 13,
    "studies": 13,
    "testing": 14,
    "cli": 15,
    "web": 15,
}


def _package_of(path: Path) -> str | None:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem != "__init__" else None


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return [(ln, m) for ln, m in out if m == "execsim" or m.startswith("execsim.")]


def _violations() -> list[str]:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        pkg = _package_of(path)
        if pkg is None or pkg in {"__main__"}:
            continue  # the root __init__ curates the public API from every layer
        if pkg not in RANKS:
            bad.append(f"{path.relative_to(SRC)}: package {pkg!r} has no rank in RANKS")
            continue
        for lineno, mod in _imports(path):
            parts = mod.split(".")
            if len(parts) == 1:
                bad.append(f"{path.relative_to(SRC)}:{lineno} imports the root package execsim")
                continue
            target = parts[1]
            if target == pkg or target not in RANKS:
                continue
            if RANKS[target] >= RANKS[pkg]:
                bad.append(f"{path.relative_to(SRC)}:{lineno} ({pkg}) imports {mod} ({target})")
    return bad


def test_every_import_goes_downward() -> None:
    bad = _violations()
    assert not bad, "layer violations:\n" + "\n".join(bad)


def test_the_layer_check_catches_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "execsim"
    (fake / "core").mkdir(parents=True)
    (fake / "core" / "bad.py").write_text("from execsim.book import l3\n")
    monkeypatch.setattr(f"{__name__}.SRC", fake)
    assert _violations() == ["core/bad.py:1 (core) imports execsim.book (book)"]
