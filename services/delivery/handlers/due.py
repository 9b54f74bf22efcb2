"""What comes due with time: a recipient's due time, retry or notice period, and a notice's deadline warning and overdue alert."""

from __future__ import annotations

import functools
from datetime import timedelta

import structlog
from sqlmodel import col, select

from services.delivery.deps import DeliveryDeps
from services.delivery.domain import deadline
from services.delivery.domain.inputs import Tick
from services.delivery.domain.state import RecipientStatus
from services.delivery.models import DeliveryNotice, DeliveryRecipient
from services.delivery.workflow import advance, emit
from shared.contracts.events import DeadlineApproaching, NoticeOverdue
from shared.plumbing.clock import local_date

log = structlog.get_logger(__name__)


async def wake(deps: DeliveryDeps, *, recipient_id: str) -> None:
    """Lets time pass for one recipient: a due attempt fails, a scheduled one starts, a notice period ends."""
    now = deps.clock.now()
    async with deps.db.transaction() as session:
        await advance(session, recipient_id=recipient_id, event=Tick(), now=now, setup=deps.setup, causation=None)


async def raise_deadlines(deps: DeliveryDeps) -> None:
    """Warns once of every unfinished notice whose due date nears, and alerts once when it passed (预警, 超期)."""
    now = deps.clock.now()
    # A warning can come at most a few working days early; later due dates need no look yet.
    horizon = local_date(now) + timedelta(days=14)
    unfinished = (col(DeliveryNotice.completed_at).is_(None), col(DeliveryNotice.overdue_at).is_(None), col(DeliveryNotice.due_date) <= horizon)
    async with deps.db.transaction() as session:
        # Most rounds alert nobody: a plain read of three columns finds who is due, and only those are locked and loaded.
        # The alerts are worked out once per due date and warned flag (the working-hours arithmetic is the cost), not per notice.
        candidates = (await session.exec(select(col(DeliveryNotice.id), col(DeliveryNotice.due_date), col(DeliveryNotice.warned_at).is_not(None)).where(*unfinished))).all()
        alerts = functools.cache(lambda due, warned: deadline.alerts(due, now=now, policy=deps.setup.policy, warned=warned, overdue=False))
        wanted = [notice_id for notice_id, due, warned in candidates if any(alerts(due, warned))]
        if not wanted:
            return
        notices = (await session.exec(select(DeliveryNotice).where(col(DeliveryNotice.id).in_(wanted), *unfinished).with_for_update(skip_locked=True))).all()
        for notice in notices:
            near, late = alerts(notice.due_date, notice.warned_at is not None)
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
