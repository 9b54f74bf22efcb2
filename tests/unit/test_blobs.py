"""The blob store: a blob is durable before it answers (the file, its name and any directory made for it), written in order, within its limit."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from shared.plumbing.blobs import BlobStore, TooLarge


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


def test_a_writer_touches_no_disk_until_its_first_write_and_a_discarded_one_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    store.writer(limit=10, head_size=4).discard()
    assert not (tmp_path / "blobs").exists()
    writer = store.writer(limit=10, head_size=4)
    writer.write_all([memoryview(b"abc"), memoryview(b"defg")])
    writer.discard()
    assert list((tmp_path / "blobs" / "incoming").iterdir()) == []


def test_chunks_written_together_are_kept_in_order_with_their_head_and_limit(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    writer = store.writer(limit=10, head_size=4)
    writer.write_all([memoryview(b"ab"), memoryview(b"cdef")])
    stored = writer.commit()
    assert (stored.head, stored.size, store.path(stored.sha256).read_bytes()) == (b"abcd", 6, b"abcdef")
    over = store.writer(limit=5, head_size=0)
    with pytest.raises(TooLarge):
        over.write_all([memoryview(b"abc"), memoryview(b"def")])
    over.discard()


def test_an_empty_blob_is_stored_under_the_hash_of_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    stored = store.writer(limit=10, head_size=4).commit()
    assert stored.sha256 == hashlib.sha256(b"").hexdigest() and store.path(stored.sha256).read_bytes() == b""


async def test_held_chunks_are_written_once_they_come_to_the_amount_asked(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    writer = store.writer(limit=10, head_size=2)
    writer.hold(b"abc")
    await writer.drain(at_least=4)
    assert writer.size == 0 and not (tmp_path / "blobs").exists()
    writer.hold(memoryview(b"def"))
    await writer.drain(at_least=4)
    assert writer.size == 6
    stored = writer.commit()
    assert (stored.head, store.path(stored.sha256).read_bytes()) == (b"ab", b"abcdef")
