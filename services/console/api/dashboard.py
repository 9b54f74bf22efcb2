"""The dashboard: the KPIs of a date range per week, court or agent, as figure cards and charts each with its table, and links to the CSV and the monthly reports."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from services.console import access, dashboard
from services.console.api.guards import SignedIn
from services.console.deps import DepsDep
from services.console.handlers import dashboard as board
from services.console.pages import render
from shared.plumbing.auth import Role
from shared.plumbing.clock import local_date

router = APIRouter(include_in_schema=False)

CourtId = Annotated[str, Path(pattern=r"^[A-Z0-9]{2,16}$")]
Month = Annotated[str, Path(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$")]
# A file is for the person who asked: never kept by a cache, never sniffed as something else.
FILE_HEADERS = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


@router.get("/dashboard", response_class=HTMLResponse)
async def show(request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Shows the KPIs the query asks for (this month per week by default); the query goes in the address (a GET form)."""
    access.admit(visitor, access.DASHBOARD)
    own = visitor.principal.sub if visitor.role is Role.court else None
    query, errors = dashboard.read(request.query_params, today=local_date(deps.clock.now()), own_court=own)
    shown = await board.show(deps, visitor=visitor, query=query, errors=errors)
    data = {chart.id: json.dumps(chart.data(), ensure_ascii=False) for chart in shown.charts}
    return render(
        "dashboard.html", request=request, status=422 if shown.errors else 200, query=query, shown=shown, data=data, groupings=dashboard.GROUPINGS, court=own or query.court
    )


@router.get("/dashboard/kpis.csv")
async def csv_file(request: Request, visitor: SignedIn, deps: DepsDep) -> Response:
    """Hands over evidence's CSV of the same query (UTF-8 with a byte-order mark, for Excel)."""
    access.admit(visitor, access.DASHBOARD)
    own = visitor.principal.sub if visitor.role is Role.court else None
    query, errors = dashboard.read(request.query_params, today=local_date(deps.clock.now()), own_court=own)
    params = query.params() if not errors else {}
    found = await board.file(deps, visitor=visitor, path="kpis.csv", params=params)
    return Response(found.data, media_type=found.content_type, headers={**FILE_HEADERS, "Content-Disposition": 'attachment; filename="kpis.csv"'})


@router.get("/dashboard/monthly/{court_id}/{month}.{kind}")
async def monthly(court_id: CourtId, month: Month, kind: Literal["pdf", "xlsx"], visitor: SignedIn, deps: DepsDep) -> Response:
    """Hands over a court's monthly supervision report (月度考核报表) as PDF or Excel; evidence answers 404 for another court's."""
    access.admit(visitor, access.DASHBOARD)
    found = await board.file(deps, visitor=visitor, path=f"kpis/monthly/{court_id}/{month}.{kind}", params={})
    disposition = "inline" if kind == "pdf" else "attachment"
    headers = {**FILE_HEADERS, "Content-Disposition": f'{disposition}; filename="monthly-{court_id}-{month}.{kind}"'}
    return Response(found.data, media_type=found.content_type, headers=headers)
