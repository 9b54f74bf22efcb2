"""Bearer JWTs with roles: minting dev tokens and the FastAPI dependency that checks them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.problems import Problem

ALGORITHM = "HS256"


class Role(StrEnum):
    court = "court"
    agent = "agent"
    supervisor = "supervisor"
    lawyer = "lawyer"
    auditor = "auditor"
    service = "service"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and role (a court id, an agent id, a firm id, …)."""

    sub: str
    role: Role

    def may_see(self, court_id: str) -> bool:
        """Tells whether this caller may see a court's notices: a court sees only its own."""
        return self.role is not Role.court or self.sub == court_id


def mint(*, secret: str, role: Role, sub: str, issuer: str, now: datetime, ttl: timedelta = timedelta(hours=12)) -> str:
    """Signs a token for `sub` acting as `role`."""
    claims = {"sub": sub, "role": role.value, "iss": issuer, "iat": int(now.timestamp()), "exp": int((now + ttl).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


@dataclass(frozen=True)
class TokenVerifier:
    """Checks signatures, expiry and issuer; lives on app.state.tokens."""

    secret: str
    issuer: str

    def verify(self, token: str) -> Principal:
        """Returns the caller a valid token names; raises Problem 401 otherwise."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self.secret, algorithms=[ALGORITHM], issuer=self.issuer, options={"require": ["exp", "sub", "role"]}
            )
        except jwt.ExpiredSignatureError:
            raise _unauthorised("The token has expired.") from None
        except jwt.InvalidTokenError:
            raise _unauthorised("The token is not valid.") from None
        try:
            role = Role(claims["role"])
        except ValueError:
            raise _unauthorised(f"The token names an unknown role {claims['role']!r}.") from None
        return Principal(sub=str(claims["sub"]), role=role)


def _unauthorised(detail: str) -> Problem:
    return Problem(401, "Not authenticated", detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False)


async def authenticate(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    """Returns the verified caller or answers 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorised("Send a bearer token: Authorization: Bearer <token> (get one with `songda token`).")
    verifier: TokenVerifier = request.app.state.tokens
    return verifier.verify(credentials.credentials)


def require(*roles: Role) -> Callable[..., Principal]:
    """Builds a dependency that admits only the given roles (403 for others)."""

    # async on purpose: FastAPI runs plain `def` dependencies in a thread pool, a hop per request.
    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Problem(403, "Forbidden", f"The role {principal.role.value!r} may not do this; allowed: {allowed}.")
        return principal

    return dependency
