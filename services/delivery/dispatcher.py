"""Sends queued messages and calls, each at most once (side-effect ledger), and feeds the provider's answer to the state machine."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlmodel import col, select

from services.delivery.adapters.mail import Mailer, MailResult, MailUnavailable
from services.delivery.adapters.twilio import ProviderResult, ProviderUnavailable, Telephony, notice_twiml
from services.delivery.domain.machine import Accepted, Arrived, Input, NotArrived
from services.delivery.models import DeliveryAttempt
from services.delivery.statuses import SETTLED
from services.delivery.workflow import Setup, advance
from shared.contracts.events import Channel, Transmission
from shared.plumbing import ledger
from shared.plumbing.clock import Clock
from shared.plumbing.db import Database

log = structlog.get_logger(__name__)

SENT, PENDING, IN_DOUBT = "sent", "pending", "in_doubt"


@dataclass
class Dispatcher:
    """Works off attempts whose message or call is pending, oldest first."""

    db: Database
    clock: Clock
    setup: Setup
    telephony: Telephony
    mailer: Mailer
    sender_address: str
    poll_s: float = 0.2
    batch: int = 20

    def status_callback(self, attempt_id: str) -> str:
        """The exact URL Twilio signs its callbacks for this attempt with."""
        return f"{self.setup.public_url}/webhooks/twilio/status?attempt={attempt_id}"

    async def run(self) -> None:
        """Dispatches until cancelled."""
        while True:
            if await self.run_once() == 0:
                await asyncio.sleep(self.poll_s)

    async def run_once(self) -> int:
        """Sends what is due now; returns how many attempts it looked at."""
        now = self.clock.now()
        async with self.db.sessions() as session:
            due = (
                await session.exec(
                    select(DeliveryAttempt)
                    .where(DeliveryAttempt.send_status == PENDING, col(DeliveryAttempt.next_try_at) <= now)
                    .order_by(col(DeliveryAttempt.next_try_at))
                    .limit(self.batch)
                )
            ).all()
        await asyncio.gather(*(self.dispatch(attempt) for attempt in due))
        return len(due)

    async def dispatch(self, attempt: DeliveryAttempt) -> None:
        """Sends one attempt's message or call through the ledger and applies the answer."""
        call, reconcile = self._operations(attempt)
        try:
            result = await ledger.perform(self.db, key=f"{attempt.channel}:{attempt.id}", kind=attempt.channel, clock=self.clock, call=call, reconcile=reconcile)
        except ledger.SideEffectInDoubt as exc:
            # Sent or not, nobody can tell; sending again could serve twice. The attempt's due time moves the plan on.
            log.error("dispatch.in_doubt", attempt_id=attempt.id, channel=attempt.channel, error=str(exc))
            await self._mark(attempt.id, status=IN_DOUBT, error=str(exc))
            return
        except (ProviderUnavailable, MailUnavailable) as exc:
            log.warning("dispatch.retry", attempt_id=attempt.id, channel=attempt.channel, tries=attempt.tries + 1, error=type(exc).__name__)
            await self._mark(attempt.id, status=PENDING, error=str(exc), retry_in=timedelta(seconds=min(2 ** (attempt.tries + 1), 300)))
            return
        now = self.clock.now()
        async with self.db.transaction() as session:
            row = (await session.exec(select(DeliveryAttempt).where(DeliveryAttempt.id == attempt.id).with_for_update())).one()
            if row.send_status != PENDING:
                return
            event = self._input(row, result, now=now)
            # Accepted waits for its final status (a callback or a status check); anything else is final now.
            row.send_status = SENT if isinstance(event, Accepted) else SETTLED
            row.provider_ref = result.get("provider_ref") or result.get("message_id")
            session.add(row)
            await advance(session, recipient_id=row.recipient_id, event=event, now=now, setup=self.setup, causation=None)

    def _operations(self, attempt: DeliveryAttempt) -> tuple[Callable[[], Awaitable[dict[str, Any]]], Callable[[], Awaitable[dict[str, Any] | None]] | None]:
        message = attempt.message or {}
        to = attempt.target or ""
        if attempt.channel == Channel.sms:

            async def sms() -> dict[str, Any]:
                return (await self.telephony.send_sms(to=to, body=message["body"], status_callback=self.status_callback(attempt.id))).to_dict()

            async def find() -> dict[str, Any] | None:
                found = await self.telephony.find_sms(to=to, containing=message["token_hint"])
                return found.to_dict() if found else None

            return sms, find
        if attempt.channel == Channel.voice:

            async def voice() -> dict[str, Any]:
                twiml = notice_twiml(court_name=message["court_name"], case_number=message["case_number"], callback_hint="送达人员将与您联系，请留意短信或上门送达")
                return (await self.telephony.place_call(to=to, twiml=twiml, status_callback=self.status_callback(attempt.id))).to_dict()

            return voice, None

        async def mail() -> dict[str, Any]:
            sent = await self.mailer.send(to=to, subject=message["subject"], text=message["text"], html=None, message_id=f"<{attempt.id}@songda>", now=self.clock.now())
            return sent.to_dict()

        return mail, None

    def _input(self, attempt: DeliveryAttempt, result: dict[str, Any], *, now: datetime) -> Input:
        if attempt.channel in (Channel.sms, Channel.voice):
            sent = ProviderResult.from_dict(result)
            if sent.accepted and sent.provider_ref:
                return Accepted(attempt_id=attempt.id, provider_ref=sent.provider_ref)
            return NotArrived(attempt_id=attempt.id, at=now, status=sent.status, error_code=sent.error_code)
        mailed = MailResult.from_dict(result)
        arrived = datetime.fromisoformat(mailed.accepted_at) if mailed.accepted_at else now
        record = Transmission(
            provider="smtp",
            provider_ref=mailed.message_id,
            sender=self.sender_address,
            receiver=attempt.target or "",
            status="accepted" if mailed.accepted else "rejected",
            sent_at=arrived,
            arrived_at=arrived if mailed.accepted else None,
            documents=[],
        )
        if mailed.accepted:
            # Accepted by the receiving mail server: the message reached the recipient's system (Interp. 135).
            return Arrived(attempt_id=attempt.id, at=arrived, record=record)
        return NotArrived(attempt_id=attempt.id, at=now, status="rejected", record=record)

    async def _mark(self, attempt_id: str, *, status: str, error: str, retry_in: timedelta | None = None) -> None:
        async with self.db.transaction() as session:
            row = await session.get(DeliveryAttempt, attempt_id)
            if row is None or row.send_status != PENDING:
                return
            row.send_status = status
            row.tries += 1
            row.last_error = error[:500]
            row.next_try_at = self.clock.now() + retry_in if retry_in else None
            session.add(row)
