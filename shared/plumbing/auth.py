"""Bearer JWTs with roles: minting tokens with a bounded lifetime and an id, and the FastAPI dependency that checks them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Protocol

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.plumbing.problems import Problem

ALGORITHM = "HS256"


class Role(StrEnum):
    court = "court"
    agent = "agent"
    supervisor = "supervisor"
    lawyer = "lawyer"
    auditor = "auditor"
    service = "service"


# Roles that see every object of every court.
OVERSEERS = frozenset({Role.supervisor, Role.auditor, Role.service})
# The people among them: their reads of personal data are written to the audit log.
AUDITED = frozenset({Role.supervisor, Role.auditor})


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and role (a court id, an agent id, a firm's USCC, …), the token's id, and the person's console username if any."""

    sub: str
    role: Role
    jti: str = ""
    # The signed-in person behind a firm's (or anyone's) token, e.g. the lawyer whose opening and acknowledgement are recorded; "" for other callers.
    user: str = ""

    def is_court(self, court_id: str) -> bool:
        """Tells whether the caller is this court."""
        return self.role is Role.court and self.sub == court_id

    def reaches_court(self, court_id: str) -> bool:
        """Tells whether the caller reaches a court's objects: the court itself, or an overseer."""
        return self.role in OVERSEERS or self.is_court(court_id)

    @property
    def audited(self) -> bool:
        """Tells whether the caller's reads are written to the audit log."""
        return self.role in AUDITED


class TokenTooLong(ValueError):
    """A token was asked to live longer than the maximum."""


def mint(*, secret: str, role: Role, sub: str, issuer: str, now: datetime, ttl: timedelta = timedelta(hours=12), max_ttl: timedelta | None = None, user: str | None = None) -> str:
    """Signs a token for `sub` acting as `role` (and, as `usr`, the person's username), with a fresh `jti`; refuses a lifetime above `max_ttl`."""
    if max_ttl is not None and ttl > max_ttl:
        raise TokenTooLong(f"a token may live at most {_hours(max_ttl)}; {_hours(ttl)} was asked")
    claims = {"sub": sub, "role": role.value, "iss": issuer, "jti": uuid.uuid4().hex, "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    if user:
        claims["usr"] = user
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _hours(ttl: timedelta) -> str:
    return f"{ttl.total_seconds() / 3600:g} h"


class Revocations(Protocol):
    """The revoked token ids every service checks (see shared.plumbing.revocations)."""

    @property
    def ready(self) -> bool: ...

    def revoked(self, jti: str) -> bool: ...


# Tokens a verifier remembers having checked; past this many it forgets them all and starts again.
VERIFIED_KEPT = 4096


@dataclass(frozen=True)
class TokenVerifier:
    """Checks signature, expiry, issuer, lifetime and revocation; lives on app.state.tokens."""

    secret: str
    issuer: str
    # None admits any lifetime (development); otherwise a token whose exp - iat exceeds it is refused.
    max_ttl: timedelta | None = None
    revocations: Revocations | None = None
    # Each token checked, by its whole text, with the caller it names and when it expires. A client sends the same token
    # with every request, and PyJWT's checks of it were a tenth of an address lookup's CPU. Of those checks only expiry
    # can change for the same text, so a remembered token is checked for expiry again; revocation is checked every time.
    _verified: dict[str, tuple[Principal, int]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def verify(self, token: str) -> Principal:
        """Returns the caller a valid token names; raises Problem 401 otherwise (503 while the revocation list loads)."""
        known = self._verified.get(token)
        if known is not None and time.time() < known[1]:
            principal = known[0]
        else:
            self._verified.pop(token, None)
            principal, expires = self._checked(token)
            if len(self._verified) >= VERIFIED_KEPT:
                self._verified.clear()
            self._verified[token] = (principal, expires)
        if self.revocations is not None:
            if not self.revocations.ready:
                raise Problem(503, "Starting", "The service is still loading the list of revoked tokens; try again in a moment.", headers={"Retry-After": "1"})
            if self.revocations.revoked(principal.jti):
                raise _unauthorised("The token was revoked.")
        return principal

    def _checked(self, token: str) -> tuple[Principal, int]:
        """Returns the caller a token names and when it expires, after PyJWT's checks and the lifetime's; raises Problem 401."""
        try:
            claims: dict[str, Any] = jwt.decode(token, self.secret, algorithms=[ALGORITHM], issuer=self.issuer, options={"require": ["exp", "iat", "sub", "role", "jti"]})
        except jwt.ExpiredSignatureError:
            raise _unauthorised("The token has expired.") from None
        except jwt.InvalidTokenError as exc:
            raise _unauthorised(f"The token is not valid ({exc}).") from None
        try:
            role = Role(claims["role"])
        except ValueError:
            raise _unauthorised(f"The token names an unknown role {claims['role']!r}.") from None
        lifetime = timedelta(seconds=int(claims["exp"]) - int(claims["iat"]))
        if self.max_ttl is not None and lifetime > self.max_ttl:
            raise _unauthorised(f"The token lives {_hours(lifetime)}; tokens may live at most {_hours(self.max_ttl)}.")
        return Principal(sub=str(claims["sub"]), role=role, jti=str(claims["jti"]), user=str(claims.get("usr", ""))), int(claims["exp"])


def _unauthorised(detail: str) -> Problem:
    return Problem(401, "Not authenticated", detail, headers={"WWW-Authenticate": "Bearer"})


# Optional so that a missing token is our 401 problem, not FastAPI's 403.
bearer = HTTPBearer(auto_error=False)


async def authenticate(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """Returns the verified caller or answers 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorised("Send a bearer token: Authorization: Bearer <token> (get one with `songda token`).")
    verifier: TokenVerifier = request.app.state.tokens
    return verifier.verify(credentials.credentials)


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """Builds a dependency that admits only the given roles (403 for others)."""

    # async on purpose: FastAPI runs plain `def` dependencies in a thread pool, a hop per request. It calls
    # authenticate itself rather than depending on it: each level of dependencies cost FastAPI about 20 µs a request.
    async def dependency(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
        principal = await authenticate(request, credentials)
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Problem(403, "Forbidden", f"The role {principal.role.value!r} may not do this; allowed: {allowed}.")
        return principal

    return dependency
