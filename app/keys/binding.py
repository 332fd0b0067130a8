"""Server binding: a key may be used only from the servers its application runs on.

``allowed_ips`` is a list of IPv4/IPv6 networks (a bare address is /32 or /128; NULL =
anywhere). The pipeline checks it right after the key verifies and before the limits, so
a call from elsewhere is refused with 403 and never counts against the quota.

The client address is the socket peer (``request.remote_addr``). Behind reverse proxies,
``TRUSTED_PROXY_HOPS=N`` makes the factory trust the last N ``X-Forwarded-For`` entries
(werkzeug's ProxyFix); by default it is 0 and the header, which any client can send, is
ignored."""
import ipaddress
from functools import lru_cache

from flask import request

from ..errors import Problem

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: list[str]) -> list[Network]:
    """ "203.0.113.7" -> 203.0.113.7/32. Host bits after the prefix are an error, not
    silently dropped: "203.0.113.7/24" is ambiguous."""
    return [ipaddress.ip_network(value.strip(), strict=True) for value in values]


@lru_cache(maxsize=1024)
def networks_of(stored: str) -> tuple[Network, ...]:
    """The key row's "203.0.113.0/24,2001:db8::/32" as networks (pure, so cached)."""
    return tuple(parse_networks(stored.split(",")))


def client_address(raw: str | None):
    """The peer as an address; an IPv4 client seen through an IPv6 socket is IPv4."""
    try:
        address = ipaddress.ip_address(raw or "")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def check_binding(caller) -> None:
    """403 ip-not-allowed unless the client address is in one of the key's networks."""
    if caller.allowed_ips is None:
        return
    address = client_address(request.remote_addr)
    if address is None or not any(address in network
                                  for network in networks_of(caller.allowed_ips)):
        shown = str(address or request.remote_addr or "unknown")
        raise Problem(403, "ip-not-allowed",
                      f"This key may not be used from {shown}; it is bound to its "
                      "application's servers (allowed_ips).",
                      key_id=caller.id, violated=[f"ip:{shown}"])
