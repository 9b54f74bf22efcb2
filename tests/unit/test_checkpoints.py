"""Signed checkpoints: the C2SP body and note format, Ed25519 signing, and refusal of anything altered."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from shared.contracts.checkpoints import (
    DEV_SIGNING_SEED,
    body,
    key_id,
    new_seed,
    note,
    private_key_from_seed,
    public_key_bytes,
    sign,
    verify,
)
from shared.contracts.merkle import leaf_hash

ORIGIN = "songda.example/evidence"
ROOT = leaf_hash(b"a served notice")
ISSUED_AT = datetime(2024, 5, 1, 8, 30, 15, tzinfo=UTC)
CHECKPOINT: dict[str, Any] = {"origin": ORIGIN, "size": 42, "root": ROOT, "issued_at": ISSUED_AT}
KEY = private_key_from_seed(DEV_SIGNING_SEED)
PUBLIC = public_key_bytes(KEY)

# The example key and signed note of golang.org/x/mod's signed-note package, golang/mod sumdb/note/note_test.go:
# the private key is base64(0x01 || seed), the verifier key base64(0x01 || public key), both named PeterNeumann.
GO_SIGNER_KEY = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_KEY_HASH = bytes.fromhex("c74f20a3")
GO_TEXT = b"If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIGNATURE = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="


def test_body_is_the_c2sp_checkpoint_with_a_time_line() -> None:
    assert body(**CHECKPOINT) == (f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}\ntime 2024-05-01T08:30:15Z\n".encode())


def test_body_writes_the_time_in_utc_to_whole_seconds() -> None:
    beijing = timezone(timedelta(hours=8))
    issued_at = datetime(2024, 5, 1, 16, 30, 15, 999_999, tzinfo=beijing)
    assert body(ORIGIN, 42, ROOT, issued_at) == body(**CHECKPOINT)


@pytest.mark.parametrize(
    "change",
    [
        {"issued_at": datetime(2024, 5, 1, 8, 30, 15)},
        {"origin": ""},
        {"origin": "songda example"},
        {"origin": "songda+example"},
        {"size": -1},
        {"root": ROOT[:31]},
    ],
)
def test_body_refuses_a_malformed_checkpoint(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        body(**(CHECKPOINT | change))


def test_signature_round_trip() -> None:
    signature = sign(KEY, **CHECKPOINT)
    assert len(signature) == 64
    assert verify(PUBLIC, signature, **CHECKPOINT)


def test_a_fresh_seed_signs_and_verifies() -> None:
    key = private_key_from_seed(new_seed())
    assert verify(public_key_bytes(key), sign(key, **CHECKPOINT), **CHECKPOINT)
    assert not verify(PUBLIC, sign(key, **CHECKPOINT), **CHECKPOINT)


@pytest.mark.parametrize(
    "change",
    [
        {"size": 43},
        {"size": 41},
        {"root": leaf_hash(b"another notice")},
        {"root": bytes([ROOT[0] ^ 1]) + ROOT[1:]},
        {"origin": "songda.example/other"},
        {"issued_at": ISSUED_AT + timedelta(seconds=1)},
        {"issued_at": ISSUED_AT - timedelta(days=1)},
        {"issued_at": ISSUED_AT.replace(tzinfo=None)},
        {"root": b"short"},
    ],
)
def test_a_changed_checkpoint_fails(change: dict[str, Any]) -> None:
    signature = sign(KEY, **CHECKPOINT)
    assert not verify(PUBLIC, signature, **(CHECKPOINT | change))


@pytest.mark.parametrize("position", range(64))
def test_a_changed_signature_byte_fails(position: int) -> None:
    signature = bytearray(sign(KEY, **CHECKPOINT))
    signature[position] ^= 0x01
    assert not verify(PUBLIC, bytes(signature), **CHECKPOINT)


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [(PUBLIC[:31], None), (b"", None), (PUBLIC, b""), (PUBLIC, b"\x00" * 63), (PUBLIC, b"\x00" * 65)],
)
def test_verify_answers_false_for_malformed_keys_and_signatures(public_key: bytes, signature: bytes | None) -> None:
    signature = sign(KEY, **CHECKPOINT) if signature is None else signature
    assert verify(public_key, signature, **CHECKPOINT) is False


def test_key_id_matches_the_go_signed_note_vector() -> None:
    seed = base64.b64decode(GO_SIGNER_KEY)[1:]
    key = private_key_from_seed(base64.b64encode(seed).decode())
    public_key = public_key_bytes(key)
    assert public_key == base64.b64decode(GO_VERIFIER_KEY)[1:]
    assert key_id("PeterNeumann", public_key) == GO_KEY_HASH
    # Ed25519 is deterministic, so signing the Go note's text must give its published signature exactly.
    assert base64.b64encode(GO_KEY_HASH + key.sign(GO_TEXT)).decode() == GO_SIGNATURE


def test_key_id_is_four_stable_bytes_bound_to_name_and_key() -> None:
    assert len(key_id(ORIGIN, PUBLIC)) == 4
    assert key_id(ORIGIN, PUBLIC) == key_id(ORIGIN, public_key_bytes(private_key_from_seed(DEV_SIGNING_SEED)))
    assert key_id(ORIGIN, PUBLIC) != key_id("songda.example/other", PUBLIC)
    assert key_id(ORIGIN, PUBLIC) != key_id(ORIGIN, public_key_bytes(private_key_from_seed(new_seed())))


def test_note_is_the_body_a_blank_line_and_one_signature_line() -> None:
    text = note(**CHECKPOINT, key_hash=key_id(ORIGIN, PUBLIC), signature=sign(KEY, **CHECKPOINT))
    signed, separator, signature_line = text.partition("\n\n")
    assert separator and f"{signed}\n".encode() == body(**CHECKPOINT)
    assert signature_line.startswith(f"— {ORIGIN} ") and signature_line.endswith("\n")
    assert signature_line.count("\n") == 1
    stamp = base64.b64decode(signature_line.removeprefix(f"— {ORIGIN} ").removesuffix("\n"), validate=True)
    assert stamp[:4] == key_id(ORIGIN, PUBLIC)
    assert stamp[4:] == sign(KEY, **CHECKPOINT)
    assert verify(PUBLIC, stamp[4:], **CHECKPOINT)


def test_dev_seed_is_a_valid_fixed_key() -> None:
    assert len(base64.b64decode(DEV_SIGNING_SEED)) == 32
    assert public_key_bytes(private_key_from_seed(DEV_SIGNING_SEED)) == PUBLIC
    assert len(PUBLIC) == 32


def test_new_seeds_are_random_32_byte_keys() -> None:
    seeds = {new_seed() for _ in range(8)}
    assert len(seeds) == 8
    assert all(len(base64.b64decode(seed, validate=True)) == 32 for seed in seeds)


@pytest.mark.parametrize(
    ("seed", "problem"),
    [
        ("", "empty"),
        ("not base64!", "not valid base64"),
        ("c29uZ2Rh", "must decode to 32 bytes, not 6"),
        (base64.b64encode(bytes(33)).decode(), "must decode to 32 bytes, not 33"),
        ("零" * 44, "not valid base64"),
    ],
)
def test_a_bad_seed_gives_a_clear_error(seed: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        private_key_from_seed(seed)
