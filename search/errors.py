"""Domain errors. They know nothing of HTTP; `server/problems.py` maps them.

    TrendsearchError
    ├── FieldError              one problem with one field (a flag, a setting, a line)
    │   └── EvalDataError       a line of an evaluation set that cannot be used (the lab)
    ├── ValidationFailed        a record or request broke the schema (field + problem)
    │   └── TakenDown           a batch holds ids that were taken down
    ├── NotFound                a post id that is not in the index
    ├── ModelMismatch           the index was built by another embedding model
    ├── IndexNotReady           no index yet, or its schema is behind (run `migrate`)
    ├── StoreLocked             another process owns the embedded store folder
    ├── StoreUnavailable        the Qdrant server cannot be reached (after retries)
    ├── ReindexRunning          a reindex is already under way in this process
    ├── ModelLoadFailed         model weights missing or unloadable (offline machine)
    └── Overloaded              every worker busy, the waiting line full (HTTP 503, Retry-After)

Every message names what went wrong and what to do about it.
"""

from __future__ import annotations

__all__ = ["EvalDataError", "FieldError", "IndexNotReady", "ModelLoadFailed", "ModelMismatch",
           "NotFound", "ReindexRunning", "StoreLocked", "StoreUnavailable", "TakenDown", "TrendsearchError",
           "ValidationFailed"]


class TrendsearchError(Exception):
    """Base of every error we raise on purpose."""


class FieldError(TrendsearchError):
    """One problem with one field, located well enough for a user to fix it."""

    def __init__(self, field: str, problem: str, *, index: int | None = None,
                 line: int | None = None) -> None:
        self.field = field
        self.problem = problem
        self.index = index
        self.line = line
        where = []
        if line is not None:
            where.append(f"line {line}")
        if index is not None:
            where.append(f"item {index}")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(f"{prefix}`{field}`: {problem}")

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"field": self.field, "problem": self.problem}
        if self.index is not None:
            out["index"] = self.index
        if self.line is not None:
            out["line"] = self.line
        return out


class ValidationFailed(TrendsearchError):
    """One or more field errors; nothing was stored."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        head = "; ".join(str(e) for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"{len(errors)} invalid field(s): {head}{more}")


class TakenDown(ValidationFailed):
    """A batch holds ids that were taken down; nothing was stored (HTTP 409)."""


class EvalDataError(FieldError):
    """A line of an evaluation set's file that cannot be used; names the file, line and field."""


class NotFound(TrendsearchError):
    """A post, index or takedown the caller named does not exist (HTTP 404)."""


class ModelMismatch(TrendsearchError):
    def __init__(self, index_model: str, running_model: str, where: str) -> None:
        self.index_model = index_model
        self.running_model = running_model
        super().__init__(
            f"the index at {where} was built with embedding model `{index_model}`, but this "
            f"process runs `{running_model}`; start with the matching profile, or build a new "
            f"index with `trendsearch reindex` (searches keep using the old one until it is done)"
        )


class IndexNotReady(TrendsearchError):
    """No usable index yet (none created, no manifest, unknown name): run `trendsearch migrate`."""


class StoreLocked(TrendsearchError):
    """Another process holds the embedded store; the message names it (HTTP 503)."""


class StoreUnavailable(TrendsearchError):
    """The Qdrant server did not answer after the retries (HTTP 503)."""


class ReindexRunning(TrendsearchError):
    """A second reindex asked for while one runs (HTTP 409): one rebuild at a time."""


class ModelLoadFailed(TrendsearchError):
    """Weights could not be loaded; the message says what was tried and what to pass instead."""


class Overloaded(TrendsearchError):
    """Every worker busy and the waiting line full: refused at once, to retry later (HTTP 503)."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"the server is busy with as many searches, trends and ingests as it "
                         f"takes at once; retry in {retry_after_s} s")
