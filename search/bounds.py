"""The documented range of every instant and the cap on every duration that comes in.

Python's `datetime` holds years 1-9999, but an input inside that range can still
leave it once converted to UTC (`0001-01-01T00:00:00+01:00` is year 0) or moved
by a window or a baseline (`as_of - 30 days`); the `OverflowError` then surfaces
far from the input, as a 500 or a lost batch. So each door checks the instant it
takes in against one range, in UTC, without converting (converting is what
overflows). No social-media post predates 1970, and a decade-long margin at the
top leaves room for any window arithmetic.

    instants    1970-01-01T00:00:00Z <= t <= 9998-12-31T23:59:59Z (UTC)
    durations   at most MAX_DURATION (a window, a baseline)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from search.errors import FieldError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
RANGE_TEXT = "between 1970-01-01T00:00:00Z and 9998-12-31T23:59:59Z (UTC)"
MAX_DURATION = timedelta(days=3650)
_NAIVE_EARLIEST = EARLIEST.replace(tzinfo=None)
_NAIVE_LATEST = LATEST.replace(tzinfo=None)


def instant_problem(value: datetime) -> str | None:
    """Why `value` is outside the range, or None. Naive times are the caller's concern."""
    offset = value.utcoffset()
    if offset is None:
        return None
    # Offsets are under a day, so the wall time is the only thing that can sit at
    # the calendar's edge: compare it first, then the UTC difference as a timedelta
    # (which spans far more than datetime and cannot overflow here).
    wall = value.replace(tzinfo=None)
    if (wall - _NAIVE_EARLIEST) - offset >= timedelta(0) and (_NAIVE_LATEST - wall) + offset >= timedelta(0):
        return None
    return f"must lie {RANGE_TEXT}; got {value.isoformat()}"


def check_instant(value: datetime | None, field: str) -> None:
    """FieldError naming `field` when `value` is outside the range."""
    problem = None if value is None else instant_problem(value)
    if problem is not None:
        raise FieldError(field, problem)
