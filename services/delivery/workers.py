"""Delivery's timers and pollers: each finds due work and hands it to the same handlers the routes and consumers use."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery.deps import DeliveryDeps
from services.delivery.handlers import due, sending
from services.delivery.models import DeliveryOutgoing, DeliveryRecipient, SendStatus
from services.delivery.workflow import QUEUED
from shared.contracts.events import Channel
from shared.plumbing.loops import repeat


@dataclass
class Dispatcher:
    """Sends queued messages and calls, oldest first, `batch` at a time: at once when a commit queued one, otherwise polling, less often while idle."""

    deps: DeliveryDeps
    poll_s: float = 0.2
    batch: int = 20
    # Only retries (due later) wait for a poll; a new message wakes the dispatcher on commit.
    idle_max_s: float = 1.6
    _queued: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def run(self) -> None:
        """Dispatches until cancelled."""
        self.deps.db.after_commit(self._on_commit)
        await repeat(self.run_once, wait_s=self.poll_s, again_while_busy=True, idle_max_s=max(self.idle_max_s, self.poll_s), wake=self._queued)

    def _on_commit(self, session: AsyncSession) -> None:
        if session.info.pop(QUEUED, False):
            self._queued.set()

    async def run_once(self) -> int:
        """Sends what is due now; returns how many it sent, not counting those another replica is sending."""
        now = self.deps.clock.now()
        async with self.deps.db.sessions() as session:
            statement = select(DeliveryOutgoing).where(DeliveryOutgoing.status == SendStatus.pending, col(DeliveryOutgoing.next_try_at) <= now)
            queued = (await session.exec(statement.order_by(col(DeliveryOutgoing.next_try_at)).limit(self.batch))).all()
        return await sending.dispatch_all(self.deps, queued)


@dataclass
class StatusChecker:
    """Makes good a lost callback: asks Twilio about sent messages and calls with no final status `quiet` after they went out, again every `quiet`, for `give_up` at most."""

    deps: DeliveryDeps
    quiet: timedelta = timedelta(minutes=10)
    give_up: timedelta = timedelta(days=1)
    poll_s: float = 5.0
    batch: int = 50

    async def run(self) -> None:
        """Checks until cancelled."""
        await repeat(self.run_once, wait_s=self.poll_s)

    async def run_once(self) -> int:
        """Checks the overdue messages and calls once; returns how many it checked."""
        now = self.deps.clock.now()
        async with self.deps.db.sessions() as session:
            overdue = (
                await session.exec(
                    select(DeliveryOutgoing)
                    .where(DeliveryOutgoing.status == SendStatus.sent, col(DeliveryOutgoing.channel).in_([Channel.sms, Channel.voice]))
                    .where(col(DeliveryOutgoing.provider_ref).is_not(None), col(DeliveryOutgoing.queued_at) <= now - self.quiet)
                    .where(or_(col(DeliveryOutgoing.next_try_at).is_(None), col(DeliveryOutgoing.next_try_at) <= now))
                    .limit(self.batch)
                )
            ).all()
        for outgoing in overdue:
            await sending.check_status(self.deps, outgoing=outgoing, quiet=self.quiet, give_up=self.give_up)
        return len(overdue)


@dataclass
class Sweeper:
    """Looks at the clock every `poll_s` real seconds: wakes recipients whose time came, then raises deadline alerts."""

    deps: DeliveryDeps
    poll_s: float = 1.0
    batch: int = 200

    async def run(self) -> None:
        """Sweeps until cancelled."""
        await repeat(self.run_once, wait_s=self.poll_s)

    async def run_once(self) -> int:
        """Wakes what is due and checks deadlines; returns how many recipients it woke."""
        now = self.deps.clock.now()
        async with self.deps.db.sessions() as session:
            statement = select(DeliveryRecipient.id).where(col(DeliveryRecipient.wake_at) <= now).order_by(col(DeliveryRecipient.wake_at)).limit(self.batch)
            woken = (await session.exec(statement)).all()
        for recipient_id in woken:
            await due.wake(self.deps, recipient_id=recipient_id)
        await due.raise_deadlines(self.deps)
        return len(woken)
