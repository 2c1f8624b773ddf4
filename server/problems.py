"""Domain errors -> RFC 9457 problem details: the one map.

Every error an API user sees is `application/problem+json` with `type`,
`title`, `status`, `detail` and, for bad input, `errors: [{field, problem,
index?}]` so a frontend can point at the exact field.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import msgspec
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)

from indexer.validate import field_error
from search.errors import (
    FieldError,
    IndexNotReady,
    ModelLoadFailed,
    ModelMismatch,
    NotFound,
    Overloaded,
    ReindexRunning,
    StoreLocked,
    StoreUnavailable,
    TakenDown,
    TrendsearchError,
    ValidationFailed,
)
from search.log import log

TYPE_BASE = "https://trendsearch.dev/problems/"


def _problem(status: int, slug: str, detail: str, **extra: Any) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status, type_=TYPE_BASE + slug, title=HTTPStatus(status).phrase,
        detail=detail, extra=extra or None)


def _validation_failed(exc: ValidationFailed) -> ProblemDetailsException:
    return _problem(422, "invalid-input", str(exc), errors=[e.as_dict() for e in exc.errors])


def _field_error(exc: FieldError) -> ProblemDetailsException:
    return _problem(422, "invalid-input", str(exc), errors=[exc.as_dict()])


def _litestar_validation(exc: ValidationException) -> ProblemDetailsException:
    """Litestar's own msgspec errors, rewritten to name the field like ours do."""
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message, key = str(item.get("message", "")), str(item.get("key") or "")
        key = "" if key == "data" else key.removeprefix("data.")  # `data` is the whole body
        located = field_error(msgspec.ValidationError(f"{message} - at `$.{key}`" if key else message))
        errors.append(located.as_dict())
    detail = "; ".join(f"`{e['field']}`: {e['problem']}" for e in errors) or str(exc.detail)
    return _problem(422, "invalid-input", detail, errors=errors)


def _taken_down(exc: TakenDown) -> ProblemDetailsException:
    return _problem(409, "taken-down", str(exc), errors=[e.as_dict() for e in exc.errors])


def _http(exc: HTTPException) -> ProblemDetailsException:
    status = exc.status_code
    slug = HTTPStatus(status).phrase.lower().replace(" ", "-")
    headers = dict(exc.headers or {})
    if status == 429 and "RateLimit-Reset" in headers:
        headers.setdefault("Retry-After", headers["RateLimit-Reset"])
    problem = _problem(status, slug, str(exc.detail))
    problem.headers = headers or None  # WWW-Authenticate on 401, RateLimit-* on 429
    return problem


def _domain(status: int, slug: str) -> Callable[[TrendsearchError], ProblemDetailsException]:
    return lambda exc: _problem(status, slug, str(exc))


def _overloaded(exc: Overloaded) -> ProblemDetailsException:
    problem = _problem(503, "overloaded", str(exc))
    problem.headers = {"Retry-After": str(exc.retry_after_s)}
    return problem


def _unexpected(exc: Exception) -> ProblemDetailsException:
    log("http.unexpected_error", error=type(exc).__name__, detail=str(exc)[:500])
    return _problem(500, "internal-error",
                    f"unexpected {type(exc).__name__}; the server log has the details")


PROBLEM_MAP: dict[type[Exception], Callable[[Any], ProblemDetailsException]] = {
    TakenDown: _taken_down,
    ValidationFailed: _validation_failed,
    FieldError: _field_error,
    ValidationException: _litestar_validation,
    NotFound: _domain(404, "not-found"),
    ModelMismatch: _domain(409, "model-mismatch"),
    ReindexRunning: _domain(409, "reindex-running"),
    IndexNotReady: _domain(503, "index-not-ready"),
    StoreLocked: _domain(503, "store-locked"),
    StoreUnavailable: _domain(503, "store-unavailable"),
    ModelLoadFailed: _domain(503, "model-load-failed"),
    Overloaded: _overloaded,
    HTTPException: _http,
    Exception: _unexpected,
}


def problem_details_plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(ProblemDetailsConfig(exception_to_problem_detail_map=PROBLEM_MAP))
