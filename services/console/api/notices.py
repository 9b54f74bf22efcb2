"""The notice list: a filter kept in the address, a page of notices with where each stands, and a link to the next page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from services.console import access, notice_filter
from services.console.api.guards import SignedIn
from services.console.deps import DepsDep
from services.console.handlers import notices
from services.console.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/notices", response_class=HTMLResponse)
async def notice_list(request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Lists the notices the filter picks by due date, with their status, 预警 and 超期, recipients and agents; the filter goes in the address (a GET form)."""
    access.admit(visitor, access.NOTICES)
    wanted, errors = notice_filter.read(request.query_params)
    found = await notices.listing(deps, visitor=visitor, wanted=wanted, errors=errors)
    return render("notices.html", request=request, status=422 if found.errors else 200, wanted=wanted, listing=found, path="/notices")


@router.get("/notices/{notice_id}/report")
async def report(notice_id: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")], visitor: SignedIn, deps: DepsDep) -> Response:
    """Opens the notice's delivery report (送达报告) as PDF in the browser, with the person's token."""
    access.admit(visitor, access.REPORTS)
    pdf = await notices.report(deps, visitor=visitor, notice_id=notice_id)
    headers = {"Content-Disposition": f'inline; filename="report-{notice_id}.pdf"', "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    return Response(pdf.data, media_type="application/pdf", headers=headers)
