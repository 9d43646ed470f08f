"""Webhook target checks against server-side request forgery (OWASP API7): checked when a
subscription is registered and again before every delivery (DNS may have changed since)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeTarget(ValueError):
    """The URL may not be used as a webhook target; the message says why (no secrets in it)."""


def check_url_shape(url: str, *, require_https: bool) -> str:
    """Structural checks; returns the host name."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("The URL is not valid.") from None
    allowed = ("https",) if require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise UnsafeTarget("The URL must use https." if require_https else "The URL must use http or https.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("The URL may not carry credentials.")
    if port == 0:
        raise UnsafeTarget("The URL's port is not valid.")
    if parts.fragment:
        raise UnsafeTarget("The URL may not have a fragment.")
    return parts.hostname


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """Why this address may not be a target, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified or ip.is_link_local:
        return "a multicast, unspecified or link-local address"
    if ip.is_global:
        return None
    if allow_private and (ip.is_loopback or ip.is_private):
        return None
    return "a loopback, private or reserved address"


async def resolve_and_check(url: str, *, require_https: bool, allow_private: bool) -> list[str]:
    """Refuse a URL whose host is, or resolves to, a non-public address. Returns the checked
    addresses, so that the caller can connect to one of them (no second lookup to rebind)."""
    host = check_url_shape(url, require_https=require_https)
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        addresses = [str(literal)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            raise UnsafeTarget("The URL's host could not be resolved.") from None
        addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise UnsafeTarget("The URL's host could not be resolved.")
    for address in addresses:
        reason = address_refusal(address, allow_private=allow_private)
        if reason is not None:
            raise UnsafeTarget(f"The URL points at {reason}.")
    return addresses
