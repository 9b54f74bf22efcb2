"""Evidence's message handlers: every consumed event is appended to its notice's timeline."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from services.evidence.domain import envelope_digest
from services.evidence.models import EvidenceNotice, EvidenceTimelineEntry
from shared.consumer import MessageContext


async def append_to_timeline(ctx: MessageContext) -> None:
    """Appends the message to its notice's timeline at the next sequence number."""
    envelope = ctx.envelope
    if envelope.type == "intake.NoticeRegistered":
        court_id = envelope.data.get("court_id")
        if court_id and await ctx.session.get(EvidenceNotice, envelope.subject) is None:
            ctx.session.add(EvidenceNotice(id=envelope.subject, court_id=court_id))
    last = await ctx.session.scalar(
        select(func.max(EvidenceTimelineEntry.seq)).where(EvidenceTimelineEntry.notice_id == envelope.subject)
    )
    ctx.session.add(
        EvidenceTimelineEntry(
            notice_id=envelope.subject,
            seq=(last or 0) + 1,
            event_id=str(envelope.id),
            event_type=envelope.type,
            source=envelope.source,
            event_time=envelope.time,
            sha256=envelope_digest(envelope),
            envelope=envelope.model_dump(mode="json"),
            recorded_at=ctx.clock.now(),
        )
    )
