"""``evclient``: the command line (install the ``cli`` extra). :func:`main` is the entry point."""

from .app import build_parser, main, parse_params, run_account_command
from .state import StateFile, StateFileError

__all__ = ["StateFile", "StateFileError", "build_parser", "main", "parse_params", "run_account_command"]
