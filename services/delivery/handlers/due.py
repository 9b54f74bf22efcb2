"""What comes due with time: a recipient's due time, retry or notice period, and a notice's deadline warning and overdue alert."""

from __future__ import annotations

import structlog
from sqlalchemy import and_, or_
from sqlmodel import col, select

from services.delivery.deps import DeliveryDeps
from services.delivery.domain import deadline
from services.delivery.domain.inputs import Tick
from services.delivery.domain.state import RecipientStatus
from services.delivery.models import DeliveryNotice, DeliveryRecipient
from services.delivery.workflow import advance, emit
from shared.contracts.events import DeadlineApproaching, NoticeOverdue

log = structlog.get_logger(__name__)


async def wake(deps: DeliveryDeps, *, recipient_id: str) -> None:
    """Lets time pass for one recipient: a due attempt fails, a scheduled one starts, a notice period ends."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        await advance(session, recipient_id=recipient_id, event=Tick(), now=now, setup=deps.setup, causation=None)


async def raise_deadlines(deps: DeliveryDeps) -> None:
    """Warns once of every unfinished notice whose due date nears, and alerts once when it passed (预警, 超期)."""
    now = deps.clock.now()
    # Only the notices an alert is due for are read, nearly always none: the sweeper runs every second, and reading every
    # unfinished notice each time cost CPU in proportion to the notices open.
    late_until, warn_until = deadline.last_due_dates(now, deps.setup.policy)
    due = col(DeliveryNotice.due_date)
    alerted = or_(due <= late_until, and_(col(DeliveryNotice.warned_at).is_(None), due <= warn_until))
    async with deps.db.transaction() as session:
        unfinished = (col(DeliveryNotice.completed_at).is_(None), col(DeliveryNotice.overdue_at).is_(None))
        notices = (await session.exec(select(DeliveryNotice).where(*unfinished, alerted).with_for_update(skip_locked=True))).all()
        for notice in notices:
            near, late = deadline.alerts(notice.due_date, now=now, policy=deps.setup.policy, warned=notice.warned_at is not None, overdue=False)
            if not (near or late):
                continue
            pending = (await session.exec(select(DeliveryRecipient.id).where(DeliveryRecipient.notice_id == notice.id, DeliveryRecipient.status != RecipientStatus.served))).all()
            if near:
                notice.warned_at = now
                emit(session, DeadlineApproaching(notice_id=notice.id, due_date=notice.due_date, pending=list(pending), at=now), notice=notice, now=now, causation=None)
            if late:
                notice.overdue_at = now
                emit(session, NoticeOverdue(notice_id=notice.id, due_date=notice.due_date, pending=list(pending), at=now), notice=notice, now=now, causation=None)
                log.warning("delivery.overdue", notice_id=notice.id, pending=len(pending))
            session.add(notice)
