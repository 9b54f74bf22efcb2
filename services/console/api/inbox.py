"""A lawyer's pages: the firm's inbox, an item with its documents and the 签收 button, and the electronic service certificate (电子送达凭证)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import access
from services.console.adapters.inbox import Browser
from services.console.api.guards import Acting, SignedIn, client
from services.console.deps import ConsoleDeps, DepsDep
from services.console.handlers import inbox
from services.console.pages import render
from services.console.sessions import Visitor

router = APIRouter(include_in_schema=False)

AttemptId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Number = Annotated[int, Path(ge=1, le=1000)]


def _browser(request: Request) -> Browser:
    """Returns the person's browser: what delivery records for an opening or an acknowledgement, not the console's own address."""
    return Browser(ip=client(request), user_agent=request.headers.get("user-agent", ""))


@router.get("/inbox", response_class=HTMLResponse)
async def inbox_page(request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Lists what was served on the firm: unread first, each with its due date and whether it was read or acknowledged."""
    access.admit(visitor, access.INBOX)
    items = await inbox.inbox(deps, visitor=visitor)
    return render("inbox.html", request=request, items=items, unread=sum(1 for i in items if not i.opened))


@router.get("/inbox/{attempt_id}", response_class=HTMLResponse)
async def item_page(attempt_id: AttemptId, request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows one item: the case, the court, the party, the documents to open, and the 签收 button (or the acknowledgement made)."""
    access.admit(visitor, access.INBOX)
    found = await inbox.item(deps, visitor=visitor, attempt_id=attempt_id)
    return render("inbox_item.html", request=request, item=found)


@router.get("/inbox/{attempt_id}/documents/{number}")
async def view_document(attempt_id: AttemptId, number: Number, request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows one document in the browser; delivery records the opening with the person, the browser's address and the browser."""
    return await _document(attempt_id, number, request, visitor, deps, download=False)


@router.get("/inbox/{attempt_id}/documents/{number}/download")
async def download_document(attempt_id: AttemptId, number: Number, request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Saves one document; delivery records the download as it records an opening."""
    return await _document(attempt_id, number, request, visitor, deps, download=True)


async def _document(attempt_id: str, number: int, request: Request, visitor: Visitor, deps: ConsoleDeps, *, download: bool) -> Response:
    access.admit(visitor, access.INBOX)
    served = await inbox.document(deps, visitor=visitor, attempt_id=attempt_id, number=number, download=download, browser=_browser(request))
    return Response(served.content, headers=served.headers)


@router.post("/inbox/{attempt_id}/acknowledge")
async def acknowledge(attempt_id: AttemptId, request: Request, visitor: Acting, deps: DepsDep) -> Response:
    """Acknowledges the documents for the firm (the session's CSRF token required), then shows the certificate."""
    access.admit(visitor, access.INBOX)
    await inbox.acknowledge(deps, visitor=visitor, attempt_id=attempt_id, browser=_browser(request))
    return RedirectResponse(f"/inbox/{attempt_id}/certificate", status_code=303)


@router.get("/inbox/{attempt_id}/certificate", response_class=HTMLResponse)
async def certificate(attempt_id: AttemptId, request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows the electronic service certificate of an acknowledged item; an item not yet acknowledged sends the person back to it."""
    access.admit(visitor, access.INBOX)
    found = await inbox.item(deps, visitor=visitor, attempt_id=attempt_id)
    if found.acknowledged is None:
        return RedirectResponse(f"/inbox/{attempt_id}", status_code=303)
    return render("certificate.html", request=request, item=found)
