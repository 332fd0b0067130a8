"""URL safety: a webhook makes this server send requests where a partner says, so it
must not become a way to reach what only the server can reach (SSRF): the database, a
cloud metadata service at 169.254.169.254, an admin port on localhost.

- ``https`` only;
- never to a loopback, private, link-local, shared (CGNAT), multicast or reserved
  address: only globally routable ones, named or literal;
- checked on create and update (``check_url``: a name is resolved, every address it
  resolves to must be public) and again at delivery, on the address the connection
  actually reached (``GuardedAdapter``), so a name that re-resolves to 127.0.0.1 after
  the check (DNS rebinding) gets nowhere.

``WEBHOOK_ALLOW_PRIVATE=true`` lifts both rules, for a local demo or tests
(``http://127.0.0.1:PORT/...``)."""
import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class UnsafeUrl(Exception):
    """The URL, or the address it reached, is not allowed; the message says why."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id: fe80::1%eth0
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip.is_global and not ip.is_multicast


def check_address(address: str) -> None:
    if not is_public(address):
        raise UnsafeUrl(f"{address} is not a public address (loopback, private, "
                        "link-local, multicast and reserved addresses are refused).")


def check_url(url: str, allow_private: bool = False) -> None:
    """Raise UnsafeUrl unless ``url`` may receive webhooks."""
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError for a port out of range
    except ValueError as error:
        raise UnsafeUrl(f"Not a valid URL: {error}.") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeUrl("Webhook URLs must use https.")
    if not parts.hostname:
        raise UnsafeUrl("The URL names no host.")
    if allow_private:
        return
    _check_resolved(parts.hostname, port or 443)


def _check_resolved(host: str, port: int) -> None:
    """Every address ``host`` stands for must be public."""
    try:
        check_address(str(ipaddress.ip_address(host.strip("[]"))))
        return  # a literal address: nothing to resolve
    except ValueError:
        pass
    try:
        resolved = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(f"The host {host!r} does not resolve.") from None
    for *_, sockaddr in resolved:
        check_address(sockaddr[0])


class _Guarded:
    """A urllib3 connection that checks where it goes: every address the host resolves
    to now, before connecting (no packet to a private address), and the address it
    actually reached, before sending (a name re-resolved in between gets nowhere)."""

    def _new_conn(self):
        _check_resolved(self._dns_host, self.port)
        sock = super()._new_conn()
        try:
            check_address(sock.getpeername()[0])
        except UnsafeUrl:
            sock.close()
            raise
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = type("GuardedHTTPConnection", (_Guarded, HTTPConnection), {})


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = type("GuardedHTTPSConnection", (_Guarded, HTTPSConnection), {})


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose connections refuse non-public peers."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool,
                                                   "https": _GuardedHTTPSPool}


def session(allow_private: bool = False) -> requests.Session:
    """The HTTP session deliveries use: no proxies from the environment (the check must
    see the receiver, not a proxy), and, unless private targets are allowed, guarded."""
    http = requests.Session()
    http.trust_env = False
    if not allow_private:
        http.mount("https://", GuardedAdapter())
        http.mount("http://", GuardedAdapter())
    return http
