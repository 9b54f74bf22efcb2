"""The supervisors' pages of the firm registry: the list with each agreement's validity, courts and document, and the form to add or change a firm with its agreement's upload."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import access, posted
from services.console.api.guards import Acting, SignedIn
from services.console.deps import DepsDep
from services.console.errors import PageError
from services.console.handlers import firms
from services.console.handlers.firms import Agreement, FirmForm, FirmRefused
from services.console.pages import render
from services.console.sessions import Visitor
from services.console.texts import FieldError

router = APIRouter(include_in_schema=False)

# A USCC as it may be typed: 18 of its characters (checked, check character included, before anything is written).
USCC = r"^[0-9A-Z]{18}$"
Uscc = Annotated[str, Path(pattern=USCC)]
TOO_LARGE = "协议文件过大，请上传不超过规定大小的 PDF 或扫描件"


async def bounded(request: Request, deps: DepsDep) -> None:
    """Refuses an agreement larger than the console passes on (413 page) before its body is read."""
    posted.refuse_larger(request, deps.max_upload_bytes + 64 * 1024, TOO_LARGE)


Bounded = Annotated[None, Depends(bounded)]


async def _form(request: Request, visitor: Visitor, deps: DepsDep, *, form: FirmForm, errors: list[FieldError], status: int = 200) -> HTMLResponse:
    courts = [(court.id, court.name) for court in await firms.courts(deps, visitor=visitor)]
    return render("firm.html", request=request, status=status, form=form, courts=courts, errors=errors)


@router.get("/firms", response_class=HTMLResponse)
async def firm_list(request: Request, visitor: SignedIn, deps: DepsDep, saved: Annotated[str | None, Query(pattern=USCC)] = None) -> Response:
    """Lists the registered firms: validity today, the courts each agreement covers and the agreement itself."""
    access.admit(visitor, access.SUPERVISORS)
    rows = await firms.listing(deps, visitor=visitor)
    named = next((row.firm.name for row in rows if row.firm.uscc == saved), None)
    return render("firms.html", request=request, rows=rows, notice=f"已保存律所“{named}”的登记。" if named else "")


@router.get("/firms/new", response_class=HTMLResponse)
async def new_firm(request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows the empty form to register a firm and upload its signed agreement."""
    access.admit(visitor, access.SUPERVISORS)
    return await _form(request, visitor, deps, form=FirmForm(), errors=[])


@router.post("/firms", response_class=HTMLResponse)
async def add_firm(request: Request, _: Bounded, visitor: Acting, deps: DepsDep) -> Response:
    """Files the agreement and registers the firm; the list, saying so, or the form with what is wrong beside its fields."""
    access.admit(visitor, access.SUPERVISORS)
    return await _saved(request, visitor, deps, uscc=None)


@router.get("/firms/{uscc}", response_class=HTMLResponse)
async def firm_form(uscc: Uscc, request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows the form to change a firm: its addresses, courts, validity, and a new agreement if one was signed."""
    access.admit(visitor, access.SUPERVISORS)
    return await _form(request, visitor, deps, form=FirmForm.of(await firms.firm(deps, visitor=visitor, uscc=uscc)), errors=[])


@router.post("/firms/{uscc}", response_class=HTMLResponse)
async def change_firm(uscc: Uscc, request: Request, _: Bounded, visitor: Acting, deps: DepsDep) -> Response:
    """Changes a firm (its agreement stays unless a new one is uploaded); the list, saying so, or the form again."""
    access.admit(visitor, access.SUPERVISORS)
    return await _saved(request, visitor, deps, uscc=uscc)


async def _saved(request: Request, visitor: Visitor, deps: DepsDep, *, uscc: str | None) -> Response:
    submitted = await posted.submitted(request)
    form = FirmForm.read(submitted, uscc=uscc)
    upload = posted.file_of(submitted, "agreement")
    agreement = None
    if upload is not None:
        content = await upload.read(deps.max_upload_bytes + 1)
        if len(content) > deps.max_upload_bytes:
            raise PageError(413, "文件过大", TOO_LARGE)
        agreement = Agreement(filename=upload.filename or "agreement.pdf", content=content, content_type=upload.content_type or "application/octet-stream")
    done = await firms.save(deps, visitor=visitor, form=form, agreement=agreement)
    if isinstance(done, FirmRefused):
        return await _form(request, visitor, deps, form=done.form, errors=done.errors, status=done.status)
    return RedirectResponse(f"/firms?saved={done.uscc}#firm-{done.uscc}", status_code=303)
