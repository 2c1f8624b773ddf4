"""What every command shares: its settings, the start-up banner, and CLI input checks.

Input checks live here so a bad flag gets the same one-line named error the
API gives (`trendsearch: error: `--as-of`: needs an offset ...`, exit 2), never
a traceback: argparse `type=` callables raise `argparse.ArgumentTypeError`,
which argparse turns into a usage error naming the option.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, get_args

import msgspec

from search.contracts import SearchRequest
from search.errors import FieldError
from server.settings import Profile, Settings, load_settings

__all__ = ["SAMPLE", "aware_datetime", "banner", "bounded_int", "common_parser", "followed_note",
           "search_request", "settings_from"]

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = REPO_ROOT / "data" / "sample" / "posts.jsonl"


def settings_from(args: argparse.Namespace, follow_record: bool = True) -> Settings:
    """Environment first, flags on top; a bad value is a `FieldError` naming its source.
    With no profile named, the one the live index was last rebuilt with
    (`server.live_profile`), unless `follow_record` is false, here or as the command's
    parser default (the lab's evaluations and benchmarks: a leftover record must not change
    what they measure)."""
    from server.live_profile import follow

    flag = getattr(args, "profile", None)
    settings = load_settings(profile=flag, data_dir=getattr(args, "data_dir", None),
                             host=getattr(args, "host", None), port=getattr(args, "port", None))
    if not follow_record or getattr(args, "follow_record", True) is False:
        return settings
    return follow(settings, explicit=flag is not None
                  or os.environ.get("TRENDSEARCH_PROFILE", "") != "")


def followed_note(args: argparse.Namespace, settings: Settings) -> str:
    """Where the running profile's name came from, when `DATA_DIR/profile.json` chose it:
    a model that cannot load must not leave the operator looking for a setting they
    never made ("" when the profile was named or is the default)."""
    from server.live_profile import FILE

    if settings.profile == settings_from(args, follow_record=False).profile:
        return ""
    return (f" (profile `{settings.profile}` was followed from {settings.data_path / FILE}, "
            f"written when the live index was last rebuilt with it; name another with --profile "
            f"or TRENDSEARCH_PROFILE, or make this profile's models loadable)")


def banner(settings: Settings, models: Any) -> None:
    """Said loudly on stderr: which profile runs decides what every score means."""
    from server.profiles import describe

    print(describe(settings, models), file=sys.stderr, flush=True)


def common_parser() -> argparse.ArgumentParser:
    """`--profile` and `--data-dir`, shared by every command that opens an index."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", choices=list(get_args(Profile)),
                        help="model profile (default: TRENDSEARCH_PROFILE, else the one DATA_DIR/profile.json "
                             "records, else offline)")
    common.add_argument("--data-dir", help="data folder (default: TRENDSEARCH_DATA_DIR or ./var)")
    return common


def aware_datetime(value: str) -> datetime:
    """An RFC 3339 time with an offset; a naive or unreadable time is a usage error."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an RFC 3339 time such as 2024-05-01T12:00:00+00:00; got {value!r}") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"needs an offset, e.g. {value}+00:00 or {value}Z; got {value!r}")
    return parsed


def bounded_int(low: int, high: int) -> Any:
    """An argparse type for an integer in [low, high], so `--limit 500` fails before any work."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer; got {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"expected {low} to {high}; got {number}")
        return number

    parse.__name__ = "integer"
    return parse


def option_of(field: str) -> str:
    """`as_of` -> `--as-of`; `filters.platform[0]` -> `--platform`; `query` -> QUERY."""
    leaf = field.split(".")[-1].split("[")[0]
    return "QUERY" if leaf == "query" else f"--{leaf.replace('_', '-')}"


def search_request(raw: dict[str, Any]) -> SearchRequest:
    """`trendsearch search` flags as a SearchRequest (same bounds as `POST /v1/search`);
    a value the API would refuse exits 2 naming the option."""
    from indexer.validate import field_error

    try:
        return msgspec.convert(raw, SearchRequest, strict=False)
    except msgspec.ValidationError as exc:
        error = field_error(exc)
        raise FieldError(option_of(error.field), error.problem) from None
