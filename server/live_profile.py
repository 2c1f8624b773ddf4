"""Which profile built the live index, so that the next start runs that profile's models.

A model change through the API (`POST /v1/admin/reindex {"profile"}`) or a standalone
`trendsearch reindex` moves the live index to a profile's model, but the process's
settings came from the environment: restarted with the old `TRENDSEARCH_PROFILE`
unset (the default), the server would load the old models and refuse its own live
index with the model-mismatch error. So the rebuild records the profile in
`DATA_DIR/profile.json`, and a start that names no profile (neither `--profile` nor
`TRENDSEARCH_PROFILE`) follows it, saying so loudly. A profile named explicitly
always wins: an operator who pins one gets it, with a warning when the record
disagrees (the mismatch error follows if the index is the other model's).

Why a file in the data folder and not the index manifest: the profile decides which
models load, and models load before any index is opened (an Edge shard at a million
posts takes ~20 s to open). Limit: on a Qdrant server, other API replicas with their
own data folders are not told (decision 0032).
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from typing import get_args

import msgspec

from search.log import log
from server.settings import Profile, Settings

__all__ = ["FILE", "LiveProfile", "confirm", "follow", "record", "recorded"]

FILE = "profile.json"
# What `follow` said already: a command reads its settings more than once (the CLI's
# `main` for logging, then the command), and one line says it.
_said: set[tuple[str, str, bool]] = set()


class LiveProfile(msgspec.Struct, frozen=True):
    profile: str
    model: str  # the embedder's model id the index was built with
    at: str  # when the rebuild switched, ISO 8601 UTC


def record(data_path: Path, profile: str, model: str) -> LiveProfile:
    """Written after a rebuild switched (atomically: a crash leaves the old record or the new)."""
    entry = LiveProfile(profile=profile, model=model,
                        at=datetime.now(UTC).isoformat(timespec="seconds"))
    data_path.mkdir(parents=True, exist_ok=True)
    tmp = data_path / (FILE + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(msgspec.json.encode(entry))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, data_path / FILE)
    return entry


def confirm(data_path: Path, profile: str, model: str) -> None:
    """After the live index was opened (or made) with `profile`'s model: a record that names
    another profile is stale (a demo, an `index` into an emptied folder, a start with a named
    profile made this live), so it is rewritten; with no record nothing is written."""
    entry = recorded(data_path)
    if entry is not None and (entry.profile, entry.model) != (profile, model):
        try:
            record(data_path, profile, model)
        except OSError as exc:
            log("profile.record_failed", path=str(data_path / FILE), error=str(exc)[:200])


def recorded(data_path: Path) -> LiveProfile | None:
    """The record, or None when there is none or it cannot be read (logged: a start must
    not fail on a damaged note; the model check still guards the index)."""
    path = data_path / FILE
    if not path.is_file():
        return None
    try:
        return msgspec.json.decode(path.read_bytes(), type=LiveProfile)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        log("profile.record_unreadable", path=str(path), error=str(exc)[:200])
        return None


def follow(settings: Settings, explicit: bool) -> Settings:
    """`settings` with the recorded profile when none was named; else as they are."""
    data_path, current = settings.data_path, settings.profile
    entry = recorded(data_path)
    if entry is None or entry.profile == current:
        return settings
    if entry.profile not in get_args(Profile):
        log("profile.record_unknown", path=str(data_path / FILE), profile=entry.profile)
        return settings
    said = (str(data_path), entry.profile, explicit)
    quiet = said in _said
    _said.add(said)
    if explicit:
        if quiet:
            return settings
        print(f"warning: the live index under {data_path} was moved to profile "
              f"`{entry.profile}` at {entry.at} ({FILE}); profile `{current}` was named, so its "
              f"models load and the index will be refused unless it is that model's",
              file=sys.stderr, flush=True)
        return settings
    if not quiet:
        print(f"profile `{entry.profile}`: the live index was rebuilt with it at {entry.at} "
              f"({data_path / FILE}); --profile or TRENDSEARCH_PROFILE overrides",
              file=sys.stderr, flush=True)
        log("profile.followed", profile=entry.profile, default=current, at=entry.at)
    return msgspec.structs.replace(settings, profile=entry.profile)
