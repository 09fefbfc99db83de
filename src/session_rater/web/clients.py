"""Who is at the other end of a request, as far as HTTP can tell: the client's address (behind
trusted reverse proxies, from X-Forwarded-For) and whether a form was sent from this site
(Origin, else Referer). Pure functions of the request and the trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _trusted(address: str | None, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request: Request, proxies: Sequence[Network]) -> str | None:
    """The client's address. The peer's own address, unless the peer is a trusted proxy: then
    the nearest address in X-Forwarded-For that is not a trusted proxy (addresses further left
    were written by the client and could be anything)."""
    peer = request.client.host if request.client else None
    if not proxies or not _trusted(peer, proxies):
        return peer
    chain = [a.strip() for a in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if a.strip()]
    for address in reversed(chain):
        if not _trusted(address, proxies):
            return address
    return chain[0] if chain else peer


def _host(request: Request, proxies: Sequence[Network]) -> str:
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-host") if proxies and _trusted(peer, proxies) else None
    return (forwarded or request.headers.get("host") or "").split(",")[0].strip().lower()


def sent_from_this_site(request: Request, proxies: Sequence[Network]) -> bool:
    """Whether the browser says the form came from a page of this site (OWASP: verify the
    Origin, else the Referer, against the target origin). A browser that sends neither (some
    privacy settings strip both) is let through: the form token still has to match."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True
    if source == "null":  # a sandboxed frame, a file, a cross-origin redirect
        return False
    return urlsplit(source).netloc.lower() == _host(request, proxies)
