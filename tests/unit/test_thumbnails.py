"""Evidence's thumbnails: a JPEG at most 320 px long, turned upright by its EXIF orientation, without any of the original's EXIF, only of pictures, to whoever reaches the item, each read audited; and a notice's items listed."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from PIL.ExifTags import Base
from sqlmodel import select

from services.evidence import handlers, items
from services.evidence.deps import EvidenceDeps
from services.evidence.models import EvidenceNotice
from services.evidence.photos import PhotoError
from services.evidence.thumbnails import LONGEST, has_thumbnail, thumbnail
from shared.contracts.events import GeoPoint
from shared.plumbing.audit import AuditEntry
from shared.plumbing.auth import Principal, Role
from shared.plumbing.problems import Problem
from simulators import camera
from tests.evidences import evidence_deps

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


RED, BLUE = (220, 20, 20), (20, 20, 220)


def sideways(size: tuple[int, int] = (1600, 1200)) -> bytes:
    """Returns a JPEG stored landscape, red on its left half and blue on its right, whose EXIF says to show it turned 90° clockwise (Orientation 6), with a camera and a place."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    exif = Image.open(io.BytesIO(camera.jpeg(location=GeoPoint(lat=37.5131, lon=122.1204)))).getexif()
    exif[Base.Orientation] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def near(pixel: tuple[int, ...], colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=False))


def test_a_photo_is_turned_upright_shrunk_and_stripped_of_its_exif() -> None:
    original = sideways()
    assert b"Xiaomi" in original and Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825), "the original names its camera and place"
    small = thumbnail(original)
    with Image.open(io.BytesIO(small)) as image:
        assert (image.format, image.size) == ("JPEG", (240, 320)), "portrait, as the camera meant it, 320 px on its long side"
        assert near(image.getpixel((120, 20)), RED) and near(image.getpixel((120, 300)), BLUE), "the left of the stored picture is its top"
        assert "exif" not in image.info and len(image.getexif()) == 0 and "icc_profile" not in image.info
    assert b"Xiaomi" not in small and b"Exif" not in small


def test_a_small_picture_is_not_enlarged_and_a_transparent_signature_is_laid_on_white() -> None:
    signature = Image.new("RGBA", (200, 80), (0, 0, 0, 0))
    signature.paste((0, 0, 0, 255), (20, 30, 180, 50))
    out = io.BytesIO()
    signature.save(out, "PNG")
    with Image.open(io.BytesIO(thumbnail(out.getvalue()))) as image:
        assert image.size == (200, 80) and near(image.getpixel((5, 5)), (255, 255, 255)) and near(image.getpixel((100, 40)), (0, 0, 0))
    assert max(Image.open(io.BytesIO(thumbnail(camera.png(size=(900, 300))))).size) == LONGEST


def test_what_is_not_a_picture_has_no_thumbnail() -> None:
    with pytest.raises(PhotoError):
        thumbnail(b"%PDF-1.7 a scanned receipt")
    assert has_thumbnail("photo", "image/jpeg") and has_thumbnail("signature", "image/png") and has_thumbnail("signed_receipt", "image/webp")
    assert not has_thumbnail("signed_receipt", "application/pdf") and not has_thumbnail("call_record", "application/json") and not has_thumbnail("video", "video/mp4")


@pytest.fixture
async def deps(tmp_path: Path) -> AsyncIterator[EvidenceDeps]:
    async with evidence_deps(tmp_path, now=NOW) as built:
        yield built


async def _record(deps: EvidenceDeps, kind: str, data: bytes, content_type: str) -> str:
    meta = items.UploadMetadata.model_validate({"notice_id": "n-1", "kind": kind, "scene": "visit" if kind == "photo" else None, "details": {"minutes": 2}})
    async with deps.db.transaction() as session:
        item = await items.record(
            session,
            meta=meta,
            stored=deps.blobs.put(data),
            content_type=content_type,
            filename=None,
            facts=None,
            flags=[],
            uploaded_by="agent-1",
            key=None,
            correlation_id="n-1",
            now=NOW,
        )
    return item.id


async def test_a_courts_own_picture_has_a_thumbnail_each_read_audited_and_anything_else_is_missing(deps: EvidenceDeps) -> None:
    async with deps.db.transaction() as session:
        session.add(EvidenceNotice(id="n-1", court_id="C371002", correlation_id="n-1"))
    photo = await _record(deps, "photo", sideways(), "image/jpeg")
    call = await _record(deps, "call_record", b'{"minutes": 2}', "application/json")
    court, other = Principal(sub="C371002", role=Role.court), Principal(sub="C371082", role=Role.court)
    small = await handlers.read_thumbnail(deps, principal=court, evidence_id=photo, client="203.0.113.7")
    refused = []
    for principal, evidence_id in ((other, photo), (court, call), (court, "no-such-item")):
        with pytest.raises(Problem) as caught:
            await handlers.read_thumbnail(deps, principal=principal, evidence_id=evidence_id, client=None)
        refused.append(caught.value.status)
    listed = await handlers.notice_items(deps, principal=court, notice_id="n-1", client=None)
    with pytest.raises(Problem) as theirs:
        await handlers.notice_items(deps, principal=other, notice_id="n-1", client=None)
    async with deps.db.sessions() as session:
        audited = [(e.action, e.target, e.client) for e in (await session.exec(select(AuditEntry).order_by(AuditEntry.at))).all()]
    assert Image.open(io.BytesIO(small)).size == (240, 320) and refused == [404, 404, 404] and theirs.value.status == 404
    assert [item.id for item in listed] == [photo, call]
    assert audited == [("evidence.thumbnail", photo, "203.0.113.7"), ("evidence.thumbnail", call, None), ("evidence.list", "n-1", None)], (
        "a read of the court's own item is audited even when it has no thumbnail; another's is not a read"
    )
