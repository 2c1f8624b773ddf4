"""`settings`: every setting, its environment variable, default and meaning."""

from __future__ import annotations

import argparse
from typing import Any

from server.settings import settings_table

__all__ = ["add_parsers"]


def _settings(args: argparse.Namespace) -> int:
    for variable, default, help_text in settings_table():
        print(f"{variable:32} default {default!r:28} {help_text}")
    return 0


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("settings", help="list settings and their variables")
    p.set_defaults(run=_settings)
