"""The document store: content addressing, sniffing PDF and OFD from the bytes, page counts, the size limit, the hash checked on every read."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shared.plumbing.documents import (
    OFD,
    PDF,
    DocumentCorrupt,
    DocumentMissing,
    DocumentStore,
    DocumentTooLarge,
    DocumentUnreadable,
    DocumentUnsupported,
)
from tests.support import sample_ofd as ofd
from tests.support import sample_pdf


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    return DocumentStore(tmp_path / "documents", max_bytes=1_000_000)


async def test_a_pdf_is_stored_under_its_sha256_with_its_pages(store: DocumentStore) -> None:
    data = sample_pdf(pages=2, text="传票")
    stored = await store.put(data)
    sha256 = hashlib.sha256(data).hexdigest()
    assert (stored.sha256, stored.size, stored.content_type, stored.pages) == (sha256, len(data), PDF, 2)
    assert store.path(sha256) == store.root / sha256[:2] / sha256
    assert store.read(sha256) == data
    assert list((store.root / "incoming").iterdir()) == []


async def test_a_stream_is_hashed_as_it_is_written_and_a_second_copy_changes_nothing(store: DocumentStore) -> None:
    data = sample_pdf()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 1000):
            yield data[start : start + 1000]

    first = await store.put(chunks())
    again = await store.put(data)
    assert first == again
    assert [p.name for p in store.root.glob("*/*") if p.parent.name != "incoming"] == [first.sha256]


async def test_an_ofd_is_kept_as_it_is_with_the_pages_its_document_lists(store: DocumentStore) -> None:
    data = ofd(3)
    stored = await store.put(data)
    assert (stored.content_type, stored.pages) == (OFD, 3)
    assert store.read(stored.sha256) == data


async def test_html_named_pdf_is_refused_as_unsupported_and_nothing_is_kept(store: DocumentStore) -> None:
    with pytest.raises(DocumentUnsupported) as refused:
        await store.put("<!doctype html><html><body>起诉状</body></html>".encode())
    assert refused.value.status == 415
    assert not [p for p in store.root.rglob("*") if p.is_file()]


async def test_a_zip_without_ofd_xml_is_not_an_ofd(store: DocumentStore) -> None:
    with pytest.raises(DocumentUnsupported):
        await store.put(ofd(1, with_ofd_xml=False))


async def test_an_ofd_listing_no_pages_is_unreadable(store: DocumentStore) -> None:
    with pytest.raises(DocumentUnreadable):
        await store.put(ofd(0))


async def test_a_truncated_pdf_is_unreadable_and_nothing_is_kept(store: DocumentStore) -> None:
    data = sample_pdf()
    with pytest.raises(DocumentUnreadable) as refused:
        await store.put(data[: len(data) // 2])
    assert refused.value.status == 422
    with pytest.raises(DocumentUnreadable):
        # Cut short and given a new ending, the cross-reference table is gone all the same.
        await store.put(data[: len(data) // 2] + b"\n%%EOF\n")
    assert not [p for p in store.root.rglob("*") if p.is_file()]


async def test_a_pdf_header_over_garbage_is_unreadable(store: DocumentStore) -> None:
    with pytest.raises(DocumentUnreadable):
        await store.put(b"%PDF-1.7\n" + b"\x00garbage" * 100 + b"\n%%EOF\n")


async def test_a_file_over_the_limit_is_refused_before_it_is_kept(tmp_path: Path) -> None:
    small = DocumentStore(tmp_path / "documents", max_bytes=len(sample_pdf()) - 1)
    with pytest.raises(DocumentTooLarge) as refused:
        await small.put(sample_pdf())
    assert refused.value.status == 413
    assert not [p for p in small.root.rglob("*") if p.is_file()]
    assert (await DocumentStore(small.root, max_bytes=len(sample_pdf())).put(sample_pdf())).pages == 1


async def test_a_changed_file_is_corrupt_on_every_read(store: DocumentStore) -> None:
    stored = await store.put(sample_pdf())
    path = store.path(stored.sha256)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DocumentCorrupt):
        store.read(stored.sha256)


def test_a_document_never_stored_is_missing(store: DocumentStore) -> None:
    with pytest.raises(DocumentMissing):
        store.read("0" * 64)


def test_only_a_sha256_names_a_file(store: DocumentStore) -> None:
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")
