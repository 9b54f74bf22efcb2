"""Messages from other services: each turns an event into an input of the state machine, in the consumer's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.delivery import search
from services.delivery.deps import DeliveryDeps
from services.delivery.domain.inputs import Accepted, AddressChanged, BookingRefused, EvidenceChecked, Input, PostalReceipt, PostalTrace
from services.delivery.domain.state import Case, RecipientStatus
from services.delivery.models import DeliveryEvidence, DeliveryNotice, DeliveryRecipient, NoticeStatus
from services.delivery.workflow import advance, begin_recipient
from shared.contracts.events import AddressConfirmed, DispatchFailed, EvidenceRecorded, NoticeRegistered, ReceiptReturned, TrackingUpdated, WaybillCreated
from shared.plumbing.consumer import MessageContext
from shared.plumbing.db import column_values, insert_ignoring_duplicates, table_of
from shared.plumbing.runtime import MessageHandler

# A batch's registered notices are taken on together (`_take_on`), after its last handler or before a handler of
# another event needs them (`after_notices`).
NOTICES = "delivery.notices"
NOTICE = table_of(DeliveryNotice)


@dataclass(frozen=True)
class _Registered:
    """A registered notice waiting for the rest of its batch."""

    event: NoticeRegistered
    correlation_id: str
    causation: str


async def record_notice(deps: DeliveryDeps, *, message: MessageContext, event: NoticeRegistered) -> None:
    """Takes a registered notice on and starts every recipient's plan, with the other notices of its batch."""
    registered = _Registered(event=event, correlation_id=message.envelope.correlationid, causation=str(message.envelope.id))
    message.pending(NOTICES, partial(_take_on, deps)).append(registered)


def after_notices(handler: MessageHandler) -> MessageHandler:
    """Wraps a handler so that the notices registered before its message in the batch are taken on before it runs."""

    async def handle(deps: DeliveryDeps, *, message: MessageContext, event: Any) -> None:
        await message.batch.settle(NOTICES, message.session)
        await handler(deps, message=message, event=event)

    return handle


async def _take_on(deps: DeliveryDeps, session: AsyncSession, batch: list[_Registered]) -> None:
    """Inserts the batch's notices in one statement and plans the recipients of each it inserted; a notice already known stays as it is."""
    now = deps.clock.now()
    firsts = {r.event.notice_id: r for r in reversed(batch)}
    notices = [_notice(r, now=now) for r in batch if firsts[r.event.notice_id] is r]
    # One statement instead of a read, an add and a flush per notice; its values go as parameters, as a statement
    # built around them costs more than running it.
    statement = insert_ignoring_duplicates(session, NOTICE).returning(NOTICE.c.id)
    inserted = set((await session.exec(statement, params=[column_values(n) for n in notices])).scalars())
    for notice in notices:
        if notice.id not in inserted:
            continue
        # Kept in the session as stored: completing it later in this transaction is an update.
        make_transient_to_detached(notice)
        session.add(notice)
        event = firsts[notice.id].event
        case = Case(notice_id=event.notice_id, court_id=event.court_id, court_name=event.court_name, case_number=event.case_number, documents=[d.title for d in event.documents])
        for position, recipient in enumerate(event.recipients):
            await begin_recipient(session, notice=notice, case=case, recipient=recipient, position=position, now=now, setup=deps.setup, causation=firsts[notice.id].causation)


def _notice(registered: _Registered, *, now: datetime) -> DeliveryNotice:
    event = registered.event
    return DeliveryNotice(
        id=event.notice_id,
        court_id=event.court_id,
        court_name=event.court_name,
        case_number=event.case_number,
        cause=event.cause,
        stage=event.stage,
        due_date=event.due_date,
        status=NoticeStatus.in_progress,
        correlation_id=registered.correlation_id,
        registered_at=event.registered_at,
        received_at=now,
        documents=[d.model_dump(mode="json") for d in event.documents],
        party_names=search.party_names(r.name for r in event.recipients),
        case_search=search.search_text(event.case_number),
    )


async def address_confirmed(deps: DeliveryDeps, *, message: MessageContext, event: AddressConfirmed) -> None:
    """A confirmation for the case: later physical steps go to the confirmed address (finished notices ignore it)."""
    await _apply(deps, message, event.recipient_id, AddressChanged(address=event.address, consent=list(event.consent)))


async def waybill_created(deps: DeliveryDeps, *, message: MessageContext, event: WaybillCreated) -> None:
    """The gateway booked the court mail: the attempt carries the waybill number from now on."""
    owner = await _owner(message.session, notice_id=event.notice_id, attempt_id=event.attempt_id)
    await _apply(deps, message, owner, Accepted(attempt_id=event.attempt_id, provider_ref=event.waybill_no))


async def tracking_updated(deps: DeliveryDeps, *, message: MessageContext, event: TrackingUpdated) -> None:
    """A node of the item's trace: a refusal is remembered, a return decides the attempt."""
    if not event.latest:
        # A node older than one already applied would move the item backwards.
        return
    trace = PostalTrace(attempt_id=event.attempt_id, at=event.op_time, status=event.status, return_reason=event.return_reason, detail=event.op_desc)
    await _apply(deps, message, await _owner(message.session, notice_id=event.notice_id, attempt_id=event.attempt_id), trace)


async def receipt_returned(deps: DeliveryDeps, *, message: MessageContext, event: ReceiptReturned) -> None:
    """The return receipt came back: its signer and date decide the service (CPL 91)."""
    receipt = PostalReceipt(attempt_id=event.attempt_id, at=event.returned_at, signer=event.signature, signed_on=event.signed_on)
    await _apply(deps, message, await _owner(message.session, notice_id=event.notice_id, attempt_id=event.attempt_id), receipt)


async def dispatch_failed(deps: DeliveryDeps, *, message: MessageContext, event: DispatchFailed) -> None:
    """The carrier refused the booking: the plan moves on."""
    refused = BookingRefused(attempt_id=event.attempt_id, at=event.at, reason=event.reason)
    await _apply(deps, message, await _owner(message.session, notice_id=event.notice_id, attempt_id=event.attempt_id), refused)


async def evidence_recorded(deps: DeliveryDeps, *, message: MessageContext, event: EvidenceRecorded) -> None:
    """Remembers the item and its flags, and settles any reported service that was waiting for it."""
    statement = insert_ignoring_duplicates(message.session, DeliveryEvidence).values(
        id=event.evidence_id, notice_id=event.notice_id, kind=event.kind, flags=list(event.flags), recorded_at=deps.clock.now()
    )
    await message.session.exec(statement)
    # Every recipient of the notice locked, not only those awaiting now: a report being made meanwhile holds its
    # recipient's row, so this waits for it and then sees the recipient awaiting (handlers.team.report_outcome).
    recipients = await message.session.exec(
        select(DeliveryRecipient.id, DeliveryRecipient.status).where(DeliveryRecipient.notice_id == event.notice_id).order_by(col(DeliveryRecipient.id)).with_for_update()
    )
    for recipient_id, status in recipients.all():
        if status == RecipientStatus.awaiting_evidence:
            await _apply(deps, message, recipient_id, EvidenceChecked(evidence_id=event.evidence_id, flags=list(event.flags), kind=event.kind))


async def _apply(deps: DeliveryDeps, message: MessageContext, recipient_id: str | None, event: Input) -> None:
    if recipient_id is not None:
        await advance(message.session, recipient_id=recipient_id, event=event, now=deps.clock.now(), setup=deps.setup, causation=str(message.envelope.id))


async def _owner(session: AsyncSession, *, notice_id: str, attempt_id: str) -> str | None:
    """Returns the recipient of the notice whose state holds the attempt: the recipient's state is the one record of its attempts."""
    rows = await session.exec(select(DeliveryRecipient.id, DeliveryRecipient.state).where(DeliveryRecipient.notice_id == notice_id))
    return next((recipient_id for recipient_id, state in rows.all() if any(a["attempt_id"] == attempt_id for a in state.get("attempts", []))), None)
