"""Routes for the list of notices, where each notice stands, and the court's record of a public notice."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from services.delivery.deps import DepsDep
from services.delivery.handlers import notices
from services.delivery.models import NoticeStatus
from services.delivery.requests import NoticeDelivery, NoticePage, PublicationIn, RecipientDelivery
from services.delivery.search import NoticeFilter
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.openapi import problems

router = APIRouter(prefix="/v1", tags=["delivery"])

Readers = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.agent, Role.lawyer, Role.auditor, Role.service))]
Publishers = Annotated[Principal, Depends(require(Role.court, Role.supervisor))]
Listers = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.auditor, Role.service))]
Id = Annotated[str, Path(max_length=64)]
Search = Annotated[str | None, Query(min_length=1, max_length=100, pattern=r"\S")]


@router.get("/notices", response_model=NoticePage, summary="The list of notices, filtered and paged")
async def list_notices(
    principal: Listers,
    deps: DepsDep,
    status: Annotated[NoticeStatus | None, Query(description="the notice's delivery status")] = None,
    court: Annotated[str | None, Query(max_length=64, description="a court's id; a court sees only its own notices")] = None,
    agent: Annotated[str | None, Query(max_length=64, description="notices with an open task of this agent")] = None,
    case_number: Annotated[Search, Query(description="the case number or a part of it, brackets full- or half-width")] = None,
    party: Annotated[Search, Query(description="a part of a recipient's name")] = None,
    due_from: Annotated[date | None, Query(description="due on or after this day")] = None,
    due_to: Annotated[date | None, Query(description="due on or before this day")] = None,
    overdue: Annotated[bool | None, Query(description="overdue (超期) or not")] = None,
    warning: Annotated[bool | None, Query(description="early warning (预警) raised and the notice not completed, or not")] = None,
    cursor: Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$", description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> NoticePage:
    """Notices by due date, then id, a page at a time: a court its own only (asking for another court's gets an empty page), supervisors, auditors and services all."""
    wanted = NoticeFilter(status=status, court=court, agent=agent, case_number=case_number, party=party, due_from=due_from, due_to=due_to, overdue=overdue, warning=warning)
    return await notices.list_notices(deps, principal=principal, wanted=wanted, cursor=cursor, limit=limit)


@router.get("/notices/{notice_id}/delivery", response_model=NoticeDelivery, summary="Delivery state of a notice")
async def notice_delivery(notice_id: Id, principal: Readers, deps: DepsDep) -> NoticeDelivery:
    """Every recipient's tier, attempts, tasks, outcome, service date and basis: a court its own notices, an agent the recipients of its open tasks, a lawyer those its firm represents."""
    return await notices.notice_delivery(deps, notice_id=notice_id, principal=principal)


@router.post(
    "/notices/{notice_id}/recipients/{recipient_id}/publication", response_model=RecipientDelivery, summary="Record the publication of a public notice", responses=problems(409)
)
async def record_publication(notice_id: Id, recipient_id: Id, body: PublicationIn, principal: Publishers, deps: DepsDep) -> RecipientDelivery:
    """Starts the thirty days after which the recipient is deemed served; only after every other method failed, and only by the notice's court or a supervisor."""
    return await notices.record_publication(deps, notice_id=notice_id, recipient_id=recipient_id, published_on=body.published_on, principal=principal)
