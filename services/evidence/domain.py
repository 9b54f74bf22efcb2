"""Evidence's rules: how a received envelope is fingerprinted."""

import hashlib

from shared.envelope import Envelope


def envelope_digest(envelope: Envelope) -> str:
    """Returns the sha256 of the envelope's canonical JSON, the digest the timeline keeps."""
    return hashlib.sha256(envelope.model_dump_json().encode()).hexdigest()
