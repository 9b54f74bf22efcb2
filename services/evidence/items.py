"""Recording an uploaded item: what its metadata must say, the checks it gets, and the log entry, row and event it makes."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.evidence import log
from services.evidence.domain.photo_checks import photo_flags
from services.evidence.models import EvidenceItem, EvidenceTask
from services.evidence.photos import PhotoError, PhotoFacts, read_facts
from shared.contracts.events import EvidenceRecorded, GeoPoint
from shared.contracts.evidence import EvidenceFlag, EvidenceKind, PhotoScene
from shared.contracts.report import canonical
from shared.contracts.topics import EVIDENCE_EVENTS
from shared.contracts.values import validate_uscc
from shared.plumbing import outbox
from shared.plumbing.blobs import Stored
from shared.plumbing.db import column_values, table_of
from shared.plumbing.problems import Problem, refuse_nul_in, validation_problem

SOURCE = "songda/evidence"
# These are files by nature; the others may be metadata alone (a call record, an SMS receipt, an EMS node).
NEEDS_FILE = frozenset({EvidenceKind.photo, EvidenceKind.video, EvidenceKind.return_receipt_scan, EvidenceKind.signature, EvidenceKind.signed_receipt, EvidenceKind.firm_agreement})
# A firm's standing agreement is about no notice: it is filed under "firm:<USCC>" in place of a notice id.
FIRM_PREFIX = "firm:"
# Built once, like the log's statements: every upload runs it.
NEW_ITEM = insert(table_of(EvidenceItem))
# Built once: a TypeAdapter generates its schema when constructed, which costs more than the EXIF read it serialises.
_FACTS = TypeAdapter(PhotoFacts)


def is_standing(kind: str) -> bool:
    """Tells whether an item of this kind is filed under a firm rather than a notice."""
    return kind == EvidenceKind.firm_agreement


class UploadMetadata(BaseModel):
    """The `metadata` part of an upload: what the item is and what it is about."""

    model_config = ConfigDict(extra="forbid")

    notice_id: str = Field(min_length=1, max_length=100)
    kind: EvidenceKind
    recipient_id: str | None = Field(default=None, max_length=100)
    attempt_id: str | None = Field(default=None, max_length=100)
    task_id: str | None = Field(default=None, max_length=100)
    scene: PhotoScene | None = None
    # When and where the uploader says the item was made; a photo's EXIF is checked against the task, not these.
    captured_at: AwareDatetime | None = None
    location: GeoPoint | None = None
    details: dict[str, Any] = {}


def parse_metadata(text: bytes | None, *, has_file: bool) -> UploadMetadata:
    """Reads the metadata part, refusing what cannot describe an item with the failing field named."""
    if text is None:
        raise Problem(422, "Invalid evidence", "metadata: the metadata part is missing")
    try:
        meta = UploadMetadata.model_validate_json(text)
    except ValidationError as exc:
        raise validation_problem([{**e, "loc": ("metadata", *e["loc"])} for e in exc.errors()]) from None
    refuse_nul_in(meta.model_dump(mode="json"), ("metadata",))
    check_shape(meta, has_file=has_file)
    return meta


def check_shape(meta: UploadMetadata, *, has_file: bool) -> None:
    """Refuses metadata that cannot describe an item, naming the field."""
    if meta.kind in NEEDS_FILE and not has_file:
        raise Problem(422, "Invalid evidence", f"file: a {meta.kind} needs its file")
    if not has_file and not meta.details:
        raise Problem(422, "Invalid evidence", "details: an item without a file is its details; they are empty")
    if is_standing(meta.kind) != meta.notice_id.startswith(FIRM_PREFIX):
        raise Problem(422, "Invalid evidence", f"notice_id: a firm's agreement, and only it, is filed under {FIRM_PREFIX}<the firm's USCC>")
    if is_standing(meta.kind):
        try:
            validate_uscc(meta.notice_id.removeprefix(FIRM_PREFIX))
        except ValueError as exc:
            raise Problem(422, "Invalid evidence", f"notice_id: {exc}") from None
    if (meta.kind is EvidenceKind.photo) != (meta.scene is not None):
        raise Problem(422, "Invalid evidence", "scene: a photo says what it shows (posting, refusal, visit); other kinds have no scene")


def read_photo(path: Path) -> PhotoFacts:
    """Reads a photo's EXIF from its file (blocking); raises Problem if it is not a photo we can read."""
    try:
        return read_facts(path)
    except PhotoError as exc:
        raise Problem(422, "Invalid evidence", f"file: {exc}") from None


def check_photo(facts: PhotoFacts, *, meta: UploadMetadata, task: EvidenceTask | None) -> tuple[dict[str, Any], list[EvidenceFlag]]:
    """Checks a photo's EXIF against the task's place and window; returns the facts as JSON and the flags."""
    target = GeoPoint(lat=task.lat, lon=task.lon) if task and task.lat is not None and task.lon is not None else None
    window = (task.window_start, task.window_end) if task else None
    flags = photo_flags(facts, target=target, window=window, claimed_at=meta.captured_at)
    return _FACTS.dump_python(facts, mode="json"), flags


def details_bytes(meta: UploadMetadata) -> bytes:
    """Returns the content of an item without a file: its details as canonical JSON."""
    return canonical(meta.details)


def log_entry(item: EvidenceItem) -> dict[str, Any]:
    """Returns what the log records of an item: everything a report relies on, the details by their hash."""
    return {
        "type": "evidence",
        "evidence_id": item.id,
        "notice_id": item.notice_id,
        "recipient_id": item.recipient_id,
        "attempt_id": item.attempt_id,
        "task_id": item.task_id,
        "kind": item.kind,
        "scene": item.scene,
        "sha256": item.sha256,
        "size": item.size,
        "content_type": item.content_type,
        "flags": item.flags,
        "details_sha256": hashlib.sha256(canonical(item.details)).hexdigest(),
        "recorded_at": item.recorded_at.isoformat(),
    }


async def existing(session: AsyncSession, key: str | None) -> EvidenceItem | None:
    """Returns the item an earlier upload with this idempotency key recorded."""
    if key is None:
        return None
    return (await session.exec(select(EvidenceItem).where(EvidenceItem.idempotency_key == key))).first()


async def record(
    session: AsyncSession,
    *,
    meta: UploadMetadata,
    stored: Stored,
    content_type: str,
    filename: str | None,
    facts: dict[str, Any] | None,
    flags: list[EvidenceFlag],
    uploaded_by: str,
    key: str | None,
    correlation_id: str | None,
    now: datetime,
) -> EvidenceItem:
    """Writes the item, its log entry and `evidence.EvidenceRecorded` in this transaction; an item about no notice (correlation_id None) is logged, not announced."""
    item = EvidenceItem(
        id=str(uuid.uuid4()),
        notice_id=meta.notice_id,
        recipient_id=meta.recipient_id,
        attempt_id=meta.attempt_id,
        task_id=meta.task_id,
        kind=meta.kind.value,
        scene=meta.scene.value if meta.scene else None,
        sha256=stored.sha256,
        size=stored.size,
        content_type=content_type,
        filename=filename,
        # What the uploader claimed is kept beside the details, so it can be compared with what the checks read.
        details=meta.model_dump(mode="json", include={"details"})["details"] | meta.model_dump(mode="json", include={"captured_at", "location"}, exclude_none=True),
        facts=facts,
        flags=[flag.value for flag in flags],
        uploaded_by=uploaded_by,
        idempotency_key=key,
        leaf_index=-1,
        recorded_at=now,
    )
    item.leaf_index = await log.append(session, log_entry(item), kind="evidence", ref=item.id, notice_id=item.notice_id, now=now)
    # A Core INSERT, not session.add: the row is written once and never changed here, so the unit of work's bookkeeping buys nothing.
    await session.exec(NEW_ITEM, params=column_values(item))
    if correlation_id is None:
        return item
    recorded = EvidenceRecorded(notice_id=item.notice_id, evidence_id=item.id, kind=item.kind, sha256=item.sha256, leaf_index=item.leaf_index, flags=item.flags)
    envelope = recorded.envelope(source=SOURCE, subject=item.notice_id, time=now, correlationid=correlation_id)
    outbox.add(session, envelope, topic=EVIDENCE_EVENTS, now=now)
    return item
