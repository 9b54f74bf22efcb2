"""The holiday calendar page: which years are known and from where, the missing ones in red, and the upload of a year file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console import access, posted
from services.console.api.guards import Acting, SignedIn
from services.console.deps import DepsDep
from services.console.handlers import calendar
from services.console.pages import render
from services.console.texts import FieldError
from shared.plumbing.holidays import MAX_BYTES

router = APIRouter(include_in_schema=False)

TOO_LARGE = f"文件过大（超过 {MAX_BYTES // 1024} KB），不是节假日安排文件。"


async def bounded(request: Request) -> None:
    """Refuses an upload far larger than any year file (413 page) before its body is read."""
    posted.refuse_larger(request, MAX_BYTES + 16 * 1024, TOO_LARGE)


Bounded = Annotated[None, Depends(bounded)]


def _page(request: Request, deps: DepsDep, *, uploads: bool, errors: list[FieldError], notice: str = "", status: int = 200) -> HTMLResponse:
    return render("calendar.html", request=request, status=status, shown=calendar.overview(deps), uploads=uploads, errors=errors, notice=notice)


@router.get("/calendar", response_class=HTMLResponse)
async def page(request: Request, visitor: SignedIn, deps: DepsDep, imported: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> Response:
    """Shows the years the services count working days with, where each comes from, and (for supervisors) the upload form."""
    access.admit(visitor, access.CALENDAR)
    notice = f"已导入 {imported} 年节假日安排，各服务数秒内生效，无需重启。" if imported else ""
    return _page(request, deps, uploads=access.may(visitor, access.SUPERVISORS), errors=[], notice=notice)


@router.post("/calendar", response_class=HTMLResponse)
async def upload(request: Request, _: Bounded, visitor: Acting, deps: DepsDep) -> Response:
    """Checks an uploaded year file and imports it for every service; what is wrong comes back beside the form."""
    access.admit(visitor, access.SUPERVISORS)
    chosen = posted.file_of(await posted.submitted(request), "file")
    done = await calendar.import_year(deps, visitor=visitor, raw=await chosen.read() if chosen is not None else None)
    if isinstance(done, list):
        return _page(request, deps, uploads=True, errors=done, status=422)
    return RedirectResponse(f"/calendar?imported={done.year}", status_code=303)
