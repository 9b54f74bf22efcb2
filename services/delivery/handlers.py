"""Delivery's message handlers: each turns an event from another service into an input of the state machine."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel import col, select

from services.delivery.domain.machine import Accepted, AddressChanged, BookingRefused, EvidenceChecked, Input, PostalReceipt, PostalTrace
from services.delivery.domain.state import Case, RecipientStatus
from services.delivery.models import DeliveryAttempt, DeliveryEvidence, DeliveryNotice, DeliveryRecipient
from services.delivery.workflow import Setup, advance, begin_recipient
from shared.contracts.events import AddressConfirmed, DispatchFailed, EvidenceRecorded, NoticeRegistered, ReceiptReturned, TrackingUpdated, WaybillCreated
from shared.plumbing.consumer import MessageContext
from shared.plumbing.db import insert_ignoring_duplicates, table_of

Handler = Callable[[MessageContext, Any], Awaitable[None]]


def handlers(setup: Setup) -> dict[str, Handler]:
    """Binds every handler to the policy and public URL."""

    async def record_notice(ctx: MessageContext, event: NoticeRegistered) -> None:
        """Takes a registered notice on and starts every recipient's plan."""
        if await ctx.session.get(DeliveryNotice, event.notice_id) is not None:
            return
        now = ctx.clock.now()
        notice = DeliveryNotice(
            id=event.notice_id,
            court_id=event.court_id,
            court_name=event.court_name,
            case_number=event.case_number,
            cause=event.cause,
            stage=event.stage,
            due_date=event.due_date,
            status="in_progress",
            correlation_id=ctx.envelope.correlationid,
            registered_at=event.registered_at,
            received_at=now,
            documents=[d.model_dump(mode="json") for d in event.documents],
        )
        ctx.session.add(notice)
        case = Case(notice_id=event.notice_id, court_id=event.court_id, court_name=event.court_name, case_number=event.case_number, documents=[d.title for d in event.documents])
        await ctx.session.flush()
        for position, recipient in enumerate(event.recipients):
            await begin_recipient(ctx.session, notice=notice, case=case, recipient=recipient, position=position, now=now, setup=setup, causation=str(ctx.envelope.id))

    async def _to(ctx: MessageContext, recipient_id: str | None, event: Input) -> None:
        if recipient_id is not None:
            await advance(ctx.session, recipient_id=recipient_id, event=event, now=ctx.clock.now(), setup=setup, causation=str(ctx.envelope.id))

    async def _owner(ctx: MessageContext, attempt_id: str) -> str | None:
        attempt = await ctx.session.get(DeliveryAttempt, attempt_id)
        return attempt.recipient_id if attempt else None

    async def address_confirmed(ctx: MessageContext, event: AddressConfirmed) -> None:
        """A confirmation for the case: later physical steps go to the confirmed address (finished notices ignore it)."""
        await _to(ctx, event.recipient_id, AddressChanged(address=event.address, consent=list(event.consent)))

    async def waybill_created(ctx: MessageContext, event: WaybillCreated) -> None:
        attempt = await ctx.session.get(DeliveryAttempt, event.attempt_id)
        if attempt is not None:
            attempt.provider_ref = event.waybill_no
            ctx.session.add(attempt)
            await _to(ctx, attempt.recipient_id, Accepted(attempt_id=event.attempt_id, provider_ref=event.waybill_no))

    async def tracking_updated(ctx: MessageContext, event: TrackingUpdated) -> None:
        if not event.latest:
            # A node older than one already applied would move the item backwards.
            return
        trace = PostalTrace(attempt_id=event.attempt_id, at=event.op_time, status=event.status, return_reason=event.return_reason, detail=event.op_desc)
        await _to(ctx, await _owner(ctx, event.attempt_id), trace)

    async def receipt_returned(ctx: MessageContext, event: ReceiptReturned) -> None:
        receipt = PostalReceipt(
            attempt_id=event.attempt_id, at=event.returned_at, signer_name=event.signer_name, signer_role=event.signer_role, relation=event.relation, signed_on=event.signed_on
        )
        await _to(ctx, await _owner(ctx, event.attempt_id), receipt)

    async def dispatch_failed(ctx: MessageContext, event: DispatchFailed) -> None:
        await _to(ctx, await _owner(ctx, event.attempt_id), BookingRefused(attempt_id=event.attempt_id, at=event.at, reason=event.reason))

    async def evidence_recorded(ctx: MessageContext, event: EvidenceRecorded) -> None:
        """Remembers the item and its flags, and settles any reported service that was waiting for it."""
        statement = insert_ignoring_duplicates(ctx.session, table_of(DeliveryEvidence)).values(
            id=event.evidence_id, notice_id=event.notice_id, kind=event.kind, flags=list(event.flags), recorded_at=ctx.clock.now()
        )
        await ctx.session.exec(statement)
        # Every recipient of the notice locked, not only those awaiting now: a report being made meanwhile holds its
        # recipient's row, so this waits for it and then sees the recipient awaiting (tasks.report_outcome).
        recipients = await ctx.session.exec(
            select(DeliveryRecipient.id, DeliveryRecipient.status).where(DeliveryRecipient.notice_id == event.notice_id).order_by(col(DeliveryRecipient.id)).with_for_update()
        )
        for recipient_id, status in recipients.all():
            if status == RecipientStatus.awaiting_evidence:
                await _to(ctx, recipient_id, EvidenceChecked(evidence_id=event.evidence_id, flags=list(event.flags)))

    return {
        "intake.NoticeRegistered": record_notice,
        "intake.AddressConfirmed": address_confirmed,
        "carrier_gateway.WaybillCreated": waybill_created,
        "carrier_gateway.TrackingUpdated": tracking_updated,
        "carrier_gateway.ReceiptReturned": receipt_returned,
        "carrier_gateway.DispatchFailed": dispatch_failed,
        "evidence.EvidenceRecorded": evidence_recorded,
    }
