"""Intake's HTTP API: documents, notices, address confirmations, address lookups and their audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import PurePath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile, status

from services.intake import access, batches, firms, handlers, workbook
from services.intake.batch_upload import XLSX, BatchIntake, receive
from services.intake.courts import COURT_ID, CourtIn, CourtOut
from services.intake.deps import DepsDep
from services.intake.firms import FirmIn, FirmOut
from services.intake.models import IntakeCourt, IntakeDocument
from services.intake.notices import Notice
from services.intake.requests import (
    BatchAccepted,
    BatchOut,
    BatchRowOut,
    ConfirmationIn,
    ConfirmationOut,
    DocumentOut,
    LookupIn,
    LookupOut,
    NoticeBatchIn,
    NoticeBatchOut,
    NoticeBatchResult,
    NoticeIn,
    NoticeOut,
)
from shared.contracts.events import Stage
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.documents import CHUNK, OFD, PDF, served_headers
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem

router = APIRouter(prefix="/v1", tags=["intake"])

# Intake's handlers need only the database and the clock.


CourtOrService = Annotated[Principal, Depends(require(Role.court, Role.service))]
# A supervisor submits for a court they choose in the console, as a service does for any court.
Submitters = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.service))]
Readers = Annotated[Principal, Depends(require(Role.court, Role.lawyer, Role.service, Role.supervisor, Role.auditor))]
# Agents get what a visit needs on their task card; a lookup would show them every contact and consent (PIPL Art. 6).
LookupRoles = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.service))]
Supervisors = Annotated[Principal, Depends(require(Role.supervisor))]
Uploaders = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.service))]
DocumentReaders = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.auditor, Role.service))]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
# The multipart envelope around a file of the largest size allowed: boundary lines, part headers, the court_id field.
_ENVELOPE_BYTES = 64 * 1024
# A workbook is submitted by a court for itself, or by a supervisor or a service naming the court; auditors only read.
BatchSubmitters = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.service))]
BatchReaders = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.auditor, Role.service))]
Anyone = Annotated[Principal, Depends(require(*Role))]
NoticeId = Annotated[str, Path(max_length=64)]
BatchId = Annotated[str, Path(max_length=64)]
CourtId = Annotated[str, Path(pattern=COURT_ID)]
# Agents have no business with firms; the others are filtered to what each may read (firms.sees).
FirmReaders = Annotated[Principal, Depends(require(Role.court, Role.lawyer, Role.supervisor, Role.auditor, Role.service))]
Uscc = Annotated[str, Path(min_length=1, max_length=32, description="The firm's unified social credit code")]


@router.post(
    "/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentOut,
    summary="Upload a document to serve (PDF or OFD, multipart field `file`); a notice names it by its sha256",
    responses=problems(413, 415) | {200: {"description": "This court uploaded the same file before; it is returned"}},
)
async def upload_document(
    request: Request,
    response: Response,
    principal: Uploaders,
    deps: DepsDep,
    file: Annotated[UploadFile, File(description="The document: PDF or OFD, judged by its bytes")],
    court_id: Annotated[str | None, Form(pattern=COURT_ID, description="Services and supervisors: the court the document is for")] = None,
) -> DocumentOut:
    """Stores the file once under its sha256 with its sniffed type and page count, for the caller's court; too big answers 413, neither PDF nor OFD 415, a damaged file 422."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > deps.documents.max_bytes + _ENVELOPE_BYTES:
        raise Problem(413, "Payload too large", f"file: larger than {deps.documents.max_bytes:,} bytes", errors=[{"field": "file", "message": "too large"}])
    # Only the name's last part, without control characters (PostgreSQL text cannot hold NUL), and not too long.
    filename = "".join(c for c in PurePath(file.filename or "").name if c.isprintable())[:200] or "document"
    document, created = await handlers.store_document(deps, principal=principal, court_id=court_id, filename=filename, content=_chunks(file))
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/documents/{document.sha256}"
    return _document(document)


async def _chunks(file: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await file.read(CHUNK):
        yield chunk


@router.get(
    "/documents/{sha256}",
    response_class=Response,
    summary="A stored document, byte for byte (the court that uploaded it, overseers)",
    responses=problems(500, 503) | {200: {"description": "The file", "content": {PDF: {"schema": {"type": "string", "format": "binary"}}, OFD: {}}}},
)
async def read_document(
    sha256: Sha256,
    principal: DocumentReaders,
    deps: DepsDep,
    disposition: Annotated[Literal["attachment", "inline"], Query(description="inline to show it in the browser")] = "attachment",
) -> Response:
    """Returns the file after checking its hash, sandboxed, under the name it was uploaded with; a court reaches only what it uploaded, an overseer's read is audited."""
    document, data = await handlers.read_document(deps, principal=principal, sha256=sha256)
    title = PurePath(document.filename).stem or sha256[:16]
    return Response(data, media_type=document.content_type, headers=served_headers(sha256=sha256, title=title, content_type=document.content_type, disposition=disposition))


@router.post(
    "/notices",
    status_code=status.HTTP_201_CREATED,
    response_model=NoticeOut,
    summary="Submit a notice to serve (idempotent on court_id + court_reference)",
    responses=problems(409) | {200: {"description": "The same notice was submitted before; the first one is returned"}},
)
async def submit_notice(body: NoticeIn, response: Response, principal: Submitters, deps: DepsDep) -> NoticeOut:
    """Validates and registers a notice of a registered court in one of its cases, under the registry's court name, publishing intake.NoticeRegistered."""
    access.check_submitter(principal, body.court_id)
    notice, created = await handlers.register_notice(deps, principal=principal, body=body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    response.headers["Location"] = f"/v1/notices/{notice.id}"
    return _view(notice)


@router.post(
    "/notices/batch",
    response_model=NoticeBatchOut,
    response_model_exclude_none=True,
    summary="Submit up to 500 notices at once (a court's day); each is checked, deduplicated and registered as POST /v1/notices would, and answered at its index",
    responses=problems(403),
)
async def submit_notices(body: NoticeBatchIn, principal: Submitters, deps: DepsDep) -> NoticeBatchOut:
    """Registers each valid notice in few statements per chunk; a bad notice is answered with its own problem and the others still register; a court naming another court is refused whole."""
    results = await handlers.submit_batch(deps, principal=principal, items=body.notices)
    return NoticeBatchOut(results=[NoticeBatchResult.model_validate(result) for result in results])


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="Read a notice as registered, with each recipient's ranked addresses")
async def read_notice(notice_id: NoticeId, principal: Readers, deps: DepsDep) -> NoticeOut:
    """Returns the notice: a court its own, a lawyer the recipients its firm represents; others answer 404, never revealing it exists."""
    notice, recipients = await handlers.read_notice(deps, principal=principal, notice_id=notice_id)
    return _view(notice, recipients)


@router.post(
    "/address-confirmations",
    status_code=status.HTTP_201_CREATED,
    response_model=ConfirmationOut,
    summary="Record a 送达地址确认书 (a later one for the same party and case supersedes the earlier)",
    responses={200: {"description": "This confirmation was recorded before"}},
)
async def confirm_address(body: ConfirmationIn, response: Response, principal: CourtOrService, deps: DepsDep) -> ConfirmationOut:
    """Records an address confirmation in one of the caller's own cases and tells delivery about open notices of the case."""
    confirmation = await handlers.confirm_address(deps, principal=principal, body=body)
    response.status_code = status.HTTP_201_CREATED if confirmation.created else status.HTTP_200_OK
    return confirmation


@router.post("/address-lookups", response_model=LookupOut, summary="Rank a party's known addresses without creating a notice (audited)")
async def look_up(body: LookupIn, principal: LookupRoles, deps: DepsDep) -> LookupOut:
    """Returns the party's candidate addresses in legal order, to a court only for a party its own case names; every lookup is in the audit log."""
    found = await handlers.look_up(deps, principal=principal, body=body)
    # Built and checked by the handler: serialised once, not validated again against response_model.
    return Response(found.model_dump_json(), media_type="application/json")  # type: ignore[return-value]


@router.get("/courts", response_model=list[CourtOut], summary="The courts Songda serves")
async def court_list(_: Anyone, deps: DepsDep) -> list[CourtOut]:
    """Returns every registered court with its case code."""
    return [_court(c) for c in await handlers.list_courts(deps)]


@router.get("/courts/{court_id}", response_model=CourtOut, summary="One registered court")
async def court_read(court_id: CourtId, _: Anyone, deps: DepsDep) -> CourtOut:
    """Returns the court."""
    return _court(await handlers.read_court(deps, court_id=court_id))


@router.put("/courts/{court_id}", response_model=CourtOut, summary="Register or change a court (supervisors)", responses=problems(409) | {201: {"description": "Registered"}})
async def court_put(court_id: CourtId, body: CourtIn, response: Response, _: Supervisors, deps: DepsDep) -> CourtOut:
    """Registers a court or changes its name, case code or whether it is active; a case code belongs to one court."""
    court, created = await handlers.put_court(deps, court_id=court_id, body=body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _court(court)


@router.get("/firms", response_model=list[FirmOut], summary="The registered law firms the caller reads (overseers all, a lawyer its own firm, a court those covering it)")
async def firm_list(principal: FirmReaders, deps: DepsDep) -> list[FirmOut]:
    """Returns the firms, by name, each with its agreement's validity and the courts it covers."""
    return [firms.view(f) for f in await handlers.list_firms(deps, principal=principal)]


@router.get("/firms/{uscc}", response_model=FirmOut, summary="One registered law firm")
async def firm_read(uscc: Uscc, principal: FirmReaders, deps: DepsDep) -> FirmOut:
    """Returns the firm; one the caller may not read answers 404, as a missing one."""
    return firms.view(await handlers.read_firm(deps, principal=principal, uscc=firms.checked_uscc(uscc)))


@router.put(
    "/firms/{uscc}",
    response_model=FirmOut,
    summary="Register a law firm's standing e-service agreement, or replace its entry (supervisors; OLR Art. 29(2))",
    responses={201: {"description": "Registered"}},
)
async def firm_put(uscc: Uscc, body: FirmIn, response: Response, principal: Supervisors, deps: DepsDep) -> FirmOut:
    """Keeps the firm's name, e-delivery addresses, the agreement filed as evidence, the courts it covers and its validity; a bad entry writes nothing."""
    firm, created = await handlers.put_firm(deps, principal=principal, uscc=firms.checked_uscc(uscc), body=body)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return firms.view(firm)


@router.get(
    "/notice-batches/template.xlsx",
    response_class=Response,
    summary="The Excel template for a batch of notices: its sheets, Chinese columns, lists of allowed values and an example",
    responses={200: {"description": "The template workbook", "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def batch_template(_: Anyone) -> Response:
    """Returns the workbook courts fill in (sheets 送达任务 and 文书, and 说明 explaining each column)."""
    headers = {"Content-Disposition": "attachment; filename=\"songda-notices.xlsx\"; filename*=UTF-8''%E9%80%81%E8%BE%BE%E4%BB%BB%E5%8A%A1%E6%A8%A1%E6%9D%BF.xlsx"}
    return Response(workbook.template(), media_type=XLSX, headers=headers)


_UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["workbook"],
                "properties": {
                    "workbook": {"type": "string", "format": "binary", "description": "The filled-in template (.xlsx)"},
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}, "description": "The documents (PDF or OFD) the 文书 sheet names by file name"},
                    "court_id": {"type": "string", "description": "The court the notices are for (supervisors and services; a court submits its own)"},
                },
            }
        }
    },
}


@router.post(
    "/notice-batches",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchAccepted,
    summary="Upload a workbook of notices with their documents; the notices are registered one by one in the background",
    responses=problems(413, 415),
    openapi_extra={"requestBody": _UPLOAD},
)
async def batch_submit(request: Request, response: Response, principal: BatchSubmitters, deps: DepsDep) -> BatchAccepted:
    """Checks the workbook's shape and the court, stores the files and keeps the batch; each notice is then registered as POST /v1/notices would, a reference used before counted as a duplicate."""
    intake: BatchIntake = request.app.state.batch_intake
    upload = await receive(request, limits=intake.limits)
    batch = await batches.submit(deps, principal=principal, upload=upload, max_rows=intake.max_rows)
    response.headers["Location"] = f"/v1/notice-batches/{batch.id}"
    return BatchAccepted(batch_id=batch.id)


@router.get(
    "/notice-batches/{batch_id}", response_model=BatchOut, summary="A batch's progress and each of its notices: registered, duplicate, refused (with each cell's reason) or pending"
)
async def batch_read(batch_id: BatchId, principal: BatchReaders, deps: DepsDep) -> BatchOut:
    """Returns the batch to its court and to overseers; another court's answers 404, as a missing one."""
    batch, rows = await batches.read_batch(deps, principal=principal, batch_id=batch_id)
    return BatchOut(
        id=batch.id,
        court_id=batch.court_id,
        filename=batch.filename,
        status=batch.status,
        total=batch.total,
        done=batch.done,
        registered=batch.registered,
        duplicates=batch.duplicates,
        refused=batch.refused,
        created_at=batch.created_at,
        finished_at=batch.finished_at,
        rows=[BatchRowOut.model_validate(batches.row_view(row)) for row in rows],
    )


def _document(document: IntakeDocument) -> DocumentOut:
    return DocumentOut(sha256=document.sha256, content_type=document.content_type, size=document.size, pages=document.pages, filename=document.filename)


def _court(court: IntakeCourt) -> CourtOut:
    return CourtOut(id=court.id, name=court.name, case_code=court.case_code, active=court.active, updated_at=court.updated_at)


def _view(notice: Notice, recipients: list[dict] | None = None) -> NoticeOut:
    data = notice.notice
    recipients = data["recipients"] if recipients is None else recipients
    return NoticeOut(
        id=notice.id,
        court_id=notice.court_id,
        court_reference=notice.court_reference,
        case_number=notice.case_number,
        earlier_case_numbers=data.get("earlier_case_numbers", []),
        cause=notice.cause,
        stage=Stage(notice.stage),
        due_date=notice.due_date,
        received_at=notice.received_at,
        documents=data["documents"],
        recipients=recipients,
        lawyers=[r["lawyer"] for r in recipients if r.get("lawyer")],
    )
