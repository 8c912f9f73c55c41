"""The ``execsim`` command: a thin shell over the library.

Each sub-command lives in its own module exposing ``register(subparsers)``; the module parses
arguments, calls one library function and prints or writes its result. Errors that a user can
fix (bad input, missing files, malformed data) end as one line on stderr and exit status 2;
a failed check (e.g. mismatches in ``lobster verify``) exits 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from execsim.core.errors import ExecsimError
from execsim.core.version import __version__

__all__ = ["build_parser", "command_group", "main"]

# Sub-command modules, in the order --help lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "execsim.cli.demo",
    "execsim.cli.lobster",
    "execsim.cli.data",
    "execsim.cli.binance",
    "execsim.cli.run",
    "execsim.cli.impact",
    "execsim.cli.report",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="execsim",
        description="execsim: a market simulator for ML execution models "
        "(replay, matching, latency, impact, TCA, best-execution evidence).",
    )
    parser.add_argument("--version", action="version", version=f"execsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def command_group(subparsers: Any, name: str, **parser_kwargs: Any) -> Any:
    """Add the command group ``name`` (``help``, ``description``, ...); return its sub-commands.

    Run without a sub-command, the group prints its help and exits 2. The chosen sub-command's
    name lands in ``args.<name>_command``.
    """
    group: argparse.ArgumentParser = subparsers.add_parser(name, **parser_kwargs)
    group.set_defaults(func=lambda _args: _print_help(group))
    return group.add_subparsers(dest=f"{name}_command", metavar="COMMAND")


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ExecsimError as err:
        print(f"execsim: error: {err}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as err:
        # Files that cannot be read, values that cannot be parsed: still the user's input.
        print(f"execsim: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("execsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
