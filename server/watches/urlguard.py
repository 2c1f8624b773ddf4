"""Which webhook URLs the server may POST to: the guard against server-side request forgery.

A webhook is a URL a user hands the server, which the server then calls from
inside the newsroom's network. Without a guard, `http://169.254.169.254/...`
(cloud metadata), `http://localhost:6333` (the Qdrant server) or an intranet
host is one watch away. So a URL must use an allowed scheme (`https` by
default), and every address its host resolves to must be public: not private,
loopback, link-local, multicast, reserved or unspecified (IPv4-mapped IPv6
unwrapped first), unless an operator allowed that network
(`TRENDSEARCH_WEBHOOK_ALLOW_NETWORKS`, e.g. `127.0.0.1` in tests).

Checked when a watch is created or changed (a 422 naming `webhook.url`) and
again before every delivery, since DNS can change in between; redirects are
never followed, so a public URL cannot bounce the request inward.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from search.errors import FieldError

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (address.is_private or address.is_loopback or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified)


class UrlGuard:
    def __init__(self, schemes: str = "https", allow_networks: str | None = None,
                 resolver: Resolver = resolve) -> None:
        self.schemes = {s.strip().lower() for s in schemes.split(",") if s.strip()}
        self.allowed: list[IPNetwork] = []
        for item in (allow_networks or "").split(","):
            if not item.strip():
                continue
            try:
                self.allowed.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise FieldError("TRENDSEARCH_WEBHOOK_ALLOW_NETWORKS",
                                 f"expected addresses or networks such as 127.0.0.1 or "
                                 f"10.0.0.0/8; got {item.strip()!r}") from None
        self._resolve = resolver

    def check(self, url: str, field: str = "webhook.url") -> None:
        """A `FieldError` naming `field` unless the server may call `url`."""
        try:
            parts = urlsplit(url)
        except ValueError as exc:  # an unbalanced "[" ("Invalid IPv6 URL") was a 500
            raise FieldError(field, f"not a URL: {exc}") from None
        if parts.scheme.lower() not in self.schemes:
            raise FieldError(field, f"the scheme must be {' or '.join(sorted(self.schemes))}; "
                                    f"got {parts.scheme or 'none'!r}")
        if parts.username or parts.password:
            raise FieldError(field, "credentials in the URL are not accepted; use the webhook "
                                    "secret")
        host = parts.hostname
        if not host:
            raise FieldError(field, "the URL has no host")
        try:
            port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
            addresses = self._resolve(host, port)
        except (OSError, ValueError) as exc:
            raise FieldError(field, f"the host {host!r} does not resolve ({exc})") from None
        if not addresses:
            raise FieldError(field, f"the host {host!r} does not resolve")
        for text in addresses:
            address = ipaddress.ip_address(text.split("%")[0])
            if _public(address) or any(address in n for n in self.allowed):
                continue
            raise FieldError(field, f"{host} resolves to {address}, a private, loopback, "
                                    f"link-local or reserved address; webhooks may reach only "
                                    f"public addresses (an operator may allow a network with "
                                    f"TRENDSEARCH_WEBHOOK_ALLOW_NETWORKS)")
