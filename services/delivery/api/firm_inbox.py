"""Routes for a law firm's inbox: what was served on the firm, each document (every opening recorded), and the acknowledgement (签收)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.delivery.api.edelivery import browser
from services.delivery.deps import DeliveryDeps, DepsDep
from services.delivery.handlers import firm_inbox
from services.delivery.handlers.edelivery import Refused
from services.delivery.handlers.firm_inbox import Inbox, InboxItem
from shared.contracts.events import Disposition
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.documents import OFD, PDF, served_headers
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem

router = APIRouter(prefix="/v1/firm", tags=["firm inbox"])

# The firm's lawyers alone: the inbox is what was served on the firm, which nobody else acts on.
Lawyers = Annotated[Principal, Depends(require(Role.lawyer))]
AttemptId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Number = Annotated[int, Path(ge=1, le=1000)]
_FILE: dict[int | str, dict[str, Any]] = problems(404, 500, 503) | {
    200: {"description": "The document's file", "content": {PDF: {"schema": {"type": "string", "format": "binary"}}, OFD: {}}}
}


@router.get("/inbox", response_model=Inbox, summary="Everything served on the caller's firm, unread first")
async def inbox(principal: Lawyers, deps: DepsDep, limit: Annotated[int, Query(ge=1, le=500)] = 200) -> Inbox:
    """What was sent to the firm for the parties its lawyers represent, across cases and courts: never opened first, then the newest."""
    return await firm_inbox.inbox(deps, principal=principal, limit=limit)


@router.get("/inbox/{attempt_id}", response_model=InboxItem, summary="One item of the firm's inbox", responses=problems(404))
async def item(attempt_id: AttemptId, principal: Lawyers, deps: DepsDep) -> InboxItem:
    """The case, court, party, documents and where the item stands; another firm's item answers as a missing one. The first look makes it read."""
    return await firm_inbox.item(deps, principal=principal, attempt_id=attempt_id)


@router.get("/inbox/{attempt_id}/documents/{number}", response_class=Response, summary="Show one document of the item (each opening recorded)", responses=_FILE)
async def view_document(attempt_id: AttemptId, number: Number, request: Request, principal: Lawyers, deps: DepsDep) -> Response:
    """Serves the document inline and records the opening as delivery.DocumentOpened with the lawyer's name, address and browser."""
    return await _document(deps, principal, attempt_id, number, Disposition.view, request)


@router.get("/inbox/{attempt_id}/documents/{number}/download", response_class=Response, summary="Download one document of the item (each download recorded)", responses=_FILE)
async def download_document(attempt_id: AttemptId, number: Number, request: Request, principal: Lawyers, deps: DepsDep) -> Response:
    """Serves the document as an attachment and records the download as delivery.DocumentOpened."""
    return await _document(deps, principal, attempt_id, number, Disposition.download, request)


async def _document(deps: DeliveryDeps, principal: Principal, attempt_id: str, number: int, disposition: Disposition, request: Request) -> Response:
    ip, user_agent = browser(request)
    found = await firm_inbox.document(deps, principal=principal, attempt_id=attempt_id, number=number, disposition=disposition, ip=ip, user_agent=user_agent)
    if isinstance(found, Refused):
        raise _refusal(found, number)
    kind = "inline" if disposition is Disposition.view else "attachment"
    return Response(found.data, media_type=found.content_type, headers=served_headers(sha256=found.sha256, title=found.title, content_type=found.content_type, disposition=kind))


def _refusal(refused: Refused, number: int) -> Problem:
    if refused.status == 503:
        return Problem(503, "Document unavailable", "The document's file is not in the document store; the operator has been alerted.")
    if refused.status == 500:
        return Problem(500, "Document changed", "The document's stored file no longer matches its sha256; it is not served, and the operator has been alerted.")
    return Problem(404, "Not found", f"The item has no document {number} with a file to open.")


@router.post("/inbox/{attempt_id}/acknowledge", response_model=InboxItem, summary="Acknowledge the documents (签收) for the firm", responses=problems(404))
async def acknowledge(attempt_id: AttemptId, request: Request, principal: Lawyers, deps: DepsDep) -> InboxItem:
    """Records delivery.DocumentsAcknowledged once, with time, the lawyer, address and browser, and answers the certificate's facts; again, the first acknowledgement."""
    ip, user_agent = browser(request)
    return await firm_inbox.acknowledge(deps, principal=principal, attempt_id=attempt_id, ip=ip, user_agent=user_agent)
