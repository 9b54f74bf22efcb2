"""The blob store makes a blob durable before it answers: the file, its name and any directory made for it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from shared.plumbing.blobs import BlobStore


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records the path behind every descriptor the store fsyncs."""
    paths: list[Path] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        paths.append(Path(os.readlink(f"/proc/self/fd/{fd}")))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return paths


def test_a_new_blob_syncs_its_file_its_directory_and_every_directory_made_for_it(tmp_path: Path, synced: list[Path]) -> None:
    store = BlobStore(tmp_path / "blobs")
    stored = store.put(b"a photo")
    target = store.path(stored.sha256)
    assert stored.sha256 == hashlib.sha256(b"a photo").hexdigest() and target.read_bytes() == b"a photo"
    # The file's own sync happened under its temporary name, before the rename.
    assert synced[0].parent == tmp_path / "blobs" / "incoming"
    assert set(synced[1:]) == {target.parent, target.parent.parent, tmp_path / "blobs"}


def test_a_blob_in_an_existing_directory_syncs_that_directory_only(tmp_path: Path, synced: list[Path]) -> None:
    store = BlobStore(tmp_path / "blobs", levels=1)
    first = store.put(b"one")
    second_data = next(d for d in (f"two-{n}".encode() for n in range(10_000)) if hashlib.sha256(d).hexdigest()[:2] == first.sha256[:2])
    synced.clear()
    second = store.put(second_data)
    assert synced[1:] == [store.path(second.sha256).parent]


def test_a_blob_stored_before_is_kept_as_it_is(tmp_path: Path, synced: list[Path]) -> None:
    store = BlobStore(tmp_path / "blobs")
    store.put(b"same")
    synced.clear()
    store.put(b"same")
    assert len(synced) == 1 and synced[0].parent == tmp_path / "blobs" / "incoming"
    assert list((tmp_path / "blobs" / "incoming").iterdir()) == []
