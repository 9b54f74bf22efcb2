"""Wakes recipients whose due time, retry or notice period came, and raises deadline warnings and overdue alerts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlmodel import col, select

from services.delivery.domain import deadline
from services.delivery.domain.machine import Tick
from services.delivery.domain.state import RecipientStatus
from services.delivery.models import DeliveryNotice, DeliveryRecipient
from services.delivery.workflow import Setup, advance, emit
from shared.contracts.events import DeadlineApproaching, NoticeOverdue
from shared.plumbing.clock import Clock, local_date
from shared.plumbing.db import Database

log = structlog.get_logger(__name__)


@dataclass
class Sweeper:
    """Looks at the clock every `poll_s` real seconds."""

    db: Database
    clock: Clock
    setup: Setup
    poll_s: float = 1.0
    batch: int = 200

    async def run(self) -> None:
        """Sweeps until cancelled."""
        while True:
            await self.run_once()
            await asyncio.sleep(self.poll_s)

    async def run_once(self) -> int:
        """Wakes what is due and checks deadlines; returns how many recipients it woke."""
        now = self.clock.now()
        async with self.db.sessions() as session:
            due = (await session.exec(select(DeliveryRecipient.id).where(col(DeliveryRecipient.wake_at) <= now).order_by(col(DeliveryRecipient.wake_at)).limit(self.batch))).all()
        for recipient_id in due:
            async with self.db.transaction() as session:
                await advance(session, recipient_id=recipient_id, event=Tick(), now=now, setup=self.setup, causation=None)
        await self._deadlines()
        return len(due)

    async def _deadlines(self) -> None:
        now = self.clock.now()
        # A warning can come at most a few working days early; later due dates need no look yet.
        horizon = local_date(now) + timedelta(days=14)
        async with self.db.transaction() as session:
            notices = (
                await session.exec(
                    select(DeliveryNotice)
                    .where(col(DeliveryNotice.completed_at).is_(None), col(DeliveryNotice.overdue_at).is_(None), DeliveryNotice.due_date <= horizon)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for notice in notices:
                near, late = deadline.alerts(notice.due_date, now=now, policy=self.setup.policy, warned=notice.warned_at is not None, overdue=False)
                if not (near or late):
                    continue
                pending = (
                    await session.exec(select(DeliveryRecipient.id).where(DeliveryRecipient.notice_id == notice.id, DeliveryRecipient.status != RecipientStatus.served))
                ).all()
                if near:
                    notice.warned_at = now
                    emit(session, DeadlineApproaching(notice_id=notice.id, due_date=notice.due_date, pending=list(pending), at=now), notice=notice, now=now, causation=None)
                if late:
                    notice.overdue_at = now
                    emit(session, NoticeOverdue(notice_id=notice.id, due_date=notice.due_date, pending=list(pending), at=now), notice=notice, now=now, causation=None)
                    log.warning("delivery.overdue", notice_id=notice.id, pending=len(pending))
                session.add(notice)
