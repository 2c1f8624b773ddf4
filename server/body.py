"""Request bodies: JSON by content type, decoded strictly, before Litestar sees them.

Litestar converts a handler's `data` with msgspec's lax rules (`"5"` becomes 5,
`"true"` becomes True) and parses a `text/plain` body as JSON all the same; a
body nested a few thousand levels deep raises `RecursionError` inside it (a
500). This hook runs first, on every handler that takes a body: the media type
must be JSON (else 415), and `data` is decoded strictly into its declared type,
so every mistake comes back as a 422 naming its field. Litestar then converts
the same bytes again; that second pass can only agree.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ClientException

from indexer.sources import TOO_DEEP
from indexer.validate import field_error, integral_floats_as_ints
from search.errors import FieldError, ValidationFailed

JSON_TYPES = ("application/json",)


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def decode_json(raw: bytes) -> Any:
    """Untyped JSON, integral floats as ints; ValidationFailed naming `(body)` otherwise."""
    try:
        return integral_floats_as_ints(msgspec.json.decode(raw))
    except msgspec.DecodeError as exc:
        raise ValidationFailed([FieldError("(body)", f"not valid JSON: {exc}")]) from None
    except RecursionError:
        raise ValidationFailed([FieldError("(body)", TOO_DEEP)]) from None


def decode_strict(raw: bytes, target: Any) -> Any:
    """`raw` as `target`, or ValidationFailed naming the field (the whole body: `(body)`)."""
    doc = decode_json(raw)
    try:
        return msgspec.convert(doc, target, strict=True)
    except msgspec.ValidationError as exc:
        error = field_error(exc)
        if error.field == "(record)":
            error = FieldError("(body)", error.problem)
        raise ValidationFailed([error]) from None


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    params = request.route_handler.parsed_fn_signature.parameters
    if "data" not in params and "body" not in params:
        return
    content_type = request.headers.get("content-type", "")
    if not is_json(content_type):
        raise ClientException(
            f"the body must be JSON (Content-Type: application/json); got "
            f"{content_type or 'no Content-Type'}", status_code=415)
    if "data" in params:
        decode_strict(await request.body(), params["data"].annotation)
