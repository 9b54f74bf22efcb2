"""Routes for where each notice stands, and for the court's record of a public notice."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.delivery.deps import DepsDep
from services.delivery.handlers import notices
from services.delivery.requests import NoticeDelivery, PublicationIn, RecipientDelivery
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.openapi import problems

router = APIRouter(prefix="/v1", tags=["delivery"])

Readers = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.agent, Role.lawyer, Role.auditor, Role.service))]
Publishers = Annotated[Principal, Depends(require(Role.court, Role.supervisor))]
Id = Annotated[str, Path(max_length=64)]


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
