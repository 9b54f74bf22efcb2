"""Calling a service's public API as the signed-in person: a five-minute token of their role and scope per call, and each refusal as an exception."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from shared.plumbing.auth import Principal, mint

log = structlog.get_logger(__name__)

# Long enough for one call, short enough that a leaked token is soon worthless; the services decide what it may do.
TOKEN_TTL = timedelta(minutes=5)


def wall_clock() -> datetime:
    """Returns the wall-clock time: the services check a token's expiry against it, never the scaled domain clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Minter:
    """Signs the token the console sends on a person's behalf, with the secret and issuer every service checks."""

    secret: str
    issuer: str
    now: Callable[[], datetime] = field(default=wall_clock)

    def token(self, caller: Principal) -> str:
        """Returns a token naming the caller's role, scope and username, valid for TOKEN_TTL."""
        return mint(secret=self.secret, role=caller.role, sub=caller.sub, issuer=self.issuer, now=self.now(), ttl=TOKEN_TTL, user=caller.user or None)


class ServiceUnavailable(RuntimeError):
    """The service did not answer, answered that it cannot now (5xx, 429, starting), or refused our token; the person can only try again later."""

    def __init__(self, service: str) -> None:
        super().__init__(f"{service} is unavailable")
        self.service = service


class ServiceRefused(RuntimeError):
    """The service refused the request (a 4xx): its status and problem+json document."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        super().__init__(f"HTTP {status}: {problem.get('detail', '')}")
        self.status = status
        self.problem = dict(problem)

    @property
    def errors(self) -> list[dict[str, str]]:
        """Returns the failing fields the problem names ({field, message}), or one for the whole request."""
        named = [{"field": str(e.get("field", "")), "message": str(e.get("message", ""))} for e in self.problem.get("errors", []) if isinstance(e, Mapping)]
        return named or [{"field": "", "message": str(self.problem.get("detail", ""))}]


# What an id may be to go into a path: one segment, never a way out of it (`..`, `/`, `?`).
SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,64}")


def segment(value: str) -> str:
    """Returns an id fit for a path segment; any other is refused as missing (404) before anything is sent."""
    if not SEGMENT.fullmatch(value):
        raise ServiceRefused(404, {"title": "Not found", "detail": "no such object"})
    return value


@dataclass(frozen=True)
class ServiceApi:
    """One service's base URL, called over a shared httpx client with the caller's token."""

    name: str
    url: str
    http: httpx.AsyncClient
    minter: Minter
    timeout_s: float = 15.0

    async def call(self, method: str, path: str, caller: Principal, *, headers: Mapping[str, str] | None = None, **send: Any) -> httpx.Response:
        """Sends one request as the caller; returns a 2xx answer, raises ServiceRefused for a 4xx and ServiceUnavailable otherwise."""
        sent = {"Authorization": f"Bearer {self.minter.token(caller)}", **(headers or {})}
        try:
            response = await self.http.request(method, self.url.rstrip("/") + path, headers=sent, timeout=self.timeout_s, **send)
        except httpx.TransportError as exc:
            log.warning("console.service_unreachable", service=self.name, error=type(exc).__name__)
            raise ServiceUnavailable(self.name) from exc
        if response.status_code >= 500 or response.status_code == 429:
            log.warning("console.service_failing", service=self.name, status=response.status_code)
            raise ServiceUnavailable(self.name)
        if response.status_code == 401:
            # Our own token refused: the console and the service disagree on secret or issuer, which the person cannot mend.
            log.error("console.token_refused", service=self.name)
            raise ServiceUnavailable(self.name)
        if response.status_code >= 400:
            raise ServiceRefused(response.status_code, _problem(response))
        return response


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"detail": response.text[:300]}
    return body if isinstance(body, dict) else {"detail": str(body)[:300]}
