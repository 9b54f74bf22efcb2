"""Notices from an Excel workbook: the template, the upload form (a supervisor picks the court), and the batch's page whose progress htmx refreshes (a meta refresh without JavaScript)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from services.console import access, posted
from services.console.adapters.batches import XLSX, Upload
from services.console.adapters.intake import Court
from services.console.api.guards import Acting, SignedIn
from services.console.deps import DepsDep
from services.console.handlers import batches, notices
from services.console.pages import is_htmx, render
from services.console.texts import FieldError

router = APIRouter(include_in_schema=False)

BatchId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# Seconds between two looks at a batch's progress: htmx's polling, or the page's own refresh without JavaScript.
REFRESH_S = 2


async def bounded(request: Request, deps: DepsDep) -> None:
    """Refuses an upload larger than the console passes on (413 page) before its body is read, the CSRF check included."""
    posted.refuse_larger(request, deps.max_batch_bytes, batches.TOO_LARGE)


Bounded = Annotated[None, Depends(bounded)]


def _form(request: Request, *, courts: list[Court], errors: list[FieldError], court_id: str = "", status: int = 200) -> HTMLResponse:
    options = [(court.id, court.name) for court in courts]
    return render("batch_upload.html", request=request, status=status, courts=options, errors=errors, court_id=court_id)


@router.get("/notices/batch", response_class=HTMLResponse)
async def upload_form(request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows the template link and the upload form (a supervisor also picks the court)."""
    access.admit(visitor, access.BATCHES)
    return _form(request, courts=await batches.courts(deps, visitor=visitor), errors=[])


@router.get("/notices/batch/template.xlsx")
async def template(visitor: SignedIn, deps: DepsDep) -> Response:
    """Hands over intake's template workbook."""
    access.admit(visitor, access.BATCHES)
    data = await batches.template(deps, visitor=visitor)
    headers = {
        "Content-Disposition": "attachment; filename=\"songda-notices.xlsx\"; filename*=UTF-8''%E9%80%81%E8%BE%BE%E4%BB%BB%E5%8A%A1%E6%A8%A1%E6%9D%BF.xlsx",
        "Cache-Control": "no-store",
    }
    return Response(data, media_type=XLSX, headers=headers)


@router.post("/notices/batch", response_class=HTMLResponse)
async def upload(request: Request, _: Bounded, visitor: Acting, deps: DepsDep) -> Response:
    """Passes the workbook and its documents on to intake and opens the batch's page; intake's refusals come back beside the form."""
    access.admit(visitor, access.BATCHES)
    submitted = await posted.submitted(request)
    workbook = posted.file_of(submitted, "workbook")
    court_id = posted.answer(submitted, "court_id", longest=16)
    courts = await batches.courts(deps, visitor=visitor)
    errors = [] if workbook is not None else [batches.NO_WORKBOOK]
    if courts and court_id not in {c.id for c in courts}:
        errors.append(batches.NO_COURT)
    if errors or workbook is None:
        return _form(request, courts=courts, errors=errors, court_id=court_id, status=422)
    files = [(part.filename, part.file, part.content_type or "application/octet-stream") for part in submitted.getlist("files") if isinstance(part, UploadFile) and part.filename]
    found = await batches.submit(deps, visitor=visitor, upload=Upload(workbook=(workbook.filename or "workbook.xlsx", workbook.file), files=files, court_id=court_id or None))
    if isinstance(found, list):
        return _form(request, courts=courts, errors=found, court_id=court_id, status=422)
    return RedirectResponse(f"/notices/batch/{found}", status_code=303)


@router.get("/notices/batch/{batch_id}", response_class=HTMLResponse)
async def progress(batch_id: BatchId, request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows how far registering the workbook has come, its counts and each refused cell; htmx asks again every few seconds until it is done."""
    access.admit(visitor, access.BATCHES)
    batch = await batches.progress(deps, visitor=visitor, batch_id=batch_id)
    if is_htmx(request):
        return render("_batch_progress.html", request=request, batch=batch, refresh_s=REFRESH_S)
    court_name = (await notices.court_names(deps, visitor=visitor)).get(batch.court_id, batch.court_id)
    return render("batch.html", request=request, batch=batch, refresh_s=REFRESH_S, court_name=court_name)
