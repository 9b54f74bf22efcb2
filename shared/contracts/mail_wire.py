"""What the mail server's pipe and delivery agree on: a posted message (a bounce or a reply) is signed with the shared secret."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Songda-Signature"


def sign(secret: str, body: bytes) -> str:
    """Returns the signature header's value for `body`: sha256=<hex HMAC-SHA256 under the shared secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """Tells whether `signature` is the body's, in constant time."""
    return signature is not None and hmac.compare_digest(sign(secret, body), signature)
