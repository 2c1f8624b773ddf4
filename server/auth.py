"""Who may call what: API keys per access level, and the rate-limit identity.

Every route has an access level. A handler says `opt={"access": "write"}`
(ingest, engagement updates, deletes, takedowns); anything else under `/v1/`
is a read; the rest (page, `/health`, `/ready`, `/metrics`, `/schema`) is
open. New routes under `/v1/` are therefore reads unless they say otherwise:
forgetting the mark cannot open a write.

- Write keys (`TRENDSEARCH_API_KEYS`) may write and read. With none set,
  writes are open only while the server is bound to a loopback address (a
  laptop, a test), and refused with 403 otherwise: a server reachable from
  the network never takes anonymous writes by accident.
- Read keys (`TRENDSEARCH_READ_KEYS`), when set, close reads to keys.

A key travels as `Authorization: Bearer <key>` or `X-API-Key: <key>`. No key
where one is needed: 401. A key the server does not know: 401. A read key on
a write: 403.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal

from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from server.settings import Settings

Access = Literal["open", "read", "write"]
WRITE: dict[str, Any] = {"access": "write"}
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="trendsearch"'}


def presented_key(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    auth = connection.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    key = connection.headers.get("x-api-key", "").strip()
    return key or None


def _known(key: str, keys: frozenset[str]) -> bool:
    # Compare against every key, in constant time per key, so timing says nothing.
    found = False
    for candidate in keys:
        found |= hmac.compare_digest(key.encode(), candidate.encode())
    return found


def access_of(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> Access:
    declared = handler.opt.get("access")
    if declared in ("open", "read", "write"):
        return declared  # type: ignore[no-any-return]
    return "read" if connection.scope["path"].startswith("/v1/") else "open"


class KeyRing:
    def __init__(self, settings: Settings) -> None:
        self.write = settings.write_keys
        self.read = settings.read_only_keys
        self.host = settings.host
        self.anonymous_writes = not self.write and settings.loopback_only

    def level(self, key: str) -> Access | None:
        if _known(key, self.write):
            return "write"
        if _known(key, self.read):
            return "read"
        return None

    def check(self, need: Access, key: str | None) -> None:
        if need == "open" or (need == "read" and not self.read):
            return
        if need == "write" and not self.write:
            if self.anonymous_writes:
                return
            raise PermissionDeniedException(
                f"writes are disabled: this server listens on {self.host} and has no write keys; "
                f"set TRENDSEARCH_API_KEYS (or bind to 127.0.0.1 for open local writes)")
        if key is None:
            raise NotAuthorizedException(
                f"this {'write' if need == 'write' else 'read'} needs an API key: send "
                f"`Authorization: Bearer <key>` or `X-API-Key: <key>`", headers=CHALLENGE)
        level = self.level(key)
        if level is None:
            raise NotAuthorizedException("the API key is not one this server knows",
                                         headers=CHALLENGE)
        if need == "write" and level != "write":
            raise PermissionDeniedException(
                "this API key may only read; writes need a key from TRENDSEARCH_API_KEYS")

    def guard(self) -> Guard:
        def access_guard(connection: ASGIConnection[Any, Any, Any, Any],
                         handler: BaseRouteHandler) -> None:
            self.check(access_of(connection, handler), presented_key(connection))

        return access_guard

    def rate_limit_identity(self, request: Request[Any, Any, Any]) -> str:
        """A known key is one bucket wherever it calls from; anything else, the client address.

        Unknown keys share their address's bucket, so inventing keys buys no requests.
        """
        key = presented_key(request)
        if key is not None and self.level(key) is not None:
            return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
        return "addr:" + (request.client.host if request.client else "unknown")
