"""The one policy for addresses taskhub connects out to (git servers, webhook receivers).

A URL a user names is only ever a host on an allow-list; this module says whether an
address that host resolves to (or that a socket actually reached) may be connected to.
Cloud metadata addresses never are; link-local, private and reserved ones only when the
caller allows them explicitly (a network, or the exact address an allow-list names);
loopback only where the stage allows it (local, tests).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Never reachable, whatever `networks` says: cloud metadata services hand out credentials.
METADATA = (ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"))


def ip(host: str) -> IPAddress | None:
    """The address a host string is, if it is one (IPv4-mapped IPv6 read as IPv4)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def refusal(
    address: IPAddress,
    *,
    networks: Iterable[IPNetwork] = (),
    allow_loopback: bool = False,
    named: Iterable[IPAddress] = (),
) -> str | None:
    """Why a connection to `address` is refused, or None when it is allowed. `named`: the
    addresses an allow-list entry names literally, which may be private or link-local."""
    if address in METADATA:
        return "a cloud metadata address"
    if address.is_loopback:  # before is_reserved, which ::1 is too
        return None if allow_loopback else "a loopback address"
    if address in set(named):
        return None
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return "a reserved address"
    if any(address in network for network in networks):
        return None
    if not address.is_global:
        return "a private address"
    return None


def is_loopback_host(host: str) -> bool:
    address = ip(host)
    if address is not None:
        return address.is_loopback
    return host == "localhost" or host.endswith(".localhost")
