"""What evidence keeps of a consumed message: its fingerprint, and the entry that logs it."""

from __future__ import annotations

import hashlib
from typing import Any

from shared.contracts.envelope import Envelope


def message_digest(raw: bytes) -> str:
    """Returns the sha256 of the message exactly as it arrived, so anyone holding those bytes can check it."""
    return hashlib.sha256(raw).hexdigest()


def event_entry(envelope: Envelope, *, sha256: str) -> dict[str, Any]:
    """Returns the log entry of a consumed event: its envelope's attributes and the digest of its bytes."""
    return {
        "type": "event",
        "event_id": str(envelope.id),
        "event_type": envelope.type,
        "source": envelope.source,
        "subject": envelope.subject,
        "time": envelope.time.isoformat(),
        "sha256": sha256,
    }
