"""Signed log checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, signed with Ed25519."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.contracts.merkle import HASH_SIZE

SEED_SIZE = 32

# For development and tests only: the decoded seed reads "songda development signing seed!".
DEV_SIGNING_SEED = "c29uZ2RhIGRldmVsb3BtZW50IHNpZ25pbmcgc2VlZCE="

_ED25519 = b"\x01"


def _timestamp(issued_at: datetime) -> str:
    """Returns the time as RFC 3339 in UTC with a Z suffix, to whole seconds."""
    if issued_at.tzinfo is None or issued_at.utcoffset() is None:
        raise ValueError("a checkpoint time must be timezone-aware")
    return issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def body(origin: str, size: int, root: bytes, issued_at: datetime) -> bytes:
    """Returns the checkpoint text that is signed: origin, size, base64 root and a `time` extension line."""
    if not origin or any(c.isspace() or c == "+" for c in origin):
        raise ValueError(f"a checkpoint origin must be non-empty without spaces or '+', not {origin!r}")
    if size < 0:
        raise ValueError(f"a checkpoint cannot have negative size {size}")
    if len(root) != HASH_SIZE:
        raise ValueError(f"a checkpoint root must be {HASH_SIZE} bytes, not {len(root)}")
    encoded_root = base64.b64encode(root).decode()
    # The `time` extension line puts the moment the log vouched for this state under the signature, so it cannot
    # be moved without breaking it. It is kept to whole seconds: finer parts are dropped, signer and verifier alike.
    return f"{origin}\n{size}\n{encoded_root}\ntime {_timestamp(issued_at)}\n".encode()


def key_id(origin: str, public_key: bytes) -> bytes:
    """Returns the signed-note key hash of an Ed25519 key named `origin`: 4 bytes of SHA-256."""
    return hashlib.sha256(origin.encode() + b"\n" + _ED25519 + public_key).digest()[:4]


def sign(private_key: Ed25519PrivateKey, *, origin: str, size: int, root: bytes, issued_at: datetime) -> bytes:
    """Returns the 64-byte Ed25519 signature over the checkpoint body."""
    return private_key.sign(body(origin, size, root, issued_at))


def verify(public_key: bytes, signature: bytes, *, origin: str, size: int, root: bytes, issued_at: datetime) -> bool:
    """Returns whether `signature` is the key's valid signature over the checkpoint body."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, body(origin, size, root, issued_at))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def note(*, origin: str, size: int, root: bytes, issued_at: datetime, key_hash: bytes, signature: bytes) -> str:
    """Returns the signed note of a signed checkpoint: the body, a blank line and one signature line by the key named `origin`."""
    text = body(origin, size, root, issued_at)
    stamp = base64.b64encode(key_hash + signature).decode()
    return f"{text.decode()}\n— {origin} {stamp}\n"


def private_key_from_seed(seed_b64: str) -> Ed25519PrivateKey:
    """Returns the Ed25519 private key for a base64-encoded 32-byte seed."""
    if not seed_b64:
        raise ValueError("the checkpoint signing seed is empty")
    try:
        seed = base64.b64decode(seed_b64, validate=True)
    except ValueError as exc:
        raise ValueError(f"the checkpoint signing seed is not valid base64: {exc}") from None
    if len(seed) != SEED_SIZE:
        raise ValueError(f"the checkpoint signing seed must decode to {SEED_SIZE} bytes, not {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """Returns the raw 32-byte public key of a private key."""
    return private_key.public_key().public_bytes_raw()


def new_seed() -> str:
    """Returns a fresh random signing seed, base64-encoded."""
    return base64.b64encode(secrets.token_bytes(SEED_SIZE)).decode()
