"""Evidence's rules: how a received message is fingerprinted."""

import hashlib


def message_digest(raw: bytes) -> str:
    """Returns the sha256 of the message exactly as it arrived, so anyone holding those bytes can check it."""
    return hashlib.sha256(raw).hexdigest()
