"""Delivery's HTTP API: where each notice stands, and the court's record of a public notice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict
from sqlmodel import col, select

from services.delivery import access
from services.delivery.deps import DepsDep
from services.delivery.domain.machine import PublicationRecorded
from services.delivery.domain.state import Attempt, RecipientState, RecipientStatus, Served
from services.delivery.models import DeliveryNotice, DeliveryRecipient, DeliveryTask
from services.delivery.workflow import advance
from shared.contracts.events import Exhausted
from shared.contracts.values import mask_phone
from shared.plumbing import audit
from shared.plumbing.auth import Principal, Role, require
from shared.plumbing.clock import local_date
from shared.plumbing.openapi import problems
from shared.plumbing.problems import Problem
from shared.plumbing.runtime import RuntimeDep

router = APIRouter(prefix="/v1", tags=["delivery"])

Readers = Annotated[Principal, Depends(require(Role.court, Role.supervisor, Role.agent, Role.lawyer, Role.auditor, Role.service))]
Publishers = Annotated[Principal, Depends(require(Role.court, Role.supervisor))]
Id = Annotated[str, Path(max_length=64)]


class TaskView(BaseModel):
    task_id: str
    attempt_id: str
    kind: str
    agent_id: str
    status: str
    address: str
    window_start: datetime
    window_end: datetime
    reported_at: datetime | None


class RecipientDelivery(BaseModel):
    recipient_id: str
    name: str
    role: str
    status: RecipientStatus
    tier: str
    whereabouts_unknown: bool
    attempts: list[Attempt]
    tasks: list[TaskView]
    served: Served | None
    service_date: date | None
    legal_basis: str | None
    exhausted: list[Exhausted]
    public_notice_ends: date | None


class NoticeDelivery(BaseModel):
    notice_id: str
    court_id: str
    case_number: str
    stage: str
    status: str
    due_date: date
    registered_at: datetime
    received_at: datetime
    warned_at: datetime | None
    overdue_at: datetime | None
    completed_at: datetime | None
    recipients: list[RecipientDelivery]


def _visible(attempt: Attempt, principal: Principal) -> Attempt:
    # Agents see numbers masked: only the step they work needs contact data, and visits need none.
    if principal.role is Role.agent and attempt.target and attempt.target.startswith("+"):
        return attempt.model_copy(update={"target": mask_phone(attempt.target)})
    return attempt


@router.get("/notices/{notice_id}/delivery", response_model=NoticeDelivery, summary="Delivery state of a notice")
async def notice_delivery(notice_id: Id, principal: Readers, runtime: RuntimeDep) -> NoticeDelivery:
    """Every recipient's tier, attempts, tasks, outcome, service date and basis: a court its own notices, an agent the recipients of its open tasks, a lawyer those its firm represents."""
    async with runtime.db.transaction() as session:
        notice = await session.get(DeliveryNotice, notice_id)
        if notice is None:
            raise access.missing_notice(notice_id)
        rows = (await session.exec(select(DeliveryRecipient).where(DeliveryRecipient.notice_id == notice_id).order_by(col(DeliveryRecipient.position)))).all()
        rows = await access.visible_recipients(session, principal, notice, rows)
        if not rows:
            raise access.missing_notice(notice_id)
        tasks = (await session.exec(select(DeliveryTask).where(DeliveryTask.notice_id == notice_id).order_by(col(DeliveryTask.created_at)))).all()
        if principal.audited:
            audit.record(session, principal, action="delivery.read", target=notice_id, now=runtime.clock.now())
    return _view(notice, rows, tasks, principal)


def _view(notice: DeliveryNotice, rows: Sequence[DeliveryRecipient], tasks: Sequence[DeliveryTask], principal: Principal) -> NoticeDelivery:
    recipients = []
    for row in rows:
        state = RecipientState.model_validate(row.state)
        served = state.served
        recipients.append(
            RecipientDelivery(
                recipient_id=row.id,
                name=row.name,
                role=row.role,
                status=state.status,
                tier=row.tier,
                whereabouts_unknown=row.whereabouts_unknown,
                attempts=[_visible(a, principal) for a in state.attempts],
                tasks=[
                    TaskView(task_id=t.id, **t.model_dump(include={"attempt_id", "kind", "agent_id", "status", "address", "window_start", "window_end", "reported_at"}))
                    for t in tasks
                    if t.recipient_id == row.id
                ],
                served=served,
                service_date=served.service_date if served else None,
                legal_basis=served.basis if served else None,
                exhausted=state.exhausted,
                public_notice_ends=state.period_ends,
            )
        )
    return NoticeDelivery(
        **notice.model_dump(include={"court_id", "case_number", "stage", "status", "due_date", "registered_at", "received_at", "warned_at", "overdue_at", "completed_at"}),
        notice_id=notice.id,
        recipients=recipients,
    )


class PublicationIn(BaseModel):
    """The court published a public notice for the recipient on this day (CPL 95)."""

    model_config = ConfigDict(extra="forbid")

    published_on: date


@router.post(
    "/notices/{notice_id}/recipients/{recipient_id}/publication", response_model=RecipientDelivery, summary="Record the publication of a public notice", responses=problems(409)
)
async def record_publication(notice_id: Id, recipient_id: Id, body: PublicationIn, principal: Publishers, runtime: RuntimeDep, deps: DepsDep) -> RecipientDelivery:
    """Starts the thirty days after which the recipient is deemed served; only after every other method failed, and only by the notice's court or a supervisor."""
    now = runtime.clock.now()
    async with runtime.db.transaction() as session:
        notice = await session.get(DeliveryNotice, notice_id)
        if notice is None or not access.may_publish(principal, notice):
            raise access.missing_notice(notice_id)
        if body.published_on > local_date(now):
            raise Problem(422, "Unprocessable publication", "published_on lies in the future", errors=[{"field": "published_on", "message": "must not be in the future"}])
        row = await session.get(DeliveryRecipient, recipient_id)
        if row is None or row.notice_id != notice_id:
            raise Problem(404, "Not found", f"Notice {notice_id} has no recipient {recipient_id}.")
        if row.status != RecipientStatus.awaiting_publication:
            raise Problem(
                409, "Not awaiting a public notice", f"Recipient {recipient_id} is {row.status}; a public notice is recorded only once every other method failed (CPL 95)."
            )
        await advance(session, recipient_id=recipient_id, event=PublicationRecorded(published_on=body.published_on, at=now), now=now, setup=deps.setup, causation=None)
    view = await notice_delivery(notice_id, principal, runtime)
    return next(r for r in view.recipients if r.recipient_id == recipient_id)
