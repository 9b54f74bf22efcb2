"""Where a notice stands for whoever may see it, and the court's record of a public notice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery import access
from services.delivery.deps import DeliveryDeps
from services.delivery.domain.inputs import PublicationRecorded
from services.delivery.domain.state import Attempt, RecipientState, RecipientStatus
from services.delivery.models import DeliveryNotice, DeliveryRecipient, DeliveryTask
from services.delivery.requests import NoticeDelivery, RecipientDelivery, TaskView
from services.delivery.workflow import advance
from shared.contracts.values import mask_phone
from shared.plumbing import audit
from shared.plumbing.auth import Principal, Role
from shared.plumbing.clock import local_date
from shared.plumbing.problems import Problem


async def notice_delivery(deps: DeliveryDeps, *, notice_id: str, principal: Principal) -> NoticeDelivery:
    """Returns every visible recipient's tier, attempts, tasks, outcome, service date and basis; audited for overseers."""
    async with deps.db.transaction() as session:
        return await _read(session, notice_id=notice_id, principal=principal, now=deps.clock.now())


async def record_publication(deps: DeliveryDeps, *, notice_id: str, recipient_id: str, published_on: date, principal: Principal) -> RecipientDelivery:
    """Starts the thirty days after which the recipient is deemed served; only after every other method failed, and only by the notice's court or a supervisor."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        notice = await session.get(DeliveryNotice, notice_id)
        if notice is None or not access.may_publish(principal, notice):
            raise access.missing_notice(notice_id)
        if published_on > local_date(now):
            raise Problem(422, "Unprocessable publication", "published_on lies in the future", errors=[{"field": "published_on", "message": "must not be in the future"}])
        row = await session.get(DeliveryRecipient, recipient_id)
        if row is None or row.notice_id != notice_id:
            raise Problem(404, "Not found", f"Notice {notice_id} has no recipient {recipient_id}.")
        if row.status != RecipientStatus.awaiting_publication:
            raise Problem(
                409, "Not awaiting a public notice", f"Recipient {recipient_id} is {row.status}; a public notice is recorded only once every other method failed (CPL 95)."
            )
        await advance(session, recipient_id=recipient_id, event=PublicationRecorded(published_on=published_on, at=now), now=now, setup=deps.setup, causation=None)
        await session.flush()
        view = await _read(session, notice_id=notice_id, principal=principal, now=now)
    return next(r for r in view.recipients if r.recipient_id == recipient_id)


async def _read(session: AsyncSession, *, notice_id: str, principal: Principal, now: datetime) -> NoticeDelivery:
    notice = await session.get(DeliveryNotice, notice_id)
    if notice is None:
        raise access.missing_notice(notice_id)
    rows = (await session.exec(select(DeliveryRecipient).where(DeliveryRecipient.notice_id == notice_id).order_by(col(DeliveryRecipient.position)))).all()
    rows = await access.visible_recipients(session, principal, notice, rows)
    if not rows:
        raise access.missing_notice(notice_id)
    tasks = (await session.exec(select(DeliveryTask).where(DeliveryTask.notice_id == notice_id).order_by(col(DeliveryTask.created_at)))).all()
    if principal.audited:
        audit.record(session, principal, action="delivery.read", target=notice_id, now=now)
    return _view(notice, rows, tasks, principal)


def _visible(attempt: Attempt, principal: Principal) -> Attempt:
    # Agents see numbers masked: only the step they work needs contact data, and visits need none.
    if principal.role is Role.agent and attempt.target and attempt.target.startswith("+"):
        return attempt.model_copy(update={"target": mask_phone(attempt.target)})
    return attempt


def _view(notice: DeliveryNotice, rows: Sequence[DeliveryRecipient], tasks: Sequence[DeliveryTask], principal: Principal) -> NoticeDelivery:
    return NoticeDelivery(
        **notice.model_dump(include={"court_id", "case_number", "stage", "status", "due_date", "registered_at", "received_at", "warned_at", "overdue_at", "completed_at"}),
        notice_id=notice.id,
        recipients=[_recipient(row, [t for t in tasks if t.recipient_id == row.id], principal) for row in rows],
    )


async def recipient_view(session: AsyncSession, row: DeliveryRecipient, principal: Principal) -> RecipientDelivery:
    """Returns one recipient's delivery as its notice's view shows it, for a caller already allowed to see it."""
    statement = select(DeliveryTask).where(DeliveryTask.notice_id == row.notice_id, DeliveryTask.recipient_id == row.id).order_by(col(DeliveryTask.created_at))
    return _recipient(row, (await session.exec(statement)).all(), principal)


def _recipient(row: DeliveryRecipient, tasks: Sequence[DeliveryTask], principal: Principal) -> RecipientDelivery:
    state = RecipientState.model_validate(row.state)
    served = state.served
    return RecipientDelivery(
        recipient_id=row.id,
        name=row.name,
        role=row.role,
        status=state.status,
        tier=row.tier,
        whereabouts_unknown=row.whereabouts_unknown,
        attempts=[_visible(a, principal) for a in state.attempts],
        tasks=[TaskView(task_id=t.id, **t.model_dump(include={"attempt_id", "kind", "agent_id", "status", "address", "window_start", "window_end", "reported_at"})) for t in tasks],
        served=served,
        service_date=served.service_date if served else None,
        legal_basis=served.basis if served else None,
        exhausted=state.exhausted,
        public_notice_ends=state.period_ends,
    )
