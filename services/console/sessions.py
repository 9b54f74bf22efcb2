"""A signed-in browser: the cookie's random token, the sha256 that is all the database keeps of it, and the person behind a request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from shared.plumbing.auth import Principal, Role

COOKIE = "songda_console"
# Updating last_seen on every request would be a write per page; once a minute keeps the idle end as exact as it needs to be.
TOUCH_EVERY_S = 60


def new_token() -> str:
    """Returns 256 random bits, URL-safe: the cookie's value and the CSRF token are each one of these."""
    return secrets.token_urlsafe(32)


def session_id(token: str) -> str:
    """Returns the sha256 of a cookie's token, under which its session is stored, so a copy of the table opens no session."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Visitor:
    """The signed-in person behind a request, and their session's CSRF token."""

    session_id: str
    user_id: str
    username: str
    display_name: str
    role: Role
    scope: str
    csrf_token: str

    @property
    def principal(self) -> Principal:
        """Returns who the services are told is calling: the person's role and scope, and their username (a lawyer's openings and acknowledgements name it)."""
        return Principal(sub=self.scope, role=self.role, user=self.username)
