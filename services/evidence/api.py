"""Evidence's HTTP API: uploads, items and their proofs, the log's checkpoints, reports and a notice's timeline; every read of an item or report is audited."""

from __future__ import annotations

import asyncio
import base64
import mimetypes
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, ValidationError
from sqlmodel import col, select

from services.evidence import access, items, log, reports
from services.evidence.blobs import BlobStore
from services.evidence.models import EvidenceCheckpoint, EvidenceItem, EvidenceNotice, EvidenceReport, EvidenceTimelineEntry
from services.evidence.rendering import render_html, render_pdf
from services.evidence.signer import Signer, present
from services.evidence.sniffing import ALLOWED, HEAD_BYTES, acceptable, sniff
from services.evidence.uploads import receive
from shared.contracts import checkpoints
from shared.contracts.evidence import EvidenceFlag, EvidenceKind
from shared.contracts.report import Checkpoint, DeliveryReport
from shared.plumbing import audit
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.headers import PAGE_CSP
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem, refuse_nul_in, validation_problem
from shared.plumbing.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["evidence"])

Readers = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.auditor, Role.service))]
ItemReaders = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.auditor, Role.service, Role.agent))]
Uploaders = Annotated[Principal, Depends(require(Role.agent, Role.supervisor, Role.service))]
Anyone = Annotated[Principal, Depends(require(*Role))]
Id = Annotated[str, Path(max_length=64)]
# Upper bounds of what a number can name: log sizes are int64, report versions int32 columns.
MAX_COUNT = 2**53
MAX_VERSION = 2**31 - 1


def store(request: Request) -> BlobStore:
    """Returns the blob store."""
    return request.app.state.blobs


def signer(request: Request) -> Signer:
    """Returns the log's signer."""
    return request.app.state.signer


Blobs = Annotated[BlobStore, Depends(store)]
SignerDep = Annotated[Signer, Depends(signer)]


class TimelineEntry(BaseModel):
    position: int
    log_index: int
    event_id: str
    event_type: str
    source: str
    event_time: datetime
    sha256: str
    recorded_at: datetime


class Timeline(BaseModel):
    notice_id: str
    entries: list[TimelineEntry]


class EvidenceOut(BaseModel):
    """An item as the API shows it; the content is at `content_url`."""

    id: str
    notice_id: str
    recipient_id: str | None
    attempt_id: str | None
    task_id: str | None
    kind: str
    scene: str | None
    sha256: str
    size: int
    content_type: str
    filename: str | None
    flags: list[str]
    facts: dict[str, Any] | None
    details: dict[str, Any]
    uploaded_by: str
    leaf_index: int
    recorded_at: datetime
    content_url: str
    proof_url: str


class ProofOut(BaseModel):
    """An item's inclusion proof to a checkpoint (RFC 9162)."""

    leaf_index: int
    entry: str
    leaf_hash: str
    tree_size: int
    path: list[str]
    checkpoint: Checkpoint | None


class CheckpointOut(Checkpoint):
    """The latest signed checkpoint, with its signed-note text."""

    note: str


class ConsistencyOut(BaseModel):
    """Proof that the log at `first` is a prefix of the log at `second` (RFC 9162 §2.1.4)."""

    first: int
    second: int
    first_root: str
    second_root: str
    path: list[str]


def _out(item: EvidenceItem) -> EvidenceOut:
    return EvidenceOut(**item.model_dump(exclude={"idempotency_key"}), content_url=f"/v1/evidence/{item.id}/content", proof_url=f"/v1/evidence/{item.id}/proof")


_MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["metadata"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The photo, video, recording or scan; its type is judged by its content"},
                        "metadata": {"type": "string", "contentMediaType": "application/json", "description": "UploadMetadata as JSON", "x-schema": "UploadMetadata"},
                    },
                },
                "encoding": {"metadata": {"contentType": "application/json"}},
            }
        },
    }
}


@router.post(
    "/evidence",
    status_code=201,
    response_model=EvidenceOut,
    summary="Upload an item of evidence (multipart: file + metadata)",
    responses=problems(400, 409, 413, 415, 422) | {200: {"description": "This caller uploaded with this Idempotency-Key before; the first item is returned"}},
    openapi_extra=_MULTIPART,
)
async def upload(
    request: Request,
    response: Response,
    principal: Uploaders,
    runtime: RuntimeDep,
    blobs: Blobs,
    log_signer: SignerDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)] = None,
) -> EvidenceOut:
    """Stores the file under its sha256, checks it, logs it and publishes evidence.EvidenceRecorded; a bad upload writes nothing."""
    upload = await receive(request, store=blobs, limit=request.app.state.max_upload_bytes, head_size=HEAD_BYTES)
    try:
        if upload.metadata is None:
            raise Problem(422, "Invalid evidence", "metadata: the metadata part is missing")
        try:
            meta = items.UploadMetadata.model_validate_json(upload.metadata)
        except ValidationError as exc:
            raise validation_problem([{**e, "loc": ("metadata", *e["loc"])} for e in exc.errors()]) from None
        refuse_nul_in(meta.model_dump(mode="json"), ("metadata",))
        items.check_shape(meta, has_file=upload.file is not None)
        key = access.scoped_key(principal, idempotency_key)
        async with runtime.db.sessions() as session:
            # Authorised first: a key is looked up only among the caller's own uploads to a notice it may add to.
            notice, task = await access.upload_target(session, principal, meta)
            earlier = await items.existing(session, key)
        if earlier is not None:
            upload.discard()
            response.status_code = 200
            return _out(earlier)
        if task is not None:
            meta = meta.model_copy(update={"attempt_id": meta.attempt_id or task.attempt_id, "recipient_id": meta.recipient_id or task.recipient_id})
        facts, flags = None, list[EvidenceFlag]()
        if upload.file is not None:
            content_type = sniff(upload.file.head) or "application/octet-stream"
            if not acceptable(meta.kind, content_type):
                raise Problem(415, "Unsupported media type", f"file: a {meta.kind} cannot be {content_type} (judged by its content, not its name)")
            if meta.kind is EvidenceKind.photo:
                facts, flags = await items.check_photo(upload.file.written(), meta=meta, task=task)
            stored = await asyncio.to_thread(upload.file.commit)
        else:
            content_type = "application/json"
            stored = await asyncio.to_thread(blobs.put, items.details_bytes(meta))
    except BaseException:
        upload.discard()
        raise
    now = runtime.clock.now()
    async with runtime.db.transaction() as session:
        item = await items.record(
            session,
            meta=meta,
            stored=stored,
            content_type=content_type,
            filename=upload.filename,
            facts=facts,
            flags=flags,
            uploaded_by=principal.sub,
            key=key,
            correlation_id=notice.correlation_id,
            now=now,
        )
        await reports.after_entry(session, signer=log_signer, notice_id=item.notice_id, completed=False, now=now)
    return _out(item)


async def _item(session: Any, evidence_id: str, principal: Principal) -> EvidenceItem:
    item = await session.get(EvidenceItem, evidence_id)
    if not await access.sees_item(session, principal, item):
        raise Problem(404, "Not found", f"No evidence {evidence_id}.")
    return item


@router.get("/evidence/{evidence_id}", response_model=EvidenceOut, summary="An item of evidence, its checks and flags")
async def read(evidence_id: Id, request: Request, principal: ItemReaders, runtime: RuntimeDep) -> EvidenceOut:
    """Returns the item's record; the read is audited."""
    async with runtime.db.transaction() as session:
        item = await _item(session, evidence_id, principal)
        audit.record(session, principal, action="evidence.read", target=evidence_id, request=request, now=runtime.clock.now())
    return _out(item)


# The bytes keep the type sniffed at upload, one a kind of evidence may be; an item without a file is its details as JSON.
_CONTENT_TYPES: dict[str, Any] = {media_type: {} for media_type in sorted(frozenset().union(*ALLOWED.values()))}


@router.get("/evidence/{evidence_id}/content", summary="The item's content, byte for byte", response_class=FileResponse, responses={200: {"content": _CONTENT_TYPES}})
async def content(evidence_id: Id, request: Request, principal: ItemReaders, runtime: RuntimeDep, blobs: Blobs) -> FileResponse:
    """Returns the stored bytes as an attachment of their sniffed type with their sha256 as the ETag; the read is audited."""
    async with runtime.db.transaction() as session:
        item = await _item(session, evidence_id, principal)
        audit.record(session, principal, action="evidence.content", target=evidence_id, request=request, now=runtime.clock.now())
    # An attachment, never rendered in our origin: an uploaded page or script cannot run as if we served it.
    return FileResponse(
        blobs.path(item.sha256),
        media_type=item.content_type,
        filename=f"{item.id}{_suffix(item.content_type)}",
        content_disposition_type="attachment",
        headers={"ETag": f'"{item.sha256}"', "Digest": f"sha-256={_b64(item.sha256)}", "Content-Security-Policy": "default-src 'none'; sandbox"},
    )


def _suffix(content_type: str) -> str:
    return mimetypes.guess_extension(content_type) or ".bin"


def _b64(sha256: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256)).decode()


@router.get("/evidence/{evidence_id}/proof", response_model=ProofOut, summary="The item's inclusion proof in the evidence log")
async def proof(evidence_id: Id, principal: ItemReaders, runtime: RuntimeDep, size: Annotated[int | None, Query(ge=1, le=MAX_COUNT)] = None) -> ProofOut:
    """Returns the proof to the latest checkpoint, or to the log at `size`."""
    async with runtime.db.sessions() as session:
        item = await _item(session, evidence_id, principal)
        latest = await log.latest_checkpoint(session)
        tree_size = size or (latest.size if latest else await log.size(session))
        if not item.leaf_index < tree_size <= await log.size(session):
            raise Problem(422, "Invalid size", f"size: the item is leaf {item.leaf_index}; ask for a size between {item.leaf_index + 1} and the log's size")
        path = await log.inclusion(session, item.leaf_index, tree_size)
        entry = (await log.entries(session, [item.leaf_index]))[item.leaf_index]
        anchor = await session.get(EvidenceCheckpoint, tree_size)
    return ProofOut(
        leaf_index=item.leaf_index, entry=entry.entry, leaf_hash=entry.leaf_hash, tree_size=tree_size, path=[p.hex() for p in path], checkpoint=present(anchor) if anchor else None
    )


@router.get("/log/checkpoint", response_model=CheckpointOut, summary="The evidence log's latest signed checkpoint", responses=problems(404))
async def checkpoint(principal: Anyone, runtime: RuntimeDep) -> CheckpointOut:
    """Returns the latest checkpoint and its signed note."""
    async with runtime.db.sessions() as session:
        latest = await log.latest_checkpoint(session)
    if latest is None:
        raise Problem(404, "Not found", "The log has no checkpoint yet.")
    shown = present(latest)
    note = checkpoints.note(
        origin=shown.origin,
        size=shown.size,
        root=bytes.fromhex(shown.root),
        issued_at=shown.issued_at,
        key_hash=bytes.fromhex(shown.key_id),
        signature=base64.b64decode(shown.signature),
    )
    return CheckpointOut(**shown.model_dump(), note=note)


@router.get("/log/consistency", response_model=ConsistencyOut, summary="Proof that an older log is a prefix of a newer one")
async def consistency(
    principal: Anyone, runtime: RuntimeDep, first: Annotated[int, Query(ge=1, le=MAX_COUNT)], second: Annotated[int, Query(ge=1, le=MAX_COUNT)]
) -> ConsistencyOut:
    """Returns the consistency proof between two sizes of the log."""
    async with runtime.db.sessions() as session:
        if not first <= second <= await log.size(session):
            raise Problem(422, "Invalid size", "second: ask for 1 ≤ first ≤ second ≤ the log's size")
        path = await log.consistency(session, first, second)
        roots = (await log.root(session, first), await log.root(session, second))
    return ConsistencyOut(first=first, second=second, first_root=roots[0].hex(), second_root=roots[1].hex(), path=[p.hex() for p in path])


async def _report(notice_id: str, version: int | None, *, principal: Principal, request: Request, runtime: Any, action: str) -> EvidenceReport:
    async with runtime.db.transaction() as session:
        statement = select(EvidenceReport).where(EvidenceReport.notice_id == notice_id)
        statement = statement.where(EvidenceReport.version == version) if version else statement.order_by(col(EvidenceReport.version).desc())
        report = (await session.exec(statement.limit(1))).first()
        if report is None or not principal.reaches_court(report.court_id):
            raise Problem(404, "Not found", f"No delivery report for notice {notice_id}" + (f" in version {version}." if version else " yet."))
        audit.record(session, principal, action=action, target=f"{notice_id}/{report.version}", request=request, now=runtime.clock.now())
    return report


Version = Annotated[int | None, Query(ge=1, le=MAX_VERSION, description="a version; the newest by default")]


@router.get("/reports/{notice_id}.html", response_class=HTMLResponse, summary="The delivery report as a page, laid out like a 送达回证")
async def report_html(notice_id: Id, request: Request, principal: Readers, runtime: RuntimeDep, version: Version = None) -> HTMLResponse:
    """Returns the report rendered in Chinese; the read is audited."""
    report = await _report(notice_id, version, principal=principal, request=request, runtime=runtime, action="report.html")
    return HTMLResponse(render_html(DeliveryReport.model_validate(report.document)), headers={"Content-Security-Policy": PAGE_CSP})


@router.get("/reports/{notice_id}.pdf", summary="The delivery report as a PDF, laid out like a 送达回证")
async def report_pdf(notice_id: Id, request: Request, principal: Readers, runtime: RuntimeDep, version: Version = None) -> Response:
    """Returns the report as a PDF; the read is audited."""
    report = await _report(notice_id, version, principal=principal, request=request, runtime=runtime, action="report.pdf")
    pdf = await asyncio.to_thread(render_pdf, DeliveryReport.model_validate(report.document))
    filename = f"delivery-report-{notice_id}-v{report.version}.pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'})


@router.get("/reports/{notice_id}", summary="The delivery report (DeliveryReport v1 JSON)")
async def report_json(notice_id: Id, request: Request, principal: Readers, runtime: RuntimeDep, version: Version = None) -> JSONResponse:
    """Returns the report exactly as sealed; the read is audited."""
    report = await _report(notice_id, version, principal=principal, request=request, runtime=runtime, action="report.json")
    return JSONResponse(report.document, headers={"ETag": f'"{report.sha256}"'})


@router.get("/notices/{notice_id}/timeline", response_model=Timeline, summary="Every event recorded for a notice, in order")
async def timeline(notice_id: Id, principal: Readers, runtime: RuntimeDep) -> Timeline:
    """Returns the notice's timeline; a court sees only its own notices (others answer 404)."""
    async with runtime.db.sessions() as session:
        notice = await session.get(EvidenceNotice, notice_id)
        if not access.sees_notice(principal, notice):
            raise Problem(404, "Not found", f"Evidence has no notice {notice_id}.")
        entries = (await session.exec(select(EvidenceTimelineEntry).where(EvidenceTimelineEntry.notice_id == notice_id).order_by(col(EvidenceTimelineEntry.log_index)))).all()
    return Timeline(
        notice_id=notice_id,
        entries=[
            TimelineEntry(
                position=position,
                log_index=e.log_index,
                event_id=e.event_id,
                event_type=e.event_type,
                source=e.source,
                event_time=e.event_time,
                sha256=e.sha256,
                recorded_at=e.recorded_at,
            )
            for position, e in enumerate(entries, start=1)
        ],
    )
