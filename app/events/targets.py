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


# IPv6 ranges that are not globally routable but that Python's `is_global` (3.11) still calls
# global: local-use NAT64 (RFC 8215), site-local (deprecated), SRv6 SIDs (RFC 9602) and the
# second documentation prefix (RFC 9637).
_NOT_GLOBAL_V6 = tuple(
    ipaddress.IPv6Network(n) for n in ("64:ff9b:1::/48", "fec0::/10", "5f00::/16", "3fff::/20")
)
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _nat64_embedded(ip: ipaddress.IPv6Address, prefix_length: int) -> ipaddress.IPv4Address:
    """The IPv4 address embedded after a NAT64 prefix of this length (RFC 6052, section 2.2:
    bits 64-71 are the zero "u" octet and are skipped)."""
    raw = ip.packed
    start = prefix_length // 8
    octets = [b for i, b in enumerate(raw[start:], start) if i != 8][:4]
    return ipaddress.IPv4Address(bytes(octets))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address this IPv6 address carries, in any of the embeddings by which a packet
    sent to it reaches that IPv4 address: IPv4-mapped, IPv4-compatible, 6to4, NAT64 (well-known
    and local-use prefixes) and Teredo (server and client). Empty when none applies."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    if ip in _NAT64_WELL_KNOWN:
        return [_nat64_embedded(ip, 96)]
    if ip in _NAT64_LOCAL:
        # The operator picks the prefix length within the /48; every reading must be safe.
        return [_nat64_embedded(ip, n) for n in (48, 56, 64, 96)]
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # ::a.b.c.d (deprecated), not :: nor ::1
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def address_refusal(address: str, *, allow_private: bool) -> str | None:
    """Why this address may not be a target, or None when it may. An IPv6 address that embeds
    IPv4 addresses is judged by those (all of them must pass)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = embedded_ipv4(ip)
        if embedded:
            for inner in embedded:
                reason = address_refusal(str(inner), allow_private=allow_private)
                if reason is not None:
                    return reason
            return None
    if ip.is_multicast or ip.is_unspecified or ip.is_link_local:
        return "a multicast, unspecified or link-local address"
    if ip.is_global and not any(ip in net for net in _NOT_GLOBAL_V6):
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
