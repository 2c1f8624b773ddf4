"""The string shapes of the list settings, and what a bad one is told.

Why a module of their own: `server.settings` is the one table of settings; these are
the regular expressions its list fields are checked against, whole, so a bad entry
stops start-up naming the variable, and the plain words said instead of msgspec's
"Expected `str` matching regex '...'".
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from search.models import END

__all__ = ["PATTERN_PROBLEMS", "KeyList", "NetList", "OriginList"]

# Comma-separated lists, checked whole so a bad entry stops start-up naming the
# variable. Keys: printable ASCII without spaces or commas, 16+ characters (a
# short key is guessable within a rate-limit window or two).
_KEY = r"[!-+\--~]{16,}"
KeyList = Annotated[str, Meta(pattern=rf"^\s*{_KEY}(\s*,\s*{_KEY})*\s*$")]
_ORIGIN = r"(\*|https?://[^/\s,]+)"
OriginList = Annotated[str, Meta(pattern=rf"^\s*{_ORIGIN}(\s*,\s*{_ORIGIN})*\s*$")]
# Addresses or networks (`10.0.0.5`, `10.0.0.0/8`, `::1`) of proxies whose
# X-Forwarded-For / X-Forwarded-Proto headers are believed.
_NET = r"[0-9A-Fa-f.:]+(/[0-9]{1,3})?"
NetList = Annotated[str, Meta(pattern=rf"^\s*{_NET}(\s*,\s*{_NET})*\s*{END}")]
# Said instead of msgspec's "Expected `str` matching regex '...'".
PATTERN_PROBLEMS = {
    "api_keys": "expected comma-separated keys, each 16+ printable ASCII characters without spaces",
    "read_keys": "expected comma-separated keys, each 16+ printable ASCII characters without spaces",
    "collection": "expected 1-64 letters, digits, `_` or `-`",
    "webhook_schemes": "expected `https` or `https,http`",
    "cors_origins": "expected comma-separated origins such as `https://desk.example.org` "
                    "(scheme and host, no path), or `*`",
    "trusted_proxies": "expected comma-separated IP addresses or networks such as "
                       "`10.0.0.5` or `10.0.0.0/8`",
}
