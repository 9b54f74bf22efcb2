"""Where a notice stands for whoever may see it, the list of notices, and the court's record of a public notice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery import access
from services.delivery.deps import DeliveryDeps
from services.delivery.domain.inputs import PublicationRecorded
from services.delivery.domain.state import Attempt, RecipientState, RecipientStatus
from services.delivery.models import DeliveryNotice, DeliveryRecipient, DeliveryTask, TaskStatus
from services.delivery.requests import NoticeDelivery, NoticePage, NoticeRecipient, NoticeRow, RecipientDelivery, TaskView
from services.delivery.search import NoticeFilter, after, conditions, decode_cursor, encode_cursor
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


async def list_notices(deps: DeliveryDeps, *, principal: Principal, wanted: NoticeFilter, cursor: str | None, limit: int) -> NoticePage:
    """Returns a page of the notices that match, by due date then id: a court only ever its own; audited for supervisors and auditors."""
    if wanted.due_from is not None and wanted.due_to is not None and wanted.due_from > wanted.due_to:
        raise _invalid_query("due_to", "must not be before due_from")
    try:
        last = decode_cursor(cursor) if cursor is not None else None
    except ValueError:
        raise _invalid_query("cursor", "is not a cursor this list handed out; ask for the first page without one") from None
    if principal.role is Role.court:
        if wanted.court not in (None, principal.sub):
            # Another court's notices are not there for this caller: an empty list, like a court without notices.
            return NoticePage(items=[], next_cursor=None)
        wanted = replace(wanted, court=principal.sub)
    async with deps.db.transaction() as session:
        statement = select(DeliveryNotice).where(*conditions(wanted))
        if last is not None:
            statement = statement.where(after(last))
        found = (await session.exec(statement.order_by(col(DeliveryNotice.due_date), col(DeliveryNotice.id)).limit(limit + 1))).all()
        page = found[:limit]
        ids = [notice.id for notice in page]
        recipients: dict[str, list[NoticeRecipient]] = defaultdict(list)
        listed = select(DeliveryRecipient.notice_id, DeliveryRecipient.id, DeliveryRecipient.name, DeliveryRecipient.status).where(col(DeliveryRecipient.notice_id).in_(ids))
        for notice_id, recipient_id, name, status in (await session.exec(listed.order_by(col(DeliveryRecipient.notice_id), col(DeliveryRecipient.position)))).all():
            recipients[notice_id].append(NoticeRecipient(recipient_id=recipient_id, name=name, status=RecipientStatus(status)))
        agents: dict[str, list[str]] = defaultdict(list)
        working = select(DeliveryTask.notice_id, DeliveryTask.agent_id).where(col(DeliveryTask.notice_id).in_(ids), DeliveryTask.status == TaskStatus.open).distinct()
        for notice_id, agent_id in (await session.exec(working.order_by(col(DeliveryTask.notice_id), col(DeliveryTask.agent_id)))).all():
            agents[notice_id].append(agent_id)
        if principal.audited:
            audit.record(session, principal, action="notices.list", target="notices", now=deps.clock.now())
    items = [_row(notice, recipients[notice.id], agents[notice.id]) for notice in page]
    more = len(found) > limit
    return NoticePage(items=items, next_cursor=encode_cursor(page[-1].due_date, page[-1].id) if more else None)


def _invalid_query(field: str, message: str) -> Problem:
    return Problem(422, "Invalid request", f"{field}: {message}", kind="validation", errors=[{"field": field, "message": message}])


def _row(notice: DeliveryNotice, recipients: list[NoticeRecipient], agents: list[str]) -> NoticeRow:
    return NoticeRow(
        **notice.model_dump(include={"court_id", "case_number", "status", "due_date", "registered_at", "warned_at", "overdue_at", "completed_at"}),
        notice_id=notice.id,
        recipients=recipients,
        agents=agents,
    )


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
