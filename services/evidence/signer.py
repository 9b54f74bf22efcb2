"""The log's signing key: signs checkpoints and presents them as the report carries them."""

from __future__ import annotations

import base64
from datetime import datetime

from services.evidence.models import EvidenceCheckpoint
from shared.contracts import checkpoints
from shared.contracts.report import Checkpoint


class Signer:
    """Signs checkpoints of the log named `origin` with one Ed25519 key."""

    def __init__(self, *, origin: str, seed: str) -> None:
        self.origin = origin
        self._key = checkpoints.private_key_from_seed(seed)
        self.public_key = checkpoints.public_key_bytes(self._key)
        self.key_id = checkpoints.key_id(origin, self.public_key)

    def sign(self, *, size: int, root: bytes, now: datetime) -> EvidenceCheckpoint:
        """Returns a signed checkpoint row for the log at `size` with `root`; signed to the second, as its body states time."""
        issued_at = now.replace(microsecond=0)
        signature = checkpoints.sign(self._key, origin=self.origin, size=size, root=root, issued_at=issued_at)
        return EvidenceCheckpoint(
            size=size,
            origin=self.origin,
            root=root.hex(),
            issued_at=issued_at,
            key_id=self.key_id.hex(),
            public_key=base64.b64encode(self.public_key).decode(),
            signature=base64.b64encode(signature).decode(),
        )


def present(row: EvidenceCheckpoint) -> Checkpoint:
    """Returns a stored checkpoint as reports and the API show it."""
    return Checkpoint(origin=row.origin, size=row.size, root=row.root, issued_at=row.issued_at, key_id=row.key_id, public_key=row.public_key, signature=row.signature)
