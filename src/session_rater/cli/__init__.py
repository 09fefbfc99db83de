"""The ``session-rater`` command line: one module per command group, each calling the use cases
(``session_rater.usecases``) and printing what they return. ``main`` is the entry point."""

from session_rater.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
