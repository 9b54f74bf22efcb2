"""Delivery's HTTP API: where each notice stands."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlmodel import col, select

from services.delivery.models import DeliveryNotice, DeliveryRecipient
from shared.auth import Principal, Role, require
from shared.problems import Problem
from shared.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["delivery"])

Readers = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.agent, Role.auditor, Role.service))]


class RecipientDelivery(BaseModel):
    recipient_id: str
    name: str
    role: str
    status: str
    whereabouts_unknown: bool


class NoticeDelivery(BaseModel):
    notice_id: str
    court_id: str
    case_number: str
    stage: str
    status: str
    due_date: date
    registered_at: datetime
    received_at: datetime
    recipients: list[RecipientDelivery]


@router.get("/notices/{notice_id}/delivery", response_model=NoticeDelivery, summary="Delivery state of a notice")
async def notice_delivery(notice_id: str, principal: Readers, runtime: RuntimeDep) -> NoticeDelivery:
    """Shows each recipient's state; a court sees only its own notices (others answer 404)."""
    async with runtime.db.sessions() as session:
        notice = await session.get(DeliveryNotice, notice_id)
        if notice is None or not principal.may_see(notice.court_id):
            raise Problem(404, "Not found", f"Delivery has no notice {notice_id} (yet: registration reaches delivery within moments).")
        recipients = (
            await session.exec(select(DeliveryRecipient).where(DeliveryRecipient.notice_id == notice_id).order_by(col(DeliveryRecipient.position)))
        ).all()
    return NoticeDelivery(
        notice_id=notice.id,
        court_id=notice.court_id,
        case_number=notice.case_number,
        stage=notice.stage,
        status=notice.status,
        due_date=notice.due_date,
        registered_at=notice.registered_at,
        received_at=notice.received_at,
        recipients=[
            RecipientDelivery(recipient_id=r.id, name=r.name, role=r.role, status=r.status, whereabouts_unknown=r.whereabouts_unknown)
            for r in recipients
        ],
    )
