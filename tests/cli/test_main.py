"""The command line as a user meets it: a real process, --help everywhere, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

from execsim.cli.main import COMMAND_MODULES, build_parser


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "execsim", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_python_dash_m_prints_version() -> None:
    out = _run("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("execsim ")


def test_no_command_prints_help_and_fails() -> None:
    out = _run()
    assert out.returncode == 2
    assert "usage: execsim" in out.stdout


def _leaf_commands() -> list[list[str]]:
    """Every command path (e.g. ['data', 'import']) that the parser knows."""
    import argparse

    paths: list[list[str]] = []

    def walk(parser: argparse.ArgumentParser, prefix: list[str]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            paths.append(prefix)
            return
        for name, child in subs[0].choices.items():
            walk(child, [*prefix, name])

    walk(build_parser(), [])
    return [p for p in paths if p]


def test_every_registered_module_adds_a_command() -> None:
    assert len(_leaf_commands()) >= len(COMMAND_MODULES)


@pytest.mark.parametrize("path", _leaf_commands(), ids=lambda p: " ".join(p))
def test_every_command_has_help(path: list[str]) -> None:
    out = _run(*path, "--help")
    assert out.returncode == 0, out.stderr
    assert "usage: execsim " + " ".join(path) in out.stdout
