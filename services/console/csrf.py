"""Cross-site request forgery: the session's synchronizer token on every form and htmx request, and a signed token for the sign-in form."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from services.console.sessions import new_token

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
# The sign-in form's nonce: before sign-in there is no session to keep a token in.
LOGIN_COOKIE = "songda_console_login"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def same(sent: str | None, expected: str) -> bool:
    """Tells whether a sent token is the expected one, in time that does not depend on where they differ."""
    return bool(sent) and bool(expected) and hmac.compare_digest(str(sent).encode(), expected.encode())


async def sent_token(request: Request) -> str | None:
    """Returns the token a request carries: htmx's header, else the form's hidden field."""
    if header := request.headers.get(HEADER):
        return header
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


class LoginForms:
    """The sign-in form's token: an HMAC of a random nonce the browser keeps in a cookie of its own (the signed double-submit pattern)."""

    def __init__(self, secret: str) -> None:
        # A key of its own, derived from the shared secret, so this HMAC can never be mistaken for a token's signature.
        self._key = hmac.new(secret.encode(), b"songda-console/login-csrf", hashlib.sha256).digest()

    def nonce(self) -> str:
        """Returns a new nonce for the cookie."""
        return new_token()

    def token(self, nonce: str) -> str:
        """Returns the form's token for a nonce."""
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()

    def valid(self, nonce: str | None, token: str | None) -> bool:
        """Tells whether the form's token belongs to the cookie's nonce."""
        return bool(nonce) and same(token, self.token(nonce or ""))
