"""The submit form (/notices/new): a court's notice with its documents and recipients, rows added with htmx or, without JavaScript, by posting the form back; then the notice's page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import access, notice_form, posted
from services.console.api.guards import Acting, SignedIn
from services.console.deps import DepsDep
from services.console.handlers import submission
from services.console.handlers.submission import Refused
from services.console.notice_form import MOST_DOCUMENTS, MOST_RECIPIENTS, NoticeForm
from services.console.pages import render
from services.console.sessions import Visitor
from services.console.texts import FieldError

router = APIRouter(include_in_schema=False)

DocumentRow = Annotated[int, Path(ge=0, lt=MOST_DOCUMENTS)]
RecipientRow = Annotated[int, Path(ge=0, lt=MOST_RECIPIENTS)]


async def _form_page(request: Request, deps: DepsDep, visitor: Visitor, form: NoticeForm, errors: list[FieldError], status: int = 200) -> Response:
    courts = [(court.id, court.name) for court in await submission.courts(deps, visitor=visitor)]
    return render("submit.html", request=request, status=status, form=form, errors=errors, courts=courts)


@router.get("/notices/new", response_class=HTMLResponse)
async def new(request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows the form with one document and one recipient, and a court reference suggested."""
    access.admit(visitor, access.SUBMIT)
    return await _form_page(request, deps, visitor, submission.blank(visitor, now=deps.wall.now()), [])


@router.post("/notices/new", response_class=HTMLResponse)
async def submit(request: Request, visitor: Acting, deps: DepsDep) -> Response:
    """Submits the notice (`step=submit`), or, without JavaScript, adds a row (`add_document`, `add_recipient`) keeping every answer and file; then the notice's page, or the form with what is wrong."""
    access.admit(visitor, access.SUBMIT)
    sent = await posted.submitted(request)
    form, files = notice_form.read(sent)
    step = posted.answer(sent, "step", longest=20)
    if step in ("add_document", "add_recipient"):
        errors = await submission.upload(deps, visitor=visitor, form=form, files=files)
        rows = form.documents if step == "add_document" else form.recipients
        if len(rows) < (MOST_DOCUMENTS if step == "add_document" else MOST_RECIPIENTS):
            rows.append({})
        return await _form_page(request, deps, visitor, form, errors, 422 if errors else 200)
    done = await submission.submit(deps, visitor=visitor, form=form, files=files)
    if isinstance(done, Refused):
        return await _form_page(request, deps, visitor, done.form, done.errors, done.status)
    return RedirectResponse(f"/notices/{done.id}?submitted=true", status_code=303)


@router.get("/notices/new/documents/{index}", response_class=HTMLResponse)
async def document_row(index: DocumentRow, request: Request, visitor: SignedIn) -> Response:
    """Returns an empty document row for htmx, with the button that adds the one after it."""
    access.admit(visitor, access.SUBMIT)
    return render("_submit_rows.html", request=request, table="documents", index=index, row={}, errors=[])


@router.get("/notices/new/recipients/{index}", response_class=HTMLResponse)
async def recipient_row(index: RecipientRow, request: Request, visitor: SignedIn) -> Response:
    """Returns an empty recipient row for htmx, with the button that adds the one after it."""
    access.admit(visitor, access.SUBMIT)
    return render("_submit_rows.html", request=request, table="recipients", index=index, row={}, errors=[])
