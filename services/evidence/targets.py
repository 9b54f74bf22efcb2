"""Where a court's webhook may point: https outside development, and only public addresses unless the operator allows a network."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TargetRefused(ValueError):
    """A webhook URL that must not be called (server-side request forgery)."""


def reachable_from_outside(address: IPAddress) -> bool:
    """Tells whether an address is a public one: not loopback, private, link-local (cloud metadata), shared, reserved or multicast."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class Target:
    """A vetted webhook: the URL as registered, and the address it was checked at, which is the one connected to."""

    url: str
    host: str
    address: IPAddress

    def request(self) -> tuple[str, dict[str, str], dict[str, Any]]:
        """Returns the URL to connect to (the checked address), the Host header, and the TLS name to verify."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        netloc = f"{literal}:{parts.port}" if parts.port else literal
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        # The name is still checked against the certificate; only the lookup is not done again (no DNS rebinding).
        return pinned, {"Host": parts.netloc}, {"sni_hostname": self.host} if parts.scheme == "https" else {}


@dataclass(frozen=True)
class TargetPolicy:
    """The rules a webhook URL must pass at registration and again before every push."""

    require_https: bool
    # Networks the operator allows although they are not public, e.g. the court network (法院专网).
    allowed: Sequence[IPNetwork] = ()

    def check_shape(self, url: str) -> None:
        """Refuses a URL by its form alone: scheme, credentials, host."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or (self.require_https and parts.scheme != "https"):
            raise TargetRefused("the webhook must be an https:// URL" if self.require_https else "the webhook must be an http(s):// URL")
        if parts.username or parts.password:
            raise TargetRefused("the webhook URL must not carry credentials; pushes are signed instead")
        if not parts.hostname:
            raise TargetRefused("the webhook URL has no host")

    def admits(self, address: IPAddress) -> bool:
        """Tells whether a resolved address may be called."""
        return reachable_from_outside(address) or any(address in network for network in self.allowed)

    async def vet(self, url: str) -> Target:
        """Resolves the URL's host and returns the target to connect to, or raises TargetRefused naming why."""
        self.check_shape(url)
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise TargetRefused(f"the webhook's host {host} cannot be resolved ({exc.strerror})") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        # Every address the name has must pass: otherwise a name with one public and one internal address slips through.
        refused = [a for a in addresses if not self.admits(a)]
        if refused or not addresses:
            raise TargetRefused(f"the webhook's host {host} resolves to {refused[0] if refused else 'nothing'}, which is not a public address")
        return Target(url=url, host=host, address=addresses[0])


def networks(texts: Sequence[str]) -> tuple[IPNetwork, ...]:
    """Parses the operator's allowed networks (CIDR notation)."""
    return tuple(ipaddress.ip_network(text, strict=False) for text in texts)
