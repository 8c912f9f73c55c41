"""Command-line interface (``execsim``)."""

from execsim.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
