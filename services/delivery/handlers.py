"""Delivery's message handlers: load → decide → save, inside the consumer's transaction."""

from __future__ import annotations

from services.delivery.domain import NoticeStatus, RecipientStatus
from services.delivery.models import DeliveryNotice, DeliveryRecipient
from shared.consumer import MessageContext
from shared.events import NoticeRegistered


async def record_notice(ctx: MessageContext, event: NoticeRegistered) -> None:
    """Takes a registered notice on, with every recipient pending."""
    ctx.session.add(
        DeliveryNotice(
            id=event.notice_id,
            court_id=event.court_id,
            case_number=event.case_number,
            stage=event.stage,
            due_date=event.due_date,
            status=NoticeStatus.registered,
            correlation_id=ctx.envelope.correlationid,
            registered_at=event.registered_at,
            received_at=ctx.clock.now(),
        )
    )
    for position, recipient in enumerate(event.recipients):
        ctx.session.add(
            DeliveryRecipient(
                id=recipient.recipient_id,
                notice_id=event.notice_id,
                position=position,
                name=recipient.name,
                role=recipient.role,
                status=RecipientStatus.pending,
                whereabouts_unknown=recipient.whereabouts_unknown,
            )
        )
