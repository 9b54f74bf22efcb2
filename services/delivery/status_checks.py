"""Asks Twilio where a message or call stands when its status callback is overdue: a callback lost while delivery was down loses nothing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import or_
from sqlmodel import col, select

from services.delivery.adapters.twilio import ProviderUnavailable, Telephony
from services.delivery.dispatcher import SENT
from services.delivery.models import DeliveryAttempt
from services.delivery.statuses import SETTLED, to_input
from services.delivery.workflow import Setup, advance
from shared.contracts.events import Channel
from shared.plumbing.clock import Clock
from shared.plumbing.db import Database

log = structlog.get_logger(__name__)

# Twilio keeps nothing back once a message has been sent for a day; an attempt still open by then is left to its due time.
UNCONFIRMED = "unconfirmed"


@dataclass
class StatusChecker:
    """Checks sent messages and calls with no final status `quiet` after they went out, again every `quiet`, for `give_up` at most."""

    db: Database
    clock: Clock
    setup: Setup
    telephony: Telephony
    quiet: timedelta = timedelta(minutes=10)
    give_up: timedelta = timedelta(days=1)
    poll_s: float = 5.0
    batch: int = 50

    async def run(self) -> None:
        """Checks until cancelled."""
        while True:
            await self.run_once()
            await asyncio.sleep(self.poll_s)

    async def run_once(self) -> int:
        """Checks the overdue attempts once; returns how many it checked."""
        now = self.clock.now()
        async with self.db.sessions() as session:
            overdue = (
                await session.exec(
                    select(DeliveryAttempt)
                    .where(DeliveryAttempt.send_status == SENT, col(DeliveryAttempt.channel).in_([Channel.sms, Channel.voice]))
                    .where(col(DeliveryAttempt.provider_ref).is_not(None), col(DeliveryAttempt.started_at) <= now - self.quiet)
                    .where(or_(col(DeliveryAttempt.next_try_at).is_(None), col(DeliveryAttempt.next_try_at) <= now))
                    .limit(self.batch)
                )
            ).all()
        for attempt in overdue:
            await self.check(attempt)
        return len(overdue)

    async def check(self, attempt: DeliveryAttempt) -> None:
        """Fetches one attempt's status and applies it as its callback would have been applied."""
        now = self.clock.now()
        try:
            status = await self.telephony.status(channel="sms" if attempt.channel == Channel.sms else "voice", sid=attempt.provider_ref or "")
        except ProviderUnavailable as exc:
            log.warning("status_check.retry", attempt_id=attempt.id, error=str(exc))
            await self._later(attempt.id, now=now)
            return
        async with self.db.transaction() as session:
            row = (await session.exec(select(DeliveryAttempt).where(DeliveryAttempt.id == attempt.id).with_for_update())).one()
            if row.send_status != SENT:
                return
            # The time Twilio reached the status, not the time we asked: the arrival date is the service date (Interp. 135).
            event = to_input(row, status.params, at=status.at or now)
            if event is None:
                row.send_status, row.next_try_at = (UNCONFIRMED, None) if row.started_at <= now - self.give_up else (SENT, now + self.quiet)
                session.add(row)
                return
            row.send_status = SETTLED
            session.add(row)
            decision = await advance(session, recipient_id=row.recipient_id, event=event, now=now, setup=self.setup, causation=None)
        log.info("status_check.applied", attempt_id=attempt.id, applied=bool(decision and decision.changed))

    async def _later(self, attempt_id: str, *, now: datetime) -> None:
        async with self.db.transaction() as session:
            row = await session.get(DeliveryAttempt, attempt_id)
            if row is not None and row.send_status == SENT:
                row.next_try_at = now + self.quiet
                session.add(row)
